//! The current policy, shared by every caller and reloaded when its file
//! changes.
//!
//! The compiled policy sits behind an `Arc` that is swapped whole, so a
//! caller that holds it sees one version from start to end. At most every
//! [`CHECK_INTERVAL`] a caller looks at the file's identity (inode, size,
//! modification and change times); when it changed, the file is loaded
//! again. A file that fails to load keeps the last good policy and is
//! reported once per change.
//!
//! Before a file is read it must be trusted ([`crate::trust`]): owned by
//! root or an allowed owner (SlurmUser), with no group- or other-writable
//! file or directory above it. A refused file is reported once per reason
//! and looked at again at every check, so fixing a directory's mode is
//! enough to have it loaded.
//!
//! A file written in place (truncated, then written) can be seen half
//! written. The store reads a changed file only once its change time is
//! [`SETTLE`] old ([`EMPTY_SETTLE`] for an empty file: the truncation is
//! done, the write may be late on a loaded machine), and throws a read
//! away when the file changed while it was read; the next check tries
//! again. Renaming a complete file over the
//! policy (what editors and `install` do) is always safe.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, TryLockError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use crate::policy::{LoadError, OnError, Policy, PolicyError};
use crate::trust::{self, Owners};

/// How often the policy file is looked at for changes.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// How long a changed file must stay unchanged before it is read.
pub const SETTLE: Duration = Duration::from_millis(100);

/// How long an empty file must stay empty before it is read (and reported
/// as empty): `open(O_TRUNC)` and the `write` that follows are two steps,
/// and a busy controller host can put more than [`SETTLE`] between them.
pub const EMPTY_SETTLE: Duration = Duration::from_secs(2);

/// The largest policy file read (a policy is a few kilobytes).
pub const MAX_POLICY_BYTES: u64 = 4 << 20;

/// What identifies one version of the file on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        std::fs::metadata(path)
            .ok()
            .map(|meta| FileStamp::from(&meta))
    }

    fn from(meta: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// How long until the last change is [`SETTLE`] old ([`EMPTY_SETTLE`]
    /// for an empty file; a writer may still be at work until then), or
    /// `None` when it already is. A change time in the future (the clock was
    /// set back) counts as settled.
    fn settling(&self) -> Option<Duration> {
        let settle = if self.size == 0 { EMPTY_SETTLE } else { SETTLE };
        let (secs, nanos) = self.changed;
        let (Ok(secs), Ok(nanos)) = (u64::try_from(secs), u32::try_from(nanos)) else {
            return None;
        };
        let changed = UNIX_EPOCH + Duration::new(secs, nanos.min(999_999_999));
        let age = SystemTime::now().duration_since(changed).ok()?;
        settle.checked_sub(age).filter(|left| !left.is_zero())
    }
}

/// What a reload did, for the caller to log.
#[derive(Debug)]
pub enum Reload {
    /// The file is as it was.
    Unchanged,
    /// A new version is in force.
    Loaded,
    /// The file changed but cannot be used: the previous policy (if any)
    /// stays in force.
    Failed(LoadError),
}

/// The shared, reloadable policy.
#[derive(Debug)]
pub struct PolicyStore {
    path: PathBuf,
    owners: Owners,
    current: RwLock<Option<Arc<Policy>>>,
    /// `on_error` while no valid policy is loaded: read from the top level
    /// of a trusted file that fails to load for another reason.
    fallback: RwLock<OnError>,
    watch: Mutex<Watch>,
}

#[derive(Debug)]
struct Watch {
    /// Whether the file was looked at yet.
    looked: bool,
    /// The version last looked at (loaded or refused); `None` when the file
    /// was missing.
    stamp: Option<FileStamp>,
    /// The last trust refusal, reported once; while set, every check looks
    /// again.
    untrusted: Option<String>,
    next_check: Instant,
}

/// Why one read of the file gave no text.
enum ReadProblem {
    /// Missing, unreadable, too big or not UTF-8.
    Unusable(String),
    /// Refused by the trust rules.
    Untrusted(trust::Untrusted),
    /// Being written: try again at the next check.
    InFlux,
}

