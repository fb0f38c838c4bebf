//! Rule `io_files.first_component_only`: Slurm uses only the first
//! component's --output, --error and --input and silently ignores the
//! others, so a later component that sets a different one is refused.
//! sbatch copies component 0's `#SBATCH --output` into later components,
//! so an identical value passes.

use super::{reject, Component, HetjobState, Position, RejectCode, Rejection};
use crate::policy::Policy;
use crate::shown::shown;

/// Applies the rule to component k > 0, comparing with component 0.
pub(crate) fn check(
    policy: &Policy,
    state: &HetjobState,
    component: &Component<'_>,
) -> Result<(), Rejection> {
    if !policy.io_first_component_only || !matches!(component.position, Position::Het(k) if k > 0) {
        return Ok(());
    }
    let first = state.first_io();
    let fields = [
        ("--output", "output", component.std_out, first.std_out),
        ("--error", "error", component.std_err, first.std_err),
        ("--input", "input", component.std_in, first.std_in),
    ];
    for (option, kind, value, first_value) in fields {
        let Some(value) = value else {
            continue;
        };
        if Some(value) == first_value {
            continue;
        }
        let first_text = match first_value {
            Some(path) => format!("{option}={}", shown(path)),
            None => "Slurm's default".to_owned(),
        };
        return Err(reject(
            RejectCode::NotSupported,
            format!(
                "{} sets {option}={}, but Slurm uses only the first component's {kind} \
                 file (here {first_text}) and silently ignores this one; give {option} on the \
                 first component only (policy: io_files.first_component_only)",
                component.position,
                shown(value)
            ),
        ));
    }
    Ok(())
}
