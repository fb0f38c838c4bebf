//! What users are told about their accepted components: what hetpolicy
//! changed (routing, a default QOS, time limit or memory, whole nodes) and
//! what rules in warn mode would refuse or change. job_submit/hetpolicy
//! returns it as the plugin's message on success, which sbatch, salloc and
//! srun print.

use std::fmt;

use super::bounds::RequestedGres;
use super::{accelerators, Accepted, Component, JobKind};
use crate::policy::Policy;

/// The notices of one accepted component, one per line. Formatting is the
/// only work it does: nothing is allocated until it is written.
pub struct Notices<'a> {
    policy: &'a Policy,
    component: &'a Component<'a>,
    accepted: &'a Accepted<'a>,
}

impl<'a> Notices<'a> {
    /// The notices of `component`, accepted as `accepted` under `policy`.
    pub fn new(
        policy: &'a Policy,
        component: &'a Component<'a>,
        accepted: &'a Accepted<'a>,
    ) -> Self {
        Notices {
            policy,
            component,
            accepted,
        }
    }

    /// True when there is nothing to tell: nothing changed, no warning, or
    /// the policy turns notices off (`notices: false`).
    pub fn is_empty(&self) -> bool {
        !self.policy.notices()
            || (self.accepted.changes.is_empty() && self.accepted.warnings.is_empty())
    }
}

/// A rule that changed an accepted component, by its policy path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangedBy<'a> {
    /// `accelerators.<gres>` routed it.
    Routing {
        /// The GRES whose rule routes.
        gres: &'a str,
    },
    /// `partitions.<p>.qos` set its QOS.
    DefaultQos {
        /// The partition whose default it is.
        partition: &'a str,
    },
    /// `qos.<q>.max_time` set its time limit.
    QosMaxTime {
        /// The QOS whose limit it is.
        qos: &'a str,
    },
    /// `time.<kind>` set its time limit.
    KindTime {
        /// Interactive or batch.
        kind: JobKind,
    },
    /// `memory.default_per_cpu` set its memory.
    DefaultMemory,
    /// `partitions.<p>.whole_nodes` gave it whole nodes.
    WholeNodes {
        /// The partition that gives whole nodes.
        partition: &'a str,
    },
}

impl fmt::Display for ChangedBy<'_> {
    /// The rule's policy path (`accelerators.gpu`, `partitions.cpu.qos`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChangedBy::Routing { gres } => write!(f, "accelerators.{gres}"),
            ChangedBy::DefaultQos { partition } => write!(f, "partitions.{partition}.qos"),
            ChangedBy::QosMaxTime { qos } => write!(f, "qos.{qos}.max_time"),
            ChangedBy::KindTime { kind } => match kind {
                JobKind::Interactive => f.write_str("time.interactive"),
                JobKind::Batch => f.write_str("time.batch"),
            },
            ChangedBy::DefaultMemory => f.write_str("memory.default_per_cpu"),
            ChangedBy::WholeNodes { partition } => {
                write!(f, "partitions.{partition}.whole_nodes")
            }
        }
    }
}

impl<'a> Notices<'a> {
    /// The partition whose rules apply: the first named, else the routed
    /// one, else the policy's default.
    fn partition(&self) -> &'a str {
        self.component
            .partition
            .and_then(|list| list.split(',').map(str::trim).find(|p| !p.is_empty()))
            .or(self.accepted.changes.partition)
            .or(self.policy.default_partition.as_deref())
            .unwrap_or("")
    }

    /// The QOS whose limits apply: the first named, else the default set.
    fn qos(&self) -> &'a str {
        self.component
            .qos
            .and_then(|list| list.split(',').map(str::trim).find(|q| !q.is_empty()))
            .or(self.accepted.changes.qos)
            .unwrap_or("")
    }

    /// The rules that changed the component, each once, in the order the
    /// notices tell them; allocates nothing.
    pub fn changed_by(&self) -> impl Iterator<Item = ChangedBy<'a>> {
        let changes = &self.accepted.changes;
        let routing = changes.partition.map(|_| ChangedBy::Routing {
            gres: RequestedGres::read(self.component)
                .ok()
                .and_then(|requested| accelerators::routing_gres(self.policy, &requested))
                .unwrap_or(""),
        });
        let qos = changes.qos.map(|_| ChangedBy::DefaultQos {
            partition: self.partition(),
        });
        let time = changes.time_limit.map(|_| match changes.time_from_kind {
            Some(kind) => ChangedBy::KindTime { kind },
            None => ChangedBy::QosMaxTime { qos: self.qos() },
        });
        let memory = changes.memory_per_cpu.map(|_| ChangedBy::DefaultMemory);
        let whole = changes.whole_nodes.then(|| ChangedBy::WholeNodes {
            partition: self.partition(),
        });
        [routing, qos, time, memory, whole].into_iter().flatten()
    }
}

