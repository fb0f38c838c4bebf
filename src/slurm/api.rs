//! Slurm functions and globals, found in the host process at run time.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::OnceLock;

use super::bindings::{
    slurm_conf_t, slurmdb_user_rec_t, spank_context_t, spank_err_t, spank_item_t, spank_option,
    spank_t,
};

type XstrndupFn = unsafe extern "C" fn(*const c_char, usize) -> *mut c_char;
type XstrcatFn = unsafe extern "C" fn(*mut *mut c_char, *const c_char);
type LogFn = unsafe extern "C" fn(*const c_char, ...);

/// The Slurm functions hetpolicy calls.
pub struct SlurmApi {
    xstrndup: XstrndupFn,
    xstrcat: XstrcatFn,
    /// `slurm_error(fmt, ...)`.
    pub error: LogFn,
    /// `slurm_info(fmt, ...)`.
    pub info: LogFn,
    /// `slurm_verbose(fmt, ...)`.
    pub verbose: LogFn,
    /// `slurm_debug(fmt, ...)`.
    pub debug: LogFn,
}

static API: OnceLock<Option<SlurmApi>> = OnceLock::new();

/// Looks one symbol up in the host process.
pub fn symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads.
    let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

/// Slurm's functions, or `None` outside a Slurm process.
pub fn slurm() -> Option<&'static SlurmApi> {
    API.get_or_init(|| {
        let xstrndup = symbol(c"slurm_xstrndup")?;
        let xstrcat = symbol(c"slurm_xstrcat")?;
        let error = symbol(c"slurm_error")?;
        let info = symbol(c"slurm_info")?;
        let verbose = symbol(c"slurm_verbose")?;
        let debug = symbol(c"slurm_debug")?;
        // SAFETY: these are libslurm's exported functions with exactly these
        // C signatures (src/common/xstring.h, src/common/log.h).
        unsafe {
            Some(SlurmApi {
                xstrndup: std::mem::transmute::<*mut c_void, XstrndupFn>(xstrndup),
                xstrcat: std::mem::transmute::<*mut c_void, XstrcatFn>(xstrcat),
                error: std::mem::transmute::<*mut c_void, LogFn>(error),
                info: std::mem::transmute::<*mut c_void, LogFn>(info),
                verbose: std::mem::transmute::<*mut c_void, LogFn>(verbose),
                debug: std::mem::transmute::<*mut c_void, LogFn>(debug),
            })
        }
    })
    .as_ref()
}

/// `text` as a C string, with interior NULs replaced.
pub fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

impl SlurmApi {
    /// A copy of `text` in Slurm's allocator, which Slurm may xfree.
    /// Slurm's xstrndup copies straight from the `&str`: the only heap
    /// allocation is Slurm's own (unless `text` has an interior NUL).
    pub fn xstrdup(&self, text: &str) -> *mut c_char {
        if text.contains('\0') {
            let text = c_string(text);
            let len = text.as_bytes().len();
            // SAFETY: `text` holds `len` bytes and a NUL.
            return unsafe { (self.xstrndup)(text.as_ptr(), len) };
        }
        // SAFETY: slurm_xstrndup reads at most `text.len()` bytes (strnlen),
        // all within `text`, and returns a NUL-terminated copy.
        unsafe { (self.xstrndup)(text.as_ptr().cast(), text.len()) }
    }

    /// Appends `text` to the Slurm-allocated string at `target` (which may
    /// hold NULL), as Slurm's own xstrcat does.
    ///
    /// # Safety
    /// `target` must point to a `char *` that is NULL or was allocated by
    /// Slurm's allocator.
    pub unsafe fn xstrcat(&self, target: *mut *mut c_char, text: &str) {
        let text = c_string(text);
        // SAFETY: the caller guarantees `target`; `text` is NUL-terminated.
        unsafe { (self.xstrcat)(target, text.as_ptr()) }
    }
}

