//! The decision log (`decision_log`: one JSON line per judged component)
//! and the per-rule counters (`metrics_file`, in the OpenMetrics text
//! format), written by one writer thread so that slurmctld's RPC threads
//! never wait on a disk.
//!
//! # The submission's side (the warm path allocates nothing)
//!
//! [`record`] counts the verdict under its rules (counters interned on a
//! rule's first sight, then found under a read lock by `&str`), takes one
//! of [`LINES`] preallocated buffers of [`LINE_BYTES`] bytes, writes the
//! JSON line into it without growing it, and queues it for the writer. The
//! pool bounds the queue: both are one short, uncontended mutex, and no
//! submission ever wakes the writer (no system call on this side). No free
//! buffer or a line that would not fit: the line is dropped and counted,
//! never waited for.
//!
//! # The writer thread
//!
//! Every [`DRAIN`] (10 ms) it takes every queued line at once and appends
//! them in batches of whole lines, each batch one `write()` on a file
//! opened `O_APPEND`, so lines never tear nor interleave; gives the
//! buffers back; at most every
//! second (and after a failed write) compares the path's device and inode
//! with the open file's and reopens the path when they differ (logrotate
//! moved the file, and created a new one or not), so no line is lost: a
//! line written before the reopen lands in the moved file. Every second,
//! when a count changed, it rewrites the metrics file atomically (a
//! temporary file beside it, then `rename`). It runs code of this shared
//! object, so the object is pinned first (`who::pin_in_memory`); it lives
//! as long as slurmctld (across `scontrol reconfigure`, which calls fini()
//! and init() again), and [`flush`] (from fini()) asks it to write the
//! metrics now.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hetpolicy_core::engine::{Accepted, Component, Memory, Notices, Position, Rejection};
use hetpolicy_core::policy::Policy;

/// Lines that can wait for the writer at once (the queue's bound and the
/// buffer pool's size).
pub(crate) const LINES: usize = 1024;
/// The longest line; fields are cut short (`…`) to fit, and a line that
/// would still not fit is dropped and counted.
pub(crate) const LINE_BYTES: usize = 4096;
/// How often the writer checks for a rotated log and rewrites changed
/// metrics.
const TICK: Duration = Duration::from_secs(1);
/// How often the writer takes the queued lines.
const DRAIN: Duration = Duration::from_millis(10);
/// The most bytes one `write()` of the writer appends (whole lines).
const BATCH_BYTES: usize = 64 * 1024;

/// One judged component, as [`record`] logs and counts it.
pub(crate) struct Judged<'a> {
    /// Who submitted: the job's owner.
    pub(crate) uid: u32,
    /// Their name, when the user database knows them.
    pub(crate) user: Option<&'a str>,
    /// The component the engine judged (its account, job name, request).
    pub(crate) component: &'a Component<'a>,
    /// The verdict.
    pub(crate) verdict: JudgedVerdict<'a>,
}

/// The verdict of a [`Judged`] component.
pub(crate) enum JudgedVerdict<'a> {
    /// Accepted, with its changes, warnings and the rules behind them.
    Accepted(&'a Accepted<'a>, &'a Notices<'a>),
    /// Refused.
    Refused(&'a Rejection),
}

// ----------------------------------------------------------------------
// Counters.

/// What one rule did, since slurmctld started.
#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    changed: AtomicU64,
    warned: AtomicU64,
    refused: AtomicU64,
}

/// Every component judged (the `rule=""` line).
static TOTAL: Counts = Counts {
    accepted: AtomicU64::new(0),
    changed: AtomicU64::new(0),
    warned: AtomicU64::new(0),
    refused: AtomicU64::new(0),
};

/// Per rule path, interned on first sight.
static RULES: LazyLock<RwLock<HashMap<Box<str>, Arc<Counts>>>> =
    LazyLock::new(|| RwLock::new(HashMap::with_capacity(64)));

/// Lines dropped since start: no free buffer, a full queue, a line too
/// long, or no writer.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Bumped by every count: the writer rewrites the metrics when it moved.
static EVENTS: AtomicU64 = AtomicU64::new(0);

