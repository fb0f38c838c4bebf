//! The plugin's state: the shared policy store, and each thread's
//! submission in progress.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use hetpolicy_core::engine::{HetjobState, Position};
use hetpolicy_core::paths::default_policy_path;
use hetpolicy_core::policy::{OnError, Policy};
use hetpolicy_core::store::{PolicyStore, Reload};
use hetpolicy_core::trust::Owners;

/// The store, set by init() and cleared by fini().
static STORE: RwLock<Option<Arc<PolicyStore>>> = RwLock::new(None);

thread_local! {
    /// The submission this thread is validating: the policy version it
    /// started with and what its earlier components left behind.
    static SUBMISSION: RefCell<Submission> = RefCell::new(Submission::default());
}

#[derive(Default)]
struct Submission {
    policy: Option<Arc<Policy>>,
    hetjob: HetjobState,
}

/// The policy file: `hetpolicy.yaml` beside slurmctld's slurm.conf.
pub(crate) fn policy_path() -> PathBuf {
    default_policy_path(hetpolicy_slurm::api::loaded_slurm_conf().as_deref())
}

/// Opens the store for `path` and logs the outcome. The file and the
/// directories above it may be owned by root or SlurmUser.
pub(crate) fn open(path: PathBuf) {
    let owners = Owners::root_and(hetpolicy_slurm::api::slurm_user_id());
    let (store, outcome) = PolicyStore::open_trusting(path, owners);
    log_reload(&store, outcome);
    *STORE.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(store));
}

/// Drops the store.
pub(crate) fn close() {
    *STORE.write().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The store, opening it on first use if init() was not called.
pub(crate) fn store() -> Arc<PolicyStore> {
    if let Some(store) = STORE.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
        return Arc::clone(store);
    }
    open(policy_path());
    let guard = STORE.read().unwrap_or_else(|p| p.into_inner());
    Arc::clone(guard.as_ref().expect("open() sets the store"))
}

/// What happens to a job that cannot be judged (`on_error`).
pub(crate) fn on_error() -> OnError {
    store().on_error()
}

/// Logs what a reload did.
pub(crate) fn log_reload(store: &PolicyStore, outcome: Reload) {
    match outcome {
        // Every submission passes here: nothing to do, and no shared state
        // touched.
        Reload::Unchanged => {}
        Reload::Loaded => log::info!("loaded policy {}", store.path().display()),
        Reload::Failed(error) => {
            let kept = match (store.current().is_some(), store.on_error()) {
                (true, _) => "kept last good policy",
                (false, OnError::Reject) => {
                    "no valid policy is loaded, so every job is rejected until it is fixed"
                }
                (false, OnError::Accept) => {
                    "no valid policy is loaded, so every job is accepted unchecked until it \
                     is fixed (on_error: accept)"
                }
            };
            for line in error.to_string().lines() {
                log::error!("{line}");
            }
            log::error!("{kept} ({})", store.path().display());
        }
    }
}

/// Runs `judge` with the policy version and hetjob state for a component
/// at `position`. A plain job or component 0 starts a new submission with
/// the current policy (reloading it if the file changed); later components
/// keep the version their component 0 saw.
///
/// The hetjob state is taken out while `judge` runs and put back only when
/// it returns with a policy loaded: a panic, or a component judged without
/// a policy, leaves a fresh state, so the next component of the same
/// submission is never judged against what an unfinished one left behind.
pub(crate) fn with_submission<R>(
    position: Position,
    judge: impl FnOnce(Option<&Arc<Policy>>, &mut HetjobState) -> R,
) -> R {
    SUBMISSION.with(|cell| {
        let mut submission = cell.borrow_mut();
        let continues = match position {
            Position::Het(k) if k > 0 => submission.hetjob.expects(k),
            _ => false,
        };
        if !continues || submission.policy.is_none() {
            let store = store();
            log_reload(&store, store.refresh());
            submission.policy = store.current();
        }
        let mut hetjob = std::mem::take(&mut submission.hetjob);
        let verdict = judge(submission.policy.as_ref(), &mut hetjob);
        if submission.policy.is_some() {
            submission.hetjob = hetjob;
        }
        verdict
    })
}
