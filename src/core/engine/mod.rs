//! The policy engine: pure, safe Rust, no Slurm types.
//!
//! [`evaluate`] judges one component of a submission against a compiled
//! [`Policy`]; [`HetjobState`] carries what earlier components of the same
//! submission left behind. [`evaluate_modify`] judges an update request
//! (`scontrol update`), which only shows the fields it changes.
//!
//! Each rule lives in its own module and is named as in the policy file:
//! `accelerators`, `partitions.<p>.reserved_for`, `qos`, `io_files`,
//! `hetjob`, `options`.

mod accelerators;
mod bounds;
mod component;
mod forbid;
mod hetjob;
mod io_files;
mod memory;
mod notices;
mod options;
mod per_gpu;
mod qos;
mod reading;
mod who;

use std::fmt;

pub use bounds::{MAX_GRES_ENTRIES, MAX_PARTITIONS};
pub use component::{Component, JobKind, Memory, NamedValues, OptionValues, Position, Submitter};
pub use hetjob::HetjobState;
pub use notices::{ChangedBy, Notices};
pub use options::check_value as check_option_value;
pub use reading::Reading;

use crate::policy::{Mode, Policy, Rule};
use crate::units::{Day, TimeLimit};
use bounds::RequestedGres;

/// The Slurm error a rejection maps to: the job_submit plugin returns it
/// (src/submit/convert.rs turns each into the header's `ESLURM_*` value),
/// and sbatch prints its text after our message ("Batch job submission
/// failed: <text>"). Each variant's name, Slurm error and text are in
/// [`RejectCode::slurm_error`], the one table of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectCode {
    /// A partition the policy does not allow for the request.
    InvalidPartitionName,
    /// A GRES request the policy refuses, or one it cannot read.
    InvalidGres,
    /// A QOS not allowed on the partition, or one not named right.
    InvalidQos,
    /// Over a QOS's per-component limits (nodes, tasks, GRES, memory).
    AccountingPolicy,
    /// Over a QOS's `max_time`.
    InvalidTimeLimit,
    /// A request shape the policy forbids (output files on a later
    /// component, a hetjob over the component limit, a split hetjob).
    NotSupported,
    /// A site option missing or not allowed, no usable policy, an update
    /// hetpolicy cannot judge, or an internal error.
    AccessDenied,
}

/// A Slurm error: its `ESLURM_*` name and the text Slurm prints for it
/// (slurm_strerror, src/common/slurm_errno.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlurmError {
    /// `ESLURM_INVALID_PARTITION_NAME`, ...
    pub name: &'static str,
    /// "Invalid partition name specified", ...
    pub text: &'static str,
}

impl RejectCode {
    /// Every code, for tests and documentation.
    pub const ALL: [RejectCode; 7] = [
        RejectCode::InvalidPartitionName,
        RejectCode::InvalidGres,
        RejectCode::InvalidQos,
        RejectCode::AccountingPolicy,
        RejectCode::InvalidTimeLimit,
        RejectCode::NotSupported,
        RejectCode::AccessDenied,
    ];

    /// The Slurm error this code is returned as.
    pub const fn slurm_error(self) -> SlurmError {
        let (name, text) = match self {
            RejectCode::InvalidPartitionName => (
                "ESLURM_INVALID_PARTITION_NAME",
                "Invalid partition name specified",
            ),
            RejectCode::InvalidGres => (
                "ESLURM_INVALID_GRES",
                "Invalid generic resource (gres) specification",
            ),
            RejectCode::InvalidQos => ("ESLURM_INVALID_QOS", "Invalid qos specification"),
            RejectCode::AccountingPolicy => (
                "ESLURM_ACCOUNTING_POLICY",
                "Job violates accounting/QOS policy (job submit limit, user's size and/or time \
                 limits)",
            ),
            RejectCode::InvalidTimeLimit => (
                "ESLURM_INVALID_TIME_LIMIT",
                "Requested time limit is invalid (missing or exceeds some limit)",
            ),
            RejectCode::NotSupported => (
                "ESLURM_NOT_SUPPORTED",
                "Requested operation not supported on this system",
            ),
            RejectCode::AccessDenied => ("ESLURM_ACCESS_DENIED", "Access/permission denied"),
        };
        SlurmError { name, text }
    }
}

