//! Rule `qos` and `partitions.<p>.qos`: which QOS a partition allows, the
//! QOS a component gets when it names none, and each QOS's limits per
//! component.

use std::fmt::Write as _;

use super::accelerators::Partitions;
use super::{reject, Changes, Component, RejectCode, Rejection};
use crate::policy::{Policy, QosLimits};
use crate::shown::shown;
use crate::units::{Megabytes, TimeLimit};

/// Applies the partition's QOS rules and the QOS's limits, setting the
/// partition's default QOS (and the QOS's time limit) where none was given.
///
/// `--qos=a,b` (Slurm 24.11+) lets the job run under any QOS of its list,
/// so each one must be allowed on the partition and each one's limits must
/// hold; a component without `--time` gets the smallest `max_time` of them.
pub(crate) fn check<'p>(
    policy: &'p Policy,
    component: &Component<'_>,
    partitions: &Partitions<'_>,
    changes: &mut Changes<'p>,
) -> Result<(), Rejection> {
    let Some(list) = component.qos else {
        let rule = partitions.first().and_then(|p| policy.partitions.get(p));
        let default = rule
            .and_then(|rule| by_time(policy, &rule.qos_by_time, component))
            .or_else(|| rule.and_then(|rule| rule.default_qos.as_deref()));
        changes.qos = default;
        // Without a default, the user's association default applies, which
        // the policy cannot see.
        if let Some(default) = default {
            check_one(policy, component, default, partitions, changes)?;
        }
        return Ok(());
    };
    check_names(component, list)?;
    for qos in qos_names(list) {
        check_one(policy, component, qos, partitions, changes)?;
    }
    Ok(())
}

fn check_one<'p>(
    policy: &'p Policy,
    component: &Component<'_>,
    qos: &str,
    partitions: &Partitions<'_>,
    changes: &mut Changes<'p>,
) -> Result<(), Rejection> {
    check_allowed_qos(policy, component, qos, partitions)?;
    check_limits(policy, component, qos, Some(partitions))?;
    if component.time_limit.is_none() {
        if let Some(max) = policy.qos.get(qos).and_then(|l| l.max_time) {
            changes.time_limit = Some(match changes.time_limit {
                Some(earlier) if max.exceeds(earlier) => earlier,
                _ => max,
            });
        }
    }
    Ok(())
}

/// `partitions.<p>.qos.by_time`: the first QOS listed whose `max_time`
/// holds the component's `--time` (one without `max_time` holds any).
/// `None` without `--time`, or when none holds it: the default QOS then
/// applies, and its limit refuses the time.
fn by_time<'p>(
    policy: &'p Policy,
    listed: &'p [Box<str>],
    component: &Component<'_>,
) -> Option<&'p str> {
    let time = component.time_limit?;
    listed
        .iter()
        .find(|qos| {
            policy
                .qos
                .get(qos.as_ref())
                .and_then(|limits| limits.max_time)
                .is_none_or(|max| !time.exceeds(max))
        })
        .map(AsRef::as_ref)
}

/// The QOS names of a `--qos` value: `gpu,normal` is two. Empty names are
/// dropped, as Slurm's list parsing does.
pub(crate) fn qos_names(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|q| !q.is_empty())
}

/// Refuses a `--qos` value that names no QOS (`--qos=,`): Slurm releases
/// differ on what they make of it.
pub(crate) fn check_names(component: &Component<'_>, list: &str) -> Result<(), Rejection> {
    if qos_names(list).next().is_some() {
        return Ok(());
    }
    Err(reject(
        RejectCode::InvalidQos,
        format!(
            "{} gives --qos={} but names no QOS in it: name one, e.g. --qos=normal, or leave \
             --qos out",
            component.position,
            shown(list)
        ),
    ))
}

/// Applies `partitions.<p>.qos.allowed` to the QOS an update names.
pub(crate) fn check_allowed(
    policy: &Policy,
    component: &Component<'_>,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    let Some(list) = component.qos else {
        return Ok(());
    };
    check_names(component, list)?;
    qos_names(list).try_for_each(|qos| check_allowed_qos(policy, component, qos, partitions))
}

fn check_allowed_qos(
    policy: &Policy,
    component: &Component<'_>,
    qos: &str,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    for partition in partitions.iter() {
        let Some(allowed) = policy
            .partitions
            .get(partition)
            .and_then(|rule| rule.allowed_qos.as_deref())
        else {
            continue;
        };
        if allowed.iter().any(|a| a.as_ref() == qos) {
            continue;
        }
        let suggestion = allowed
            .iter()
            .find(|a| {
                policy
                    .qos
                    .get(a.as_ref())
                    .is_none_or(|limits| breach(limits, component).is_none())
            })
            .unwrap_or(&allowed[0]);
        return Err(reject(
            RejectCode::InvalidQos,
            format!(
                "{} uses QOS {} on {}; partition {partition} allows QOS {}: use \
                 --qos={suggestion} (policy: partitions.{partition}.qos.allowed)",
                component.position,
                shown(qos),
                partitions.describe(partition),
                allowed.join(", "),
            ),
        ));
    }
    Ok(())
}

