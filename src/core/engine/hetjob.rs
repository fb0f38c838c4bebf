//! Rule `hetjob`: limits over all components of one heterogeneous job, and
//! the state that one submission's components share.

use super::{reject, Component, JobKind, Position, RejectCode, Rejection};
use crate::policy::Policy;

/// What earlier components of the current submission left behind.
///
/// One value is kept per submitting thread: slurmctld validates the
/// components of one hetjob in order on one thread. Buffers are reused, so
/// after the first submission keeping this state allocates nothing.
#[derive(Debug, Default)]
pub struct HetjobState {
    /// The offset the next component must have; `None` outside a hetjob.
    next: Option<u32>,
    first_out: Option<String>,
    first_err: Option<String>,
    first_in: Option<String>,
    /// Component 0's kind, which later components share (only component 0
    /// carries the batch script).
    first_kind: Option<JobKind>,
    /// Running totals, aligned with the policy's `hetjob.max_total_gres`.
    gres_totals: Vec<u64>,
}

/// Component 0's I/O paths.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FirstIo<'s> {
    pub(crate) std_out: Option<&'s str>,
    pub(crate) std_err: Option<&'s str>,
    pub(crate) std_in: Option<&'s str>,
}

impl HetjobState {
    /// A fresh state.
    pub fn new() -> Self {
        HetjobState::default()
    }

    /// Starts judging a component. Returns whether it follows the previous
    /// accepted component of the same hetjob (or starts a new submission).
    pub(crate) fn begin(&mut self, position: Position) -> bool {
        match position {
            Position::Plain => {
                self.next = None;
                true
            }
            Position::Het(0) => {
                self.next = Some(0);
                self.gres_totals.clear();
                true
            }
            Position::Het(k) => self.next == Some(k),
        }
    }

    /// The kind of job `component` belongs to: its own, else (a later
    /// hetjob component) component 0's.
    pub(crate) fn kind_of(&self, component: &Component<'_>) -> Option<JobKind> {
        match component.position {
            Position::Het(k) if k > 0 => component.kind.or(self.first_kind),
            _ => component.kind,
        }
    }

    /// True while a hetjob is in progress and expects component `index`.
    pub fn expects(&self, index: u32) -> bool {
        self.next == Some(index)
    }

    /// Records an accepted component.
    pub(crate) fn accepted(&mut self, policy: &Policy, component: &Component<'_>, in_order: bool) {
        let Position::Het(index) = component.position else {
            self.next = None;
            return;
        };
        if !in_order {
            self.next = None;
            return;
        }
        if index == 0 {
            self.first_kind = component.kind;
            remember(&mut self.first_out, component.std_out);
            remember(&mut self.first_err, component.std_err);
            remember(&mut self.first_in, component.std_in);
        }
        self.gres_totals
            .resize(policy.hetjob.max_total_gres.len(), 0);
        for (total, (name, _)) in self
            .gres_totals
            .iter_mut()
            .zip(&policy.hetjob.max_total_gres)
        {
            *total = total.saturating_add(component.gres_total(name));
        }
        self.next = index.checked_add(1);
    }

    /// Forgets the submission after a rejection (Slurm stops there).
    pub(crate) fn rejected(&mut self) {
        self.next = None;
    }

    pub(crate) fn first_io(&self) -> FirstIo<'_> {
        FirstIo {
            std_out: self.first_out.as_deref(),
            std_err: self.first_err.as_deref(),
            std_in: self.first_in.as_deref(),
        }
    }
}

/// Copies `value` into `slot`, reusing its buffer.
fn remember(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(buffer), Some(value)) => {
            buffer.clear();
            buffer.push_str(value);
        }
        (None, Some(value)) => *slot = Some(value.to_owned()),
        (_, None) => *slot = None,
    }
}

/// Applies `hetjob.max_components`.
pub(crate) fn check_component_count(policy: &Policy, position: Position) -> Result<(), Rejection> {
    let (Position::Het(index), Some(max)) = (position, policy.hetjob.max_components) else {
        return Ok(());
    };
    if index < max {
        return Ok(());
    }
    Err(reject(
        RejectCode::AccountingPolicy,
        format!(
            "{position} is one too many: a hetjob may have at most {max} components \
             (0 to {}); merge components or submit separate jobs (policy: \
             hetjob.max_components)",
            max - 1
        ),
    ))
}

/// Applies `hetjob.max_total_gres` to the running totals.
pub(crate) fn check_totals(
    policy: &Policy,
    state: &HetjobState,
    component: &Component<'_>,
) -> Result<(), Rejection> {
    if !matches!(component.position, Position::Het(_)) {
        return Ok(());
    }
    for (i, (name, max)) in policy.hetjob.max_total_gres.iter().enumerate() {
        let before = state.gres_totals.get(i).copied().unwrap_or(0);
        let total = before.saturating_add(component.gres_total(name));
        if total > *max {
            return Err(reject(
                RejectCode::AccountingPolicy,
                format!(
                    "{} brings the hetjob's {name} to {total} ({before} in earlier components){}; \
                     a hetjob may request at most {max} {name} in total: request fewer \
                     (policy: hetjob.max_total_gres.{name})",
                    component.position,
                    if component.tres_per_node.is_some() || component.tres_per_socket.is_some() {
                        component.per_node_hint()
                    } else {
                        String::new()
                    },
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses a later hetjob component that reaches slurmctld as a plain job.
/// `sbatch --test-only` (and `salloc`/`srun --test-only`) sends each
/// component as its own will-run request, without het_job_offset, so the
/// rules over a whole hetjob (`io_files`, `hetjob`) cannot be applied; the
/// SPANK plugin's component index gives it away. A dry run must not promise
/// a start for a job the real submission refuses.
pub(crate) fn check_split_hetjob(component: &Component<'_>) -> Result<(), Rejection> {
    match (component.position, component.client_component) {
        (Position::Plain, Some(index)) if index > 0 => Err(reject(
            RejectCode::NotSupported,
            format!(
                "hetjob component {index} reached slurmctld as a separate job, as --test-only \
                 sends hetjob components, so hetpolicy cannot check the rules over the whole \
                 hetjob; check the script with `hetpolicy eval SCRIPT`, or submit it held \
                 (sbatch --hold) and release it (scontrol release JOBID)"
            ),
        )),
        _ => Ok(()),
    }
}