/// Why a component was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The Slurm error to return.
    pub code: RejectCode,
    /// The message the user sees: component, value, rule and fix.
    pub message: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Rejection {
    /// The policy path of the rule that refused (`partitions.gpu.allow`),
    /// as the message ends with it (`(policy: partitions.gpu.allow)`);
    /// empty for refusals of what cannot be judged at all (an unreadable
    /// GRES request), which belong to no rule and are always enforced.
    pub fn rule(&self) -> &str {
        rule_of(&self.message)
    }
}

/// The rule a message names at its end: `... (policy: RULE)`.
fn rule_of(message: &str) -> &str {
    message
        .strip_suffix(')')
        .and_then(|m| m.rfind("(policy: ").map(|at| &m[at + "(policy: ".len()..]))
        .filter(|rule| !rule.contains(' '))
        .unwrap_or("")
}

/// What a rule in warn mode would have done: refused the component
/// (the refusal's message) or changed it; the component is accepted
/// as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The message, as the refusal would have said it, ending with
    /// `(policy: RULE)`.
    pub message: String,
    /// The day the rule starts to refuse (`enforcement: {warn_until:}`).
    pub until: Option<Day>,
}

impl Warning {
    /// The policy path of the rule (see [`Rejection::rule`]).
    pub fn rule(&self) -> &str {
        rule_of(&self.message)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.until {
            Some(day) => write!(f, "; this is refused from {day}"),
            None => f.write_str("; this rule only warns for now"),
        }
    }
}

/// An accepted component: what the policy changes, and what rules in warn
/// mode would have refused or changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accepted<'p> {
    /// The changes to apply (possibly none).
    pub changes: Changes<'p>,
    /// The warnings of rules in warn mode; empty unless the policy has
    /// such rules (no allocation then).
    pub warnings: Vec<Warning>,
}

/// What the policy changes on an accepted component. Names borrow from the
/// policy, so accepting allocates nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes<'p> {
    /// Route a component that named no partition here.
    pub partition: Option<&'p str>,
    /// Set this QOS on a component that named none.
    pub qos: Option<&'p str>,
    /// Set this time limit on a component that gave none (its QOS's
    /// `max_time`).
    pub time_limit: Option<TimeLimit>,
    /// Set this memory per CPU on a component that asked for no memory
    /// (`memory.default_per_cpu`).
    pub memory_per_cpu: Option<crate::units::Megabytes>,
    /// Give the component whole nodes (`--exclusive`): it asked neither
    /// for them nor to share (`partitions.<p>.whole_nodes`).
    pub whole_nodes: bool,
    /// The time limit comes from `time.<kind>` (default or cap) of this
    /// kind of job rather than from the QOS's `max_time`.
    pub time_from_kind: Option<JobKind>,
}

impl Changes<'_> {
    /// True when nothing is to be changed.
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// The decision on one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<'p> {
    /// Accepted, with the changes to apply (possibly none) and the
    /// warnings of rules in warn mode.
    Accept(Accepted<'p>),
    /// Refused.
    Reject(Rejection),
}

impl Verdict<'_> {
    /// True for [`Verdict::Accept`].
    pub fn is_accept(&self) -> bool {
        matches!(self, Verdict::Accept(_))
    }
}

/// Builds a rejection.
pub fn reject(code: RejectCode, message: String) -> Rejection {
    Rejection { code, message }
}

