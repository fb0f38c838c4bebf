//! What slurmctld does with the components sbatch sends (Slurm 22.05,
//! src/slurmctld/proc_req.c and job_mgr.c): every component goes through
//! the job_submit plugin (the [`crate::engine`]) and the rest of
//! `validate_job_create_req` in order, stopping at the first refusal; then
//! the jobs are created, which refuses unknown partitions.

use super::{Finding, Severity, Simulation, SlurmConf};
use crate::engine::{
    evaluate, Accepted, Changes, Component, HetjobState, Notices, Rejection, SlurmError, Submitter,
    Verdict,
};
use crate::policy::Policy;

/// The job_submit plugin's decision on one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentVerdict<'p> {
    /// Accepted, with what the policy changes (routing, default QOS and
    /// time limit) and the warnings of rules in warn mode.
    Accepted(Accepted<'p>),
    /// Refused by the policy.
    Rejected(Rejection),
    /// Accepted by the policy, refused by slurmctld itself.
    RefusedBySlurm(SlurmError),
}

/// The result of a submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome<'p> {
    /// One verdict per component judged, in order; judging stops at the
    /// first refusal.
    pub verdicts: Vec<ComponentVerdict<'p>>,
    /// True when slurmctld accepts the whole submission.
    pub accepted: bool,
    /// What sbatch prints on stderr: the notices of accepted components
    /// (`sbatch: LINE`, or `sbatch: error: LINE` when the submission fails
    /// after all; `k: ` before each line of a hetjob's), then the refusal.
    pub stderr: Vec<String>,
    /// The error sbatch reports.
    pub error: Option<SlurmError>,
    /// Problems only the final partitions reveal (a component that asks
    /// for more nodes than its partition has).
    pub findings: Vec<Finding>,
}

/// Who submits, as slurmctld would know them, for the rules about who
/// submits (`exempt`, `deny`, `partitions.<p>.allow` and `.deny`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Submitting {
    /// The user, their uid and groups.
    pub submitter: Submitter,
    /// The account a component without `-A` is charged to: the user's
    /// default account in slurmdbd (`None` without accounting).
    pub default_account: Option<String>,
}

/// Judges `simulation`'s components as slurmctld does, for a submitter
/// nobody knows: the rules about who submits are not judged. Call it only
/// when sbatch did not refuse the submission (`simulation.refusal` is
/// `None`).
pub fn submit<'p>(
    policy: &'p Policy,
    simulation: &Simulation,
    slurm_conf: Option<&SlurmConf>,
) -> Outcome<'p> {
    submit_as(policy, simulation, slurm_conf, None)
}

/// Like [`submit`], submitted by `who` when given: the rules about who
/// submits are judged too, with the account slurmctld charges (`-A`
/// lower-cased, as `validate_job_create_req` does, else the default
/// account).
pub fn submit_as<'p>(
    policy: &'p Policy,
    simulation: &Simulation,
    slurm_conf: Option<&SlurmConf>,
    who: Option<&Submitting>,
) -> Outcome<'p> {
    let mut state = HetjobState::new();
    let mut outcome = Outcome {
        verdicts: Vec::new(),
        accepted: false,
        stderr: Vec::new(),
        error: None,
        findings: Vec::new(),
    };
    // job_submit's message of each component, as slurmctld gathers them
    // (src/slurmctld/proc_req.c, 22.05 to 26.05): a batch hetjob's lines
    // each get `<offset>: `; on success sbatch prints them as info lines,
    // on failure they come first in the error message.
    let mut notices: Vec<String> = Vec::new();
    let failed = |outcome: &mut Outcome<'p>, notices: &mut Vec<String>, error: SlurmError| {
        outcome.error = Some(error);
        let told = notices
            .drain(..)
            .map(|line| format!("sbatch: error: {line}"));
        outcome.stderr.splice(0..0, told);
        outcome.stderr.push(format!(
            "sbatch: error: Batch job submission failed: {}",
            error.text
        ));
    };
    for (k, request) in simulation.components.iter().enumerate() {
        let position = simulation.position(k);
        let charged =
            who.and_then(
                |who| match request.account.as_deref().filter(|a| !a.is_empty()) {
                    Some(account) => Some(account.to_ascii_lowercase()),
                    None => who.default_account.clone(),
                },
            );
        let component = match who {
            Some(who) => Component {
                submitter: Some(&who.submitter),
                account: charged.as_deref(),
                ..request.component(position)
            },
            None => request.component(position),
        };
        match evaluate(policy, &mut state, &component) {
            Verdict::Reject(rejection) => {
                let prefix = if simulation.hetjob {
                    format!("{k}: ")
                } else {
                    String::new()
                };
                outcome
                    .stderr
                    .push(format!("sbatch: error: {prefix}{}", rejection.message));
                failed(&mut outcome, &mut notices, rejection.code.slurm_error());
                outcome.verdicts.push(ComponentVerdict::Rejected(rejection));
                return outcome;
            }
            Verdict::Accept(accepted) => {
                let told = Notices::new(policy, &component, &accepted);
                if !told.is_empty() {
                    let prefix = if simulation.hetjob {
                        format!("{k}: ")
                    } else {
                        String::new()
                    };
                    for line in told.to_string().lines() {
                        notices.push(format!("{prefix}{line}"));
                    }
                }
                // validate_job_create_req: an array needs the batch script,
                // which only component 0 of a hetjob carries.
                if simulation.hetjob && k > 0 && request.array.is_some() {
                    let error = SlurmError {
                        name: "ESLURM_INVALID_ARRAY",
                        text: "Invalid job array specification",
                    };
                    failed(&mut outcome, &mut notices, error);
                    outcome
                        .verdicts
                        .push(ComponentVerdict::RefusedBySlurm(error));
                    return outcome;
                }
                outcome.verdicts.push(ComponentVerdict::Accepted(accepted));
            }
        }
    }
    // Job creation: each component's partition must exist.
    if let Some(conf) = slurm_conf {
        for (k, request) in simulation.components.iter().enumerate() {
            let ComponentVerdict::Accepted(Accepted { changes, .. }) = &outcome.verdicts[k] else {
                continue;
            };
            let partitions = final_partitions(request.partition.as_deref(), changes, conf);
            if let Some(unknown) = partitions
                .iter()
                .find(|p| !conf.partitions.contains_key(p.as_str()))
            {
                outcome.stderr.push(format!(
                    "sbatch: error: invalid partition specified: {unknown}"
                ));
                let error = SlurmError {
                    name: "ESLURM_INVALID_PARTITION_NAME",
                    text: "Invalid partition name specified",
                };
                failed(&mut outcome, &mut notices, error);
                outcome.verdicts[k] = ComponentVerdict::RefusedBySlurm(error);
                return outcome;
            }
            nodes_beyond_partition(&mut outcome.findings, k, request.nodes, &partitions, conf);
            if request.partition.is_none() && changes.partition.is_none() {
                default_mismatch(&mut outcome.findings, k, policy, conf);
            }
        }
    }
    outcome.accepted = true;
    outcome
        .stderr
        .extend(notices.into_iter().map(|line| format!("sbatch: {line}")));
    outcome
}

