//! `hetpolicy eval SCRIPT [-- SBATCH-ARGS...]`: what sbatch and slurmctld
//! of one Slurm release would do with a batch script, offline, with the
//! plugins' own engine. The release is `--slurm`'s, else the installed
//! sbatch's, else the newest eval models (see [`crate::release`]).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hetpolicy_core::engine::{Changes, Memory, Position};
use hetpolicy_core::paths::{default_policy_path, slurm_conf_from_env};
use hetpolicy_core::policy::Policy;
use hetpolicy_core::script::{
    self, ComponentVerdict, Invocation, Origin, RefusedBy, Request, Severity, SlurmConf,
};
use hetpolicy_core::slurm_options::Release;

use crate::args::{no_value, Args, Format, Item, UsageError};
use crate::output::json;
use crate::release::{self, Choice};
use crate::report::{Evaluation, WhoJudged};
use crate::who;

/// `eval`'s options.
#[derive(Debug)]
pub struct Options {
    policy: Option<PathBuf>,
    slurm: Option<Release>,
    slurm_conf: Option<Option<PathBuf>>,
    format: Format,
    strict: bool,
    who: Who,
    script: Option<String>,
    sbatch_args: Vec<String>,
}

/// Whom the rules about who submits are judged for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    /// The user running eval (the default).
    Invoker,
    /// `--user NAME`.
    Named(String),
    /// `--no-user`: those rules are not judged.
    Nobody,
}

impl Options {
    pub fn parse(args: &mut Args<'_>) -> Result<Options, UsageError> {
        let mut options = Options {
            policy: None,
            slurm: None,
            slurm_conf: None,
            format: Format::Text,
            strict: false,
            who: Who::Invoker,
            script: None,
            sbatch_args: Vec::new(),
        };
        while let Some(item) = args.next_item() {
            match item {
                Item::Flag(name, inline) => match name.as_str() {
                    "policy" => options.policy = Some(args.value(&name, inline)?.into()),
                    "slurm" => options.slurm = Some(release::parse(&args.value(&name, inline)?)?),
                    "slurm-conf" => {
                        options.slurm_conf = Some(Some(args.value(&name, inline)?.into()));
                    }
                    "no-slurm-conf" => {
                        no_value(&name, inline)?;
                        options.slurm_conf = Some(None);
                    }
                    "format" => options.format = Format::parse(&args.value(&name, inline)?)?,
                    "strict" => {
                        no_value(&name, inline)?;
                        options.strict = true;
                    }
                    "user" => options.who = Who::Named(args.value(&name, inline)?),
                    "no-user" => {
                        no_value(&name, inline)?;
                        options.who = Who::Nobody;
                    }
                    _ => {
                        return Err(UsageError(format!(
                            "eval: unknown option --{name} (sbatch's options go after `--`)"
                        )))
                    }
                },
                Item::Word(word) if options.script.is_none() => options.script = Some(word),
                Item::Word(word) => {
                    return Err(UsageError(format!(
                        "eval takes one script; put sbatch's options after `--` (got '{word}')"
                    )))
                }
                Item::Rest(rest) => options.sbatch_args = rest,
            }
        }
        if options.script.is_none() {
            return Err(UsageError(
                "eval needs a batch script (or - for stdin)".to_owned(),
            ));
        }
        Ok(options)
    }
}

