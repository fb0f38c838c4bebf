//! hetpolicy.yaml: loading, validation and compilation.
//!
//! [`Policy::from_yaml`] parses the file (refusing unknown keys and wrong
//! types with their line and column), checks that every name it refers to
//! exists, and compiles the result into lookups keyed by partition, QOS and
//! GRES name, so that evaluating a component costs a few hash lookups.

mod enforcement;
mod file;
mod lint;
mod names;
mod site_option;
mod who;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use serde_saphyr::Spanned;

pub use enforcement::Mode;
pub use file::{AcceleratorAction, OnError, UnjudgedUpdates};
use file::{Name, PolicyFile};
pub use lint::{closest_name, lint, PolicyWarning};
pub use names::{referenced_names, NameKind, NameRef};
pub use site_option::{DeclaredOption, SiteOption, COMPONENT_ENV, JOB_ENV_PREFIX};
pub use who::{Rule, Rules};
pub(crate) use who::{WhoRules, WhoSet};

use crate::units::{Megabytes, TimeLimit};

/// A validated, compiled policy. Cheap to share (`Arc<Policy>`), never
/// changed after loading.
#[derive(Debug)]
pub struct Policy {
    pub(crate) partitions: HashMap<Box<str>, PartitionRule>,
    pub(crate) default_partition: Option<Box<str>>,
    pub(crate) accelerators: HashMap<Box<str>, AcceleratorRule>,
    pub(crate) qos: HashMap<Box<str>, QosLimits>,
    pub(crate) io_first_component_only: bool,
    pub(crate) hetjob: HetjobLimits,
    pub(crate) options: Vec<SiteOption>,
    pub(crate) on_error: OnError,
    pub(crate) unjudged_updates: UnjudgedUpdates,
    pub(crate) who: WhoRules,
    pub(crate) memory: MemoryRules,
    pub(crate) enforcement: enforcement::Enforcement,
    pub(crate) notices: bool,
    pub(crate) decision_log: Option<Box<str>>,
    pub(crate) metrics_file: Option<Box<str>>,
}

/// The compiled `memory` entry.
#[derive(Debug, Default)]
pub(crate) struct MemoryRules {
    pub(crate) refuse_whole_node: bool,
    pub(crate) default_per_cpu: Option<Megabytes>,
    pub(crate) min_per_cpu: Option<Megabytes>,
}

/// The compiled `partitions.<name>` entry.
#[derive(Debug)]
pub(crate) struct PartitionRule {
    pub(crate) reserved_for: Vec<Box<str>>,
    /// `None`: any QOS.
    pub(crate) allowed_qos: Option<Vec<Box<str>>>,
    pub(crate) default_qos: Option<Box<str>>,
    /// `qos.by_time`: the QOS to try, in order, for a component that gives
    /// `--time` and no QOS.
    pub(crate) qos_by_time: Vec<Box<str>>,
    /// `allow`: only these submitters may use the partition.
    pub(crate) allow: Option<WhoSet>,
    /// `deny`: these submitters may not.
    pub(crate) deny: Option<WhoSet>,
    /// `forbid`: requests refused here.
    pub(crate) forbid: Forbid,
    /// `per_gpu`: bounds per GPU.
    pub(crate) per_gpu: PerGpu,
    /// `whole_nodes`: components here get whole nodes.
    pub(crate) whole_nodes: bool,
}

/// The compiled `partitions.<name>.per_gpu`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PerGpu {
    pub(crate) min_cpus: Option<u32>,
    pub(crate) max_cpus: Option<u32>,
    pub(crate) max_memory: Option<Megabytes>,
}

/// The compiled `partitions.<name>.forbid`.
#[derive(Debug, Default)]
pub(crate) struct Forbid {
    pub(crate) nodelist: bool,
    pub(crate) exclude: bool,
    pub(crate) job_names: Vec<Box<str>>,
}

impl Forbid {
    /// The listed job name (or `prefix*` pattern) that `name` is.
    pub(crate) fn job_name(&self, name: &str) -> Option<&str> {
        self.job_names
            .iter()
            .find(|listed| match listed.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => listed.as_ref() == name,
            })
            .map(AsRef::as_ref)
    }
}

