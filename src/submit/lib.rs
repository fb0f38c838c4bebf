//! The job_submit plugin's entry points (`job_submit_hetpolicy.so`).
//!
//! slurmctld calls [`job_submit`] once per plain job and once per hetjob
//! component (in order, on one thread), and [`job_modify`] for
//! `scontrol update`. Each entry point is a thin shell: catch any panic,
//! turn the job_desc into the engine's [`Component`], ask the engine, and
//! turn the verdict back into a return code, an `err_msg` in Slurm's
//! allocator, and changed job_desc fields.
//!
//! ABI (src/slurmctld/job_submit.c in 22.05, src/interfaces/job_submit.c
//! from 23.02): `plugin_name`, `plugin_type`, `plugin_version` (must equal
//! the controller's SLURM_VERSION_NUMBER), `init`, `fini`, `job_submit`,
//! `job_modify`. 23.02+ calls job_submit and job_modify concurrently:
//! shared state is behind locks and per-submission state is per thread.

mod convert;
mod decisions;
#[cfg(feature = "fault-injection")]
mod fault;
mod state;
mod who;

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use convert::{apply, error_code, JobName, JobText};
use decisions::{Judged, JudgedVerdict};
use hetpolicy_core::engine::{
    evaluate, evaluate_modify, refuse_unjudged_update, reject, unjudged_update_field, Component,
    Notices, Reading, RejectCode, Rejection, Verdict,
};
use hetpolicy_core::policy::{OnError, UnjudgedUpdates};
use hetpolicy_slurm::api::slurm;
use hetpolicy_slurm::bindings::{job_desc_msg_t, HETPOLICY_SLURM_VERSION_NUMBER};

/// Human-readable plugin name.
#[no_mangle]
#[used]
pub static plugin_name: [u8; 40] = *b"hetpolicy site policy for jobs/hetjobs\0\0";

/// Tells slurmctld this is the job_submit plugin named `hetpolicy`.
#[no_mangle]
#[used]
pub static plugin_type: [u8; 21] = *b"job_submit/hetpolicy\0";

/// The Slurm release this plugin was built for; slurmctld loads it only
/// when this equals its own SLURM_VERSION_NUMBER.
#[no_mangle]
#[used]
pub static plugin_version: u32 = HETPOLICY_SLURM_VERSION_NUMBER;

const SLURM_SUCCESS: c_int = 0;
const SLURM_ERROR: c_int = -1;
const PLUGIN_TYPE: &str = "job_submit/hetpolicy";

/// Called when slurmctld loads the plugin (start-up, `scontrol reconfigure`):
/// installs logging and loads the policy. Never fails: without a valid
/// policy the plugin rejects every job with a message telling users to
/// contact their administrator, and the log says why.
///
/// A panic here is caught and logged, and init still succeeds: a failing
/// init would stop slurmctld from starting, while a plugin without a policy
/// refuses jobs (or accepts them unchecked, `on_error: accept`) and says
/// why in the log.
#[no_mangle]
pub extern "C" fn init() -> c_int {
    let started = catch_unwind(|| {
        hetpolicy_slurm::logger::install(PLUGIN_TYPE);
        // One log line per panic, with where it happened.
        std::panic::set_hook(Box::new(|info| {
            log::error!("internal error: {}", info.to_string().replace('\n', " "))
        }));
        log_versions();
        #[cfg(feature = "fault-injection")]
        fault::check_init(&state::policy_path());
        state::open(state::policy_path());
    });
    if started.is_err() {
        let _ = catch_unwind(|| {
            log::error!(
                "internal error while starting (panic caught); slurmctld starts, and the \
                 policy is read again when the first job arrives"
            )
        });
    }
    SLURM_SUCCESS
}

