//! Rule `options`: a site option's value must be one the policy allows,
//! and components on its `required_on` partitions, or requesting its
//! `required_on` GRES, must give it.

use super::accelerators::Partitions;
use super::bounds::RequestedGres;
use super::{reject, Component, Position, RejectCode, Rejection};
use crate::policy::{Policy, SiteOption};
use crate::shown::shown;

/// Checks one value of `option` given by the component at `position`. The
/// SPANK plugin calls this in sbatch/salloc/srun, the job_submit plugin in
/// slurmctld, so both say the same thing.
pub fn check_value(option: &SiteOption, value: &str, position: Position) -> Result<(), Rejection> {
    if option.allows(value) {
        return Ok(());
    }
    Err(reject(
        RejectCode::AccessDenied,
        format!(
            "{position} sets --{}={}, which is not allowed; use one of: {} (policy: \
             options.{}.values)",
            option.name(),
            shown(value),
            list(option.values()),
            option.name()
        ),
    ))
}

/// Applies every site option of the policy to a component.
pub(crate) fn check(
    policy: &Policy,
    component: &Component<'_>,
    requested: &RequestedGres<'_>,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    for option in policy.options() {
        if let Some(value) = component.option_value(option) {
            check_value(option, value, component.position)?;
            continue;
        }
        let on_partition = partitions.iter().find(|p| {
            option
                .required_partitions()
                .iter()
                .any(|r| r.as_ref() == *p)
        });
        let needs = match on_partition {
            Some(partition) => format!("runs on {}", partitions.describe(partition)),
            None => match option
                .required_gres()
                .iter()
                .find(|g| requested.contains(g))
            {
                Some(gres) => format!("requests {gres}"),
                None => continue,
            },
        };
        let choices = if option.values().is_empty() {
            String::new()
        } else {
            format!(" with one of: {}", list(option.values()))
        };
        return Err(reject(
            RejectCode::AccessDenied,
            format!(
                "{} {needs} without --{name}; add --{name}={}{choices} to this component \
                 (policy: options.{name}.required_on)",
                component.position,
                option.arg(),
                name = option.name(),
            ),
        ));
    }
    Ok(())
}

fn list(values: &[Box<str>]) -> String {
    values.join(", ")
}