/// One limit a component goes over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Breach<'p> {
    Gres { name: &'p str, asked: u64, max: u64 },
    Nodes { asked: u32, max: u32 },
    Cpus { asked: u64, max: u32 },
    Memory { asked: Megabytes, max: Megabytes },
    Time { asked: TimeLimit, max: TimeLimit },
}

/// The first limit of `limits` that `component` goes over.
fn breach<'p>(limits: &'p QosLimits, component: &Component<'_>) -> Option<Breach<'p>> {
    for (name, max) in &limits.max_gres {
        let asked = component.gres_total(name);
        if asked > *max {
            return Some(Breach::Gres {
                name,
                asked,
                max: *max,
            });
        }
    }
    if let Some(max) = limits.max_nodes {
        let asked = component.nodes_asked();
        if asked > max {
            return Some(Breach::Nodes { asked, max });
        }
    }
    if let Some(max) = limits.max_cpus {
        let asked = component.cpu_count();
        if asked > u64::from(max) {
            return Some(Breach::Cpus { asked, max });
        }
    }
    if let (Some(max), Some(asked)) = (limits.max_memory, component.memory_total()) {
        if asked > max {
            return Some(Breach::Memory { asked, max });
        }
    }
    if let (Some(max), Some(asked)) = (limits.max_time, component.time_limit) {
        if asked.exceeds(max) {
            return Some(Breach::Time { asked, max });
        }
    }
    None
}

/// Applies `qos.<name>` limits. `partitions`, when known, lets the message
/// suggest another QOS that the partition allows and that would fit.
pub(crate) fn check_limits(
    policy: &Policy,
    component: &Component<'_>,
    qos: &str,
    partitions: Option<&Partitions<'_>>,
) -> Result<(), Rejection> {
    let Some(limits) = policy.qos.get(qos) else {
        return Ok(());
    };
    let Some(breach) = breach(limits, component) else {
        return Ok(());
    };
    let alternative = partitions
        .and_then(Partitions::first)
        .and_then(|p| policy.partitions.get(p))
        .and_then(|rule| rule.allowed_qos.as_deref())
        .and_then(|allowed| {
            allowed.iter().find(|a| {
                a.as_ref() != qos
                    && policy
                        .qos
                        .get(a.as_ref())
                        .is_none_or(|l| self::breach(l, component).is_none())
            })
        });
    let or_qos = alternative
        .map(|a| format!(", or use --qos={a}"))
        .unwrap_or_default();
    let who = component.position;
    let mut message = String::new();
    let code = match breach {
        Breach::Gres { name, asked, max } => {
            let hint = if component.tres_per_node.is_some() || component.tres_per_socket.is_some() {
                component.per_node_hint()
            } else {
                String::new()
            };
            let _ = write!(
                message,
                "{who} requests {asked} {name} with QOS {qos}{hint}; "
            );
            if max == 0 {
                let _ = write!(
                    message,
                    "QOS {qos} allows no {name}: remove the {name} request{or_qos} \
                     (policy: qos.{qos}.max_gres.{name})"
                );
            } else {
                let _ = write!(
                    message,
                    "QOS {qos} allows at most {max} {name} per component: request at most \
                     {max}{or_qos} (policy: qos.{qos}.max_gres.{name})"
                );
            }
            RejectCode::AccountingPolicy
        }
        Breach::Nodes { asked, max } => {
            let _ = write!(
                message,
                "{who} requests {asked} nodes with QOS {qos}; QOS {qos} allows at most {max} \
                 nodes per component: use --nodes={max} or fewer{or_qos} \
                 (policy: qos.{qos}.max_nodes)"
            );
            RejectCode::AccountingPolicy
        }
        Breach::Cpus { asked, max } => {
            let _ = write!(
                message,
                "{who} requests {asked} CPUs with QOS {qos}; QOS {qos} allows at most {max} \
                 CPUs per component: lower --ntasks or --cpus-per-task{or_qos} \
                 (policy: qos.{qos}.max_cpus)"
            );
            RejectCode::AccountingPolicy
        }
        Breach::Memory { asked, max } => {
            let hint = match component.memory {
                Some(crate::engine::Memory::PerNode(_)) => component.per_node_hint(),
                _ => String::new(),
            };
            let _ = write!(
                message,
                "{who} requests {asked} of memory with QOS {qos}{hint}; QOS {qos} allows at most \
                 {max} per component: lower --mem or --mem-per-cpu{or_qos} \
                 (policy: qos.{qos}.max_memory)"
            );
            RejectCode::AccountingPolicy
        }
        Breach::Time { asked, max } => {
            let _ = write!(
                message,
                "{who} requests time limit {asked} with QOS {qos}; QOS {qos} allows at most \
                 {max}: use --time={max} or less{or_qos} (policy: qos.{qos}.max_time)"
            );
            RejectCode::InvalidTimeLimit
        }
    };
    Err(reject(code, message))
}