/// Logs hetpolicy's version, the Slurm release it was built for and the
/// one this slurmctld runs. slurmctld itself loads a job_submit plugin only
/// when its `plugin_version` is its own release, so a difference is not
/// expected here; should it happen, the log says what to do.
fn log_versions() {
    use hetpolicy_slurm::version::{check, Check, Release};
    let ours = env!("CARGO_PKG_VERSION");
    let built_for = Release::BUILT_FOR;
    match check() {
        Check::Same(running) => log::info!(
            "version {ours} built for Slurm {built_for}, running in Slurm {}",
            running.release
        ),
        Check::Differs(running) => log::error!(
            "version {ours} was built for Slurm {built_for}, but this slurmctld runs Slurm {} \
             (plugin_version of {}): rebuild hetpolicy against Slurm {}'s headers and install \
             that build",
            running.release,
            running.plugin,
            running.release
        ),
        Check::Unknown => log::info!(
            "version {ours} built for Slurm {built_for} (no other Slurm plugin is loaded yet \
             to tell the running release)"
        ),
    }
}

/// Called when slurmctld unloads the plugin.
#[no_mangle]
pub extern "C" fn fini() -> c_int {
    catch_unwind(|| {
        state::close();
        decisions::flush();
        SLURM_SUCCESS
    })
    .unwrap_or(SLURM_ERROR)
}

/// Judges one plain job or hetjob component at submission.
///
/// # Safety
/// Called by slurmctld with a valid (or NULL) job_desc and err_msg.
#[no_mangle]
pub unsafe extern "C" fn job_submit(
    job_desc: *mut job_desc_msg_t,
    submit_uid: u32,
    err_msg: *mut *mut c_char,
) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        clear_notices();
        // SAFETY: slurmctld passes NULL or a job_desc it owns for this call.
        let desc = unsafe { job_desc.as_mut() };
        submit(desc, submit_uid)
    }));
    guarded(|| {
        if matches!(outcome, Ok(Ok(()))) {
            // SAFETY: err_msg is NULL or slurmctld's `char **` for this call.
            unsafe { tell_notices(err_msg) };
        }
        // SAFETY: err_msg is NULL or slurmctld's `char **` for this call.
        unsafe { finish("job_submit", outcome, err_msg) }
    })
}

thread_local! {
    /// The notices of the component this thread just accepted, formatted
    /// into a buffer reused from one call to the next, so that telling
    /// them allocates no Rust memory once it is large enough.
    static NOTICES: RefCell<String> = const { RefCell::new(String::new()) };
}

fn clear_notices() {
    let _ = NOTICES.try_with(|text| text.borrow_mut().clear());
}

/// Keeps `notices` to be told to the user once the call succeeds.
fn keep_notices(notices: &Notices<'_>) {
    let _ = NOTICES.try_with(|text| {
        let mut text = text.borrow_mut();
        text.clear();
        let _ = write!(text, "{notices}");
    });
}

/// Hands the kept notices to slurmctld as job_submit's message, which it
/// returns to sbatch, salloc and srun on success (`job_submit_user_msg`,
/// src/slurmctld/proc_req.c `_slurm_rpc_submit_batch_job` in 22.05 to
/// 26.05), and which they print as info lines (`print_multi_line_string`,
/// src/common/slurm_protocol_defs.c). For a batch hetjob slurmctld puts
/// `<offset>: ` before each line itself; salloc and srun print a hetjob's
/// offsets too.
///
/// # Safety
/// `err_msg` must be NULL or point to a `char *` that is NULL or allocated
/// by Slurm's allocator.
unsafe fn tell_notices(err_msg: *mut *mut c_char) {
    if err_msg.is_null() {
        return;
    }
    let _ = NOTICES.try_with(|text| {
        let text = text.borrow();
        if text.is_empty() {
            return;
        }
        let Some(api) = slurm() else {
            return;
        };
        // SAFETY: the caller guarantees err_msg. A NULL message gets a
        // copy in Slurm's allocator (no Rust allocation); another plugin's
        // message is appended to, as the rejection path does.
        unsafe {
            if (*err_msg).is_null() {
                *err_msg = api.xstrdup(&text);
            } else {
                api.xstrcat(err_msg, "\n");
                api.xstrcat(err_msg, &text);
            }
        }
    });
}

// Judges an update (`scontrol update job=...`) from the fields it carries.
// job_modify's C signature depends on the release: 23.02 added `err_msg`,
// so the bindings crate, which knows the headers' release, writes the
// `extern "C" fn job_modify` around `modify_entry`.
hetpolicy_slurm::job_modify_entry_point!(modify_entry);