pub fn run(options: Options) -> Result<u8, UsageError> {
    let policy_path = options
        .policy
        .clone()
        .unwrap_or_else(|| default_policy_path(None));
    let policy = match Policy::load(&policy_path) {
        Ok(policy) => policy,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "hetpolicy: the policy does not load (`hetpolicy check {}` explains):\n{error}",
                policy_path.display()
            );
            return Ok(2);
        }
    };
    let who = match (&options.who, policy.has_rules_about_who()) {
        (_, false) => WhoJudged::NoRules,
        (Who::Nobody, true) => WhoJudged::Skipped,
        (Who::Invoker, true) | (Who::Named(_), true) => {
            let name = match &options.who {
                Who::Named(name) => Some(name.as_str()),
                _ => None,
            };
            match who::resolve(name, policy.needs_account()) {
                Ok(resolved) => WhoJudged::User {
                    submitting: resolved.submitting,
                    notes: resolved.notes,
                },
                Err(message) => {
                    let _ = writeln!(std::io::stderr(), "hetpolicy: eval: {message}");
                    return Ok(2);
                }
            }
        }
    };
    let script_name = options.script.clone().unwrap_or_default();
    let script = match read_script(&script_name) {
        Ok(text) => text,
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "hetpolicy: {message}");
            return Ok(2);
        }
    };
    let conf_path = match &options.slurm_conf {
        Some(explicit) => explicit.clone(),
        None => Some(slurm_conf_from_env()).filter(|p| p.is_file()),
    };
    let slurm_conf = match &conf_path {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => Some(SlurmConf::parse(&text)),
            Err(err) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "hetpolicy: cannot read slurm.conf {}: {err}",
                    path.display()
                );
                return Ok(2);
            }
        },
        None => None,
    };
    let spank_plugin = conf_path
        .as_deref()
        .and_then(|path| spank_plugin_path(path, slurm_conf.as_ref()))
        .unwrap_or_else(|| "spank_hetpolicy.so".to_owned());
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "/".to_owned());
    let choice = release::choose(options.slurm);
    let evaluation = evaluate(
        &policy,
        choice.clone(),
        &Invocation {
            release: choice.release,
            script: &script,
            script_name: &script_name,
            args: &options.sbatch_args,
            env: &env,
            cwd: &cwd,
            site_options: policy.options(),
            slurm_conf: slurm_conf.as_ref(),
            spank_plugin: &spank_plugin,
        },
        slurm_conf.as_ref(),
        policy_path.display().to_string(),
        who,
    );
    let out = match options.format {
        Format::Json => json::eval(&evaluation),
        Format::Text => text(&evaluation),
    };
    let _ = std::io::stdout().write_all(out.as_bytes());
    let broken = evaluation
        .findings()
        .iter()
        .any(|f| f.severity == Severity::Error);
    Ok(match evaluation.verdict() {
        "accepted" if options.strict && broken => 1,
        "accepted" => 0,
        _ => 1,
    })
}

/// Simulates the sbatch of the release `release` chose (it replaces
/// `invocation`'s), then slurmctld when sbatch submits.
pub fn evaluate<'p>(
    policy: &'p Policy,
    release: Choice,
    invocation: &Invocation<'_>,
    slurm_conf: Option<&SlurmConf>,
    policy_path: String,
    who: WhoJudged,
) -> Evaluation<'p> {
    let invocation = Invocation {
        release: release.release,
        ..*invocation
    };
    let simulation = script::simulate(&invocation);
    let outcome = simulation.refusal.is_none().then(|| {
        let submitting = match &who {
            WhoJudged::User { submitting, .. } => Some(submitting),
            WhoJudged::NoRules | WhoJudged::Skipped => None,
        };
        script::submit_as(policy, &simulation, slurm_conf, submitting)
    });
    Evaluation {
        release,
        script_name: invocation.script_name.to_owned(),
        default_partition: slurm_conf
            .and_then(SlurmConf::default_partition)
            .map(str::to_owned),
        policy_path,
        simulation,
        outcome,
        who,
    }
}

fn read_script(name: &str) -> Result<String, String> {
    let bytes = if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the script from stdin: {e}"))?;
        bytes
    } else {
        std::fs::read(name).map_err(|e| format!("cannot read the script {name}: {e}"))?
    };
    // sbatch reads bytes; non-UTF-8 bytes cannot be option names anyway.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The SPANK plugin's path as plugstack.conf names it (sbatch quotes it).
fn spank_plugin_path(slurm_conf: &Path, conf: Option<&SlurmConf>) -> Option<String> {
    let plugstack = conf
        .and_then(|c| c.plugstack.clone())
        .map(PathBuf::from)
        .or_else(|| Some(slurm_conf.parent()?.join("plugstack.conf")))?;
    let text = std::fs::read_to_string(plugstack).ok()?;
    text.lines().find_map(|line| {
        let mut words = line.split('#').next()?.split_whitespace();
        let kind = words.next()?;
        let path = words.next()?;
        (matches!(kind, "required" | "optional") && path.contains("spank_hetpolicy"))
            .then(|| path.to_owned())
    })
}

/// How a value's origin reads in the report.
fn from(request: &Request, name: &str, k: usize) -> String {
    match request.origin(name) {
        None | Some(Origin::Default) => String::new(),
        Some(origin) => match origin.component() {
            Some(c) if c < k => format!("  ({origin}, inherited from component {c})"),
            Some(c) if c > k => format!("  ({origin}; sbatch applies it here too)"),
            _ => format!("  ({origin})"),
        },
    }
}

