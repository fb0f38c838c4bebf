//! The serde model of hetpolicy.yaml, exactly as an admin writes it.
//!
//! Every name that refers to something else keeps its source location
//! (`Spanned`), so that [`super::compile`] can report a dangling name at its
//! line and column. Unknown keys are refused by `deny_unknown_fields`.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::units::{Day, Megabytes, TimeLimit};

/// A name with the place it was written.
pub type Name = Spanned<String>;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Per-partition rules, keyed by Slurm partition name.
    #[serde(default)]
    pub partitions: HashMap<Name, PartitionFile>,
    /// Per-GRES rules (`gpu`, `qpu`, ...), keyed by GRES name.
    #[serde(default)]
    pub accelerators: HashMap<Name, AcceleratorFile>,
    /// Rules for --output/--error/--input.
    #[serde(default)]
    pub io_files: IoFilesFile,
    /// Per-QOS limits, keyed by QOS name.
    #[serde(default)]
    pub qos: HashMap<Name, QosFile>,
    /// Limits over a whole heterogeneous job.
    #[serde(default)]
    pub hetjob: HetjobFile,
    /// Site options (`--qpu=NAME`) that the SPANK plugin adds to
    /// sbatch/salloc/srun, keyed by option name.
    #[serde(default)]
    pub options: HashMap<Name, OptionFile>,
    /// What happens to a job hetpolicy cannot judge: `reject` (default) or
    /// `accept`.
    #[serde(default)]
    pub on_error: OnError,
    /// `scontrol update` of a submitted job.
    #[serde(default)]
    pub job_updates: JobUpdatesFile,
    /// Submitters to whom all rules, or the ones listed, do not apply.
    #[serde(default)]
    pub exempt: Vec<ExemptFile>,
    /// While present (and enabled), new jobs are refused from everyone not
    /// exempt, with the site's message.
    #[serde(default)]
    pub maintenance: Option<MaintenanceFile>,
    /// Submitters refused everywhere, each entry with the site's message.
    #[serde(default)]
    pub deny: Vec<DenyFile>,
    /// Time limit defaults and caps for interactive and batch jobs.
    #[serde(default)]
    pub time: TimeFile,
    /// Memory requests: `--mem=0`, a default and a minimum per CPU.
    #[serde(default)]
    pub memory: MemoryFile,
    /// `enforce` (the default) or `warn` for every rule, unless a section
    /// or rule sets its own.
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
    /// Tell users what hetpolicy changed on their accepted components, and
    /// what a rule in warn mode would refuse (default `true`).
    #[serde(default = "enabled_by_default")]
    pub notices: bool,
    /// The file of the decision log: one JSON line per judged component.
    #[serde(default)]
    pub decision_log: Option<String>,
    /// The file the per-rule counters are written to, in the OpenMetrics
    /// text format (node_exporter's textfile collector).
    #[serde(default)]
    pub metrics_file: Option<String>,
}

/// `memory`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryFile {
    /// Refuse `--mem=0` (all of each node's memory).
    #[serde(default)]
    pub refuse_whole_node: bool,
    /// The memory per CPU a component gets when it asks for none.
    #[serde(default)]
    pub default_per_cpu: Option<MemoryText>,
    /// The least `--mem-per-cpu` a component may ask for.
    #[serde(default)]
    pub min_per_cpu: Option<MemoryText>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// Who a rule is about: a submitter matches when their user name, one of
/// their groups (primary or supplementary) or the job's account is listed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhoFile {
    /// User names.
    #[serde(default)]
    pub users: Vec<Name>,
    /// Unix group names.
    #[serde(default)]
    pub groups: Vec<Name>,
    /// Slurm accounts (the job's `-A`, else the user's default account).
    #[serde(default)]
    pub accounts: Vec<Name>,
    /// Kinds of job (`interactive`, `batch`): when given, the list is about
    /// those jobs only (and, with no names, about every submitter's).
    #[serde(default)]
    pub jobs: Vec<JobKindName>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// A kind of job in a `jobs` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKindName {
    /// Without a batch script: salloc, and srun outside an allocation.
    Interactive,
    /// With a batch script: sbatch.
    Batch,
}

/// One `exempt` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptFile {
    /// Exempt users.
    #[serde(default)]
    pub users: Vec<Name>,
    /// Exempt Unix groups.
    #[serde(default)]
    pub groups: Vec<Name>,
    /// The rules they are exempt from, by top-level key (`time`, `qos`,
    /// ...); every rule when absent.
    #[serde(default)]
    pub rules: Option<Vec<Name>>,
}

/// `maintenance`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceFile {
    /// `false` keeps the entry but accepts jobs again.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// What users are told.
    pub message: String,
}

fn enabled_by_default() -> bool {
    true
}