/// Adds one to `pick`'s counter of `rule` (nothing for the empty rule:
/// refusals that belong to no rule are counted in the total only).
fn count(rule: &str, pick: fn(&Counts) -> &AtomicU64) {
    if rule.is_empty() {
        return;
    }
    let found = RULES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(rule)
        .map(|counts| pick(counts).fetch_add(1, Ordering::Relaxed))
        .is_some();
    if !found {
        let mut rules = RULES.write().unwrap_or_else(PoisonError::into_inner);
        let counts = rules.entry(rule.into()).or_default();
        pick(counts).fetch_add(1, Ordering::Relaxed);
    }
}

thread_local! {
    /// This thread's buffer for a rule path formatted from a
    /// [`hetpolicy_core::engine::ChangedBy`]: reused, so counting a change
    /// allocates nothing once it is large enough.
    static RULE_TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn count_verdict(judged: &Judged<'_>) {
    match &judged.verdict {
        JudgedVerdict::Refused(rejection) => {
            TOTAL.refused.fetch_add(1, Ordering::Relaxed);
            count(rejection.rule(), |c| &c.refused);
        }
        JudgedVerdict::Accepted(accepted, notices) => {
            TOTAL.accepted.fetch_add(1, Ordering::Relaxed);
            if !accepted.changes.is_empty() {
                TOTAL.changed.fetch_add(1, Ordering::Relaxed);
                let _ = RULE_TEXT.try_with(|text| {
                    let Ok(mut text) = text.try_borrow_mut() else {
                        return;
                    };
                    for rule in notices.changed_by() {
                        text.clear();
                        let _ = write!(text, "{rule}");
                        count(&text, |c| &c.changed);
                    }
                });
            }
            if !accepted.warnings.is_empty() {
                TOTAL.warned.fetch_add(1, Ordering::Relaxed);
                for warning in &accepted.warnings {
                    count(warning.rule(), |c| &c.warned);
                }
            }
        }
    }
    EVENTS.fetch_add(1, Ordering::Relaxed);
}

// ----------------------------------------------------------------------
// Where the log and the metrics go.

/// The files the current policy names.
#[derive(Clone, Default, PartialEq, Eq)]
struct Files {
    log: Option<Box<str>>,
    metrics: Option<Box<str>>,
}

/// The files, with the policy they were read from (kept alive, so its
/// address is never reused by another policy while it is compared).
struct Config {
    files: Files,
    policy: Option<Arc<Policy>>,
    /// Bumped when `files` changes; the writer reopens then.
    generation: u64,
}

static CONFIG: Mutex<Config> = Mutex::new(Config {
    files: Files {
        log: None,
        metrics: None,
    },
    policy: None,
    generation: 0,
});
/// The policy whose files [`CONFIG`] holds: a submission under the same
/// policy takes no lock.
static SEEN: AtomicPtr<Policy> = AtomicPtr::new(std::ptr::null_mut());
/// True while a decision log is named (lines are formatted only then).
static LOG_ON: AtomicBool = AtomicBool::new(false);
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Takes in the files `policy` names, when it is not the policy seen last.
fn configure(policy: &Arc<Policy>) {
    let here = Arc::as_ptr(policy).cast_mut();
    if SEEN.load(Ordering::Acquire) == here {
        return;
    }
    let mut config = CONFIG.lock().unwrap_or_else(PoisonError::into_inner);
    let files = Files {
        log: policy.decision_log().map(Into::into),
        metrics: policy.metrics_file().map(Into::into),
    };
    if files != config.files {
        config.files = files;
        config.generation += 1;
        GENERATION.store(config.generation, Ordering::Release);
        LOG_ON.store(config.files.log.is_some(), Ordering::Release);
        if config.files.log.is_some() || config.files.metrics.is_some() {
            writer();
        }
    }
    config.policy = Some(Arc::clone(policy));
    SEEN.store(here, Ordering::Release);
}

// ----------------------------------------------------------------------
// The queue and the writer.

/// The line buffers: free ones, and full ones waiting for the writer.
/// Both lists are allocated once with room for every buffer.
struct Queue {
    free: Vec<Vec<u8>>,
    full: Vec<Vec<u8>>,
}

struct Writer {
    queue: Mutex<Queue>,
    /// Set by [`flush`]: write the metrics at the next drain.
    flush: AtomicBool,
}

static WRITER: OnceLock<Option<Writer>> = OnceLock::new();

fn lock(writer: &Writer) -> std::sync::MutexGuard<'_, Queue> {
    writer.queue.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer, started on first use (with the pool of line buffers);
/// `None` if its thread could not be started (logged once).
fn writer() -> Option<&'static Writer> {
    WRITER
        .get_or_init(|| {
            if !crate::who::pin_in_memory() {
                log::error!(
                    "decision log: cannot keep the plugin loaded for its writer thread, so no \
                     decision log or metrics file is written"
                );
                return None;
            }
            let spawned = std::thread::Builder::new()
                .name("hetpolicy-log".to_owned())
                .spawn(|| {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(write_forever));
                });
            if let Err(error) = spawned {
                log::error!(
                    "decision log: cannot start its writer thread ({error}), so no decision log \
                     or metrics file is written"
                );
                return None;
            }
            let free = (0..LINES).map(|_| Vec::with_capacity(LINE_BYTES)).collect();
            Some(Writer {
                queue: Mutex::new(Queue {
                    free,
                    full: Vec::with_capacity(LINES),
                }),
                flush: AtomicBool::new(false),
            })
        })
        .as_ref()
}