fn memory_text(memory: Option<Memory>) -> Option<String> {
    match memory? {
        Memory::PerNode(mb) => Some(format!("{mb} per node")),
        Memory::PerCpu(mb) => Some(format!("{mb} per CPU")),
    }
}

/// One component's request, one field a line.
fn describe(
    request: &Request,
    k: usize,
    changes: Option<&Changes<'_>>,
    slurm_conf_default: Option<&str>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = |label: &str, value: String, source: String| {
        lines.push(format!("    {label:<10} {value}{source}"));
    };
    match (&request.partition, changes.and_then(|c| c.partition)) {
        (Some(p), _) => line("partition", p.clone(), from(request, "partition", k)),
        (None, Some(routed)) => line(
            "partition",
            routed.to_owned(),
            "  (routed there by the policy)".to_owned(),
        ),
        (None, None) => line(
            "partition",
            slurm_conf_default.map_or_else(|| "(default)".to_owned(), |d| format!("{d} (default)")),
            String::new(),
        ),
    }
    match (&request.qos, changes.and_then(|c| c.qos)) {
        (Some(q), _) => line("qos", q.clone(), from(request, "qos", k)),
        (None, Some(q)) => line(
            "qos",
            q.to_owned(),
            "  (the partition's default, set by the policy)".to_owned(),
        ),
        (None, None) => {}
    }
    if let Some(account) = &request.account {
        line("account", account.clone(), from(request, "account", k));
    }
    for (label, field, names) in [
        ("per job", &request.tres_per_job, &["gpus"][..]),
        (
            "per node",
            &request.tres_per_node,
            &["gres", "gpus-per-node"][..],
        ),
        (
            "per socket",
            &request.tres_per_socket,
            &["gpus-per-socket"][..],
        ),
        (
            "per task",
            &request.tres_per_task,
            &["gpus-per-task", "tres-per-task", "cpus-per-task"][..],
        ),
    ] {
        if let Some(tres) = field {
            let source = names
                .iter()
                .map(|n| from(request, n, k))
                .find(|s| !s.is_empty())
                .unwrap_or_default();
            line("tres", format!("{tres} {label}"), source);
        }
    }
    let mut counts = Vec::new();
    if let Some(n) = request.nodes {
        counts.push(format!("{n} node{}", if n == 1 { "" } else { "s" }));
    }
    if let Some(n) = request.tasks {
        counts.push(format!("{n} task{}", if n == 1 { "" } else { "s" }));
    }
    if let Some(n) = request.cpus_per_task {
        counts.push(format!("{n} CPU{} per task", if n == 1 { "" } else { "s" }));
    }
    if let Some(n) = request.min_cpus {
        counts.push(format!("at least {n} CPU{}", if n == 1 { "" } else { "s" }));
    }
    line("size", counts.join(", "), String::new());
    if let Some(memory) = memory_text(request.memory) {
        let source = [from(request, "mem", k), from(request, "mem-per-cpu", k)]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        line("memory", memory, source);
    }
    match (request.time_limit, changes.and_then(|c| c.time_limit)) {
        (Some(t), _) => line("time", t.to_string(), from(request, "time", k)),
        (None, Some(t)) => line(
            "time",
            t.to_string(),
            "  (the QOS's max_time, set by the policy)".to_owned(),
        ),
        (None, None) => {}
    }
    for (label, value) in [
        ("output", &request.std_out),
        ("error", &request.std_err),
        ("input", &request.std_in),
    ] {
        if let Some(path) = value {
            if label == "input" && path == "/dev/null" {
                continue;
            }
            line(label, path.clone(), from(request, label, k));
        }
    }
    if let Some(array) = &request.array {
        line("array", array.clone(), from(request, "array", k));
    }
    for (name, value) in &request.site_values.0 {
        line(&format!("--{name}"), value.clone(), from(request, name, k));
    }
    lines
}

fn position_name(position: Position) -> String {
    position.to_string()
}

