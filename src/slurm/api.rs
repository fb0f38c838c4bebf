//! Slurm functions and globals, found in the host process at run time.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::OnceLock;

use super::bindings::{
    slurm_conf_t, spank_context_t, spank_err_t, spank_item_t, spank_option, spank_t,
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
