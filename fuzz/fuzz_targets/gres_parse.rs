//! Fuzz target: Slurm's TRES/GRES strings (`gres::parse`), the text users
//! control through --gres, --gpus and friends.
//!
//! Invariants checked besides "never panics": every request has a
//! non-empty name without separators, a request's rendering parses back to
//! itself (when its name and type are short enough to be shown whole), and
//! errors name the entry they came from, as messages show it (cut and
//! escaped, see hetpolicy_core::shown).
#![no_main]

use hetpolicy_core::gres;
use hetpolicy_core::shown::{shown, SHOWN_MAX_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for result in gres::parse(&text) {
        match result {
            Ok(request) => {
                assert!(!request.name.is_empty());
                assert!(!request.name.contains([',', ';', ':', '=']));
                let whole = request.name.len() <= SHOWN_MAX_BYTES
                    && request.gres_type.is_none_or(|t| t.len() <= SHOWN_MAX_BYTES);
                if !whole {
                    continue;
                }
                let rendered = format!("gres:{request}");
                let again: Vec<_> = gres::parse(&rendered).collect();
                assert_eq!(again.len(), 1, "{rendered:?}");
                let again = again[0].as_ref().expect("a rendering parses");
                assert_eq!(again.name, request.name, "{rendered:?}");
                assert_eq!(again.count, request.count, "{rendered:?}");
            }
            Err(error) => {
                assert!(
                    text.split([',', ';'])
                        .any(|entry| shown(entry.trim()).to_string() == error.entry),
                    "{error}"
                );
                let _ = error.to_string();
            }
        }
    }
});
