//! The engine's view of one job or hetjob component.

use std::fmt;

use crate::gres::{self, GresParseError, GresRequest};
use crate::policy::SiteOption;
use crate::units::{Megabytes, TimeLimit};

/// Where a component stands in its submission.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Position {
    /// A plain job (Slurm's het_job_offset is NO_VAL).
    #[default]
    Plain,
    /// Component N of a heterogeneous job (het_job_offset N).
    Het(u32),
}

impl fmt::Display for Position {
    /// How messages name the component: `job` or `hetjob component 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Plain => f.write_str("job"),
            Position::Het(index) => write!(f, "hetjob component {index}"),
        }
    }
}

/// Memory as requested: `--mem` (per node) or `--mem-per-cpu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// `--mem`: per node.
    PerNode(Megabytes),
    /// `--mem-per-cpu`.
    PerCpu(Megabytes),
}

/// Where a component's site option values (`--qpu=NAME`) come from: the
/// job's spank_job_env in slurmctld, parsed options in the command line
/// tool.
pub trait OptionValues: fmt::Debug {
    /// The component's value for `option`, if it gave one.
    fn value(&self, option: &SiteOption) -> Option<&str>;
}

/// Values keyed by option name, `NamedValues(&[("qpu", "ibm_fez")])`; the
/// last one given for a name counts.
#[derive(Clone, Copy, Debug)]
pub struct NamedValues<'a>(pub &'a [(&'a str, &'a str)]);

impl OptionValues for NamedValues<'_> {
    fn value(&self, option: &SiteOption) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| *name == option.name())
            .map(|(_, value)| *value)
    }
}

/// One component's request, borrowed from wherever it came from (a Slurm
/// job_desc, a batch script). `None` means "not given".
#[derive(Clone, Debug, Default)]
pub struct Component<'a> {
    /// Plain job or hetjob component N.
    pub position: Position,
    /// `--partition`, possibly a comma-separated list.
    pub partition: Option<&'a str>,
    /// `--qos`.
    pub qos: Option<&'a str>,
    /// TRES strings as Slurm stores them (`gres:gpu:2`, `gres/gpu:2`, ...).
    pub tres_per_job: Option<&'a str>,
    /// `--gres`, `--gpus-per-node`.
    pub tres_per_node: Option<&'a str>,
    /// `--gpus-per-socket`.
    pub tres_per_socket: Option<&'a str>,
    /// `--gpus-per-task`.
    pub tres_per_task: Option<&'a str>,
    /// `--nodes` (minimum).
    pub nodes: Option<u32>,
    /// `--nodes=MIN-MAX`'s maximum (sbatch sets it to MIN for `--nodes=N`).
    pub max_nodes: Option<u32>,
    /// `--sockets-per-node`, which slurmctld requires with
    /// `--gpus-per-socket`.
    pub sockets_per_node: Option<u32>,
    /// `--ntasks`.
    pub tasks: Option<u32>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<u32>,
    /// The minimum CPU count Slurm derived for the component.
    pub min_cpus: Option<u32>,
    /// `--mem` or `--mem-per-cpu`.
    pub memory: Option<Memory>,
    /// `--time`.
    pub time_limit: Option<TimeLimit>,
    /// `--output`.
    pub std_out: Option<&'a str>,
    /// `--error`.
    pub std_err: Option<&'a str>,
    /// `--input`.
    pub std_in: Option<&'a str>,
    /// Site option values (`--qpu=NAME`).
    pub options: Option<&'a dyn OptionValues>,
    /// Which component of its command line the SPANK plugin saw this job
    /// as in sbatch/salloc/srun (0, 1, ...), when it ran there.
    pub client_component: Option<u32>,
    /// Who submits, when known (the plugins always know; `hetpolicy eval`
    /// only with `--user`).
    pub submitter: Option<&'a Submitter>,
    /// The account the job is charged to: `-A`, else the submitter's
    /// default account; `None` when unknown.
    pub account: Option<&'a str>,
    /// Batch or interactive; `None` for a later hetjob component, which
    /// is whatever component 0 was.
    pub kind: Option<JobKind>,
    /// `-w`/`--nodelist`.
    pub nodelist: Option<&'a str>,
    /// `-x`/`--exclude`.
    pub exclude: Option<&'a str>,
    /// `-J`/`--job-name`.
    pub job_name: Option<&'a str>,
    /// `--mem=0`: all of each node's memory (`memory` is then `None`).
    pub whole_node_memory: bool,
    /// Whole nodes or shared: `Some(true)` for `--exclusive` (or
    /// `--exclusive=topo`), `Some(false)` for `--oversubscribe`,
    /// `--exclusive=user` or `--exclusive=mcs`, `None` when not asked.
    pub exclusive: Option<bool>,
}