/// The text report.
fn text(e: &Evaluation<'_>) -> String {
    let sim = &e.simulation;
    let mut out = String::new();
    let count = sim.components.len();
    let shape = match (&sim.refusal, sim.hetjob) {
        (Some(_), _) => "sbatch stops before submitting".to_owned(),
        (None, true) => format!("a hetjob of {count} components"),
        (None, false) => "a plain job".to_owned(),
    };
    out.push_str(&format!(
        "{}: {shape} (policy {})\n  {}\n",
        e.script_name,
        e.policy_path,
        e.release.sentence()
    ));
    if let Some(line) = who_line(&e.who) {
        out.push_str(&format!("  {line}\n"));
    }
    let default_partition = e.default_partition.clone();
    for (k, request) in sim.components.iter().enumerate() {
        let verdict = e.outcome.as_ref().and_then(|o| o.verdicts.get(k));
        let changes = match verdict {
            Some(ComponentVerdict::Accepted(accepted)) => Some(&accepted.changes),
            _ => None,
        };
        out.push_str(&format!("\n  {}\n", position_name(sim.position(k))));
        for line in describe(request, k, changes, default_partition.as_deref()) {
            out.push_str(&line);
            out.push('\n');
        }
        let status = match verdict {
            Some(ComponentVerdict::Accepted(accepted)) => {
                let mut status = if accepted.changes.is_empty() {
                    "accepted".to_owned()
                } else {
                    "accepted, with the changes above".to_owned()
                };
                for warning in &accepted.warnings {
                    status.push_str(&format!("\n       warning: {warning}"));
                }
                status
            }
            Some(ComponentVerdict::Rejected(rejection)) => {
                format!("REJECTED: {}", rejection.message)
            }
            Some(ComponentVerdict::RefusedBySlurm(error)) => {
                format!(
                    "accepted by the policy, refused by slurmctld: {}",
                    error.text
                )
            }
            None if sim.refusal.is_some() => "read by sbatch".to_owned(),
            None => "not judged: slurmctld stops at the first refusal".to_owned(),
        };
        out.push_str(&format!("    => {status}\n"));
    }
    if let Some(k) = sim.refusal.as_ref().and_then(|r| r.component) {
        if k == sim.components.len() {
            out.push_str(&format!(
                "\n  {}\n    => sbatch stops while reading it\n",
                position_name(sim.position(k))
            ));
        }
    }
    out.push_str("\nsbatch would print:\n");
    let stderr = e.stderr();
    for line in &stderr {
        out.push_str(&format!("  {line}\n"));
    }
    if e.verdict() == "accepted" {
        out.push_str("  Submitted batch job <id>\n");
    }
    let findings = e.findings();
    if !findings.is_empty() {
        out.push_str("\nmistakes and surprises:\n");
        for f in &findings {
            let place = match f.line {
                Some(line) => format!("{}:{line}", e.script_name),
                None => match f.component {
                    Some(k) => format!("{} (component {k})", e.script_name),
                    None => e.script_name.clone(),
                },
            };
            out.push_str(&format!("  {place}: {}: {}\n", f.severity, f.message));
            for (i, fix_line) in f.fix.lines().enumerate() {
                if i == 0 {
                    out.push_str(&format!("    fix: {fix_line}\n"));
                } else {
                    out.push_str(&format!("    {fix_line}\n"));
                }
            }
        }
    }
    for note in e.notes() {
        out.push_str(&format!("\nnote: {note}\n"));
    }
    let verdict = match (&sim.refusal, &e.outcome) {
        (Some(refusal), _) => match refusal.by {
            RefusedBy::Sbatch => "REFUSED by sbatch before submitting".to_owned(),
            RefusedBy::SpankPlugin => {
                "REFUSED by the hetpolicy SPANK plugin in sbatch, before submitting".to_owned()
            }
        },
        (None, Some(o)) if o.accepted => "ACCEPTED".to_owned(),
        (None, Some(o)) => match o.error {
            Some(error) => format!("REJECTED ({}: {})", error.name, error.text),
            None => "REJECTED".to_owned(),
        },
        (None, None) => "REJECTED".to_owned(),
    };
    out.push_str(&format!("\nverdict: {verdict}\n"));
    out
}

/// The report's line about whom the rules about who submits were judged
/// for; none when the policy has no such rules.
fn who_line(who: &WhoJudged) -> Option<String> {
    match who {
        WhoJudged::NoRules => None,
        WhoJudged::Skipped => {
            Some("the rules naming users, groups or accounts are not judged (--no-user)".to_owned())
        }
        WhoJudged::User { submitting, .. } => {
            let s = &submitting.submitter;
            let user = s.user.as_deref().unwrap_or("?");
            let groups = if s.groups_known {
                format!("groups {}", s.groups.join(", "))
            } else {
                "groups unknown".to_owned()
            };
            let account = match &submitting.default_account {
                Some(account) => format!("; default account {account}"),
                None => String::new(),
            };
            Some(format!(
                "as user {user} (uid {}; {groups}{account}; --user NAME for another)",
                s.uid
            ))
        }
    }
}