/// The slurm.conf the host process loaded (`slurm_conf.slurm_conf`, set by
/// slurmctld's `-f` too), or `None` when it has loaded none.
pub fn loaded_slurm_conf() -> Option<PathBuf> {
    symbol(c"slurm_conf").and_then(|conf| {
        // SAFETY: `slurm_conf` is libslurm's global slurm_conf_t; its
        // `slurm_conf` member is NULL or a NUL-terminated path.
        unsafe {
            let conf = &*(conf as *const slurm_conf_t);
            super::fields::text(conf.slurm_conf).map(|p| PathBuf::from(p.into_owned()))
        }
    })
}

/// SlurmUser's uid from the host's loaded slurm.conf (`slurm_conf.
/// slurm_user_id`), or `None` outside a Slurm process. It is 0 (root) in a
/// process that has not loaded slurm.conf.
pub fn slurm_user_id() -> Option<u32> {
    let conf = symbol(c"slurm_conf")?;
    // SAFETY: `slurm_conf` is libslurm's global slurm_conf_t, readable for
    // the life of the process; slurm_user_id is a plain uint32_t.
    Some(unsafe { (*(conf as *const slurm_conf_t)).slurm_user_id })
}

/// True when `uid` may act as a Slurm operator: slurmctld's own
/// `validate_operator` (src/slurmctld/proc_req.c: root, SlurmUser, or an
/// operator or administrator in the accounting database), which slurmctld
/// exports and calls itself before job_modify without holding the
/// accounting locks it takes. Outside slurmctld: root or SlurmUser.
pub fn is_operator(uid: u32) -> bool {
    type ValidateOperator = unsafe extern "C" fn(libc::uid_t) -> bool;
    static FOUND: OnceLock<Option<ValidateOperator>> = OnceLock::new();
    let validate = FOUND.get_or_init(|| {
        symbol(c"validate_operator").map(|found| {
            // SAFETY: slurmctld's `extern bool validate_operator(uid_t)`.
            unsafe { std::mem::transmute::<*mut c_void, ValidateOperator>(found) }
        })
    });
    match validate {
        // SAFETY: a plain call with a uid; it reads slurmctld's config and
        // accounting cache under their own locks.
        Some(validate) => unsafe { validate(uid) },
        None => uid == 0 || slurm_user_id() == Some(uid),
    }
}

/// The SPANK functions of the host (sbatch, salloc, srun, slurmstepd,
/// slurmd), from slurm/spank.h.
pub struct SpankApi {
    /// `spank_context()`.
    pub context: unsafe extern "C" fn() -> spank_context_t,
    /// `spank_option_register(sp, opt)`.
    pub option_register: unsafe extern "C" fn(spank_t, *mut spank_option) -> spank_err_t,
    /// `spank_job_control_setenv(sp, name, value, overwrite)`.
    pub job_control_setenv:
        unsafe extern "C" fn(spank_t, *const c_char, *const c_char, c_int) -> spank_err_t,
    /// `spank_setenv(sp, name, value, overwrite)`.
    pub setenv: unsafe extern "C" fn(spank_t, *const c_char, *const c_char, c_int) -> spank_err_t,
    /// `spank_get_item(sp, item, ...)`.
    pub get_item: unsafe extern "C" fn(spank_t, spank_item_t, ...) -> spank_err_t,
}

static SPANK_API: OnceLock<Option<SpankApi>> = OnceLock::new();

