//! A batch script and sbatch command line, seen the way slurmctld will see
//! them: which components sbatch builds, what each one asks for, and what
//! the job_submit plugin (the same [`crate::engine`]) and slurmctld then
//! decide. This is what `hetpolicy eval` runs.
//!
//! [`simulate`] follows the sbatch of one Slurm release
//! ([`Invocation::release`]; src/sbatch/opt.c, src/common/slurm_opt.c): a
//! first pass over the whole command line, then one pass per component
//! that reads the component's `#SBATCH` lines, the `SBATCH_*` variables and
//! the component's part of the command line (the words between `:`
//! separators). Options Slurm propagates (`--qos`, `--time`, `--output`,
//! `--mem`, ...) start from the previous component's value; the others
//! start from the default. It runs the SPANK plugin's check of site
//! options after each component, as sbatch does, and builds the job
//! description sbatch sends ([`Request`]). [`submit`] then judges the
//! components in order as slurmctld does.
//!
//! Its parts: the release's option table, generated from Slurm's sources
//! ([`crate::slurm_options`]); what the model does with each option
//! (`options`); where the releases differ (`rules`); the script's
//! `#SBATCH` lines (`directives`), getopt (`getopt`), option values
//! (`values`), sbatch's option state (`state`), its passes (`sbatch`),
//! `tres_per_task` (`tres_per_task`), its GRES checks (`gres_check`),
//! slurmctld (`slurmctld`) and slurm.conf (`slurm_conf`).
//!
//! Along the way it records [`Finding`]s: hetjob mistakes that sbatch gets
//! wrong or hides, each with its fix.

mod directives;
mod findings;
mod getopt;
mod gres_check;
mod options;
mod rules;
mod sbatch;
mod slurm_conf;
mod slurmctld;
mod state;
mod tres_per_task;
mod values;

use std::collections::BTreeMap;
use std::fmt;

use crate::engine::{Component, JobKind, Memory, OptionValues, Position};
use crate::policy::SiteOption;
use crate::units::{Megabytes, TimeLimit};

pub use crate::slurm_options::Release;

pub use crate::engine::SlurmError;
pub use slurm_conf::{PartitionConf, SlurmConf};
pub use slurmctld::{submit, submit_as, ComponentVerdict, Outcome, Submitting};

/// Everything sbatch reads besides its own configuration.
#[derive(Clone, Copy, Debug)]
pub struct Invocation<'a> {
    /// The Slurm release whose sbatch and slurmctld are modelled.
    pub release: Release,
    /// The batch script's text.
    pub script: &'a str,
    /// The script's path as given to sbatch (messages use its base name).
    pub script_name: &'a str,
    /// sbatch's options before the script, `:` separating components.
    pub args: &'a [String],
    /// The environment sbatch runs in (`SBATCH_*`, `SLURM_SPANK_*`).
    pub env: &'a BTreeMap<String, String>,
    /// The working directory (relative `--output` paths are made absolute
    /// against it, or against `--chdir`).
    pub cwd: &'a str,
    /// The site options the SPANK plugin registers (`--qpu`), in policy
    /// order.
    pub site_options: &'a [SiteOption],
    /// slurm.conf, when known: GRES names sbatch accepts, partitions.
    pub slurm_conf: Option<&'a SlurmConf>,
    /// The SPANK plugin's path as plugstack.conf names it (sbatch quotes
    /// it when the plugin fails).
    pub spank_plugin: &'a str,
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An `#SBATCH` line in the section of component `component`.
    Script {
        /// The component whose section holds the line.
        component: usize,
        /// 1-based line number.
        line: usize,
    },
    /// An `SBATCH_*` environment variable (applies to every component).
    Environment {
        /// The variable.
        variable: String,
    },
    /// The command line, in the part of component `component` (parts are
    /// separated by `:`).
    CommandLine {
        /// The part of the command line.
        component: usize,
    },
    /// A site option value that sbatch replays from an earlier component.
    Replayed,
    /// sbatch's own default.
    Default,
}

impl Origin {
    /// The component whose options set the value, if it was one component.
    pub fn component(&self) -> Option<usize> {
        match self {
            Origin::Script { component, .. } | Origin::CommandLine { component } => {
                Some(*component)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Script { line, .. } => write!(f, "line {line}"),
            Origin::Environment { variable } => write!(f, "${variable}"),
            Origin::CommandLine { component } => {
                if *component == 0 {
                    f.write_str("command line")
                } else {
                    write!(f, "command line, component {component}'s part")
                }
            }
            Origin::Replayed => f.write_str("replayed by sbatch"),
            Origin::Default => f.write_str("sbatch's default"),
        }
    }
}

/// A component's site option values (`--qpu=ibm_fez`), as the SPANK
/// plugin forwards them to slurmctld: the component's own value, or an
/// earlier component's that sbatch replayed into it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteValues(pub Vec<(String, String)>);

impl OptionValues for SiteValues {
    fn value(&self, option: &SiteOption) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(name, _)| name == option.name())
            .map(|(_, value)| value.as_str())
    }
}