impl fmt::Display for Notices<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        let changes = &self.accepted.changes;
        let who = self.component.position;
        let mut lines = Lines { f, first: true };
        for rule in self.changed_by() {
            match rule {
                ChangedBy::Routing { gres } => lines.line(format_args!(
                    "{who} runs on partition {}: components requesting {gres} are routed \
                     there (policy: {rule})",
                    changes.partition.unwrap_or("")
                ))?,
                ChangedBy::DefaultQos { partition } => lines.line(format_args!(
                    "{who} gets QOS {}, the default on partition {partition} (policy: {rule})",
                    changes.qos.unwrap_or("")
                ))?,
                ChangedBy::QosMaxTime { qos } => lines.line(format_args!(
                    "{who} gets time limit {}, the most QOS {qos} allows; give --time for less \
                     (policy: {rule})",
                    Shown(changes.time_limit)
                ))?,
                ChangedBy::KindTime { kind } => lines.line(format_args!(
                    "{who} gets time limit {}, the most {} jobs get without --time (policy: \
                     {rule})",
                    Shown(changes.time_limit),
                    match kind {
                        JobKind::Interactive => "interactive",
                        JobKind::Batch => "batch",
                    }
                ))?,
                ChangedBy::DefaultMemory => lines.line(format_args!(
                    "{who} gets --mem-per-cpu={}, as it asks for no memory (policy: {rule})",
                    Shown(changes.memory_per_cpu)
                ))?,
                ChangedBy::WholeNodes { partition } => lines.line(format_args!(
                    "{who} gets whole nodes (--exclusive) on partition {partition} (policy: \
                     {rule})"
                ))?,
            }
        }
        for warning in &self.accepted.warnings {
            lines.line(format_args!("warning: {warning}"))?;
        }
        Ok(())
    }
}

/// An optional value, shown when present.
struct Shown<T>(Option<T>);

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(value) => value.fmt(f),
            None => Ok(()),
        }
    }
}

/// Writes lines separated by newlines.
struct Lines<'f, 'g> {
    f: &'f mut fmt::Formatter<'g>,
    first: bool,
}

impl Lines<'_, '_> {
    fn line(&mut self, text: fmt::Arguments<'_>) -> fmt::Result {
        if !self.first {
            self.f.write_str("\n")?;
        }
        self.first = false;
        self.f.write_fmt(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{evaluate, HetjobState, Position, Verdict};

    const REFERENCE: &str = include_str!("../../../tests/fixtures/policy.yaml");

    fn notices(policy_text: &str, component: &Component<'_>) -> String {
        let policy = Policy::from_yaml(policy_text, "notices.yaml").expect("loads");
        let Verdict::Accept(accepted) = evaluate(&policy, &mut HetjobState::new(), component)
        else {
            panic!("{component:?} should be accepted");
        };
        Notices::new(&policy, component, &accepted).to_string()
    }

    #[test]
    fn changes_are_told_one_line_each() {
        let routed = Component {
            position: Position::Het(1),
            tres_per_node: Some("gres:gpu:1"),
            ..Component::default()
        };
        assert_eq!(
            notices(REFERENCE, &routed),
            "hetjob component 1 runs on partition gpu: components requesting gpu are routed \
             there (policy: accelerators.gpu)\n\
             hetjob component 1 gets QOS gpu, the default on partition gpu (policy: \
             partitions.gpu.qos)\n\
             hetjob component 1 gets time limit 2-00:00:00, the most QOS gpu allows; give \
             --time for less (policy: qos.gpu.max_time)"
        );
        let as_asked = Component {
            partition: Some("cpu"),
            qos: Some("normal"),
            time_limit: Some(crate::units::TimeLimit::Minutes(10)),
            ..Component::default()
        };
        assert_eq!(notices(REFERENCE, &as_asked), "");
    }

    #[test]
    fn notices_false_turns_them_off() {
        let routed = Component {
            tres_per_node: Some("gres:gpu:1"),
            ..Component::default()
        };
        assert_eq!(
            notices(&format!("{REFERENCE}\nnotices: false\n"), &routed),
            ""
        );
    }

    #[test]
    fn warnings_say_what_would_be_refused() {
        let text = REFERENCE.replacen("  normal:\n", "  normal:\n    enforcement: warn\n", 1);
        let long = Component {
            partition: Some("cpu"),
            qos: Some("normal"),
            time_limit: Some(crate::units::TimeLimit::Minutes(3 * 24 * 60)),
            ..Component::default()
        };
        assert_eq!(
            notices(&text, &long),
            "warning: job requests time limit 3-00:00:00 with QOS normal; QOS normal allows \
             at most 1-00:00:00: use --time=1-00:00:00 or less, or use --qos=long (policy: \
             qos.normal.max_time); this rule only warns for now"
        );
    }
}
