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
///
/// A value must be printable text: a control character (a newline would
/// add a line to the prolog's record of the job) or bytes that are not
/// UTF-8 (read as U+FFFD) are refused whatever the option allows.
pub fn check_value(option: &SiteOption, value: &str, position: Position) -> Result<(), Rejection> {
    if value
        .chars()
        .any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER)
    {
        return Err(reject(
            RejectCode::AccessDenied,
            format!(
                "{position} sets --{} to a value with a control character or bytes that are \
                 not UTF-8 ({}); use printable text only (policy: options.{})",
                option.name(),
                shown(value),
                option.name()
            ),
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn control_characters_and_bad_bytes_are_refused_in_any_option() {
        let policy =
            Policy::from_yaml("options:\n  tag:\n    help: any tag\n", "p.yaml").expect("loads");
        let tag = &policy.options()[0];
        assert!(check_value(tag, "fine value", Position::Plain).is_ok());
        for bad in ["a\nb", "a\tb", "\u{7f}", "\u{FFFD}"] {
            let r = check_value(tag, bad, Position::Het(1)).unwrap_err();
            assert!(
                r.message
                    .starts_with("hetjob component 1 sets --tag to a value with a control"),
                "{}",
                r.message
            );
        }
    }
}
