//! Fault injection for tests (cargo feature `fault-injection`, never in a
//! normal build): a component or update that names the partition
//! [`PANIC_PARTITION`] makes the judging path panic, so the tests can show
//! that the entry points catch it, refuse the job with a clear message,
//! log it, and let nothing unwind into slurmctld.

/// The partition name that triggers the panic.
pub(crate) const PANIC_PARTITION: &str = "hetpolicy-test-panic";

/// Panics when `partition` (a comma list) names [`PANIC_PARTITION`].
pub(crate) fn check(partition: Option<&str>) {
    if partition.is_some_and(|list| list.split(',').any(|p| p == PANIC_PARTITION)) {
        panic!("fault injection: a component named partition {PANIC_PARTITION}");
    }
}