/// Counts `judged` and, when the policy names a decision log, queues its
/// line. Never waits for the writer.
pub(crate) fn record(policy: &Arc<Policy>, judged: &Judged<'_>) {
    count_verdict(judged);
    configure(policy);
    if !LOG_ON.load(Ordering::Acquire) {
        return;
    }
    let Some(writer) = WRITER.get().and_then(Option::as_ref) else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let Some(mut buffer) = lock(writer).free.pop() else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    buffer.clear();
    let fits = {
        let mut line = Line::new(&mut buffer);
        write_line(&mut line, judged, SystemTime::now()).is_ok() && line.push(b"\n")
    };
    let mut queue = lock(writer);
    if fits {
        // Room for every buffer was allocated: never grows.
        queue.full.push(buffer);
    } else {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        buffer.clear();
        queue.free.push(buffer);
    }
}

/// Asks the writer to write the metrics now (fini()); never waits.
pub(crate) fn flush() {
    if let Some(writer) = WRITER.get().and_then(Option::as_ref) {
        writer.flush.store(true, Ordering::Release);
    }
}

/// The writer thread's loop.
fn write_forever() {
    let mut out = Output::default();
    // The lines taken from the queue, and one batch of them: allocated once.
    let mut taken: Vec<Vec<u8>> = Vec::with_capacity(LINES);
    let mut batch: Vec<u8> = Vec::with_capacity(BATCH_BYTES);
    loop {
        std::thread::sleep(DRAIN);
        let Some(writer) = WRITER.get().and_then(Option::as_ref) else {
            continue;
        };
        out.follow_config();
        std::mem::swap(&mut lock(writer).full, &mut taken);
        for line in &taken {
            if batch.len() + line.len() > BATCH_BYTES {
                out.append(&batch);
                batch.clear();
            }
            batch.extend_from_slice(line);
        }
        if !batch.is_empty() {
            out.append(&batch);
            batch.clear();
        }
        {
            let mut queue = lock(writer);
            for mut line in taken.drain(..) {
                line.clear();
                queue.free.push(line);
            }
        }
        if writer.flush.swap(false, Ordering::AcqRel) {
            out.write_metrics(true);
        }
        if out.last_tick.elapsed() >= TICK {
            out.last_tick = Instant::now();
            out.check_rotation();
            out.write_metrics(false);
            out.report_drops();
        }
    }
}