/// Who submits a job, as slurmctld knows them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Submitter {
    /// The user's uid.
    pub uid: u32,
    /// The user's name, when the user database knows the uid.
    pub user: Option<String>,
    /// The user's groups, primary first, then supplementary.
    pub groups: Vec<String>,
    /// False when the groups could not be looked up (the user database
    /// failed or was too slow): rules about groups cannot be judged.
    pub groups_known: bool,
}

/// How a job was submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// With a batch script: sbatch.
    Batch,
    /// Without one: salloc, or srun outside an allocation.
    Interactive,
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobKind::Batch => "batch",
            JobKind::Interactive => "interactive",
        })
    }
}

/// How many `name` one TRES field asks for, as slurmctld records it: a
/// count of 0 is skipped (`if (value == 0) goto next` in
/// `_get_next_gres`), a repeated entry of the same type replaces the
/// earlier one (`_get_next_job_gres` finds that record again), and the
/// types add up. The kept types live on the stack; a field with more
/// distinct types than that (never seen) is read again per entry.
fn field_total(field: &str, name: &str) -> u64 {
    const KEPT: usize = 8;
    let entries = || {
        gres::parse(field)
            .filter_map(Result::ok)
            .filter(|r| r.name == name && r.count > 0)
    };
    let mut kept: [(Option<&str>, u64); KEPT] = [(None, 0); KEPT];
    let mut len = 0;
    for entry in entries() {
        if let Some(slot) = kept[..len].iter_mut().find(|(t, _)| *t == entry.gres_type) {
            slot.1 = entry.count;
        } else if len < KEPT {
            kept[len] = (entry.gres_type, entry.count);
            len += 1;
        } else {
            return entries()
                .enumerate()
                .filter(|(index, entry)| {
                    !entries()
                        .skip(index + 1)
                        .any(|later| later.gres_type == entry.gres_type)
                })
                .map(|(_, entry)| entry.count)
                .fold(0u64, u64::saturating_add);
        }
    }
    kept[..len]
        .iter()
        .map(|(_, count)| *count)
        .fold(0u64, u64::saturating_add)
}

/// Which tres_per_* field a request came from, which says what its count
/// multiplies with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Job,
    Node,
    Socket,
    Task,
}

impl<'a> Component<'a> {
    fn tres_fields(&self) -> [(Scope, Option<&'a str>); 4] {
        [
            (Scope::Job, self.tres_per_job),
            (Scope::Node, self.tres_per_node),
            (Scope::Socket, self.tres_per_socket),
            (Scope::Task, self.tres_per_task),
        ]
    }

    /// Every GRES entry of all tres_per_* fields, zero counts included.
    pub fn gres_entries(&self) -> impl Iterator<Item = Result<GresRequest<'a>, GresParseError>> {
        self.tres_fields()
            .into_iter()
            .filter_map(|(_, field)| field)
            .flat_map(gres::parse)
    }

