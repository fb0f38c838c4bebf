//! Slurm functions and globals, found in the host process at run time.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;
use std::sync::OnceLock;

use super::bindings::slurm_conf_t;

type XstrdupFn = unsafe extern "C" fn(*const c_char) -> *mut c_char;
type XstrcatFn = unsafe extern "C" fn(*mut *mut c_char, *const c_char);
type LogFn = unsafe extern "C" fn(*const c_char, ...);

/// The Slurm functions hetpolicy calls.
pub(crate) struct SlurmApi {
    xstrdup: XstrdupFn,
    xstrcat: XstrcatFn,
    pub(crate) error: LogFn,
    pub(crate) info: LogFn,
    pub(crate) verbose: LogFn,
    pub(crate) debug: LogFn,
}

static API: OnceLock<Option<SlurmApi>> = OnceLock::new();

/// Looks one symbol up in the host process.
fn symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads.
    let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!found.is_null()).then_some(found)
}

/// Slurm's functions, or `None` outside a Slurm process.
pub(crate) fn slurm() -> Option<&'static SlurmApi> {
    API.get_or_init(|| {
        let xstrdup = symbol(c"slurm_xstrdup")?;
        let xstrcat = symbol(c"slurm_xstrcat")?;
        let error = symbol(c"slurm_error")?;
        let info = symbol(c"slurm_info")?;
        let verbose = symbol(c"slurm_verbose")?;
        let debug = symbol(c"slurm_debug")?;
        // SAFETY: these are libslurm's exported functions with exactly these
        // C signatures (src/common/xstring.h, src/common/log.h).
        unsafe {
            Some(SlurmApi {
                xstrdup: std::mem::transmute::<*mut c_void, XstrdupFn>(xstrdup),
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
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

impl SlurmApi {
    /// A copy of `text` in Slurm's allocator, which Slurm may xfree.
    pub(crate) fn xstrdup(&self, text: &str) -> *mut c_char {
        let text = c_string(text);
        // SAFETY: slurm_xstrdup copies a valid NUL-terminated string.
        unsafe { (self.xstrdup)(text.as_ptr()) }
    }

    /// Appends `text` to the Slurm-allocated string at `target` (which may
    /// hold NULL), as Slurm's own xstrcat does.
    ///
    /// # Safety
    /// `target` must point to a `char *` that is NULL or was allocated by
    /// Slurm's allocator.
    pub(crate) unsafe fn xstrcat(&self, target: *mut *mut c_char, text: &str) {
        let text = c_string(text);
        // SAFETY: the caller guarantees `target`; `text` is NUL-terminated.
        unsafe { (self.xstrcat)(target, text.as_ptr()) }
    }
}

/// The directory of slurm.conf as the host process knows it: slurmctld's
/// own `slurm_conf.slurm_conf` path (set by `-f` too), else `$SLURM_CONF`,
/// else Slurm's default `/etc/slurm/slurm.conf`.
pub(crate) fn slurm_conf_dir() -> PathBuf {
    let from_daemon = symbol(c"slurm_conf").and_then(|conf| {
        // SAFETY: `slurm_conf` is libslurm's global slurm_conf_t; its
        // `slurm_conf` member is NULL or a NUL-terminated path.
        unsafe {
            let conf = &*(conf as *const slurm_conf_t);
            super::fields::text(conf.slurm_conf).map(|p| PathBuf::from(p.into_owned()))
        }
    });
    let conf = from_daemon
        .or_else(|| std::env::var_os("SLURM_CONF").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/etc/slurm/slurm.conf"));
    conf.parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/etc/slurm"))
}
