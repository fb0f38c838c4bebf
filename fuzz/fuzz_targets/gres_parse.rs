//! Fuzz target: Slurm's TRES/GRES strings (`gres::parse`), the text users
//! control through --gres, --gpus and friends.
//!
//! Invariants checked besides "never panics": every request has a
//! non-empty name without separators, a request's rendering parses back to
//! itself, and errors name the entry they came from.
#![no_main]

use hetpolicy::gres;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for result in gres::parse(&text) {
        match result {
            Ok(request) => {
                assert!(!request.name.is_empty());
                assert!(!request.name.contains([',', ';', ':', '=']));
                let rendered = format!("gres:{request}");
                let again: Vec<_> = gres::parse(&rendered).collect();
                assert_eq!(again.len(), 1, "{rendered:?}");
                let again = again[0].as_ref().expect("a rendering parses");
                assert_eq!(again.name, request.name, "{rendered:?}");
                assert_eq!(again.count, request.count, "{rendered:?}");
            }
            Err(error) => {
                assert!(text.contains(error.entry.as_str()), "{error}");
                let _ = error.to_string();
            }
        }
    }
});
