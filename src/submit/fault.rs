//! Fault injection for tests (cargo feature `fault-injection`, never in a
//! normal build): a component or update that names the partition
//! [`PANIC_PARTITION`] makes the judging path panic, so the tests can show
//! that the entry points catch it, refuse the job with a clear message,
//! log it, and let nothing unwind into slurmctld. A policy file that
//! contains [`PANIC_IN_INIT`] (in a comment) makes init() panic.

/// The partition name that triggers the panic.
pub(crate) const PANIC_PARTITION: &str = "hetpolicy-test-panic";

/// Panics when `partition` (a comma list) names [`PANIC_PARTITION`].
pub(crate) fn check(partition: Option<&str>) {
    if partition.is_some_and(|list| list.split(',').any(|p| p == PANIC_PARTITION)) {
        panic!("fault injection: a component named partition {PANIC_PARTITION}");
    }
}

/// The text that, anywhere in the policy file, makes init() panic.
pub(crate) const PANIC_IN_INIT: &str = "hetpolicy-test-panic-in-init";

/// Panics when the policy file at `path` contains [`PANIC_IN_INIT`].
pub(crate) fn check_init(path: &std::path::Path) {
    if std::fs::read_to_string(path).is_ok_and(|text| text.contains(PANIC_IN_INIT)) {
        panic!("fault injection: the policy file asks init to panic");
    }
}
