//! Rule `accelerators`: a component that requests GRES X must run on a
//! partition the policy maps X to, and rule `partitions.<p>.reserved_for`:
//! a component on a reserved partition must request its GRES.

use super::bounds::RequestedGres;
use super::{reject, Changes, Component, RejectCode, Rejection};
use crate::policy::{AcceleratorAction, Policy};
use crate::shown::shown;

/// How the partition a component will run on was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// The user named it.
    Explicit,
    /// The policy routes the component there.
    Routed,
    /// The user named none; slurm.conf's default partition applies.
    Default,
}

/// The partition(s) a component will run on, as far as the policy knows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Partitions<'x> {
    list: Option<&'x str>,
    chosen: Chosen,
}

impl<'x> Partitions<'x> {
    /// A partition list the user gave (`--partition=a,b`).
    pub(crate) fn explicit(list: &'x str) -> Self {
        Partitions {
            list: Some(list),
            chosen: Chosen::Explicit,
        }
    }

    /// The partitions as the component names them, else the policy's
    /// default partition: where it runs when `accelerators` does not route
    /// it (a submitter exempt from that rule).
    pub(crate) fn as_given<'p: 'x>(policy: &'p Policy, component: &Component<'x>) -> Self {
        match component.partition {
            Some(list) => Partitions::explicit(list),
            None => Partitions {
                list: policy.default_partition.as_deref(),
                chosen: Chosen::Default,
            },
        }
    }

    /// True when the policy routed the component there.
    pub(crate) fn routed(&self) -> bool {
        self.chosen == Chosen::Routed
    }

    /// Each partition name.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &'x str> {
        self.list
            .into_iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
    }

    /// The first partition, whose defaults apply.
    pub(crate) fn first(&self) -> Option<&'x str> {
        self.iter().next()
    }

    /// `partition gpu`, with how it was chosen when the user did not name it.
    pub(crate) fn describe(&self, partition: &str) -> String {
        let partition = shown(partition);
        match self.chosen {
            Chosen::Explicit => format!("partition {partition}"),
            Chosen::Routed => format!("partition {partition} (where the policy routes it)"),
            Chosen::Default => format!("partition {partition} (the default partition)"),
        }
    }
}

/// Applies `accelerators` and returns the partitions the component ends up
/// on, routing it when a `route` rule applies and it named no partition.
pub(crate) fn check<'p: 'x, 'x>(
    policy: &'p Policy,
    component: &Component<'x>,
    requested: &RequestedGres<'_>,
    changes: &mut Changes<'p>,
) -> Result<Partitions<'x>, Rejection> {
    if let Some(list) = component.partition {
        check_explicit(policy, component, requested, list)?;
        return Ok(Partitions::explicit(list));
    }
    let routed: Option<&'p str> = routing_gres(policy, requested)
        .and_then(|name| policy.accelerators.get(name))
        .and_then(|rule| rule.partitions.first())
        .map(AsRef::as_ref);
    let target: Option<&'x str> = routed.or(policy.default_partition.as_deref());
    for name in requested.names() {
        let Some(rule) = policy.accelerators.get(name) else {
            continue;
        };
        if !target.is_some_and(|t| rule.allows(t)) {
            return Err(reject(
                RejectCode::InvalidPartitionName,
                format!(
                    "{} requests {} but names no partition; {name} components must use \
                     --partition={} (policy: accelerators.{name})",
                    component.position,
                    first_request(component, name),
                    rule.partitions.join(","),
                ),
            ));
        }
    }
    changes.partition = routed;
    Ok(Partitions {
        list: target,
        chosen: if routed.is_some() {
            Chosen::Routed
        } else {
            Chosen::Default
        },
    })
}

/// Applies `accelerators` to a partition list the user named: each GRES
/// name once (in the order requested), against each partition once.
pub(crate) fn check_explicit(
    policy: &Policy,
    component: &Component<'_>,
    requested: &RequestedGres<'_>,
    list: &str,
) -> Result<(), Rejection> {
    let partitions = Partitions::explicit(list);
    for name in requested.names() {
        let Some(rule) = policy.accelerators.get(name) else {
            continue;
        };
        if let Some(partition) = partitions.iter().find(|p| !rule.allows(p)) {
            let request = first_request(component, name);
            return Err(reject(
                RejectCode::InvalidPartitionName,
                format!(
                    "{} requests {request} on partition {}; {name} components must use \
                     --partition={} (policy: accelerators.{name})",
                    component.position,
                    shown(partition),
                    rule.partitions.join(","),
                ),
            ));
        }
    }
    Ok(())
}

/// The component's first request for GRES `name`, as messages show it.
fn first_request(component: &Component<'_>, name: &str) -> String {
    component
        .gres_request(name)
        .map_or_else(|| format!("{}:1", shown(name)), |r| r.to_string())
}

/// Applies `partitions.<p>.reserved_for`.
pub(crate) fn check_reserved(
    policy: &Policy,
    component: &Component<'_>,
    requested: &RequestedGres<'_>,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    for partition in partitions.iter() {
        let Some(rule) = policy.partitions.get(partition) else {
            continue;
        };
        if rule.reserved_for.is_empty() || rule.reserved_for.iter().any(|g| requested.contains(g)) {
            continue;
        }
        let reserved = rule.reserved_for.join(" or ");
        return Err(reject(
            RejectCode::InvalidGres,
            format!(
                "{} runs on {} without requesting {reserved}; partition {partition} is reserved \
                 for {reserved} components: add --gres={}:1 (or the count you need), or use \
                 another partition (policy: partitions.{partition}.reserved_for)",
                component.position,
                partitions.describe(partition),
                rule.reserved_for[0],
            ),
        ));
    }
    Ok(())
}

/// The GRES whose `accelerators` rule routes a component that names no
/// partition: the first requested one with `action: route`.
pub(crate) fn routing_gres<'r>(policy: &Policy, requested: &RequestedGres<'r>) -> Option<&'r str> {
    requested.names().find(|name| {
        policy
            .accelerators
            .get(*name)
            .is_some_and(|rule| rule.action == AcceleratorAction::Route)
    })
}