/// The writer's open log and what it last wrote.
struct Output {
    generation: u64,
    files: Files,
    log: Option<File>,
    last_tick: Instant,
    /// The failure last logged for the log file, so it is logged once.
    failing: bool,
    /// The counts (events, drops) the metrics file last showed.
    metrics_events: Option<(u64, u64)>,
    metrics_failing: bool,
    dropped_reported: u64,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            generation: 0,
            files: Files::default(),
            log: None,
            last_tick: Instant::now(),
            failing: false,
            metrics_events: None,
            metrics_failing: false,
            dropped_reported: 0,
        }
    }
}

impl Output {
    fn follow_config(&mut self) {
        let generation = GENERATION.load(Ordering::Acquire);
        if generation == self.generation {
            return;
        }
        let files = CONFIG
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .files
            .clone();
        self.generation = generation;
        if files.log != self.files.log {
            self.log = None;
            self.failing = false;
        }
        if files.metrics != self.files.metrics {
            self.metrics_events = None;
            self.metrics_failing = false;
        }
        self.files = files;
        self.open();
    }

    fn open(&mut self) {
        let Some(path) = self.files.log.as_deref() else {
            self.log = None;
            return;
        };
        match OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o640)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
        {
            Ok(file) => {
                if self.failing {
                    log::info!("decision log: writing to {path} again");
                }
                self.failing = false;
                self.log = Some(file);
            }
            Err(error) => {
                if !self.failing {
                    log::error!(
                        "decision log: cannot open {path}: {error}; its lines are dropped until \
                         it can be opened (checked every second)"
                    );
                }
                self.failing = true;
                self.log = None;
            }
        }
    }

    /// Reopens the path when it no longer names the open file.
    fn check_rotation(&mut self) {
        let Some(path) = self.files.log.as_deref() else {
            return;
        };
        let moved = match (&self.log, std::fs::metadata(path)) {
            (Some(file), Ok(now)) => file
                .metadata()
                .map(|open| (open.dev(), open.ino()) != (now.dev(), now.ino()))
                .unwrap_or(true),
            _ => true,
        };
        if moved {
            self.open();
        }
    }

    /// Appends `batch`, whole lines, with one `write()`; counts its lines
    /// as dropped when it cannot be written.
    fn append(&mut self, batch: &[u8]) {
        let lines = || batch.iter().filter(|b| **b == b'\n').count() as u64;
        if self.log.is_none() {
            self.check_rotation();
        }
        let written = match &mut self.log {
            Some(file) => file.write_all(batch),
            None => {
                DROPPED.fetch_add(lines(), Ordering::Relaxed);
                return;
            }
        };
        if written.is_err() {
            // The file may have been removed or its disk unmounted: open
            // the path again and retry once.
            self.open();
            let again = match &mut self.log {
                Some(file) => file.write_all(batch),
                None => Err(std::io::ErrorKind::NotFound.into()),
            };
            if let Err(error) = again {
                if !self.failing {
                    log::error!(
                        "decision log: cannot write to {}: {error}; its lines are dropped until \
                         it can be written",
                        self.files.log.as_deref().unwrap_or_default()
                    );
                }
                self.failing = true;
                DROPPED.fetch_add(lines(), Ordering::Relaxed);
            }
        }
    }

    fn report_drops(&mut self) {
        let dropped = DROPPED.load(Ordering::Relaxed);
        if dropped > self.dropped_reported {
            log::info!(
                "decision log: {} lines dropped (queue full, or the file could not be written); \
                 {dropped} since slurmctld started",
                dropped - self.dropped_reported
            );
            self.dropped_reported = dropped;
        }
    }

    /// Rewrites the metrics file when a count moved (or `now`).
    fn write_metrics(&mut self, now: bool) {
        let Some(path) = self.files.metrics.as_deref() else {
            return;
        };
        let events = Some((
            EVENTS.load(Ordering::Relaxed),
            DROPPED.load(Ordering::Relaxed),
        ));
        if !now && events == self.metrics_events {
            return;
        }
        let text = metrics_text();
        let temporary = format!("{path}.tmp.{}", std::process::id());
        let written = std::fs::write(&temporary, text.as_bytes())
            .and_then(|()| std::fs::rename(&temporary, path));
        match written {
            Ok(()) => {
                self.metrics_events = events;
                self.metrics_failing = false;
            }
            Err(error) => {
                let _ = std::fs::remove_file(&temporary);
                if !self.metrics_failing {
                    log::error!(
                        "metrics file: cannot write {path}: {error}; tried again every second"
                    );
                }
                self.metrics_failing = true;
            }
        }
    }
}