impl PolicyStore {
    /// A store for the file at `path` that trusts root only, loaded once
    /// now.
    pub fn open(path: PathBuf) -> (PolicyStore, Reload) {
        PolicyStore::open_trusting(path, Owners::default())
    }

    /// A store for the file at `path` that `owners` may own (root and
    /// SlurmUser), loaded once now.
    pub fn open_trusting(path: PathBuf, owners: Owners) -> (PolicyStore, Reload) {
        let store = PolicyStore {
            path,
            owners,
            current: RwLock::new(None),
            fallback: RwLock::new(OnError::Reject),
            watch: Mutex::new(Watch {
                looked: false,
                stamp: None,
                untrusted: None,
                next_check: Instant::now(),
            }),
        };
        let outcome = store.reload_now();
        (store, outcome)
    }

    /// The policy file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The users who may own the file and the directories above it.
    pub fn owners(&self) -> &Owners {
        &self.owners
    }

    /// The policy in force, if any, without looking at the file.
    pub fn current(&self) -> Option<Arc<Policy>> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// What happens to a job that cannot be judged: the policy in force's
    /// `on_error`; without one, the `on_error` at the top level of the
    /// current file if it is trusted and that key reads (the rest of the
    /// file may be broken), else [`OnError::Reject`].
    pub fn on_error(&self) -> OnError {
        match self.current() {
            Some(policy) => policy.on_error(),
            None => *self
                .fallback
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Looks at the file if [`CHECK_INTERVAL`] has passed, reloading it when
    /// it changed. Only one caller checks at a time; the others go on with
    /// the policy in force.
    pub fn refresh(&self) -> Reload {
        let mut watch = match self.watch.try_lock() {
            Ok(watch) => watch,
            // A panic during an earlier check must not stop reloads.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return Reload::Unchanged,
        };
        let now = Instant::now();
        if now < watch.next_check {
            return Reload::Unchanged;
        }
        watch.next_check = now + CHECK_INTERVAL;
        self.reload_if_changed(&mut watch, false)
    }

    /// Looks at the file now (start-up, `scontrol reconfigure`), waiting
    /// for a file that is being written to settle.
    pub fn reload_now(&self) -> Reload {
        let mut watch = self.lock_watch();
        watch.next_check = Instant::now() + CHECK_INTERVAL;
        self.reload_if_changed(&mut watch, true)
    }

    fn lock_watch(&self) -> MutexGuard<'_, Watch> {
        self.watch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn reload_if_changed(&self, watch: &mut Watch, wait: bool) -> Reload {
        let mut stamp = FileStamp::of(&self.path);
        if watch.untrusted.is_none() && watch.looked && stamp == watch.stamp {
            return Reload::Unchanged;
        }
        // A file just written: wait (start-up) or look again as soon as it
        // has settled.
        for _ in 0..40 {
            match stamp.and_then(|s| s.settling()) {
                Some(left) if wait => {
                    std::thread::sleep(left);
                    stamp = FileStamp::of(&self.path);
                }
                Some(left) => {
                    watch.next_check = watch.next_check.min(Instant::now() + left);
                    return Reload::Unchanged;
                }
                None => break,
            }
        }
        let first_look = !watch.looked;
        watch.looked = true;
        match self.read() {
            Err(ReadProblem::InFlux) => {
                // Not recorded: the next check reads it again.
                watch.looked = !first_look;
                Reload::Unchanged
            }
            Err(ReadProblem::Untrusted(untrusted)) => {
                self.set_fallback(OnError::Reject);
                watch.stamp = stamp;
                // The error names the file already.
                let message = if untrusted.culprit == self.path {
                    format!("refusing the policy file: {}", untrusted.reason)
                } else {
                    untrusted.to_string()
                };
                if watch.untrusted.as_deref() == Some(message.as_str()) {
                    return Reload::Unchanged;
                }
                watch.untrusted = Some(message.clone());
                Reload::Failed(self.error(message, None))
            }
            Err(ReadProblem::Unusable(message)) => {
                self.set_fallback(OnError::Reject);
                let was_missing = watch.stamp.is_none() && watch.untrusted.is_none();
                watch.untrusted = None;
                watch.stamp = stamp;
                // A missing file is reported at start-up and when it goes
                // away, not at every check.
                if stamp.is_none() && was_missing && !first_look {
                    return Reload::Unchanged;
                }
                Reload::Failed(self.error(message, None))
            }
            Ok((text, read_stamp)) => {
                watch.untrusted = None;
                watch.stamp = Some(read_stamp);
                let source = self.path.display().to_string();
                match Policy::from_yaml(&text, &source) {
                    Ok(policy) => {
                        *self
                            .current
                            .write()
                            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                            Some(Arc::new(policy));
                        Reload::Loaded
                    }
                    Err(error) => {
                        self.set_fallback(top_level_on_error(&text).unwrap_or_default());
                        Reload::Failed(error)
                    }
                }
            }
        }
    }

    fn set_fallback(&self, on_error: OnError) {
        *self
            .fallback
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = on_error;
    }

    fn error(&self, message: String, position: Option<(u64, u64)>) -> LoadError {
        LoadError {
            source: self.path.display().to_string(),
            errors: vec![PolicyError { position, message }],
        }
    }

    /// Reads the file if it is trusted and complete: checks the directories
    /// above it, opens it without following it into a FIFO's wait, checks
    /// the opened file itself, reads it, and makes sure it did not change
    /// meanwhile.
    fn read(&self) -> Result<(String, FileStamp), ReadProblem> {
        let path = &self.path;
        let before = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(err) => {
                return Err(ReadProblem::Unusable(format!(
                    "cannot read the policy file: {err}"
                )))
            }
        };
        trust::check_file(path, &before, &self.owners).map_err(ReadProblem::Untrusted)?;
        trust::check_directories(path, &self.owners).map_err(ReadProblem::Untrusted)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|err| ReadProblem::Unusable(format!("cannot read the policy file: {err}")))?;
        let opened = file
            .metadata()
            .map_err(|err| ReadProblem::Unusable(format!("cannot read the policy file: {err}")))?;
        // Replaced between the check and the open: check the new one later.
        if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
            return Err(ReadProblem::InFlux);
        }
        trust::check_file(path, &opened, &self.owners).map_err(ReadProblem::Untrusted)?;
        if opened.size() > MAX_POLICY_BYTES {
            return Err(ReadProblem::Unusable(format!(
                "the policy file is {} bytes, more than the {} bytes a policy may have",
                opened.size(),
                MAX_POLICY_BYTES
            )));
        }
        let bytes = read_limited(&mut file)?;
        let after = file
            .metadata()
            .map_err(|err| ReadProblem::Unusable(format!("cannot read the policy file: {err}")))?;
        let stamp = FileStamp::from(&opened);
        if FileStamp::from(&after) != stamp || bytes.len() as u64 != opened.size() {
            return Err(ReadProblem::InFlux);
        }
        let text = String::from_utf8(bytes).map_err(|err| {
            ReadProblem::Unusable(format!("the policy file is not UTF-8 text: {err}"))
        })?;
        Ok((text, stamp))
    }
}

