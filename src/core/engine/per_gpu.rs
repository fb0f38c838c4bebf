//! Rule `partitions.<p>.per_gpu`: the CPUs and memory a component asks
//! for, per GPU it requests, within the partition's bounds.
//!
//! The GPU count is the component's total as slurmctld records it (see
//! [`Component::gres_total`]), the CPUs its task count times CPUs per task
//! (or its minimum CPU count), the memory its total (per node times nodes,
//! or per CPU times CPUs). A component that requests no GPU is not judged.

use super::accelerators::Partitions;
use super::{reject, Component, RejectCode, Rejection};
use crate::policy::Policy;
use crate::units::Megabytes;

/// Applies `per_gpu` of every partition the component may run in.
pub(crate) fn check(
    policy: &Policy,
    component: &Component<'_>,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    let gpus = component.gres_total("gpu");
    if gpus == 0 {
        return Ok(());
    }
    let cpus = component.cpu_count();
    // Written only into a refusal: accepting allocates nothing.
    let cpus_asked = || format!("{cpus} CPU{}", if cpus == 1 { "" } else { "s" });
    for partition in partitions.iter() {
        let Some(bounds) = policy.partitions.get(partition).map(|rule| rule.per_gpu) else {
            continue;
        };
        let refuse = |what: String, fix: String| {
            reject(
                RejectCode::NotSupported,
                format!(
                    "{} asks for {what} with {gpus} GPU{} on partition {partition}; {fix} \
                     (policy: partitions.{partition}.per_gpu)",
                    component.position,
                    if gpus == 1 { "" } else { "s" }
                ),
            )
        };
        if let Some(min) = bounds.min_cpus {
            let least = u64::from(min).saturating_mul(gpus);
            if cpus < least {
                return Err(refuse(
                    cpus_asked(),
                    format!(
                        "each GPU needs at least {min} CPUs: ask for {least} CPUs or more \
                         (--cpus-per-gpu={min}, or more tasks or --cpus-per-task)"
                    ),
                ));
            }
        }
        if let Some(max) = bounds.max_cpus {
            let most = u64::from(max).saturating_mul(gpus);
            if cpus > most {
                return Err(refuse(
                    cpus_asked(),
                    format!(
                        "each GPU may have at most {max} CPUs: ask for {most} CPUs or fewer, or \
                         run the CPU-heavy part as a component on a CPU partition"
                    ),
                ));
            }
        }
        if let (Some(max), Some(memory)) = (bounds.max_memory, component.memory_total()) {
            let most = Megabytes(max.0.saturating_mul(gpus));
            if memory.0 > most.0 {
                return Err(refuse(
                    format!("{memory} of memory"),
                    format!(
                        "each GPU may have at most {max} of memory: ask for {most} or less in \
                         all"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `partitions.<p>.whole_nodes`: a component that asks to share nodes is
/// refused; one that says nothing gets whole nodes.
pub(crate) fn check_whole_nodes(
    policy: &Policy,
    component: &Component<'_>,
    partitions: &Partitions<'_>,
    changes: &mut super::Changes<'_>,
) -> Result<(), Rejection> {
    for partition in partitions.iter() {
        if !policy
            .partitions
            .get(partition)
            .is_some_and(|rule| rule.whole_nodes)
        {
            continue;
        }
        match component.exclusive {
            Some(true) => {}
            Some(false) => {
                return Err(reject(
                    RejectCode::NotSupported,
                    format!(
                        "{} asks to share nodes (--oversubscribe, --exclusive=user or \
                         --exclusive=mcs) on partition {partition}, which gives every job whole \
                         nodes; drop that option, or use --exclusive (policy: \
                         partitions.{partition}.whole_nodes)",
                        component.position
                    ),
                ))
            }
            None => changes.whole_nodes = true,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::engine::{evaluate, Component, HetjobState, Memory, Verdict};
    use crate::policy::Policy;
    use crate::units::Megabytes;

    const POLICY: &str = "
partitions:
  gpu:
    per_gpu: {min_cpus: 2, max_cpus: 8, max_memory: 64G}
accelerators:
  gpu: {partitions: [gpu]}
";

    fn refusal(component: &Component<'_>) -> Option<String> {
        let policy = Policy::from_yaml(POLICY, "p.yaml").expect("loads");
        match evaluate(&policy, &mut HetjobState::new(), component) {
            Verdict::Reject(r) => Some(r.message),
            Verdict::Accept(_) => None,
        }
    }

    fn gpus(count: &'static str, tasks: u32, cpus_per_task: u32) -> Component<'static> {
        Component {
            partition: Some("gpu"),
            tres_per_job: Some(count),
            tasks: Some(tasks),
            cpus_per_task: Some(cpus_per_task),
            ..Component::default()
        }
    }

    #[test]
    fn whole_node_partitions_refuse_sharing_and_give_whole_nodes() {
        let policy = Policy::from_yaml("partitions:\n  big: {whole_nodes: true}\n", "p.yaml")
            .expect("loads");
        let judge = |exclusive| {
            let c = Component {
                partition: Some("big"),
                exclusive,
                ..Component::default()
            };
            match evaluate(&policy, &mut HetjobState::new(), &c) {
                Verdict::Accept(accepted) => Ok(accepted.changes.whole_nodes),
                Verdict::Reject(r) => Err(r.message),
            }
        };
        assert_eq!(judge(None), Ok(true));
        assert_eq!(judge(Some(true)), Ok(false));
        assert!(judge(Some(false)).is_err_and(|m| m.starts_with(
            "job asks to share nodes (--oversubscribe, --exclusive=user or --exclusive=mcs) \
             on partition big"
        )));
    }

    #[test]
    fn cpus_and_memory_per_gpu_stay_within_bounds() {
        assert_eq!(refusal(&gpus("gres/gpu:2", 2, 4)), None);
        assert_eq!(
            refusal(&gpus("gres/gpu:2", 1, 2)),
            Some(
                "job asks for 2 CPUs with 2 GPUs on partition gpu; each GPU needs at least 2 \
                 CPUs: ask for 4 CPUs or more (--cpus-per-gpu=2, or more tasks or \
                 --cpus-per-task) (policy: partitions.gpu.per_gpu)"
                    .to_owned()
            )
        );
        assert_eq!(
            refusal(&gpus("gres/gpu:1", 4, 4)),
            Some(
                "job asks for 16 CPUs with 1 GPU on partition gpu; each GPU may have at most 8 \
                 CPUs: ask for 8 CPUs or fewer, or run the CPU-heavy part as a component on a \
                 CPU partition (policy: partitions.gpu.per_gpu)"
                    .to_owned()
            )
        );
        let memory = Component {
            memory: Some(Memory::PerNode(Megabytes(100 * 1024))),
            ..gpus("gres/gpu:1", 1, 4)
        };
        assert_eq!(
            refusal(&memory),
            Some(
                "job asks for 100G of memory with 1 GPU on partition gpu; each GPU may have at \
                 most 64G of memory: ask for 64G or less in all (policy: \
                 partitions.gpu.per_gpu)"
                    .to_owned()
            )
        );
        // No GPU: not judged.
        let cpu_only = Component {
            tres_per_job: None,
            ..gpus("", 1, 64)
        };
        assert_eq!(refusal(&cpu_only), None);
    }
}
