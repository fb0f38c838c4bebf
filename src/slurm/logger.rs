//! A `log` backend that writes into the host daemon's own log through
//! slurm_error/slurm_info/slurm_verbose/slurm_debug, each line prefixed
//! with the plugin type. Outside a Slurm process it writes to stderr.

use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::api::{c_string, slurm};

struct SlurmLogger {
    prefix: &'static str,
}

static LOGGER: OnceLock<SlurmLogger> = OnceLock::new();

/// Installs the logger once per process; later calls are no-ops.
pub(crate) fn install(prefix: &'static str) {
    let logger = LOGGER.get_or_init(|| SlurmLogger { prefix });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(LevelFilter::Debug);
    }
}

impl Log for SlurmLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Debug
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = match record.level() {
            Level::Warn => format!("{}: warning: {}", self.prefix, record.args()),
            _ => format!("{}: {}", self.prefix, record.args()),
        };
        let Some(api) = slurm() else {
            eprintln!("{line}");
            return;
        };
        let function = match record.level() {
            Level::Error => api.error,
            Level::Warn | Level::Info => api.info,
            Level::Debug => api.verbose,
            Level::Trace => api.debug,
        };
        let line = c_string(&line);
        // SAFETY: Slurm's log functions take a printf format; "%s" with one
        // NUL-terminated string argument is always valid.
        unsafe { function(c"%s".as_ptr(), line.as_ptr()) };
    }

    fn flush(&self) {}
}