/// The compiled `accelerators.<gres>` entry.
#[derive(Debug)]
pub(crate) struct AcceleratorRule {
    /// The partitions as the policy lists them (messages, routing).
    pub(crate) partitions: Vec<Box<str>>,
    /// The same, sorted, for [`AcceleratorRule::allows`].
    sorted: Vec<Box<str>>,
    pub(crate) action: AcceleratorAction,
}

impl AcceleratorRule {
    /// True when `partition` is one the GRES may run on (a binary search:
    /// a rule may list hundreds of partitions).
    pub(crate) fn allows(&self, partition: &str) -> bool {
        self.sorted
            .binary_search_by(|p| p.as_ref().cmp(partition))
            .is_ok()
    }
}

/// The compiled `qos.<name>` entry: limits per component.
#[derive(Debug, Default)]
pub(crate) struct QosLimits {
    pub(crate) max_gres: Vec<(Box<str>, u64)>,
    pub(crate) max_nodes: Option<u32>,
    pub(crate) max_cpus: Option<u32>,
    pub(crate) max_memory: Option<Megabytes>,
    pub(crate) max_time: Option<TimeLimit>,
}

/// The compiled `hetjob` entry.
#[derive(Debug, Default)]
pub(crate) struct HetjobLimits {
    pub(crate) max_components: Option<u32>,
    pub(crate) max_total_gres: Vec<(Box<str>, u64)>,
}

/// One problem in a policy file, at a line and column when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// 1-based line and column, when the problem has a place.
    pub position: Option<(u64, u64)>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Why a policy file could not be used: every problem found, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// The file, as named to the loader.
    pub source: String,
    /// At least one problem.
    pub errors: Vec<PolicyError>,
}

impl fmt::Display for LoadError {
    /// One line per problem: `file:line:column: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match error.position {
                Some((line, column)) => write!(f, "{}:{line}:{column}: ", self.source)?,
                None => write!(f, "{}: ", self.source)?,
            }
            f.write_str(&error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

impl Policy {
    /// Reads and compiles the policy file at `path`.
    pub fn load(path: &Path) -> Result<Policy, LoadError> {
        let source = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|err| LoadError {
            source: source.clone(),
            errors: vec![PolicyError {
                position: None,
                message: format!("cannot read the policy file: {err}"),
            }],
        })?;
        let text = String::from_utf8(bytes).map_err(|err| LoadError {
            source: source.clone(),
            errors: vec![PolicyError {
                position: None,
                message: format!("the policy file is not UTF-8 text: {err}"),
            }],
        })?;
        Policy::from_yaml(&text, &source)
    }

    /// Parses and compiles policy text; `source` names it in errors.
    pub fn from_yaml(text: &str, source: &str) -> Result<Policy, LoadError> {
        let file = parse(text).map_err(|error| LoadError {
            source: source.to_owned(),
            errors: vec![error],
        })?;
        compile(file).map_err(|errors| LoadError {
            source: source.to_owned(),
            errors,
        })
    }

    /// The partition names the policy has rules for, sorted.
    pub fn partition_names(&self) -> Vec<&str> {
        sorted_keys(&self.partitions)
    }

    /// The QOS names the policy has limits for, sorted.
    pub fn qos_names(&self) -> Vec<&str> {
        sorted_keys(&self.qos)
    }

    /// The site options, in file order.
    pub fn options(&self) -> &[SiteOption] {
        &self.options
    }

    /// True when a rule names groups: the job_submit plugin then looks the
    /// submitter's groups up.
    pub fn needs_groups(&self) -> bool {
        let lists_groups =
            |set: &Option<WhoSet>| set.as_ref().is_some_and(|s| !s.groups.is_empty());
        self.who.exempt.iter().any(|e| !e.who.groups.is_empty())
            || self.who.deny.iter().any(|d| !d.who.groups.is_empty())
            || self
                .partitions
                .values()
                .any(|p| lists_groups(&p.allow) || lists_groups(&p.deny))
    }

    /// True when a rule names accounts: the job_submit plugin then finds
    /// the account of jobs that give no `-A` (the user's default account).
    pub fn needs_account(&self) -> bool {
        let lists_accounts =
            |set: &Option<WhoSet>| set.as_ref().is_some_and(|s| !s.accounts.is_empty());
        self.who.deny.iter().any(|d| !d.who.accounts.is_empty())
            || self
                .partitions
                .values()
                .any(|p| lists_accounts(&p.allow) || lists_accounts(&p.deny))
    }

    /// True when a rule reads who submits (`exempt`, `deny`,
    /// `partitions.<p>.allow` or `.deny`): judging a job needs the user.
    pub fn has_rules_about_who(&self) -> bool {
        !self.who.exempt.is_empty()
            || !self.who.deny.is_empty()
            || self
                .partitions
                .values()
                .any(|p| p.allow.is_some() || p.deny.is_some())
    }

    /// How `rule` (a policy path such as `partitions.gpu.allow`) applies
    /// on `today`: enforced, or in warn mode (`enforcement`).
    pub fn mode(&self, rule: &str, today: crate::units::Day) -> Mode {
        self.enforcement.mode(rule, today)
    }

    /// True when no rule is in warn mode on any day.
    pub fn all_enforced(&self) -> bool {
        self.enforcement.all_enforced()
    }

    /// Whether users are told what hetpolicy changed on their accepted
    /// components and what a rule in warn mode would refuse (`notices`).
    pub fn notices(&self) -> bool {
        self.notices
    }

    /// The decision log's file (`decision_log`), when the policy names one.
    pub fn decision_log(&self) -> Option<&str> {
        self.decision_log.as_deref()
    }

    /// The OpenMetrics file of the per-rule counters (`metrics_file`).
    pub fn metrics_file(&self) -> Option<&str> {
        self.metrics_file.as_deref()
    }

    /// What happens to a job that cannot be judged (`on_error`).
    pub fn on_error(&self) -> OnError {
        self.on_error
    }

    /// Who may make updates hetpolicy cannot judge
    /// (`job_updates.unjudged_allowed_for`).
    pub fn unjudged_updates(&self) -> UnjudgedUpdates {
        self.unjudged_updates
    }

    /// The GRES names the policy maps to partitions, sorted.
    pub fn accelerator_names(&self) -> Vec<&str> {
        sorted_keys(&self.accelerators)
    }
}