    /// Every GRES request with a non-zero count, from all tres_per_* fields.
    pub fn gres_requests(&self) -> impl Iterator<Item = Result<GresRequest<'a>, GresParseError>> {
        self.gres_entries()
            .filter(|r| !matches!(r, Ok(request) if request.count == 0))
    }

    /// The component's value for a site option; an empty value is none.
    pub fn option_value(&self, option: &SiteOption) -> Option<&'a str> {
        self.options
            .and_then(|values| values.value(option))
            .filter(|value| !value.is_empty())
    }

    /// The first readable request for GRES `name`.
    pub fn gres_request(&self, name: &str) -> Option<GresRequest<'a>> {
        self.gres_requests()
            .filter_map(Result::ok)
            .find(|r| r.name == name)
    }

    /// True when the component asks for at least one `name`.
    pub fn requests_gres(&self, name: &str) -> bool {
        self.gres_request(name).is_some()
    }

    /// How many `name` the whole component may get. Each field gives a
    /// total: per-job counts as given, per-node counts times the most nodes
    /// ([`Component::most_nodes`]), per-socket counts times that and
    /// `--sockets-per-node`, per-task counts times the task count. The
    /// fields describe one allocation, not several added together
    /// (`--gpus=2 --gpus-per-node=1` is 2 GPUs on 2 nodes), so the largest
    /// total counts. Within a field, entries of different types add up
    /// (`gpu:a100:1,gpu:v100:1` is 2) and a repeated entry replaces the
    /// earlier one, as slurmctld reads it (`gpu:2,gpu:1` is 1:
    /// `_get_next_job_gres` finds the record of that name and type again
    /// and sets its count).
    pub fn gres_total(&self, name: &str) -> u64 {
        let nodes = u64::from(self.most_nodes());
        let sockets = u64::from(self.sockets_per_node.unwrap_or(1).max(1));
        let tasks = u64::from(self.tasks.unwrap_or(1).max(1));
        self.tres_fields()
            .into_iter()
            .filter_map(|(scope, field)| Some((scope, field?)))
            .map(|(scope, field)| {
                let times = match scope {
                    Scope::Job => 1,
                    Scope::Node => nodes,
                    Scope::Socket => nodes.saturating_mul(sockets),
                    Scope::Task => tasks,
                };
                field_total(field, name).saturating_mul(times)
            })
            .max()
            .unwrap_or(0)
    }

    /// The node count asked for (1 when not given).
    pub fn node_count(&self) -> u32 {
        self.nodes.unwrap_or(1).max(1)
    }

    /// The most nodes the component may get, which per-node requests and
    /// limits count with: the top of `--nodes=MIN-MAX` (MIN for
    /// `--nodes=N`); without `--nodes`, its task count, since slurmctld may
    /// place each task on a node of its own (`-n 4 --gres=gpu:1` may get 4
    /// nodes with a GPU each).
    pub fn most_nodes(&self) -> u32 {
        let top = match self.max_nodes {
            Some(max) => max,
            None => self.tasks.unwrap_or(1),
        };
        self.node_count().max(top)
    }

    /// The node count a `max_nodes` limit is held against: the top of an
    /// explicit `--nodes` range (a job without `--nodes` is not refused for
    /// the nodes its tasks might spread over).
    pub fn nodes_asked(&self) -> u32 {
        self.node_count().max(self.max_nodes.unwrap_or(0))
    }

    /// What a message about per-node counts adds when the tasks alone
    /// decide the node count (no `--nodes`): why, and the fix.
    pub fn per_node_hint(&self) -> String {
        if self.max_nodes.is_some() || self.most_nodes() <= self.node_count() {
            return String::new();
        }
        format!(
            " (per-node requests count on every node, and without --nodes its {} tasks may \
             run on {} nodes: add --nodes=1 to keep them on one)",
            self.most_nodes(),
            self.most_nodes()
        )
    }

    /// CPUs for the whole component: tasks times CPUs per task, or the
    /// minimum CPU count when that is larger.
    pub fn cpu_count(&self) -> u64 {
        let per_tasks = u64::from(self.tasks.unwrap_or(1).max(1))
            .saturating_mul(u64::from(self.cpus_per_task.unwrap_or(1).max(1)));
        per_tasks.max(u64::from(self.min_cpus.unwrap_or(0)))
    }

    /// Memory for the whole component: per-node memory times the most
    /// nodes, or
    /// per-CPU memory times CPUs. `None` when no memory was requested.
    pub fn memory_total(&self) -> Option<Megabytes> {
        Some(Megabytes(match self.memory? {
            Memory::PerNode(mb) => mb.0.saturating_mul(u64::from(self.most_nodes())),
            Memory::PerCpu(mb) => mb.0.saturating_mul(self.cpu_count()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gres_totals_multiply_by_scope() {
        let c = Component {
            tres_per_node: Some("gres:gpu:2"),
            nodes: Some(3),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 6);
        let c = Component {
            tres_per_task: Some("cpu=4,gres/gpu=1"),
            tasks: Some(4),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 4);
        let c = Component {
            tres_per_job: Some("gres/gpu:a100:2"),
            tres_per_node: Some("gres/qpu"),
            nodes: Some(5),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 2);
        assert_eq!(c.gres_total("qpu"), 5);
        assert_eq!(c.gres_total("fpga"), 0);
        // --gpus=2 --gpus-per-node=1: one allocation of 2 GPUs.
        let c = Component {
            tres_per_job: Some("gres:gpu:2"),
            tres_per_node: Some("gres:gpu:1"),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 2);
        // --gpus-per-task=1 -n 4 --gpus-per-node=2 -N 1: 4.
        let c = Component {
            tres_per_node: Some("gres/gpu:2"),
            tres_per_task: Some("gres/gpu:1"),
            tasks: Some(4),
            nodes: Some(1),
            max_nodes: Some(1),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 4);
        // Without --nodes the 4 tasks may get 4 nodes with 2 GPUs each.
        let c = Component {
            max_nodes: None,
            nodes: None,
            ..c
        };
        assert_eq!(c.gres_total("gpu"), 8);
        // A repeated entry replaces the earlier one, as slurmctld reads it.
        let c = Component {
            tres_per_node: Some("gres:gpu:2,gres:gpu:1"),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 1);
        let c = Component {
            tres_per_node: Some("gres/gpu:1,gres/gpu:a100:1,gres/gpu:3"),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 4);
        // More distinct types than kept on the stack: the same rule.
        let many = "gres/gpu:t1:1,gres/gpu:t2:1,gres/gpu:t3:1,gres/gpu:t4:1,gres/gpu:t5:1,\
                    gres/gpu:t6:1,gres/gpu:t7:1,gres/gpu:t8:1,gres/gpu:t9:1,gres/gpu:t1:5";
        let c = Component {
            tres_per_job: Some(many),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 13);
        // A later count of 0 is skipped: it does not undo the request.
        let c = Component {
            tres_per_node: Some("gres:gpu:2MB,gres:gpu:0"),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 2_000_000);
        // Per socket: times --sockets-per-node and the nodes.
        let c = Component {
            tres_per_socket: Some("gres/gpu:1"),
            sockets_per_node: Some(2),
            nodes: Some(2),
            max_nodes: Some(2),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 4);
        // Typed entries of one name add up.
        let c = Component {
            tres_per_node: Some("gres:gpu:a100:1,gres:gpu:v100:2"),
            nodes: Some(2),
            ..Component::default()
        };
        assert_eq!(c.gres_total("gpu"), 6);
    }

    #[test]
    fn zero_counts_are_not_requests() {
        let c = Component {
            tres_per_job: Some("gres:gpu:0"),
            ..Component::default()
        };
        assert!(!c.requests_gres("gpu"));
        assert_eq!(c.gres_requests().count(), 0);
    }

    #[test]
    fn cpus_and_memory() {
        let c = Component {
            tasks: Some(2),
            cpus_per_task: Some(4),
            memory: Some(Memory::PerCpu(Megabytes(1000))),
            ..Component::default()
        };
        assert_eq!(c.cpu_count(), 8);
        assert_eq!(c.memory_total(), Some(Megabytes(8000)));
        let c = Component {
            nodes: Some(2),
            min_cpus: Some(16),
            memory: Some(Memory::PerNode(Megabytes(4096))),
            ..Component::default()
        };
        assert_eq!(c.cpu_count(), 16);
        assert_eq!(c.memory_total(), Some(Megabytes(8192)));
        assert_eq!(Component::default().memory_total(), None);
    }

    #[test]
    fn absurd_numbers_saturate() {
        let c = Component {
            tres_per_node: Some("gres:gpu:4g"),
            nodes: Some(u32::MAX),
            tasks: Some(u32::MAX),
            cpus_per_task: Some(u32::MAX),
            memory: Some(Memory::PerCpu(Megabytes(u64::MAX))),
            ..Component::default()
        };
        assert!(c.gres_total("gpu") > 0);
        assert_eq!(c.memory_total(), Some(Megabytes(u64::MAX)));
    }
}
