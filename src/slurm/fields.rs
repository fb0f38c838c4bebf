//! Safe readers for C fields: NULL strings, non-UTF-8 bytes and Slurm's
//! NO_VAL/INFINITE sentinels all become `None` or a plain value.

use std::borrow::Cow;
use std::ffi::{c_char, CStr};

use super::bindings::{
    HETPOLICY_INFINITE as INFINITE, HETPOLICY_INFINITE16 as INFINITE16,
    HETPOLICY_INFINITE64_INVERTED, HETPOLICY_MEM_PER_CPU_INVERTED, HETPOLICY_NO_VAL as NO_VAL,
    HETPOLICY_NO_VAL16 as NO_VAL16, HETPOLICY_NO_VAL64_INVERTED,
};

/// Slurm's NO_VAL64 ("not set" for 64-bit fields).
pub const NO_VAL64: u64 = !HETPOLICY_NO_VAL64_INVERTED;
/// Slurm's INFINITE64.
pub const INFINITE64: u64 = !HETPOLICY_INFINITE64_INVERTED;
/// The flag bit of `pn_min_memory` that means `--mem-per-cpu`.
pub const MEM_PER_CPU: u64 = !HETPOLICY_MEM_PER_CPU_INVERTED;

/// A C string as text: `None` for NULL, lossy for non-UTF-8 bytes.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub unsafe fn text<'a>(ptr: *const c_char) -> Option<Cow<'a, str>> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees a valid NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    Some(bytes.to_string_lossy())
}

/// A 32-bit count, `None` for NO_VAL, INFINITE and 0 (unset).
pub fn count32(value: u32) -> Option<u32> {
    (value != NO_VAL && value != INFINITE && value != 0).then_some(value)
}

/// A 16-bit count, `None` for NO_VAL16, INFINITE16 and 0 (unset).
pub fn count16(value: u16) -> Option<u32> {
    (value != NO_VAL16 && value != INFINITE16 && value != 0).then_some(u32::from(value))
}

/// A 64-bit value, `None` for NO_VAL64 and INFINITE64.
pub fn value64(value: u64) -> Option<u64> {
    (value != NO_VAL64 && value != INFINITE64).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverted_constants_match_slurm_h() {
        assert_eq!(NO_VAL64, 0xffff_ffff_ffff_fffe);
        assert_eq!(INFINITE64, u64::MAX);
        assert_eq!(MEM_PER_CPU, 1 << 63);
    }

    #[test]
    fn sentinels_are_none() {
        assert_eq!(count32(NO_VAL), None);
        assert_eq!(count32(INFINITE), None);
        assert_eq!(count32(0), None);
        assert_eq!(count32(3), Some(3));
        assert_eq!(count16(NO_VAL16), None);
        assert_eq!(count16(INFINITE16), None);
        assert_eq!(count16(4), Some(4));
        assert_eq!(value64(NO_VAL64), None);
        assert_eq!(value64(INFINITE64), None);
        assert_eq!(value64(7), Some(7));
    }

    #[test]
    fn strings_null_and_non_utf8() {
        // SAFETY: NULL and literal C strings.
        unsafe {
            assert_eq!(text(std::ptr::null()), None);
            assert_eq!(text(c"gpu".as_ptr()).as_deref(), Some("gpu"));
            let bytes = b"cp\xffu\0";
            assert_eq!(text(bytes.as_ptr().cast()).as_deref(), Some("cp\u{fffd}u"));
        }
    }
}