fn sorted_keys<V>(map: &HashMap<Box<str>, V>) -> Vec<&str> {
    let mut names: Vec<&str> = map.keys().map(AsRef::as_ref).collect();
    names.sort_unstable();
    names
}

/// YAML to the file model; syntax, unknown keys and wrong types end here.
fn parse(text: &str) -> Result<PolicyFile, PolicyError> {
    if text.trim().is_empty() {
        return Err(PolicyError {
            position: None,
            message: "the policy file is empty: it must define at least one rule \
                      (see policy.yaml shipped with hetpolicy)"
                .to_owned(),
        });
    }
    serde_saphyr::from_str::<PolicyFile>(text).map_err(|err| {
        let position = err
            .location()
            .filter(|loc| loc.line() > 0)
            .map(|loc| (loc.line(), loc.column()));
        PolicyError {
            position,
            message: plain_message(&err),
        }
    })
}

/// serde-saphyr's message without its own "at line X column Y" suffix
/// (our errors put the position first, as compilers do).
fn plain_message(err: &serde_saphyr::Error) -> String {
    let options = serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    };
    let text = err.render_with_options(options);
    let text = text.lines().next().unwrap_or_default();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// Collects semantic errors with their positions.
struct Problems(Vec<PolicyError>);

impl Problems {
    fn at(&mut self, name: &Name, message: String) {
        self.0.push(PolicyError {
            position: Some((name.referenced.line(), name.referenced.column())),
            message,
        });
    }
}