/// The body of `job_modify`; `err_msg` is NULL before Slurm 23.02, which
/// gives job_modify none (the reason then goes to the log, and the user
/// sees the error code's text).
///
/// # Safety
/// Called from `job_modify` with slurmctld's job_desc (or NULL) and
/// err_msg (or NULL).
unsafe fn modify_entry(
    job_desc: *mut job_desc_msg_t,
    submit_uid: u32,
    err_msg: *mut *mut c_char,
) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: slurmctld passes NULL or a job_desc it owns for this call.
        modify(unsafe { job_desc.as_ref() }, submit_uid)
    }));
    // SAFETY: err_msg is NULL or slurmctld's `char **` for this call.
    guarded(|| unsafe { finish("job_modify", outcome, err_msg) })
}

/// Runs the last step of an entry point; should even that panic, the job
/// is refused rather than unwinding into C.
fn guarded(last_step: impl FnOnce() -> c_int) -> c_int {
    catch_unwind(AssertUnwindSafe(last_step))
        .unwrap_or_else(|_| error_code(RejectCode::AccessDenied))
}

fn no_policy() -> Rejection {
    reject(
        RejectCode::AccessDenied,
        "hetpolicy: this cluster's job policy could not be loaded, so no job can be \
         accepted now; please contact your administrator"
            .to_owned(),
    )
}

fn submit(desc: Option<&mut job_desc_msg_t>, uid: u32) -> Result<(), Rejection> {
    let Some(desc) = desc else {
        return Err(reject(
            RejectCode::AccessDenied,
            "hetpolicy: no job description".to_owned(),
        ));
    };
    let position = convert::position(desc);
    state::with_submission(position, |policy, hetjob| {
        let Some(policy) = policy else {
            return unjudged(uid, &position.to_string());
        };
        let changes = {
            let texts = JobText::read(desc);
            let submitter = who::submitter(convert::owner(desc, uid), policy.needs_groups());
            let mut default_account = DefaultAccount::take();
            let account = match convert::account(desc) {
                Some(account) => Some(account),
                None if policy.needs_account() => default_account.read(submitter.uid),
                None => None,
            };
            let component = Component {
                submitter: Some(&*submitter),
                account: account.as_deref(),
                kind: convert::kind(desc, position),
                ..texts.component(desc)
            };
            #[cfg(feature = "fault-injection")]
            fault::check(component.partition);
            let judged = |verdict| Judged {
                uid: submitter.uid,
                user: submitter.user.as_deref(),
                component: &component,
                verdict,
            };
            match evaluate(policy, hetjob, &component) {
                Verdict::Accept(accepted) => {
                    let notices = Notices::new(policy, &component, &accepted);
                    decisions::record(
                        policy,
                        &judged(JudgedVerdict::Accepted(&accepted, &notices)),
                    );
                    if !notices.is_empty() {
                        keep_notices(&notices);
                    }
                    // Slurm's debug level, built only when written.
                    if hetpolicy_slurm::logger::writes_debug() {
                        log::trace!(
                            "reading job={} {}",
                            JobName(desc),
                            Reading::new(policy, &component, &accepted.changes)
                        );
                    }
                    for warning in &accepted.warnings {
                        log::info!("uid {uid}: accepted in warn mode: {warning}");
                    }
                    accepted.changes
                }
                Verdict::Reject(rejection) => {
                    decisions::record(policy, &judged(JudgedVerdict::Refused(&rejection)));
                    log::info!("uid {uid}: rejected: {}", rejection.message);
                    return Err(rejection);
                }
            }
        };
        if !changes.is_empty() {
            let api = slurm().ok_or_else(|| {
                reject(
                    RejectCode::AccessDenied,
                    "hetpolicy: Slurm's allocator is not available".to_owned(),
                )
            })?;
            apply(api, desc, &changes);
            log::debug!("uid {uid}: {position} accepted with changes {changes:?}");
        }
        Ok(())
    })
}

thread_local! {
    /// This thread's buffer for a user's default account, reused from one
    /// submission to the next so that reading it allocates nothing once it
    /// is large enough.
    static DEFAULT_ACCOUNT: Cell<String> = const { Cell::new(String::new()) };
}