/// The counters in the OpenMetrics text format.
fn metrics_text() -> String {
    let mut rules: Vec<(String, [u64; 4])> = RULES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(rule, counts)| (rule.to_string(), read(counts)))
        .collect();
    rules.sort();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# HELP hetpolicy_components Components judged since slurmctld started, by rule and \
         outcome"
    );
    let _ = writeln!(text, "# TYPE hetpolicy_components counter");
    let outcomes = ["accepted", "changed", "warned", "refused"];
    for (i, outcome) in outcomes.iter().enumerate() {
        let _ = writeln!(
            text,
            "hetpolicy_components_total{{rule=\"\",outcome=\"{outcome}\"}} {}",
            read(&TOTAL)[i]
        );
    }
    for (rule, counts) in &rules {
        for (i, outcome) in outcomes.iter().enumerate().skip(1) {
            let _ = writeln!(
                text,
                "hetpolicy_components_total{{rule=\"{}\",outcome=\"{outcome}\"}} {}",
                Label(rule),
                counts[i]
            );
        }
    }
    let _ = writeln!(
        text,
        "# HELP hetpolicy_decision_log_dropped Decision log lines dropped since slurmctld started"
    );
    let _ = writeln!(text, "# TYPE hetpolicy_decision_log_dropped counter");
    let _ = writeln!(
        text,
        "hetpolicy_decision_log_dropped_total {}",
        DROPPED.load(Ordering::Relaxed)
    );
    let _ = writeln!(text, "# EOF");
    text
}

fn read(counts: &Counts) -> [u64; 4] {
    [
        counts.accepted.load(Ordering::Relaxed),
        counts.changed.load(Ordering::Relaxed),
        counts.warned.load(Ordering::Relaxed),
        counts.refused.load(Ordering::Relaxed),
    ]
}

/// A label value, escaped as OpenMetrics wants (`\\`, `\"`, `\n`).
struct Label<'a>(&'a str);

impl fmt::Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------
// One JSON line, written into a buffer that never grows.

/// A line being written into a preallocated buffer: a write that would
/// grow the buffer fails instead (the line is then dropped).
struct Line<'b> {
    buffer: &'b mut Vec<u8>,
}

impl<'b> Line<'b> {
    fn new(buffer: &'b mut Vec<u8>) -> Self {
        Line { buffer }
    }

    /// Appends `bytes` if they fit; false (and nothing written) otherwise.
    fn push(&mut self, bytes: &[u8]) -> bool {
        if self.buffer.capacity() - self.buffer.len() < bytes.len() {
            return false;
        }
        self.buffer.extend_from_slice(bytes);
        true
    }
}

impl fmt::Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.push(s.as_bytes()) {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

/// Writes what it is given as the inside of a JSON string, escaped, up to
/// `left` bytes of input; what is cut off becomes `…`.
struct Escaped<'l, 'b> {
    line: &'l mut Line<'b>,
    left: usize,
    cut: bool,
}

impl fmt::Write for Escaped<'_, '_> {
    /// Copies runs of bytes that need no escaping at once, escapes the
    /// others, and cuts at a character boundary when `left` runs out.
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut {
            return Ok(());
        }
        let mut text = s;
        if text.len() > self.left {
            let mut end = self.left;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text = &text[..end];
            self.cut = true;
        }
        self.left -= text.len();
        let bytes = text.as_bytes();
        let mut run = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            let escaped: &[u8] = match byte {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f | 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    &[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xf)],
                    ]
                }
                _ => continue,
            };
            if !(self.line.push(&bytes[run..i]) && self.line.push(escaped)) {
                return Err(fmt::Error);
            }
            run = i + 1;
        }
        if !self.line.push(&bytes[run..]) {
            return Err(fmt::Error);
        }
        if self.cut {
            self.line.write_str("…")?;
        }
        Ok(())
    }
}