/// One `deny` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenyFile {
    /// Refused users.
    #[serde(default)]
    pub users: Vec<Name>,
    /// Refused Unix groups.
    #[serde(default)]
    pub groups: Vec<Name>,
    /// Refused accounts.
    #[serde(default)]
    pub accounts: Vec<Name>,
    /// Refused kinds of job (`interactive`, `batch`): only those jobs of
    /// the submitters listed, or everyone's when no one is listed.
    #[serde(default)]
    pub jobs: Vec<JobKindName>,
    /// What they are told.
    pub message: String,
}

/// `time`: defaults and caps by kind of job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeFile {
    /// Jobs without a batch script: salloc, and srun outside an allocation.
    #[serde(default)]
    pub interactive: Option<TimeCapFile>,
    /// Jobs with a batch script (sbatch).
    #[serde(default)]
    pub batch: Option<TimeCapFile>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `time.interactive`, `time.batch`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeCapFile {
    /// The longest time limit such a job may ask for.
    #[serde(default)]
    pub max: Option<TimeText>,
    /// The time limit such a job gets when it gives none.
    #[serde(default)]
    pub default: Option<TimeText>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `job_updates`: updates hetpolicy cannot judge from the fields they carry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobUpdatesFile {
    /// Who may still make them.
    #[serde(default)]
    pub unjudged_allowed_for: UnjudgedUpdates,
}

/// `job_updates.unjudged_allowed_for`: who may make an update that changes
/// a field whose rules need the job's other fields (partition, QOS, GRES,
/// nodes, tasks, CPUs, memory), which slurmctld does not show plugins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnjudgedUpdates {
    /// Root, SlurmUser and Slurm operators and administrators only.
    #[default]
    Operators,
    /// Everyone: such updates are not checked.
    Everyone,
    /// Nobody: cancel and resubmit instead.
    Nobody,
}

/// `options.<name>`: a site option.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionFile {
    /// The help text `sbatch --help` shows.
    pub help: String,
    /// The placeholder for the value in `--help` (`--qpu=NAME`).
    #[serde(default)]
    pub arg: Option<String>,
    /// The allowed values; any non-empty value when absent.
    #[serde(default)]
    pub values: Vec<Name>,
    /// Where the option must be given.
    #[serde(default)]
    pub required_on: RequiredOnFile,
    /// The environment variable that carries the component's value to its
    /// tasks.
    #[serde(default)]
    pub task_env: Option<Name>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `options.<name>.required_on`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredOnFile {
    /// Components on these partitions must give the option.
    #[serde(default)]
    pub partitions: Vec<Name>,
    /// Components that request one of these GRES must give the option.
    #[serde(default)]
    pub gres: Vec<Name>,
}

