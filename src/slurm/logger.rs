//! A `log` backend that writes into the host daemon's own log through
//! slurm_error/slurm_info/slurm_verbose/slurm_debug, each line prefixed
//! with the plugin type. Outside a Slurm process it writes to stderr.

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::api::{c_string, slurm, symbol};

/// Slurm's log levels (src/common/log.h, log_level_t).
const LOG_LEVEL_INFO: c_int = 3;
const LOG_LEVEL_VERBOSE: c_int = 4;
const LOG_LEVEL_DEBUG: c_int = 5;

type GetLogLevelFn = unsafe extern "C" fn() -> c_int;

/// Slurm's `get_log_level()`: the highest level any of the host's log
/// destinations writes now (it follows `scontrol setdebug`).
fn host_log_level() -> Option<c_int> {
    static GET: OnceLock<Option<GetLogLevelFn>> = OnceLock::new();
    let get = GET.get_or_init(|| {
        let found = symbol(c"get_log_level")?;
        // SAFETY: libslurm's `int get_log_level(void)` (src/common/log.h).
        Some(unsafe { std::mem::transmute::<*mut c_void, GetLogLevelFn>(found) })
    });
    // SAFETY: get_log_level takes nothing and only reads a global.
    get.map(|get| unsafe { get() })
}

/// True when the host writes Slurm's debug level now (`SlurmctldDebug` or
/// `scontrol setdebug`): a caller checks it before building a debug line
/// on a hot path, which then costs one call when nothing is written.
pub fn writes_debug() -> bool {
    slurm().is_some() && host_log_level().is_none_or(|highest| highest >= LOG_LEVEL_DEBUG)
}

struct SlurmLogger {
    prefix: &'static str,
}

static LOGGER: OnceLock<SlurmLogger> = OnceLock::new();

/// Installs the logger once per process; later calls are no-ops.
pub fn install(prefix: &'static str) {
    let logger = LOGGER.get_or_init(|| SlurmLogger { prefix });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(LevelFilter::Trace);
    }
}

impl Log for SlurmLogger {
    /// Every level maps to one of Slurm's (trace to `debug`): whether a
    /// line is written is the host's decision, checked in [`Log::log`].
    fn enabled(&self, _metadata: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = || match record.level() {
            Level::Warn => format!("{}: warning: {}", self.prefix, record.args()),
            _ => format!("{}: {}", self.prefix, record.args()),
        };
        let Some(api) = slurm() else {
            if record.level() < Level::Trace {
                eprintln!("{}", line());
            }
            return;
        };
        let (function, slurm_level) = match record.level() {
            Level::Error => (api.error, 0),
            Level::Warn | Level::Info => (api.info, LOG_LEVEL_INFO),
            Level::Debug => (api.verbose, LOG_LEVEL_VERBOSE),
            Level::Trace => (api.debug, LOG_LEVEL_DEBUG),
        };
        // Like Slurm's own info()/verbose() macros: a line no destination
        // writes is not even formatted (the accept path logs at debug
        // level, which slurmctld drops at the usual SlurmctldDebug=info).
        if host_log_level().is_some_and(|highest| highest < slurm_level) {
            return;
        }
        let line = c_string(&line());
        // SAFETY: Slurm's log functions take a printf format; "%s" with one
        // NUL-terminated string argument is always valid.
        unsafe { function(c"%s".as_ptr(), line.as_ptr()) };
    }

    fn flush(&self) {}
}