/// Checks names across sections, then builds the lookups.
fn compile(file: PolicyFile) -> Result<Policy, Vec<PolicyError>> {
    let mut problems = Problems(Vec::new());

    let qos_defined: Vec<&str> = sorted_names(file.qos.keys());
    let mut partitions = HashMap::with_capacity(file.partitions.len());
    let mut default_partition: Option<&Name> = None;

    for (name, partition) in sorted_entries(&file.partitions) {
        if partition.default {
            if let Some(first) = default_partition {
                problems.at(
                    name,
                    format!(
                        "partition '{}' is marked default, but so is '{}' (line {}): \
                         only one partition can be slurm.conf's Default=YES",
                        name.value,
                        first.value,
                        first.referenced.line()
                    ),
                );
            } else {
                default_partition = Some(name);
            }
        }
        for gres in &partition.reserved_for {
            if let Some((_, accelerator)) = file
                .accelerators
                .iter()
                .find(|(g, _)| g.value == gres.value)
            {
                if !accelerator.partitions.iter().any(|p| p.value == name.value) {
                    problems.at(
                        gres,
                        format!(
                            "partition '{}' is reserved for {g}, but accelerators.{g}.partitions \
                             does not list '{}': no component could run there; add '{}' to \
                             accelerators.{g}.partitions or remove it from reserved_for",
                            name.value,
                            name.value,
                            name.value,
                            g = gres.value
                        ),
                    );
                }
            }
        }
        let (allowed_qos, default_qos) = match &partition.qos {
            None => (None, None),
            Some(qos) => {
                if qos.allowed.is_empty() {
                    problems.at(
                        name,
                        format!(
                            "partitions.{}.qos.allowed is empty: list at least one QOS, \
                             or remove the qos key to allow any QOS",
                            name.value
                        ),
                    );
                }
                for allowed in &qos.allowed {
                    if !qos_defined.contains(&allowed.value.as_str()) {
                        problems.at(
                            allowed,
                            format!(
                                "partition '{}' allows QOS '{}', which is not defined under \
                                 qos: (defined: {}); add qos.{} (it may be empty: {{}}) or fix \
                                 the name",
                                name.value,
                                allowed.value,
                                list_or_none(&qos_defined),
                                allowed.value
                            ),
                        );
                    }
                }
                if let Some(default) = &qos.default {
                    if !qos.allowed.iter().any(|a| a.value == default.value) {
                        problems.at(
                            default,
                            format!(
                                "the default QOS '{}' of partition '{}' is not in its allowed \
                                 list ({}): add it to allowed or pick one of them",
                                default.value,
                                name.value,
                                list_or_none(&sorted_names(qos.allowed.iter()))
                            ),
                        );
                    }
                }
                for by_time in &qos.by_time {
                    if !qos.allowed.iter().any(|a| a.value == by_time.value) {
                        problems.at(
                            by_time,
                            format!(
                                "partitions.{}.qos.by_time names QOS '{}', which is not in its \
                                 allowed list ({}): add it to allowed or remove it from by_time",
                                name.value,
                                by_time.value,
                                list_or_none(&sorted_names(qos.allowed.iter()))
                            ),
                        );
                    }
                }
                (
                    Some(qos.allowed.iter().map(boxed).collect()),
                    qos.default.as_ref().map(boxed),
                )
            }
        };
        partitions.insert(
            boxed(name),
            PartitionRule {
                reserved_for: partition.reserved_for.iter().map(boxed).collect(),
                allowed_qos,
                default_qos,
                qos_by_time: partition
                    .qos
                    .as_ref()
                    .map(|q| q.by_time.iter().map(boxed).collect())
                    .unwrap_or_default(),
                per_gpu: partition
                    .per_gpu
                    .as_ref()
                    .map(|p| PerGpu {
                        min_cpus: p.min_cpus,
                        max_cpus: p.max_cpus,
                        max_memory: p.max_memory.map(|m| m.0),
                    })
                    .unwrap_or_default(),
                whole_nodes: partition.whole_nodes,
                allow: who::compile_access(partition.allow.as_ref()),
                deny: who::compile_access(partition.deny.as_ref()),
                forbid: partition
                    .forbid
                    .as_ref()
                    .map(|f| Forbid {
                        nodelist: f.nodelist,
                        exclude: f.exclude,
                        job_names: f.job_names.iter().map(boxed).collect(),
                    })
                    .unwrap_or_default(),
            },
        );
    }

    let mut accelerators = HashMap::with_capacity(file.accelerators.len());
    for (gres, rule) in sorted_entries(&file.accelerators) {
        if rule.partitions.is_empty() {
            problems.at(
                gres,
                format!(
                    "accelerators.{}.partitions is empty: name the partitions where {} may be \
                     requested",
                    gres.value, gres.value
                ),
            );
        }
        let partitions: Vec<Box<str>> = rule.partitions.iter().map(boxed).collect();
        let mut sorted = partitions.clone();
        sorted.sort_unstable();
        accelerators.insert(
            boxed(gres),
            AcceleratorRule {
                partitions,
                sorted,
                action: rule.action,
            },
        );
    }

    let mut qos = HashMap::with_capacity(file.qos.len());
    for (name, limits) in sorted_entries(&file.qos) {
        qos.insert(
            boxed(name),
            QosLimits {
                max_gres: gres_limits(&limits.max_gres),
                max_nodes: limits.max_nodes,
                max_cpus: limits.max_cpus,
                max_memory: limits.max_memory.map(|m| m.0),
                max_time: limits.max_time.map(|t| t.0),
            },
        );
    }

    let options = sorted_entries(&file.options)
        .into_iter()
        .map(|(name, option)| site_option::compile(name, option, &mut problems))
        .collect();

    if file.hetjob.max_components == Some(0) {
        problems.0.push(PolicyError {
            position: None,
            message: "hetjob.max_components is 0: a hetjob has at least one component; \
                      use 1 to forbid hetjobs"
                .to_owned(),
        });
    }

    if let (Some(default), Some(min)) = (file.memory.default_per_cpu, file.memory.min_per_cpu) {
        if default.0 < min.0 {
            problems.0.push(PolicyError {
                position: None,
                message: format!(
                    "memory.default_per_cpu ({}) is less than memory.min_per_cpu ({}): every \
                     component that asks for no memory would be refused; raise the default",
                    default.0, min.0
                ),
            });
        }
    }

    let who = who::compile(
        &file.exempt,
        file.maintenance.as_ref(),
        &file.deny,
        &file.time,
        &mut problems,
    );

    if !problems.0.is_empty() {
        let mut errors = problems.0;
        errors.sort_by_key(|e| e.position);
        return Err(errors);
    }
    Ok(Policy {
        partitions,
        default_partition: default_partition.map(boxed),
        accelerators,
        qos,
        io_first_component_only: file.io_files.first_component_only,
        hetjob: HetjobLimits {
            max_components: file.hetjob.max_components,
            max_total_gres: gres_limits(&file.hetjob.max_total_gres),
        },
        options,
        on_error: file.on_error,
        unjudged_updates: file.job_updates.unjudged_allowed_for,
        who,
        memory: MemoryRules {
            refuse_whole_node: file.memory.refuse_whole_node,
            default_per_cpu: file.memory.default_per_cpu.map(|m| m.0),
            min_per_cpu: file.memory.min_per_cpu.map(|m| m.0),
        },
        enforcement: enforcement::Enforcement::compile(&file),
        notices: file.notices,
        decision_log: file.decision_log.as_deref().map(Into::into),
        metrics_file: file.metrics_file.as_deref().map(Into::into),
    })
}

fn boxed(name: &Spanned<String>) -> Box<str> {
    name.value.as_str().into()
}

fn gres_limits(limits: &HashMap<Name, u64>) -> Vec<(Box<str>, u64)> {
    let mut limits: Vec<(Box<str>, u64)> = limits.iter().map(|(g, n)| (boxed(g), *n)).collect();
    limits.sort_unstable();
    limits
}

/// Map entries in the order they appear in the file.
fn sorted_entries<V>(map: &HashMap<Name, V>) -> Vec<(&Name, &V)> {
    let mut entries: Vec<(&Name, &V)> = map.iter().collect();
    entries.sort_by_key(|(name, _)| (name.referenced.line(), name.referenced.column()));
    entries
}

fn sorted_names<'a>(names: impl Iterator<Item = &'a Name>) -> Vec<&'a str> {
    let mut names: Vec<&str> = names.map(|n| n.value.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests;
