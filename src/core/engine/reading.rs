//! What hetpolicy read of an accepted component, in the terms slurmctld
//! records for the job it creates: the job_submit plugin logs it at Slurm's
//! debug level, and the differential test (tests/cluster_differential.rs)
//! compares it with `scontrol show job`.

use std::fmt;

use super::{Changes, Component, Memory, Position};
use crate::policy::Policy;
use crate::shown::shown;
use crate::units::TimeLimit;

/// An accepted component as hetpolicy judged it, after the policy's
/// changes. Formatting is the only work it does, so building one costs
/// nothing when the line is not written.
#[derive(Clone, Copy, Debug)]
pub struct Reading<'a> {
    policy: &'a Policy,
    component: &'a Component<'a>,
    changes: &'a Changes<'a>,
}

impl<'a> Reading<'a> {
    /// The reading of `component`, accepted with `changes` under `policy`.
    pub fn new(policy: &'a Policy, component: &'a Component<'a>, changes: &'a Changes<'a>) -> Self {
        Reading {
            policy,
            component,
            changes,
        }
    }
}

/// Writes the names of a comma-separated list once each, empty names
/// dropped, or `-` when none remain.
fn write_list(f: &mut fmt::Formatter<'_>, list: Option<&str>) -> fmt::Result {
    let mut written = 0usize;
    if let Some(list) = list {
        let names = list.split(',').map(str::trim).filter(|n| !n.is_empty());
        for (index, name) in names.clone().enumerate() {
            if names.clone().take(index).any(|earlier| earlier == name) {
                continue;
            }
            if written > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", shown(name))?;
            written += 1;
        }
    }
    if written == 0 {
        f.write_str("-")?;
    }
    Ok(())
}

impl fmt::Display for Reading<'_> {
    /// `component=1 partition=gpu qos=gpu gres=gpu:2 nodes=1 tasks=- cpus=1
    /// mem=- time=2880`: see tests/cluster_differential.rs for each field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.component;
        match c.position {
            Position::Plain => f.write_str("component=job")?,
            Position::Het(k) => write!(f, "component={k}")?,
        }
        f.write_str(" partition=")?;
        let partition = c
            .partition
            .or(self.changes.partition)
            .or(self.policy.default_partition.as_deref());
        write_list(f, partition)?;
        f.write_str(" qos=")?;
        write_list(f, c.qos.or(self.changes.qos))?;
        f.write_str(" gres=")?;
        let mut written = 0usize;
        let entries = || c.gres_requests().filter_map(Result::ok);
        for (index, request) in entries().enumerate() {
            if entries()
                .take(index)
                .any(|earlier| earlier.name == request.name)
            {
                continue;
            }
            if written > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{}", shown(request.name), c.gres_total(request.name))?;
            written += 1;
        }
        if written == 0 {
            f.write_str("-")?;
        }
        match (c.node_count(), c.most_nodes()) {
            (min, max) if max > min => write!(f, " nodes={min}-{max}")?,
            (min, _) => write!(f, " nodes={min}")?,
        }
        match c.tasks {
            Some(tasks) => write!(f, " tasks={tasks}")?,
            None => f.write_str(" tasks=-")?,
        }
        write!(f, " cpus={}", c.cpu_count())?;
        match c.memory {
            Some(Memory::PerNode(mb)) => write!(f, " mem={}M/node", mb.0)?,
            Some(Memory::PerCpu(mb)) => write!(f, " mem={}M/cpu", mb.0)?,
            None => f.write_str(" mem=-")?,
        }
        match c.time_limit.or(self.changes.time_limit) {
            Some(TimeLimit::Minutes(minutes)) => write!(f, " time={minutes}"),
            Some(TimeLimit::Unlimited) => f.write_str(" time=UNLIMITED"),
            None => f.write_str(" time=-"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{evaluate, Accepted, HetjobState, Verdict};

    fn policy() -> Policy {
        Policy::from_yaml(
            include_str!("../../../tests/fixtures/policy.yaml"),
            "policy.yaml",
        )
        .expect("loads")
    }

    fn read(component: &Component<'_>) -> String {
        let policy = policy();
        let mut state = HetjobState::new();
        let Verdict::Accept(Accepted { changes, .. }) = evaluate(&policy, &mut state, component)
        else {
            panic!("{component:?} should be accepted");
        };
        Reading::new(&policy, component, &changes).to_string()
    }

    #[test]
    fn routed_gpu_job_reads_as_slurmctld_records_it() {
        let c = Component {
            tres_per_node: Some("gres:gpu:2"),
            ..Component::default()
        };
        assert_eq!(
            read(&c),
            "component=job partition=gpu qos=gpu gres=gpu:2 nodes=1 tasks=- cpus=1 mem=- \
             time=2880"
        );
    }

    #[test]
    fn lists_drop_empty_and_repeated_names() {
        let c = Component {
            position: Position::Het(0),
            partition: Some("cpu,,cpu"),
            qos: Some("normal,long,normal"),
            tasks: Some(2),
            cpus_per_task: Some(3),
            memory: Some(Memory::PerCpu(crate::units::Megabytes(100))),
            ..Component::default()
        };
        assert_eq!(
            read(&c),
            "component=0 partition=cpu qos=normal,long gres=- nodes=1-2 tasks=2 cpus=6 \
             mem=100M/cpu time=1440"
        );
    }
}