/// The host's SPANK functions, or `None` outside a SPANK host.
pub fn spank() -> Option<&'static SpankApi> {
    SPANK_API
        .get_or_init(|| {
            let context = symbol(c"spank_context")?;
            let option_register = symbol(c"spank_option_register")?;
            let job_control_setenv = symbol(c"spank_job_control_setenv")?;
            let setenv = symbol(c"spank_setenv")?;
            let get_item = symbol(c"spank_get_item")?;
            // SAFETY: these are the host's spank.h functions, with exactly
            // these C signatures.
            unsafe {
                Some(SpankApi {
                    context: std::mem::transmute::<
                        *mut c_void,
                        unsafe extern "C" fn() -> spank_context_t,
                    >(context),
                    option_register: std::mem::transmute::<
                        *mut c_void,
                        unsafe extern "C" fn(spank_t, *mut spank_option) -> spank_err_t,
                    >(option_register),
                    job_control_setenv: std::mem::transmute::<
                        *mut c_void,
                        unsafe extern "C" fn(
                            spank_t,
                            *const c_char,
                            *const c_char,
                            c_int,
                        ) -> spank_err_t,
                    >(job_control_setenv),
                    setenv: std::mem::transmute::<
                        *mut c_void,
                        unsafe extern "C" fn(
                            spank_t,
                            *const c_char,
                            *const c_char,
                            c_int,
                        ) -> spank_err_t,
                    >(setenv),
                    get_item: std::mem::transmute::<
                        *mut c_void,
                        unsafe extern "C" fn(spank_t, spank_item_t, ...) -> spank_err_t,
                    >(get_item),
                })
            }
        })
        .as_ref()
}

/// `PrologFlags` of the host's slurm.conf, if the host has loaded it.
pub fn prolog_flags() -> Option<u16> {
    let conf = symbol(c"slurm_conf")?;
    // SAFETY: `slurm_conf` is libslurm's global slurm_conf_t.
    Some(unsafe { (*(conf as *const slurm_conf_t)).prolog_flags })
}

/// `lock_level_t` (src/slurmctld/locks.h, not a public header): NO_LOCK,
/// READ_LOCK, WRITE_LOCK; the same 22.05 to 26.05.
const READ_LOCK: c_int = 1;

/// `assoc_mgr_lock_t` (src/common/assoc_mgr.h, not a public header): one
/// `lock_level_t` per entity, in this order, the same 22.05 to 26.05.
#[repr(C)]
#[derive(Default)]
struct AssocMgrLocks {
    assoc: c_int,
    file: c_int,
    qos: c_int,
    res: c_int,
    tres: c_int,
    user: c_int,
    wckey: c_int,
}

type FillInUserFn = unsafe extern "C" fn(
    *mut c_void,
    *mut slurmdb_user_rec_t,
    c_int,
    *mut *mut slurmdb_user_rec_t,
    bool,
) -> c_int;
type AssocMgrLockFn = unsafe extern "C" fn(*mut AssocMgrLocks);

/// slurmctld's association manager: the functions and globals
/// job_submit/lua's `_get_default_account` uses.
struct AssocMgr {
    fill_in_user: FillInUserFn,
    lock: AssocMgrLockFn,
    unlock: AssocMgrLockFn,
    /// `List assoc_mgr_user_list` (libslurmfull).
    user_list: *const *mut c_void,
    /// slurmctld's `void *acct_db_conn`.
    db_conn: *const *mut c_void,
    /// slurmctld's `uint16_t accounting_enforce`.
    enforce: *const u16,
}

// SAFETY: the pointers are addresses of process globals, read only under
// Slurm's own locks (or, for the two slurmctld globals, set at start-up).
unsafe impl Send for AssocMgr {}
// SAFETY: as for Send.
unsafe impl Sync for AssocMgr {}

fn assoc_mgr() -> Option<&'static AssocMgr> {
    static FOUND: OnceLock<Option<AssocMgr>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let fill_in_user = symbol(c"assoc_mgr_fill_in_user")?;
            let lock = symbol(c"assoc_mgr_lock")?;
            let unlock = symbol(c"assoc_mgr_unlock")?;
            let user_list = symbol(c"assoc_mgr_user_list")?;
            let db_conn = symbol(c"acct_db_conn")?;
            let enforce = symbol(c"accounting_enforce")?;
            // SAFETY: libslurmfull's and slurmctld's functions with exactly
            // these C signatures (src/common/assoc_mgr.h,
            // src/slurmctld/slurmctld.h), and their globals' addresses.
            unsafe {
                Some(AssocMgr {
                    fill_in_user: std::mem::transmute::<*mut c_void, FillInUserFn>(fill_in_user),
                    lock: std::mem::transmute::<*mut c_void, AssocMgrLockFn>(lock),
                    unlock: std::mem::transmute::<*mut c_void, AssocMgrLockFn>(unlock),
                    user_list: user_list as *const *mut c_void,
                    db_conn: db_conn as *const *mut c_void,
                    enforce: enforce as *const u16,
                })
            }
        })
        .as_ref()
}