/// `partitions.<name>`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionFile {
    /// This is slurm.conf's `Default=YES` partition: components that name
    /// no partition are checked against it.
    #[serde(default)]
    pub default: bool,
    /// GRES names one of which every component here must request.
    #[serde(default)]
    pub reserved_for: Vec<Name>,
    /// Which QOS components here may use.
    #[serde(default)]
    pub qos: Option<PartitionQosFile>,
    /// Only these submitters may use the partition.
    #[serde(default)]
    pub allow: Option<WhoFile>,
    /// These submitters may not use the partition.
    #[serde(default)]
    pub deny: Option<WhoFile>,
    /// Requests refused on the partition.
    #[serde(default)]
    pub forbid: Option<ForbidFile>,
    /// Bounds on CPUs and memory per GPU of components here.
    #[serde(default)]
    pub per_gpu: Option<PerGpuFile>,
    /// Components here get whole nodes (`--exclusive`); asking to share
    /// them is refused.
    #[serde(default)]
    pub whole_nodes: bool,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `partitions.<name>.per_gpu`: bounds per GPU a component requests.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerGpuFile {
    /// At least this many CPUs per GPU.
    #[serde(default)]
    pub min_cpus: Option<u32>,
    /// At most this many CPUs per GPU.
    #[serde(default)]
    pub max_cpus: Option<u32>,
    /// At most this much memory per GPU.
    #[serde(default)]
    pub max_memory: Option<MemoryText>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `partitions.<name>.forbid`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForbidFile {
    /// `-w`/`--nodelist`: users may not pick the nodes.
    #[serde(default)]
    pub nodelist: bool,
    /// `-x`/`--exclude`: users may not leave nodes out.
    #[serde(default)]
    pub exclude: bool,
    /// Job names (`-J`) reserved for others; a trailing `*` matches any
    /// name that starts with what comes before it.
    #[serde(default)]
    pub job_names: Vec<Name>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `partitions.<name>.qos`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionQosFile {
    /// The QOS allowed here.
    pub allowed: Vec<Name>,
    /// The QOS set on components that name none.
    #[serde(default)]
    pub default: Option<Name>,
    /// For a component that names no QOS but gives `--time`: the first of
    /// these whose `max_time` holds that time, instead of `default`.
    #[serde(default)]
    pub by_time: Vec<Name>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `on_error`: what happens to a job hetpolicy cannot judge (no valid
/// policy is loaded, or an internal error while judging it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Reject it (fail closed), telling the user to contact the admin.
    #[default]
    Reject,
    /// Accept it unchecked (fail open); the log says so.
    Accept,
}

/// What happens to a component that requests the GRES elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AcceleratorAction {
    /// Reject it, naming the partitions to use.
    #[default]
    Reject,
    /// A component that names no partition is moved to the first mapped
    /// partition; one that names another partition is rejected.
    Route,
}

/// `accelerators.<gres>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceleratorFile {
    /// The partitions where this GRES may be requested.
    pub partitions: Vec<Name>,
    /// `reject` (default) or `route`.
    #[serde(default)]
    pub action: AcceleratorAction,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `io_files`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IoFilesFile {
    /// Reject a later component whose --output/--error/--input differs from
    /// the first component's (Slurm silently ignores them).
    #[serde(default)]
    pub first_component_only: bool,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `qos.<name>`: limits per component.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QosFile {
    /// At most this many of each GRES per component (`gpu: 1`).
    #[serde(default)]
    pub max_gres: HashMap<Name, u64>,
    /// At most this many nodes per component.
    #[serde(default)]
    pub max_nodes: Option<u32>,
    /// At most this many CPUs per component.
    #[serde(default)]
    pub max_cpus: Option<u32>,
    /// At most this much memory per component (`64G`).
    #[serde(default)]
    pub max_memory: Option<MemoryText>,
    /// At most this time limit (`1-00:00:00`, minutes, `UNLIMITED`).
    #[serde(default)]
    pub max_time: Option<TimeText>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// `hetjob`: limits over all components of one heterogeneous job.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HetjobFile {
    /// At most this many components.
    #[serde(default)]
    pub max_components: Option<u32>,
    /// At most this many of each GRES over all components.
    #[serde(default)]
    pub max_total_gres: HashMap<Name, u64>,
    /// `enforce` or `warn` for the rules here (the nearest setting wins).
    #[serde(default)]
    pub enforcement: Option<EnforcementFile>,
}

/// A time limit written in any Slurm notation, or as whole minutes.
#[derive(Clone, Copy, Debug)]
pub struct TimeText(pub TimeLimit);

/// A memory size written as `64G`, `512M` or whole megabytes.
#[derive(Clone, Copy, Debug)]
pub struct MemoryText(pub Megabytes);

/// Deserializes a scalar that may arrive as text or as an integer.
fn scalar_text<'de, D: Deserializer<'de>>(
    deserializer: D,
    what: &'static str,
) -> Result<String, D::Error> {
    struct ScalarVisitor(&'static str);
    impl Visitor<'_> for ScalarVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    deserializer.deserialize_any(ScalarVisitor(what))
}

impl<'de> Deserialize<'de> for TimeText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = scalar_text(
            deserializer,
            "a Slurm time such as 1-00:00:00, 90 or UNLIMITED",
        )?;
        TimeLimit::parse(&text)
            .map(TimeText)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for MemoryText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = scalar_text(deserializer, "a memory size such as 64G or 512M")?;
        Megabytes::parse(&text)
            .map(MemoryText)
            .map_err(de::Error::custom)
    }
}

/// `enforcement`: `enforce` refuses what breaks the rules (the default),
/// `warn` accepts it and tells the user, `{warn_until: DATE}` warns before
/// that day (UTC) and refuses from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnforcementFile {
    /// `enforce`.
    Enforce,
    /// `warn`.
    Warn,
    /// `{warn_until: 2027-01-15}`.
    WarnUntil(Day),
}

impl<'de> Deserialize<'de> for EnforcementFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnforcementVisitor;
        impl<'de> Visitor<'de> for EnforcementVisitor {
            type Value = EnforcementFile;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("enforce, warn, or {warn_until: YYYY-MM-DD}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<EnforcementFile, E> {
                match v {
                    "enforce" => Ok(EnforcementFile::Enforce),
                    "warn" => Ok(EnforcementFile::Warn),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<EnforcementFile, A::Error> {
                let mut until = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "warn_until" {
                        return Err(de::Error::unknown_field(&key, &["warn_until"]));
                    }
                    if until.is_some() {
                        return Err(de::Error::duplicate_field("warn_until"));
                    }
                    let text: String = map.next_value()?;
                    until = Some(Day::parse(&text).map_err(de::Error::custom)?);
                }
                until
                    .map(EnforcementFile::WarnUntil)
                    .ok_or_else(|| de::Error::missing_field("warn_until"))
            }
        }
        deserializer.deserialize_any(EnforcementVisitor)
    }
}