/// A component that names no partition runs on slurm.conf's default but
/// was judged against the policy's `default: true` partition.
fn default_mismatch(findings: &mut Vec<Finding>, k: usize, policy: &Policy, conf: &SlurmConf) {
    let judged = policy.default_partition.as_deref();
    let runs = conf.default_partition();
    if judged == runs
        || findings
            .iter()
            .any(|f| f.kind == "default_partition_mismatch")
    {
        return;
    }
    findings.push(Finding {
        kind: "default_partition_mismatch",
        severity: Severity::Warning,
        component: Some(k),
        line: None,
        message: format!(
            "component {k} names no partition: the policy judged it as partition {} (its default), \
             but slurm.conf's Default=YES partition is {}, where it will run",
            judged.unwrap_or("(none)"),
            runs.unwrap_or("(none)")
        ),
        fix: "name the partition with --partition; the admin should mark slurm.conf's default \
              partition `default: true` in the policy"
            .to_owned(),
    });
}

/// The partitions a component ends up on: its own list, where the policy
/// routes it, or slurm.conf's default.
fn final_partitions(own: Option<&str>, changes: &Changes<'_>, conf: &SlurmConf) -> Vec<String> {
    let list = own
        .filter(|p| !p.is_empty())
        .or(changes.partition)
        .or(conf.default_partition());
    list.map(|l| {
        l.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// A component asking for more nodes than every partition it may use has
/// is accepted but pends forever (Reason=PartitionNodeLimit; slurm.conf's
/// EnforcePartLimits=NO, the default).
fn nodes_beyond_partition(
    findings: &mut Vec<Finding>,
    k: usize,
    nodes: Option<u32>,
    partitions: &[String],
    conf: &SlurmConf,
) {
    let Some(asked) = nodes else {
        return;
    };
    let limits: Vec<(&str, u32)> = partitions
        .iter()
        .filter_map(|p| Some((p.as_str(), conf.node_limit(p)?)))
        .collect();
    if limits.is_empty()
        || limits.len() < partitions.len()
        || limits.iter().any(|(_, n)| asked <= *n)
    {
        return;
    }
    let (partition, size) = limits[0];
    findings.push(Finding {
        kind: "nodes_exceed_partition",
        severity: Severity::Error,
        component: Some(k),
        line: None,
        message: format!(
            "component {k} asks for {asked} nodes, but partition {partition} can give a job at \
             most {size}: Slurm accepts the job and it pends forever (Reason=PartitionNodeLimit)"
        ),
        fix: format!(
            "use --nodes={size} or fewer on {partition}, or a partition with enough nodes"
        ),
    });
}