/// Holds the association manager's user read lock; releases it when
/// dropped (also if anything in between panicked).
struct UserReadLock<'a>(&'a AssocMgr);

impl<'a> UserReadLock<'a> {
    fn take(assoc_mgr: &'a AssocMgr) -> Self {
        let mut locks = AssocMgrLocks {
            user: READ_LOCK,
            ..AssocMgrLocks::default()
        };
        // SAFETY: assoc_mgr_lock with a valid assoc_mgr_lock_t.
        unsafe { (assoc_mgr.lock)(&mut locks) };
        UserReadLock(assoc_mgr)
    }
}

impl Drop for UserReadLock<'_> {
    fn drop(&mut self) {
        let mut locks = AssocMgrLocks {
            user: READ_LOCK,
            ..AssocMgrLocks::default()
        };
        // SAFETY: releases the lock `take` took, with the same levels.
        unsafe { (self.0.unlock)(&mut locks) };
    }
}

/// The default account slurmctld's association manager has for `uid`, as
/// job_submit/lua's `_get_default_account` reads it
/// (src/plugins/job_submit/lua/job_submit_lua.c): `assoc_mgr_fill_in_user`
/// with `acct_db_conn` and `accounting_enforce`, returning
/// `user.default_acct`. Unlike the Lua plugin, which reads that string
/// after the call has released the lock, this holds the association
/// manager's user read lock across the call and the copy (`locked =
/// true`), so the string cannot be freed by an update from slurmdbd
/// meanwhile.
///
/// `None` outside slurmctld, without accounting (no user list: Slurm's
/// AccountingStorageType none, or slurmdbd not yet heard from; the Lua
/// plugin would ask the database here, which may block, and this never
/// does), for a user with no association, and for a user without a default
/// account.
pub fn default_account(uid: u32) -> Option<String> {
    let mut account = String::new();
    default_account_into(uid, &mut account).then_some(account)
}

/// [`default_account`], written into `account` (cleared first): a caller
/// that keeps the buffer allocates nothing once it is large enough. False,
/// with `account` empty, when there is none.
pub fn default_account_into(uid: u32, account: &mut String) -> bool {
    account.clear();
    let Some(assoc_mgr) = assoc_mgr() else {
        return false;
    };
    // slurmdb_user_rec_t is a plain C struct (pointers and integers): all
    // zeroes is the memset(0) the Lua plugin starts from.
    // SAFETY: see above.
    let mut user: slurmdb_user_rec_t = unsafe { std::mem::zeroed() };
    user.uid = uid;
    let _locked = UserReadLock::take(assoc_mgr);
    // SAFETY: the globals are read under the user read lock
    // (assoc_mgr_user_list) or were set at slurmctld's start
    // (acct_db_conn, accounting_enforce). With `locked = true`,
    // assoc_mgr_fill_in_user neither locks nor loads the list, and with a
    // NULL list it dereferences it when associations are enforced: hence
    // the check first.
    unsafe {
        if (*assoc_mgr.user_list).is_null() {
            return false;
        }
        let rc = (assoc_mgr.fill_in_user)(
            *assoc_mgr.db_conn,
            &mut user,
            c_int::from(*assoc_mgr.enforce),
            std::ptr::null_mut(),
            true,
        );
        if rc != 0 {
            return false;
        }
        if let Some(found) = super::fields::text(user.default_acct) {
            account.push_str(&found);
        }
        !account.is_empty()
    }
}
