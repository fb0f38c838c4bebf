//! The current policy, shared by every caller and reloaded when its file
//! changes.
//!
//! The compiled policy sits behind an `Arc` that is swapped whole, so a
//! caller that holds it sees one version from start to end. At most every
//! [`CHECK_INTERVAL`] a caller looks at the file's identity (inode, size,
//! modification and change times); when it changed, the file is loaded
//! again. A file that fails to load keeps the last good policy and is
//! reported once per change.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::policy::{LoadError, Policy};

/// How often the policy file is looked at for changes.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(250);

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
        let meta = std::fs::metadata(path).ok()?;
        Some(FileStamp {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        })
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
    current: RwLock<Option<Arc<Policy>>>,
    watch: Mutex<Watch>,
}

#[derive(Debug)]
struct Watch {
    /// The version last looked at (loaded or refused).
    stamp: Option<FileStamp>,
    next_check: Instant,
}

impl PolicyStore {
    /// A store for the file at `path`, loaded once now.
    pub fn open(path: PathBuf) -> (PolicyStore, Reload) {
        let store = PolicyStore {
            path,
            current: RwLock::new(None),
            watch: Mutex::new(Watch {
                stamp: None,
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

    /// The policy in force, if any, without looking at the file.
    pub fn current(&self) -> Option<Arc<Policy>> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Looks at the file if [`CHECK_INTERVAL`] has passed, reloading it when
    /// it changed. Only one caller checks at a time; the others go on with
    /// the policy in force.
    pub fn refresh(&self) -> Reload {
        let Ok(mut watch) = self.watch.try_lock() else {
            return Reload::Unchanged;
        };
        let now = Instant::now();
        if now < watch.next_check {
            return Reload::Unchanged;
        }
        watch.next_check = now + CHECK_INTERVAL;
        self.reload_if_changed(&mut watch)
    }

    /// Looks at the file now (start-up, `scontrol reconfigure`).
    pub fn reload_now(&self) -> Reload {
        let mut watch = self
            .watch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        watch.next_check = Instant::now() + CHECK_INTERVAL;
        self.reload_if_changed(&mut watch)
    }

    fn reload_if_changed(&self, watch: &mut Watch) -> Reload {
        let stamp = FileStamp::of(&self.path);
        if stamp.is_some() && stamp == watch.stamp {
            return Reload::Unchanged;
        }
        let first_look = watch.stamp.is_none();
        watch.stamp = stamp;
        match Policy::load(&self.path) {
            Ok(policy) => {
                *self
                    .current
                    .write()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(policy));
                Reload::Loaded
            }
            // A missing file is reported at start-up and when it goes away,
            // not at every check.
            Err(_) if stamp.is_none() && !first_look && self.current().is_none() => {
                Reload::Unchanged
            }
            Err(error) => Reload::Failed(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const GOOD_A: &str = "qos:\n  normal: {max_gres: {gpu: 1}}\n";
    const GOOD_B: &str = "qos:\n  normal: {max_gres: {gpu: 2}}\n";
    const BROKEN: &str = "qos:\n  normal: {max_gpus: 1}\n";

    fn temp_policy(text: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "hetpolicy-store-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("hetpolicy.yaml");
        fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn max_gpus(store: &PolicyStore) -> u64 {
        store.current().unwrap().qos["normal"].max_gres[0].1
    }

    #[test]
    fn reloads_changes_and_keeps_last_good() {
        let (dir, path) = temp_policy(GOOD_A);
        let (store, first) = PolicyStore::open(path.clone());
        assert!(matches!(first, Reload::Loaded));
        assert_eq!(max_gpus(&store), 1);
        assert!(matches!(store.reload_now(), Reload::Unchanged));

        fs::write(&path, BROKEN).unwrap();
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
        fs::write(&renamed, GOOD_B).unwrap();
        fs::rename(&renamed, &path).unwrap();
        assert!(matches!(store.reload_now(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_file_means_no_policy() {
        let (dir, path) = temp_policy(GOOD_A);
        fs::remove_file(&path).unwrap();
        let (store, first) = PolicyStore::open(path);
        assert!(matches!(first, Reload::Failed(_)));
        assert!(store.current().is_none());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn refresh_waits_for_the_interval() {
        let (dir, path) = temp_policy(GOOD_A);
        let (store, _) = PolicyStore::open(path.clone());
        fs::write(&path, GOOD_B).unwrap();
        assert!(matches!(store.refresh(), Reload::Unchanged));
        std::thread::sleep(CHECK_INTERVAL + Duration::from_millis(20));
        assert!(matches!(store.refresh(), Reload::Loaded));
        assert_eq!(max_gpus(&store), 2);
        fs::remove_dir_all(dir).unwrap();
    }
}
