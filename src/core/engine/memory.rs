//! Rule `memory`: refuses `--mem=0` where the policy says so, refuses a
//! `--mem-per-cpu` below the minimum, and gives a component that asks for
//! no memory the default per CPU.

use super::{reject, Changes, Component, Memory, RejectCode, Rejection};
use crate::policy::Policy;

/// Applies `memory`.
pub(crate) fn check(
    policy: &Policy,
    component: &Component<'_>,
    changes: &mut Changes<'_>,
) -> Result<(), Rejection> {
    let rules = &policy.memory;
    if component.whole_node_memory && rules.refuse_whole_node {
        return Err(reject(
            RejectCode::NotSupported,
            format!(
                "{} asks for --mem=0 (all the memory of each node), which this cluster does \
                 not allow; ask for what the job needs, e.g. --mem=16G or --mem-per-cpu=2G \
                 (policy: memory.refuse_whole_node)",
                component.position
            ),
        ));
    }
    match component.memory {
        Some(Memory::PerCpu(asked)) => {
            if let Some(min) = rules.min_per_cpu.filter(|min| asked.0 < min.0) {
                return Err(reject(
                    RejectCode::NotSupported,
                    format!(
                        "{} asks for --mem-per-cpu={asked}, less than the {min} per CPU this \
                         cluster requires; ask for --mem-per-cpu={min} or more (policy: \
                         memory.min_per_cpu)",
                        component.position
                    ),
                ));
            }
        }
        Some(Memory::PerNode(_)) => {}
        None if !component.whole_node_memory => changes.memory_per_cpu = rules.default_per_cpu,
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::engine::{evaluate, Component, HetjobState, Memory, Verdict};
    use crate::policy::Policy;
    use crate::units::Megabytes;

    const POLICY: &str =
        "memory: {refuse_whole_node: true, default_per_cpu: 2G, min_per_cpu: 512M}\n";

    fn verdict(component: &Component<'_>) -> Result<Option<Megabytes>, String> {
        let policy = Policy::from_yaml(POLICY, "p.yaml").expect("loads");
        match evaluate(&policy, &mut HetjobState::new(), component) {
            Verdict::Accept(accepted) => Ok(accepted.changes.memory_per_cpu),
            Verdict::Reject(r) => Err(r.message),
        }
    }

    #[test]
    fn whole_node_memory_small_per_cpu_and_the_default() {
        let whole = Component {
            whole_node_memory: true,
            ..Component::default()
        };
        assert_eq!(
            verdict(&whole),
            Err(
                "job asks for --mem=0 (all the memory of each node), which this cluster does \
                 not allow; ask for what the job needs, e.g. --mem=16G or --mem-per-cpu=2G \
                 (policy: memory.refuse_whole_node)"
                    .to_owned()
            )
        );
        let small = Component {
            memory: Some(Memory::PerCpu(Megabytes(100))),
            ..Component::default()
        };
        assert_eq!(
            verdict(&small),
            Err(
                "job asks for --mem-per-cpu=100M, less than the 512M per CPU this cluster \
                 requires; ask for --mem-per-cpu=512M or more (policy: memory.min_per_cpu)"
                    .to_owned()
            )
        );
        assert_eq!(verdict(&Component::default()), Ok(Some(Megabytes(2048))));
        let per_node = Component {
            memory: Some(Memory::PerNode(Megabytes(100))),
            ..Component::default()
        };
        assert_eq!(verdict(&per_node), Ok(None));
    }
}
