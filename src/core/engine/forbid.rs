//! Rule `partitions.<p>.forbid`: requests a partition refuses — picking
//! nodes (`--nodelist`), leaving nodes out (`--exclude`), and job names
//! reserved for others.

use super::accelerators::Partitions;
use super::{reject, Component, RejectCode, Rejection};
use crate::policy::Policy;
use crate::shown::shown;

/// Applies `forbid` of every partition the component may run in.
pub(crate) fn check(
    policy: &Policy,
    component: &Component<'_>,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    for partition in partitions.iter() {
        let Some(forbid) = policy.partitions.get(partition).map(|rule| &rule.forbid) else {
            continue;
        };
        let refuse = |option: &str, value: &str, fix: &str| {
            reject(
                RejectCode::NotSupported,
                format!(
                    "{} gives {option}={} on partition {}, which does not allow it; {fix} \
                     (policy: partitions.{partition}.forbid)",
                    component.position,
                    shown(value),
                    shown(partition)
                ),
            )
        };
        if let Some(nodes) = component
            .nodelist
            .filter(|n| forbid.nodelist && !n.is_empty())
        {
            return Err(refuse(
                "--nodelist",
                nodes,
                "drop --nodelist (-w) and let Slurm choose the nodes",
            ));
        }
        if let Some(nodes) = component
            .exclude
            .filter(|n| forbid.exclude && !n.is_empty())
        {
            return Err(refuse(
                "--exclude",
                nodes,
                "drop --exclude (-x); if a node misbehaves, tell your administrator",
            ));
        }
        if let Some(name) = component.job_name {
            if let Some(listed) = forbid.job_name(name) {
                return Err(reject(
                    RejectCode::NotSupported,
                    format!(
                        "{} is named {} on partition {}, where the job name {} is reserved; \
                         choose another --job-name (-J) (policy: \
                         partitions.{partition}.forbid.job_names)",
                        component.position,
                        shown(name),
                        shown(partition),
                        shown(listed)
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::engine::{evaluate, Component, HetjobState, RejectCode, Verdict};
    use crate::policy::Policy;

    const POLICY: &str = "
partitions:
  cpu:
    default: true
    forbid: {nodelist: true, exclude: true, job_names: [sys-*, backup]}
  debug: {}
";

    fn refusal(component: &Component<'_>) -> Option<(RejectCode, String)> {
        let policy = Policy::from_yaml(POLICY, "p.yaml").expect("loads");
        match evaluate(&policy, &mut HetjobState::new(), component) {
            Verdict::Reject(r) => Some((r.code, r.message)),
            Verdict::Accept(_) => None,
        }
    }

    #[test]
    fn nodelist_and_exclude_are_refused_where_forbidden() {
        let on_cpu = Component {
            nodelist: Some("c[1-2]"),
            ..Component::default()
        };
        assert_eq!(
            refusal(&on_cpu),
            Some((
                RejectCode::NotSupported,
                "job gives --nodelist=c[1-2] on partition cpu, which does not allow it; drop \
                 --nodelist (-w) and let Slurm choose the nodes (policy: \
                 partitions.cpu.forbid)"
                    .to_owned()
            ))
        );
        let exclude = Component {
            exclude: Some("c1"),
            partition: Some("cpu"),
            ..Component::default()
        };
        assert!(refusal(&exclude)
            .is_some_and(|(_, m)| m.starts_with("job gives --exclude=c1 on partition cpu")));
        let elsewhere = Component {
            partition: Some("debug"),
            ..on_cpu.clone()
        };
        assert_eq!(refusal(&elsewhere), None);
    }

    #[test]
    fn reserved_job_names_match_exactly_or_by_prefix() {
        for (name, refused) in [
            ("sys-check", true),
            ("backup", true),
            ("backups", false),
            ("my-sys-check", false),
        ] {
            let job = Component {
                job_name: Some(name),
                ..Component::default()
            };
            assert_eq!(refusal(&job).is_some(), refused, "{name}");
        }
        let job = Component {
            job_name: Some("sys-check"),
            ..Component::default()
        };
        assert_eq!(
            refusal(&job).map(|(_, m)| m),
            Some(
                "job is named sys-check on partition cpu, where the job name sys-* is \
                 reserved; choose another --job-name (-J) (policy: \
                 partitions.cpu.forbid.job_names)"
                    .to_owned()
            )
        );
    }
}