/// The buffer of [`DEFAULT_ACCOUNT`] while a submission uses it; put back
/// when dropped.
struct DefaultAccount(String);

impl DefaultAccount {
    fn take() -> Self {
        DefaultAccount(DEFAULT_ACCOUNT.try_with(Cell::take).unwrap_or_default())
    }

    /// The default account of `uid`, read into the buffer.
    fn read(&mut self, uid: u32) -> Option<Cow<'_, str>> {
        hetpolicy_slurm::api::default_account_into(uid, &mut self.0)
            .then_some(Cow::Borrowed(self.0.as_str()))
    }
}

impl Drop for DefaultAccount {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.0);
        let _ = DEFAULT_ACCOUNT.try_with(|cell| cell.set(buffer));
    }
}

fn modify(desc: Option<&job_desc_msg_t>, uid: u32) -> Result<(), Rejection> {
    let Some(desc) = desc else {
        return Err(reject(
            RejectCode::AccessDenied,
            "hetpolicy: no job update".to_owned(),
        ));
    };
    let store = state::store();
    state::log_reload(&store, store.refresh());
    let Some(policy) = store.current() else {
        return unjudged(uid, "job update");
    };
    let texts = JobText::read(desc);
    let account = convert::account(desc);
    let update = Component {
        account: account.as_deref(),
        ..texts.component(desc)
    };
    #[cfg(feature = "fault-injection")]
    fault::check(update.partition);
    let result = evaluate_modify(&policy, &update).and_then(|()| {
        let Some(field) = unjudged_update_field(&policy, &update) else {
            return Ok(());
        };
        let allowed = match policy.unjudged_updates() {
            UnjudgedUpdates::Everyone => true,
            UnjudgedUpdates::Nobody => false,
            UnjudgedUpdates::Operators => hetpolicy_slurm::api::is_operator(uid),
        };
        if allowed {
            log::debug!("uid {uid}: update of {field} accepted unjudged (operator or policy)");
            Ok(())
        } else {
            Err(refuse_unjudged_update(field))
        }
    });
    if let Err(rejection) = &result {
        log::info!("uid {uid}: update rejected: {}", rejection.message);
    }
    result
}

/// The verdict when no valid policy is loaded: `on_error` decides.
fn unjudged(uid: u32, what: &str) -> Result<(), Rejection> {
    match state::on_error() {
        OnError::Reject => Err(no_policy()),
        OnError::Accept => {
            log::info!("uid {uid}: {what} accepted unchecked: no valid policy is loaded");
            Ok(())
        }
    }
}

/// Turns an entry point's outcome into Slurm's return code and err_msg.
/// A caught panic follows `on_error`: rejected (the default) or accepted
/// unchecked, and logged either way.
///
/// # Safety
/// `err_msg` must be NULL or point to a `char *` that is NULL or allocated
/// by Slurm's allocator.
unsafe fn finish(
    entry: &str,
    outcome: std::thread::Result<Result<(), Rejection>>,
    err_msg: *mut *mut c_char,
) -> c_int {
    let rejection = match outcome {
        Ok(Ok(())) => return SLURM_SUCCESS,
        Ok(Err(rejection)) => rejection,
        Err(_) => {
            let on_error = catch_unwind(state::on_error).unwrap_or_default();
            if on_error == OnError::Accept {
                log::error!(
                    "{entry}: internal error (panic caught); the job was accepted unchecked \
                     (on_error: accept)"
                );
                return SLURM_SUCCESS;
            }
            log::error!("{entry}: internal error (panic caught); the job was rejected to be safe");
            reject(
                RejectCode::AccessDenied,
                "hetpolicy: internal error while checking this job, so it was rejected to be \
                 safe; please report this to your administrator"
                    .to_owned(),
            )
        }
    };
    if let (Some(api), false) = (slurm(), err_msg.is_null()) {
        // SAFETY: the caller guarantees err_msg; Slurm's xstrcat appends to
        // a NULL or Slurm-allocated string.
        unsafe {
            if !(*err_msg).is_null() {
                api.xstrcat(err_msg, "\n");
            }
            api.xstrcat(err_msg, &rejection.message);
        }
    }
    error_code(rejection.code)
}