/// The most input bytes of one string field (a job name, a message).
const FIELD_BYTES: usize = 512;

impl Line<'_> {
    /// `"key":` after a comma unless `first`.
    fn key(&mut self, first: bool, key: &str) -> fmt::Result {
        let comma: &[u8] = if first { b"\"" } else { b",\"" };
        if self.push(comma) && self.push(key.as_bytes()) && self.push(b"\":") {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }

    /// A JSON string of `value`'s text.
    fn string(&mut self, value: impl fmt::Display) -> fmt::Result {
        self.write_char('"')?;
        let mut escaped = Escaped {
            line: self,
            left: FIELD_BYTES,
            cut: false,
        };
        write!(escaped, "{value}")?;
        self.write_char('"')
    }

    /// A JSON string of `value`, without going through `fmt`.
    fn text(&mut self, value: &str) -> fmt::Result {
        self.write_char('"')?;
        Escaped {
            line: self,
            left: FIELD_BYTES,
            cut: false,
        }
        .write_str(value)?;
        self.write_char('"')
    }

    /// `"key":"value"` when `value` is given, without going through `fmt`.
    fn optional_text(&mut self, key: &str, value: Option<&str>) -> fmt::Result {
        if let Some(value) = value {
            self.key(false, key)?;
            self.text(value)?;
        }
        Ok(())
    }

    /// `"key":"value"` when `value` is given.
    fn optional(&mut self, key: &str, value: Option<impl fmt::Display>) -> fmt::Result {
        if let Some(value) = value {
            self.key(false, key)?;
            self.string(value)?;
        }
        Ok(())
    }

    /// `"key":N` when `value` is given.
    fn number(&mut self, key: &str, value: Option<u32>) -> fmt::Result {
        if let Some(value) = value {
            self.key(false, key)?;
            write!(self, "{value}")?;
        }
        Ok(())
    }
}

/// `2025-01-31T12:34:56` (UTC) of `seconds` since the epoch.
fn second_text(seconds: u64) -> [u8; 19] {
    let days = i64::try_from(seconds / 86_400).unwrap_or(0);
    let of_day = seconds % 86_400;
    let (year, month, day) = hetpolicy_core::units::Day(days).civil();
    let year = year.clamp(0, 9999);
    let digit = |value: i64, place: i64| b'0' + (value / place % 10) as u8;
    let (h, m, s) = (
        (of_day / 3_600) as i64,
        (of_day / 60 % 60) as i64,
        (of_day % 60) as i64,
    );
    [
        digit(year, 1000),
        digit(year, 100),
        digit(year, 10),
        digit(year, 1),
        b'-',
        digit(month, 10),
        digit(month, 1),
        b'-',
        digit(day, 10),
        digit(day, 1),
        b'T',
        digit(h, 10),
        digit(h, 1),
        b':',
        digit(m, 10),
        digit(m, 1),
        b':',
        digit(s, 10),
        digit(s, 1),
    ]
}

thread_local! {
    /// The second last written, and its `2025-01-31T12:34:56` text: a
    /// second's lines share it, so the date is worked out once a second.
    static SECOND: std::cell::Cell<(u64, [u8; 19])> = const { std::cell::Cell::new((u64::MAX, [0; 19])) };
}

/// Writes the JSON string of `now` as `"2025-01-31T12:34:56.789Z"`.
fn write_time(line: &mut Line<'_>, now: SystemTime) -> fmt::Result {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (cached, mut text) = SECOND.with(std::cell::Cell::get);
    if cached != seconds {
        text = second_text(seconds);
        SECOND.with(|cell| cell.set((seconds, text)));
    }
    let millis = since.subsec_millis();
    let digits = [
        b'.',
        b'0' + (millis / 100) as u8,
        b'0' + (millis / 10 % 10) as u8,
        b'0' + (millis % 10) as u8,
        b'Z',
        b'"',
    ];
    if line.push(b"\"") && line.push(&text) && line.push(&digits) {
        Ok(())
    } else {
        Err(fmt::Error)
    }
}