/// Judges one component of a submission (or a plain job).
///
/// Components of a hetjob must be passed in order, 0 first, with the same
/// `state`; a plain job or component 0 starts a new submission. When the
/// order is broken (a component arrives without its predecessors), rules
/// that need earlier components (`io_files`, hetjob totals) are skipped for
/// it rather than guessed.
pub fn evaluate<'p>(
    policy: &'p Policy,
    state: &mut HetjobState,
    component: &Component<'_>,
) -> Verdict<'p> {
    evaluate_on(policy, state, component, Day::today())
}

/// [`evaluate`] on the day `today` (UTC), which decides the rules in warn
/// mode until a day (`enforcement: {warn_until: DATE}`).
pub fn evaluate_on<'p>(
    policy: &'p Policy,
    state: &mut HetjobState,
    component: &Component<'_>,
    today: Day,
) -> Verdict<'p> {
    let position = component.position;
    let in_order = state.begin(position);
    match judge(policy, state, component, in_order, today) {
        Ok(accepted) => {
            state.accepted(policy, component, in_order);
            Verdict::Accept(accepted)
        }
        Err(rejection) => {
            state.rejected();
            Verdict::Reject(rejection)
        }
    }
}

/// The rules of one component, in warn mode or enforced, and the warnings
/// they gave.
struct Judging<'p> {
    policy: &'p Policy,
    today: Day,
    warnings: Vec<Warning>,
}

impl Judging<'_> {
    /// A rule's refusal: returned when the rule is enforced, kept as a
    /// warning when it is in warn mode.
    fn refusal(&mut self, rejection: Rejection) -> Result<(), Rejection> {
        match self.policy.mode(rejection.rule(), self.today) {
            Mode::Enforce => Err(rejection),
            Mode::Warn { until } => {
                self.warnings.push(Warning {
                    message: rejection.message,
                    until,
                });
                Ok(())
            }
        }
    }

    fn check(&mut self, result: Result<(), Rejection>) -> Result<(), Rejection> {
        result.or_else(|rejection| self.refusal(rejection))
    }

    /// True when the rule at `parts` is in warn mode: what it sets is not
    /// set, and the user is told what it would set.
    fn warns(&mut self, parts: &[&str], position: Position, would: fmt::Arguments<'_>) -> bool {
        match self.policy.enforcement.mode_of(parts, self.today) {
            Mode::Enforce => false,
            Mode::Warn { until } => {
                self.warnings.push(Warning {
                    message: format!(
                        "{position} would get {would}, which is not set yet (policy: {})",
                        parts.join(".")
                    ),
                    until,
                });
                true
            }
        }
    }
}