fn read_limited(file: &mut File) -> Result<Vec<u8>, ReadProblem> {
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| ReadProblem::Unusable(format!("cannot read the policy file: {err}")))?;
    Ok(bytes)
}

/// `on_error` from the top level of a file that does not load as a whole
/// (an unknown key or a dangling name elsewhere), if its YAML reads.
fn top_level_on_error(text: &str) -> Option<OnError> {
    #[derive(Deserialize)]
    struct TopLevel {
        #[serde(default)]
        on_error: Option<OnError>,
    }
    serde_saphyr::from_str::<TopLevel>(text).ok()?.on_error
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    const GOOD_A: &str = "qos:\n  normal: {max_gres: {gpu: 1}}\n";
    const GOOD_B: &str = "qos:\n  normal: {max_gres: {gpu: 2}}\n";
    const BROKEN: &str = "qos:\n  normal: {max_gpus: 1}\n";

    /// A scratch directory under the crate's target directory (trusted
    /// ancestors, unlike the world-writable temp directory), and the policy
    /// file in it, written `SETTLE` ago.
    fn temp_policy(name: &str, text: &str) -> (PathBuf, PathBuf) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("store-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.join("hetpolicy.yaml");
        write(&path, text);
        (dir, path)
    }

    /// Writes in place and waits until the store would read it.
    fn write(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
        std::thread::sleep(SETTLE + Duration::from_millis(20));
    }

    fn owners() -> Owners {
        Owners::root_and([fs::metadata(env!("CARGO_MANIFEST_DIR")).unwrap().uid()])
    }

    fn open(path: &Path) -> (PolicyStore, Reload) {
        PolicyStore::open_trusting(path.to_owned(), owners())
    }

    fn max_gpus(store: &PolicyStore) -> u64 {
        store.current().unwrap().qos["normal"].max_gres[0].1
    }

    #[test]
    fn reloads_changes_and_keeps_last_good() {
        let (dir, path) = temp_policy("reload", GOOD_A);
        let (store, first) = open(&path);
        assert!(matches!(first, Reload::Loaded), "{first:?}");
        assert_eq!(max_gpus(&store), 1);
        assert!(matches!(store.reload_now(), Reload::Unchanged));

        write(&path, BROKEN);
        match store.reload_now() {
            Reload::Failed(error) => {
                let text = error.to_string();
                assert!(text.contains("hetpolicy.yaml:2:"), "{text}");
                assert!(text.contains("max_gpus"), "{text}");
            }
            other => panic!("expected a failed reload, got {other:?}"),
        }
        assert_eq!(max_gpus(&store), 1, "the last good policy stays");
        assert!(
            matches!(store.reload_now(), Reload::Unchanged),
            "reported once"
        );

        let renamed = dir.join("new.yaml");
        write(&renamed, GOOD_B);
        fs::rename(&renamed, &path).unwrap();
        assert!(matches!(store.reload_now(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_file_means_no_policy_and_is_reported_once() {
        let (dir, path) = temp_policy("missing", GOOD_A);
        fs::remove_file(&path).unwrap();
        let (store, first) = open(&path);
        assert!(matches!(first, Reload::Failed(_)));
        assert!(store.current().is_none());
        assert!(matches!(store.reload_now(), Reload::Unchanged));

        write(&path, GOOD_A);
        assert!(matches!(store.reload_now(), Reload::Loaded));
        fs::remove_file(&path).unwrap();
        assert!(matches!(store.reload_now(), Reload::Failed(_)));
        assert!(
            matches!(store.reload_now(), Reload::Unchanged),
            "a file that went away is reported once"
        );
        assert_eq!(max_gpus(&store), 1, "the last good policy stays");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refresh_waits_for_the_interval() {
        let (dir, path) = temp_policy("interval", GOOD_A);
        let (store, _) = open(&path);
        write(&path, GOOD_B);
        assert!(matches!(store.refresh(), Reload::Unchanged));
        std::thread::sleep(CHECK_INTERVAL + Duration::from_millis(20));
        assert!(matches!(store.refresh(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_fresh_in_place_write_is_read_once_it_settled() {
        let (dir, path) = temp_policy("settle", GOOD_A);
        let (store, _) = open(&path);
        std::thread::sleep(CHECK_INTERVAL);
        // A half-written file (a truncated write in progress).
        fs::write(&path, "qos:\n  normal: {max_gres: {gp").unwrap();
        assert!(
            matches!(store.refresh(), Reload::Unchanged),
            "too fresh to be read"
        );
        fs::write(&path, GOOD_B).unwrap();
        std::thread::sleep(CHECK_INTERVAL.max(SETTLE) + Duration::from_millis(20));
        assert!(matches!(store.refresh(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_empty_file_waits_longer_for_its_write() {
        let (dir, path) = temp_policy("empty", GOOD_A);
        let (store, _) = open(&path);
        // Truncated; the write comes late (a loaded host).
        fs::write(&path, "").unwrap();
        std::thread::sleep(CHECK_INTERVAL.max(SETTLE) + Duration::from_millis(100));
        assert!(
            matches!(store.refresh(), Reload::Unchanged),
            "an empty file this fresh is a write in progress"
        );
        assert_eq!(max_gpus(&store), 1);
        fs::write(&path, GOOD_B).unwrap();
        std::thread::sleep(CHECK_INTERVAL.max(SETTLE) + Duration::from_millis(20));
        assert!(matches!(store.refresh(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        // Left empty: reported once it stayed empty EMPTY_SETTLE.
        fs::write(&path, "").unwrap();
        std::thread::sleep(EMPTY_SETTLE + CHECK_INTERVAL);
        match store.refresh() {
            Reload::Failed(error) => assert!(error.to_string().contains("empty"), "{error}"),
            other => panic!("an empty file must be reported: {other:?}"),
        }
        assert_eq!(max_gpus(&store), 2, "the last good policy stays");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn untrusted_files_are_refused_and_rechecked() {
        let (dir, path) = temp_policy("trust", GOOD_A);
        let (store, _) = open(&path);
        write(&path, GOOD_B);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        std::thread::sleep(SETTLE + Duration::from_millis(20));
        match store.reload_now() {
            Reload::Failed(error) => {
                let text = error.to_string();
                assert!(text.contains("refusing the policy file"), "{text}");
                assert!(text.contains("writable by group and others"), "{text}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(max_gpus(&store), 1, "the last good policy stays");
        assert!(matches!(store.reload_now(), Reload::Unchanged), "once");

        // A writable directory above it, with the file itself fixed.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        std::thread::sleep(SETTLE + Duration::from_millis(20));
        match store.reload_now() {
            Reload::Failed(error) => {
                assert!(
                    error.to_string().contains("directory is writable"),
                    "{error}"
                )
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Fixing the directory alone (the file is unchanged) is enough.
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(store.reload_now(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn on_error_comes_from_the_policy_or_a_broken_files_top_level() {
        let (dir, path) = temp_policy("on-error", &format!("on_error: accept\n{BROKEN}"));
        let (store, first) = open(&path);
        assert!(matches!(first, Reload::Failed(_)));
        assert!(store.current().is_none());
        assert_eq!(store.on_error(), OnError::Accept, "read from the top level");

        // Unreadable YAML: fail closed.
        write(&path, "on_error: accept\nqos: [\n");
        assert!(matches!(store.reload_now(), Reload::Failed(_)));
        assert_eq!(store.on_error(), OnError::Reject);

        // A world-writable file is never believed.
        write(&path, &format!("on_error: accept\n{BROKEN}"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(matches!(store.reload_now(), Reload::Failed(_)));
        assert_eq!(store.on_error(), OnError::Reject);

        write(&path, &format!("on_error: accept\n{GOOD_A}"));
        assert!(matches!(store.reload_now(), Reload::Loaded));
        assert_eq!(store.on_error(), OnError::Accept);
        write(&path, GOOD_A);
        assert!(matches!(store.reload_now(), Reload::Loaded));
        assert_eq!(store.on_error(), OnError::Reject, "the default");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn special_and_huge_files_are_refused_without_blocking() {
        let (dir, path) = temp_policy("special", GOOD_A);
        fs::remove_file(&path).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let (store, first) = open(&path);
        match first {
            Reload::Failed(error) => assert!(error.to_string().contains("named pipe"), "{error}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        fs::remove_file(&path).unwrap();
        let big = format!("# {}\n{GOOD_A}", "x".repeat(MAX_POLICY_BYTES as usize));
        write(&path, &big);
        match store.reload_now() {
            Reload::Failed(error) => assert!(error.to_string().contains("bytes"), "{error}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(store.current().is_none());
        fs::remove_dir_all(dir).unwrap();
    }
}