/// A component's memory request as sbatch's options say it.
struct MemoryShown(Memory);

impl fmt::Display for MemoryShown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Memory::PerNode(mb) => write!(f, "--mem={mb}"),
            Memory::PerCpu(mb) => write!(f, "--mem-per-cpu={mb}"),
        }
    }
}

/// Writes `judged` as one JSON object (no newline).
fn write_line(line: &mut Line<'_>, judged: &Judged<'_>, now: SystemTime) -> fmt::Result {
    let component = judged.component;
    line.write_char('{')?;
    line.key(true, "time")?;
    write_time(line, now)?;
    line.key(false, "job_name")?;
    match component.job_name {
        Some(name) => line.text(name)?,
        None => line.write_str("null")?,
    }
    line.key(false, "uid")?;
    write!(line, "{}", judged.uid)?;
    line.key(false, "user")?;
    match judged.user {
        Some(user) => line.text(user)?,
        None => line.write_str("null")?,
    }
    line.key(false, "account")?;
    match component.account {
        Some(account) => line.text(account)?,
        None => line.write_str("null")?,
    }
    line.key(false, "component")?;
    match component.position {
        Position::Plain => line.write_str("null")?,
        Position::Het(k) => write!(line, "{k}")?,
    }
    match &judged.verdict {
        JudgedVerdict::Refused(rejection) => {
            line.key(false, "verdict")?;
            line.write_str("\"refused\"")?;
            line.key(false, "rule")?;
            line.text(rejection.rule())?;
            line.key(false, "error")?;
            line.text(rejection.code.slurm_error().name)?;
            line.key(false, "message")?;
            line.text(&rejection.message)?;
        }
        JudgedVerdict::Accepted(..) => {
            line.key(false, "verdict")?;
            line.write_str("\"accepted\"")?;
        }
    }
    // The fields the rules read.
    line.key(false, "request")?;
    line.write_char('{')?;
    line.write_str("\"kind\":")?;
    match component.kind {
        Some(hetpolicy_core::engine::JobKind::Batch) => line.write_str("\"batch\"")?,
        Some(hetpolicy_core::engine::JobKind::Interactive) => line.write_str("\"interactive\"")?,
        None => line.write_str("null")?,
    }
    line.optional_text("partition", component.partition)?;
    line.optional_text("qos", component.qos)?;
    line.optional_text("tres_per_job", component.tres_per_job)?;
    line.optional_text("tres_per_node", component.tres_per_node)?;
    line.optional_text("tres_per_socket", component.tres_per_socket)?;
    line.optional_text("tres_per_task", component.tres_per_task)?;
    line.number("nodes", component.nodes)?;
    line.number("max_nodes", component.max_nodes)?;
    line.number("tasks", component.tasks)?;
    line.number("cpus_per_task", component.cpus_per_task)?;
    line.optional("memory", component.memory.map(MemoryShown))?;
    line.optional("time_limit", component.time_limit)?;
    line.write_char('}')?;
    if let JudgedVerdict::Accepted(accepted, notices) = &judged.verdict {
        let changes = &accepted.changes;
        line.key(false, "changes")?;
        line.write_char('{')?;
        line.write_str("\"whole_nodes\":")?;
        line.write_str(if changes.whole_nodes { "true" } else { "false" })?;
        line.optional_text("partition", changes.partition)?;
        line.optional_text("qos", changes.qos)?;
        line.optional("time_limit", changes.time_limit)?;
        line.optional(
            "memory",
            changes
                .memory_per_cpu
                .map(|mb| MemoryShown(Memory::PerCpu(mb))),
        )?;
        line.write_char('}')?;
        line.key(false, "changed_by")?;
        line.write_char('[')?;
        for (i, rule) in notices.changed_by().enumerate() {
            if i > 0 {
                line.write_char(',')?;
            }
            line.string(rule)?;
        }
        line.write_char(']')?;
        line.key(false, "warnings")?;
        line.write_char('[')?;
        for (i, warning) in accepted.warnings.iter().enumerate() {
            if i > 0 {
                line.write_char(',')?;
            }
            line.write_char('{')?;
            line.key(true, "rule")?;
            line.text(warning.rule())?;
            line.key(false, "message")?;
            line.string(warning)?;
            line.write_char('}')?;
        }
        line.write_char(']')?;
    }
    line.write_char('}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(judged: &Judged<'_>, capacity: usize) -> Option<String> {
        let mut buffer = Vec::with_capacity(capacity);
        let fits = write_line(&mut Line::new(&mut buffer), judged, UNIX_EPOCH).is_ok();
        assert!(buffer.capacity() == capacity, "the buffer never grows");
        fits.then(|| String::from_utf8(buffer).expect("UTF-8"))
    }

    #[test]
    fn a_refusal_is_one_json_object_with_user_strings_escaped() {
        let rejection = hetpolicy_core::engine::reject(
            hetpolicy_core::engine::RejectCode::InvalidQos,
            "no \"QOS\" here (policy: partitions.cpu.qos)".to_owned(),
        );
        let component = Component {
            position: Position::Het(1),
            job_name: Some("a\"b\\c\nd\u{1}é"),
            account: Some("chem"),
            partition: Some("cpu"),
            nodes: Some(2),
            ..Component::default()
        };
        let judged = Judged {
            uid: 1001,
            user: Some("bob"),
            component: &component,
            verdict: JudgedVerdict::Refused(&rejection),
        };
        let text = line_of(&judged, LINE_BYTES).expect("fits");
        assert_eq!(
            text,
            "{\"time\":\"1970-01-01T00:00:00.000Z\",\"job_name\":\"a\\\"b\\\\c\\nd\\u0001é\",\
             \"uid\":1001,\"user\":\"bob\",\"account\":\"chem\",\"component\":1,\
             \"verdict\":\"refused\",\"rule\":\"partitions.cpu.qos\",\"error\":\
             \"ESLURM_INVALID_QOS\",\"message\":\"no \\\"QOS\\\" here (policy: \
             partitions.cpu.qos)\",\"request\":{\"kind\":null,\"partition\":\"cpu\",\
             \"nodes\":2}}"
        );
    }

    #[test]
    fn long_fields_are_cut_and_a_line_never_grows_its_buffer() {
        let name = "x".repeat(10_000);
        let component = Component {
            job_name: Some(&name),
            ..Component::default()
        };
        let accepted = Accepted::default();
        let policy =
            Policy::from_yaml("partitions:\n  cpu:\n    default: true\n", "t.yaml").expect("loads");
        let notices = Notices::new(&policy, &component, &accepted);
        let judged = Judged {
            uid: 0,
            user: None,
            component: &component,
            verdict: JudgedVerdict::Accepted(&accepted, &notices),
        };
        let text = line_of(&judged, LINE_BYTES).expect("fits");
        assert!(text.contains(&format!("\"{}…\"", "x".repeat(FIELD_BYTES))));
        assert!(
            line_of(&judged, 100).is_none(),
            "too long: refused, not grown"
        );
    }

    #[test]
    fn dates_are_utc() {
        let time = |at: SystemTime| {
            let mut buffer = Vec::with_capacity(64);
            write_time(&mut Line::new(&mut buffer), at).expect("fits");
            String::from_utf8(buffer).expect("UTF-8")
        };
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(time(t), "\"2023-11-14T22:13:20.123Z\"");
        // The same second again (cached), another millisecond.
        assert_eq!(
            time(t + Duration::from_millis(800)),
            "\"2023-11-14T22:13:20.923Z\""
        );
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(time(leap), "\"2000-02-29T00:00:00.000Z\"");
        assert_eq!(time(UNIX_EPOCH), "\"1970-01-01T00:00:00.000Z\"");
    }

    #[test]
    fn metrics_end_with_eof_and_escape_labels() {
        count("a\"b", |c| &c.refused);
        let text = metrics_text();
        assert!(text.contains("hetpolicy_components_total{rule=\"a\\\"b\",outcome=\"refused\"} 1"));
        assert!(text.starts_with("# HELP hetpolicy_components Components"));
        assert!(text.ends_with("# EOF\n"));
    }
}