fn judge<'p>(
    policy: &'p Policy,
    state: &HetjobState,
    component: &Component<'_>,
    in_order: bool,
    today: Day,
) -> Result<Accepted<'p>, Rejection> {
    let who = component.position;
    hetjob::check_split_hetjob(component)?;
    let requested =
        RequestedGres::read(component).map_err(|problem| problem.rejection(&who, "--gres="))?;
    bounds::check_partitions(policy, component, &who, "--partition=")?;
    let exempt = who::exemptions(policy, component);
    let applies = |rule: Rule| !exempt.contains(rule);
    let mut changes = Changes::default();
    if exempt.is_every() {
        return Ok(Accepted::default());
    }
    let mut j = Judging {
        policy,
        today,
        warnings: Vec::new(),
    };
    if applies(Rule::Maintenance) {
        j.check(who::check_maintenance(policy, component))?;
    }
    if applies(Rule::Deny) {
        j.check(who::check_deny(policy, component, state.kind_of(component)))?;
    }
    if applies(Rule::Hetjob) {
        j.check(hetjob::check_component_count(policy, who))?;
    }
    let as_given = || accelerators::Partitions::as_given(policy, component);
    let partitions = if applies(Rule::Accelerators) {
        match accelerators::check(policy, component, &requested, &mut changes) {
            Ok(partitions) => partitions,
            Err(rejection) => {
                j.refusal(rejection)?;
                as_given()
            }
        }
    } else {
        as_given()
    };
    if let Some(routed) = changes.partition {
        let gres = accelerators::routing_gres(policy, &requested).unwrap_or("");
        if j.warns(
            &["accelerators", gres],
            who,
            format_args!("--partition={routed}"),
        ) {
            changes.partition = None;
        }
    }
    let partitions = if changes.partition.is_none() && partitions.routed() {
        as_given()
    } else {
        partitions
    };
    if applies(Rule::Partitions) {
        j.check(who::check_access(
            policy,
            component,
            &partitions,
            state.kind_of(component),
        ))?;
        j.check(accelerators::check_reserved(
            policy,
            component,
            &requested,
            &partitions,
        ))?;
        j.check(forbid::check(policy, component, &partitions))?;
        j.check(per_gpu::check(policy, component, &partitions))?;
        j.check(per_gpu::check_whole_nodes(
            policy,
            component,
            &partitions,
            &mut changes,
        ))?;
        if changes.whole_nodes {
            let partition = partitions.first().unwrap_or("");
            if j.warns(
                &["partitions", partition, "whole_nodes"],
                who,
                format_args!("--exclusive"),
            ) {
                changes.whole_nodes = false;
            }
        }
    }
    if applies(Rule::Qos) {
        j.check(qos::check(policy, component, &partitions, &mut changes))?;
        let qos = component
            .qos
            .and_then(|list| qos::qos_names(list).next())
            .or(changes.qos)
            .unwrap_or("");
        if let Some(default) = changes.qos {
            let partition = partitions.first().unwrap_or("");
            if j.warns(
                &["partitions", partition, "qos"],
                who,
                format_args!("--qos={default}"),
            ) {
                // The QOS's time limit comes with it.
                changes.qos = None;
                changes.time_limit = None;
            }
        }
        if let (Some(time), None) = (changes.time_limit, component.time_limit) {
            if j.warns(
                &["qos", qos, "max_time"],
                who,
                format_args!("--time={time}"),
            ) {
                changes.time_limit = None;
            }
        }
    }
    if applies(Rule::Memory) {
        j.check(memory::check(policy, component, &mut changes))?;
        if let Some(per_cpu) = changes.memory_per_cpu {
            if j.warns(
                &["memory", "default_per_cpu"],
                who,
                format_args!("--mem-per-cpu={per_cpu}"),
            ) {
                changes.memory_per_cpu = None;
            }
        }
    }
    if applies(Rule::Time) {
        let kind = state.kind_of(component);
        let before = changes.time_limit;
        j.check(who::check_time(policy, component, kind, &mut changes))?;
        if let (Some(time), true) = (changes.time_limit, changes.time_limit != before) {
            changes.time_from_kind = kind;
            let kind = match kind {
                Some(JobKind::Interactive) => "interactive",
                _ => "batch",
            };
            if j.warns(&["time", kind], who, format_args!("--time={time}")) {
                changes.time_limit = before;
                changes.time_from_kind = None;
            }
        }
    }
    if applies(Rule::Options) {
        j.check(options::check(policy, component, &requested, &partitions))?;
    }
    if in_order {
        if applies(Rule::IoFiles) {
            j.check(io_files::check(policy, state, component))?;
        }
        if applies(Rule::Hetjob) {
            j.check(hetjob::check_totals(policy, state, component))?;
        }
    }
    Ok(Accepted {
        changes,
        warnings: j.warnings,
    })
}