/// One component as sbatch sends it to slurmctld (job_desc_msg_t), owned.
/// [`Request::component`] lends it to the engine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--qos`.
    pub qos: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--gpus`, as `gres:gpu:N`.
    pub tres_per_job: Option<String>,
    /// `--gpus-per-node` and `--gres`, as `gres:NAME[:TYPE]:N`.
    pub tres_per_node: Option<String>,
    /// `--gpus-per-socket`.
    pub tres_per_socket: Option<String>,
    /// `--gpus-per-task`.
    pub tres_per_task: Option<String>,
    /// Minimum node count (`--nodes`, or what sbatch derived).
    pub nodes: Option<u32>,
    /// Maximum node count.
    pub max_nodes: Option<u32>,
    /// `--sockets-per-node`.
    pub sockets_per_node: Option<u32>,
    /// Task count (`--ntasks`, or what sbatch derived).
    pub tasks: Option<u32>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<u32>,
    /// The minimum CPU count sbatch computes.
    pub min_cpus: Option<u32>,
    /// `--mem` or `--mem-per-cpu` (none for `--mem=0`).
    pub memory: Option<Memory>,
    /// `--time`.
    pub time_limit: Option<TimeLimit>,
    /// `--output`, absolute.
    pub std_out: Option<String>,
    /// `--error`, absolute.
    pub std_err: Option<String>,
    /// `--input`, absolute (`/dev/null` by default).
    pub std_in: Option<String>,
    /// `--array`.
    pub array: Option<String>,
    /// Site option values.
    pub site_values: SiteValues,
    /// Where each option the model read came from, by option name
    /// (`partition`, `qos`, `gres`, `mem`, `time`, `output`, `qpu`, ...).
    pub origins: BTreeMap<String, Origin>,
    /// The value of each option the model read, as sbatch holds it once
    /// the component is read (files absolute, memory in Slurm's units), by
    /// option name; flags have an empty value.
    pub values: BTreeMap<String, String>,
}

impl Request {
    /// The engine's view of this component at `position`.
    pub fn component(&self, position: Position) -> Component<'_> {
        Component {
            position,
            partition: self.partition.as_deref().filter(|p| !p.is_empty()),
            qos: self.qos.as_deref().filter(|q| !q.is_empty()),
            tres_per_job: self.tres_per_job.as_deref(),
            tres_per_node: self.tres_per_node.as_deref(),
            tres_per_socket: self.tres_per_socket.as_deref(),
            tres_per_task: self.tres_per_task.as_deref(),
            nodes: self.nodes,
            max_nodes: self.max_nodes,
            sockets_per_node: self.sockets_per_node,
            tasks: self.tasks,
            cpus_per_task: self.cpus_per_task,
            min_cpus: self.min_cpus,
            memory: self.memory,
            time_limit: self.time_limit,
            std_out: self.std_out.as_deref(),
            std_err: self.std_err.as_deref(),
            std_in: self.std_in.as_deref(),
            options: Some(&self.site_values),
            client_component: None,
            // Who submits is not known offline: the rules about it are
            // not judged here.
            submitter: None,
            account: self.account.as_deref(),
            kind: Some(JobKind::Batch),
            nodelist: self.values.get("nodelist").map(String::as_str),
            exclude: self.values.get("exclude").map(String::as_str),
            job_name: self.values.get("job-name").map(String::as_str),
            exclusive: match (
                self.values.get("exclusive").map(String::as_str),
                self.values.contains_key("oversubscribe"),
            ) {
                (Some("" | "exclusive" | "topo"), _) => Some(true),
                (Some(_), _) | (None, true) => Some(false),
                (None, false) => None,
            },
            // sbatch holds memory in its units ("0M" for --mem=0).
            whole_node_memory: ["mem", "mem-per-cpu"].iter().any(|option| {
                self.values
                    .get(*option)
                    .is_some_and(|v| Megabytes::parse(v).is_ok_and(|mb| mb.0 == 0))
            }),
        }
    }

    /// Where option `name` came from.
    pub fn origin(&self, name: &str) -> Option<&Origin> {
        self.origins.get(name)
    }
}

/// Who stops a submission before slurmctld judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedBy {
    /// sbatch itself (an option it does not accept, a fatal check).
    Sbatch,
    /// The SPANK plugin's check of a site option value, in sbatch.
    SpankPlugin,
}

/// sbatch stops before anything is submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Who refused.
    pub by: RefusedBy,
    /// The component being read, if the refusal is about one.
    pub component: Option<usize>,
    /// What sbatch prints on stderr.
    pub stderr: Vec<String>,
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Note,
    /// Probably not what was meant.
    Warning,
    /// sbatch refuses it, or the job can never run as written.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A hetjob mistake, with its fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// A stable name: `het_group_in_script`, `array_with_hetjob`,
    /// `output_on_later_component`, `het_group_id_in_batch_script`,
    /// `nodes_exceed_partition`, `applies_to_earlier_component`,
    /// `environment_overrides_script`, `inherited_memory`,
    /// `het_group_out_of_range`, `default_partition_mismatch`,
    /// `slurm_magic`.
    pub kind: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The component it is about.
    pub component: Option<usize>,
    /// The script line it is about.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// What sbatch does with a script and command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Simulation {
    /// The release whose sbatch was modelled.
    pub release: Release,
    /// The components sbatch built, in order (up to a refusal).
    pub components: Vec<Request>,
    /// True when sbatch submits a hetjob (more than one component).
    pub hetjob: bool,
    /// sbatch stops before submitting.
    pub refusal: Option<Refusal>,
    /// Lines sbatch prints on stderr while reading the options (warnings).
    pub stderr: Vec<String>,
    /// Mistakes and surprises, with fixes.
    pub findings: Vec<Finding>,
    /// What eval does not model for this submission.
    pub notes: Vec<String>,
}

impl Simulation {
    /// How slurmctld and messages name component `index`.
    pub fn position(&self, index: usize) -> Position {
        if self.hetjob {
            Position::Het(u32::try_from(index).unwrap_or(u32::MAX))
        } else {
            Position::Plain
        }
    }
}

/// Runs sbatch's option processing on `invocation`.
pub fn simulate(invocation: &Invocation<'_>) -> Simulation {
    sbatch::run(invocation)
}

#[cfg(test)]
mod tests;
