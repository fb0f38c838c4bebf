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

impl fmt::Display for Notices<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        let c = self.component;
        let changes = &self.accepted.changes;
        let who = c.position;
        let mut lines = Lines { f, first: true };
        let partition = c
            .partition
            .and_then(|list| list.split(',').map(str::trim).find(|p| !p.is_empty()))
            .or(changes.partition)
            .or(self.policy.default_partition.as_deref())
            .unwrap_or("");
        if let Some(routed) = changes.partition {
            let gres = RequestedGres::read(c)
                .ok()
                .and_then(|requested| accelerators::routing_gres(self.policy, &requested))
                .unwrap_or("");
            lines.line(format_args!(
                "{who} runs on partition {routed}: components requesting {gres} are routed \
                 there (policy: accelerators.{gres})"
            ))?;
        }
        if let Some(qos) = changes.qos {
            lines.line(format_args!(
                "{who} gets QOS {qos}, the default on partition {partition} (policy: \
                 partitions.{partition}.qos)"
            ))?;
        }
        if let Some(time) = changes.time_limit {
            match changes.time_from_kind {
                Some(kind) => {
                    let kind = match kind {
                        JobKind::Interactive => "interactive",
                        JobKind::Batch => "batch",
                    };
                    lines.line(format_args!(
                        "{who} gets time limit {time}, the most {kind} jobs get without \
                         --time (policy: time.{kind})"
                    ))?;
                }
                None => {
                    let qos = c
                        .qos
                        .and_then(|list| list.split(',').map(str::trim).find(|q| !q.is_empty()))
                        .or(changes.qos)
                        .unwrap_or("");
                    lines.line(format_args!(
                        "{who} gets time limit {time}, the most QOS {qos} allows; give --time \
                         for less (policy: qos.{qos}.max_time)"
                    ))?;
                }
            }
        }
        if let Some(per_cpu) = changes.memory_per_cpu {
            lines.line(format_args!(
                "{who} gets --mem-per-cpu={per_cpu}, as it asks for no memory (policy: \
                 memory.default_per_cpu)"
            ))?;
        }
        if changes.whole_nodes {
            lines.line(format_args!(
                "{who} gets whole nodes (--exclusive) on partition {partition} (policy: \
                 partitions.{partition}.whole_nodes)"
            ))?;
        }
        for warning in &self.accepted.warnings {
            lines.line(format_args!("warning: {warning}"))?;
        }
        Ok(())
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