/// Judges an update request (`scontrol update job=...`). Only the fields the
/// update carries are known; anything absent is unchanged and cannot be
/// seen (job_record_t has no public header), so rules that need it are
/// skipped, and nothing is defaulted or routed.
pub fn evaluate_modify(policy: &Policy, update: &Component<'_>) -> Result<(), Rejection> {
    let who = "job update";
    let requested =
        RequestedGres::read(update).map_err(|problem| problem.rejection(&who, "gres="))?;
    bounds::check_partitions(policy, update, &who, "partition=")?;
    let update = Component {
        position: Position::Plain,
        ..update.clone()
    };
    if let Some(partition) = update.partition {
        let partitions = accelerators::Partitions::explicit(partition);
        if has_gres_fields(&update) {
            accelerators::check_explicit(policy, &update, &requested, partition)?;
            accelerators::check_reserved(policy, &update, &requested, &partitions)?;
        }
        if update.qos.is_some() {
            qos::check_allowed(policy, &update, &partitions)?;
        }
    }
    if let Some(list) = update.qos {
        qos::check_names(&update, list)?;
        for qos_name in qos::qos_names(list) {
            qos::check_limits(policy, &update, qos_name, None)?;
        }
    }
    Ok(())
}

/// The first field an update changes whose rules need the job's other
/// fields, which slurmctld does not show plugins (job_record_t has no
/// public header): a partition (its GRES, QOS and site option rules read
/// the job's GRES and QOS), a QOS (allowed per partition, limits on the
/// job's size), GRES, nodes, tasks, CPUs or memory (limits of the job's
/// QOS). With `policy`'s rules by partition about who submits, the
/// account too (`partitions.<p>.allow`/`.deny` and `deny` by account read
/// the job's partition); with `partitions.<p>.forbid`, the node list, the
/// excluded nodes and the job name; with `partitions.<p>.whole_nodes`,
/// sharing (`oversubscribe`, `exclusive`). `None` when the update changes
/// none of them (a hold, a shorter time limit: users can only shorten it).
pub fn unjudged_update_field(policy: &Policy, update: &Component<'_>) -> Option<&'static str> {
    let forbids = |rule: fn(&crate::policy::Forbid) -> bool| {
        policy.partitions.values().any(|p| rule(&p.forbid))
    };
    let fields = [
        (update.partition.is_some(), "partition"),
        (update.qos.is_some(), "qos"),
        (has_gres_fields(update), "gres"),
        (update.nodes.is_some(), "numnodes"),
        (update.tasks.is_some(), "numtasks"),
        (update.cpus_per_task.is_some(), "cpuspertask"),
        (update.min_cpus.is_some(), "numcpus"),
        (update.memory.is_some(), "minmemory"),
        (
            update.account.is_some() && policy.needs_account(),
            "account",
        ),
        (
            update.nodelist.is_some() && forbids(|f| f.nodelist),
            "nodelist",
        ),
        (
            update.exclude.is_some() && forbids(|f| f.exclude),
            "excnodelist",
        ),
        (
            update.job_name.is_some() && forbids(|f| !f.job_names.is_empty()),
            "name",
        ),
        (
            update.exclusive.is_some() && policy.partitions.values().any(|p| p.whole_nodes),
            "oversubscribe",
        ),
    ];
    fields
        .into_iter()
        .find_map(|(changed, field)| changed.then_some(field))
}

/// The refusal of an update hetpolicy cannot judge (see
/// [`unjudged_update_field`]), for someone the policy's
/// `job_updates.unjudged_allowed_for` does not allow.
pub fn refuse_unjudged_update(field: &str) -> Rejection {
    reject(
        RejectCode::AccessDenied,
        format!(
            "job update changes {field}, which hetpolicy cannot check against the rest of the \
             job; cancel the job and submit it again with the new {field} (scancel, then \
             sbatch), or ask an administrator to make the change (policy: \
             job_updates.unjudged_allowed_for)"
        ),
    )
}

fn has_gres_fields(c: &Component<'_>) -> bool {
    c.tres_per_job.is_some()
        || c.tres_per_node.is_some()
        || c.tres_per_socket.is_some()
        || c.tres_per_task.is_some()
}

#[cfg(test)]
mod tests;
