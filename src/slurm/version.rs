//! Which Slurm release the plugin was built for, and which one it runs in.
//!
//! The headers' `SLURM_VERSION_NUMBER` is compiled in. The running
//! release is read from Slurm's own plugins already loaded in this process
//! (auth/munge, select/cons_tres, ...): each exports `plugin_version`, the
//! `SLURM_VERSION_NUMBER` of the Slurm build that ships it, and Slurm loads
//! no other plugin than one of its own exact version (SPANK plugins aside,
//! which are matched on major.minor only). libslurm exports no function
//! that returns its release (`slurm_api_version()` is the library's API
//! number, not the release).

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::fmt;

use super::bindings::HETPOLICY_SLURM_VERSION_NUMBER;

/// A Slurm release as `SLURM_VERSION_NUMBER` encodes it (0xMMmmuu).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release(pub u32);

impl Release {
    /// The release of the headers this plugin was built against.
    pub const BUILT_FOR: Release = Release(HETPOLICY_SLURM_VERSION_NUMBER);
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:02}.{}",
            self.0 >> 16,
            (self.0 >> 8) & 0xff,
            self.0 & 0xff
        )
    }
}

/// The running Slurm's release and the plugin it was read from.
#[derive(Debug)]
pub struct Running {
    /// The release read from the plugin.
    pub release: Release,
    /// The Slurm plugin whose `plugin_version` told it.
    pub plugin: String,
}

/// How the running release compares with the one built for.
#[derive(Debug)]
pub enum Check {
    /// The same release.
    Same(Running),
    /// Another release.
    Differs(Running),
    /// No other Slurm plugin is loaded yet, so the release is unknown.
    Unknown,
}

/// Compares the running Slurm with [`Release::BUILT_FOR`].
pub fn check() -> Check {
    match running() {
        Some(running) if running.release == Release::BUILT_FOR => Check::Same(running),
        Some(running) => Check::Differs(running),
        None => Check::Unknown,
    }
}

/// The release of the first Slurm plugin loaded in this process, other than
/// hetpolicy's own and SPANK plugins.
pub fn running() -> Option<Running> {
    loaded_objects().into_iter().find_map(|path| {
        let release = plugin_release(&path)?;
        Some(Running {
            release,
            plugin: path.to_string_lossy().into_owned(),
        })
    })
}

/// Paths of the shared objects loaded in this process.
fn loaded_objects() -> Vec<CString> {
    unsafe extern "C" fn collect(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: dl_iterate_phdr passes a valid info for this call, and
        // `data` is the Vec given below, used by nothing else meanwhile.
        unsafe {
            let paths = &mut *(data as *mut Vec<CString>);
            let name = (*info).dlpi_name;
            if !name.is_null() && *name != 0 {
                paths.push(CStr::from_ptr(name).to_owned());
            }
        }
        0
    }
    let mut paths: Vec<CString> = Vec::new();
    // SAFETY: the callback only reads the info it is given and pushes to
    // `paths`, which outlives the call.
    unsafe { libc::dl_iterate_phdr(Some(collect), (&mut paths as *mut Vec<CString>).cast()) };
    paths
}

/// `plugin_version` of the Slurm plugin at `path`, if it is one (it defines
/// `plugin_type` and `plugin_version` itself), is loaded already, is not a
/// SPANK plugin and is not hetpolicy.
fn plugin_release(path: &CStr) -> Option<Release> {
    // SAFETY: RTLD_NOLOAD never loads anything: it returns a new reference
    // to an object already loaded, or NULL.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD) };
    if handle.is_null() {
        return None;
    }
    let release = (|| {
        let version = own_symbol(handle, path, c"plugin_version")?;
        let kind = own_symbol(handle, path, c"plugin_type")?;
        // SAFETY: a Slurm plugin's plugin_type is a NUL-terminated string
        // and its plugin_version a uint32_t (src/common/plugin.h); the
        // object stays loaded while we hold the handle.
        let (kind, number) = unsafe {
            (
                CStr::from_ptr(kind as *const c_char).to_string_lossy(),
                *(version as *const u32),
            )
        };
        (kind != "spank" && !kind.ends_with("/hetpolicy")).then_some(Release(number))
    })();
    // SAFETY: drops the reference the dlopen above took.
    unsafe { libc::dlclose(handle) };
    release
}

/// `name` as defined by the object at `path` itself (dlsym on a handle
/// also searches the object's dependencies).
fn own_symbol(handle: *mut c_void, path: &CStr, name: &CStr) -> Option<*mut c_void> {
    // SAFETY: a handle from dlopen and a NUL-terminated name.
    let found = unsafe { libc::dlsym(handle, name.as_ptr()) };
    if found.is_null() {
        return None;
    }
    // SAFETY: Dl_info is plain data that dladdr fills in; all-zero is valid.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the address and writes `info`.
    if unsafe { libc::dladdr(found, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is the NUL-terminated path of a loaded object.
    (unsafe { CStr::from_ptr(info.dli_fname) } == path).then_some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_print_as_slurm_does() {
        assert_eq!(Release(0x16_05_08).to_string(), "22.05.8");
        assert_eq!(Release(0x18_0b_05).to_string(), "24.11.5");
    }

    #[test]
    fn a_process_without_slurm_plugins_has_no_running_release() {
        // The test binary loads libc and friends, none of them a plugin.
        assert!(running().is_none());
        assert!(matches!(check(), Check::Unknown));
    }
}
