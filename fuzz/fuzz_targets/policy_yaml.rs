//! Fuzz target: the policy loader (`Policy::from_yaml`), from YAML syntax
//! through validation and compilation.
//!
//! Besides "never panics": a refused file reports at least one problem,
//! with a 1-based position when it has one, and a loaded policy answers
//! its accessors.
#![no_main]

use hetpolicy_core::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Policy::from_yaml(text, "fuzz.yaml") {
        Ok(policy) => {
            let _ = policy.partition_names();
            let _ = policy.qos_names();
            let _ = policy.accelerator_names();
            let _ = policy.on_error();
        }
        Err(error) => {
            assert!(!error.errors.is_empty());
            for problem in &error.errors {
                if let Some((line, column)) = problem.position {
                    assert!(line >= 1 && column >= 1, "{error}");
                }
                assert!(!problem.message.is_empty());
            }
            let _ = error.to_string();
        }
    }
});
