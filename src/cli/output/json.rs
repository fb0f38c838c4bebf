//! `--format json`: one JSON object per run, for scripts and CI. Keys are
//! sorted; absent values are `null`.

use serde_json::{json, Value};

use hetpolicy_core::engine::{Changes, Memory};
use hetpolicy_core::script::{ComponentVerdict, Finding, Origin, RefusedBy, Request};

use crate::report::{Evaluation, Report, WhoJudged};

fn position(position: Option<(u64, u64)>) -> (Value, Value) {
    match position {
        Some((line, column)) => (json!(line), json!(column)),
        None => (Value::Null, Value::Null),
    }
}

/// `hetpolicy check --format json`.
pub fn check(report: &Report) -> String {
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            let (line, column) = position(e.position);
            json!({"line": line, "column": column, "message": e.message, "hint": e.hint})
        })
        .collect();
    let warnings: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| {
            let (line, column) = position(w.position);
            json!({"line": line, "column": column, "message": w.message, "hint": w.hint})
        })
        .collect();
    let stack: Vec<Value> = report
        .stack
        .iter()
        .flat_map(|(_, findings)| findings)
        .map(|f| {
            json!({
                "place": f.place,
                "severity": if f.error { "error" } else { "warning" },
                "message": f.message,
                "hint": f.hint,
            })
        })
        .collect();
    let mut value = json!({
        "file": report.file,
        "valid": report.errors.is_empty(),
        "errors": errors,
        "warnings": warnings,
    });
    if report.stack.is_some() {
        value["plugstack"] = Value::Array(stack);
    }
    format!("{value:#}\n")
}

fn origin(origin: &Origin) -> Value {
    match origin {
        Origin::Script { component, line } => {
            json!({"from": "script", "line": line, "component": component})
        }
        Origin::Environment { variable } => json!({"from": "environment", "variable": variable}),
        Origin::CommandLine { component } => {
            json!({"from": "command_line", "component": component})
        }
        Origin::Replayed => json!({"from": "replayed"}),
        Origin::Default => json!({"from": "default"}),
    }
}

fn memory(memory: Option<Memory>) -> Value {
    match memory {
        Some(Memory::PerNode(mb)) => json!({"per_node_mb": mb.0}),
        Some(Memory::PerCpu(mb)) => json!({"per_cpu_mb": mb.0}),
        None => Value::Null,
    }
}

fn request(r: &Request) -> Value {
    let site: serde_json::Map<String, Value> = r
        .site_values
        .0
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let origins: serde_json::Map<String, Value> = r
        .origins
        .iter()
        .map(|(k, o)| (k.clone(), origin(o)))
        .collect();
    json!({
        "partition": r.partition,
        "qos": r.qos,
        "account": r.account,
        "tres_per_job": r.tres_per_job,
        "tres_per_node": r.tres_per_node,
        "tres_per_socket": r.tres_per_socket,
        "tres_per_task": r.tres_per_task,
        "nodes": r.nodes,
        "max_nodes": r.max_nodes,
        "tasks": r.tasks,
        "cpus_per_task": r.cpus_per_task,
        "min_cpus": r.min_cpus,
        "memory": memory(r.memory),
        "time_limit": r.time_limit.map(|t| t.to_string()),
        "std_out": r.std_out,
        "std_err": r.std_err,
        "std_in": r.std_in,
        "array": r.array,
        "site_options": site,
        "origins": origins,
        "values": r.values,
    })
}

fn changes(c: &Changes<'_>) -> Value {
    json!({
        "partition": c.partition,
        "qos": c.qos,
        "time_limit": c.time_limit.map(|t| t.to_string()),
    })
}

fn finding(f: &Finding) -> Value {
    json!({
        "kind": f.kind,
        "severity": f.severity.to_string(),
        "component": f.component,
        "line": f.line,
        "message": f.message,
        "fix": f.fix,
    })
}

/// `hetpolicy eval --format json`.
pub fn eval(e: &Evaluation<'_>) -> String {
    let sim = &e.simulation;
    let components: Vec<Value> = sim
        .components
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let verdict = e.outcome.as_ref().and_then(|o| o.verdicts.get(k));
            let (status, message, change) = match verdict {
                Some(ComponentVerdict::Accepted(a)) => {
                    ("accepted", Value::Null, changes(&a.changes))
                }
                Some(ComponentVerdict::Rejected(r)) => ("rejected", json!(r.message), Value::Null),
                Some(ComponentVerdict::RefusedBySlurm(err)) => {
                    ("refused_by_slurmctld", json!(err.text), Value::Null)
                }
                None => ("not_judged", Value::Null, Value::Null),
            };
            let warnings: Vec<Value> = match verdict {
                Some(ComponentVerdict::Accepted(a)) => a
                    .warnings
                    .iter()
                    .map(|w| {
                        json!({
                            "message": w.message,
                            "rule": w.rule(),
                            "refused_from": w.until.map(|d| d.to_string()),
                        })
                    })
                    .collect(),
                _ => Vec::new(),
            };
            json!({
                "index": k,
                "position": sim.position(k).to_string(),
                "request": request(r),
                "verdict": status,
                "message": message,
                "changes": change,
                "warnings": warnings,
            })
        })
        .collect();
    let refused_by = sim.refusal.as_ref().map(|r| match r.by {
        RefusedBy::Sbatch => "sbatch",
        RefusedBy::SpankPlugin => "spank_plugin",
    });
    let error = e
        .outcome
        .as_ref()
        .and_then(|o| o.error)
        .map(|err| json!({"name": err.name, "text": err.text}));
    let slurm = json!({
        "release": e.release.release.name(),
        "source": e.release.release.source_tag(),
        "chosen": e.release.kind(),
        "installed": e.release.installed(),
        "summary": e.release.sentence(),
    });
    let value = json!({
        "script": e.script_name,
        "policy": e.policy_path,
        "slurm": slurm,
        "verdict": e.verdict(),
        "refused_by": refused_by,
        "hetjob": sim.hetjob,
        "components": components,
        "stderr": e.stderr(),
        "error": error,
        "findings": e.findings().into_iter().map(finding).collect::<Vec<_>>(),
        "notes": e.notes(),
        "submitter": submitter(&e.who),
    });
    format!("{value:#}\n")
}

/// Whom the rules about who submits were judged for: `null` when the
/// policy has none, `{"judged": false}` under `--no-user`.
fn submitter(who: &WhoJudged) -> Value {
    match who {
        WhoJudged::NoRules => Value::Null,
        WhoJudged::Skipped => json!({"judged": false}),
        WhoJudged::User { submitting, .. } => {
            let s = &submitting.submitter;
            json!({
                "judged": true,
                "user": s.user,
                "uid": s.uid,
                "groups": if s.groups_known { json!(s.groups) } else { Value::Null },
                "default_account": submitting.default_account,
            })
        }
    }
}
