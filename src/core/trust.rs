//! Trust in the policy file.
//!
//! Whoever can write hetpolicy.yaml, or replace it, decides every job's
//! verdict. A file is trusted only when the file itself and every directory
//! above it are owned by root or another allowed owner (Slurm's SlurmUser)
//! and are not writable by group or others, as OpenSSH's StrictModes and
//! sudo judge their files.
//!
//! Two refinements:
//! - a directory with the sticky bit (like `/tmp`, mode 1777) may be
//!   writable by others: there only an entry's owner may rename or delete
//!   it, and the entry below it is checked in turn;
//! - symbolic links are followed: both the path as written and the path it
//!   resolves to are checked, since whoever can write a directory holding a
//!   link can point the link elsewhere.
//!
//! Pure std: the checks read `stat(2)` results and never change anything.

use std::fmt;
use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Group- or other-writable permission bits.
const GROUP_OTHER_WRITE: u32 = 0o022;
/// The sticky bit (restricted deletion).
const STICKY: u32 = 0o1000;

/// The users who may own the policy file and the directories above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owners {
    uids: Vec<u32>,
}

impl Owners {
    /// root and the given users (typically SlurmUser's uid).
    pub fn root_and(others: impl IntoIterator<Item = u32>) -> Owners {
        let mut uids = vec![0];
        for uid in others {
            if !uids.contains(&uid) {
                uids.push(uid);
            }
        }
        Owners { uids }
    }

    /// True when `uid` may own the file or a directory above it.
    pub fn allows(&self, uid: u32) -> bool {
        self.uids.contains(&uid)
    }

    /// The allowed uids, root first.
    pub fn uids(&self) -> &[u32] {
        &self.uids
    }
}

impl Default for Owners {
    /// root only.
    fn default() -> Owners {
        Owners::root_and([])
    }
}

impl fmt::Display for Owners {
    /// `root (uid 0)` or `root or SlurmUser (uid 0, 64030)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uids: Vec<String> = self.uids.iter().map(u32::to_string).collect();
        if self.uids.len() == 1 {
            write!(f, "root (uid {})", uids[0])
        } else {
            write!(f, "root or SlurmUser (uid {})", uids.join(", "))
        }
    }
}

/// Why the policy file is not trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untrusted {
    /// The file or directory at fault.
    pub culprit: PathBuf,
    /// What is wrong with it and how to fix it.
    pub reason: String,
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refusing the policy file: {}: {}",
            self.culprit.display(),
            self.reason
        )
    }
}

impl std::error::Error for Untrusted {}

/// Checks the policy file at `path` (through `stat`) and every directory
/// above it.
pub fn check_path(path: &Path, owners: &Owners) -> Result<(), Untrusted> {
    let meta = std::fs::metadata(path).map_err(|err| Untrusted {
        culprit: path.to_owned(),
        reason: format!("cannot be examined: {err}"),
    })?;
    check_file(path, &meta, owners)?;
    check_directories(path, owners)
}

/// Checks the file itself from its metadata (from `stat`, or `fstat` on the
/// handle it will be read through): a regular file, owned by an allowed
/// user, not writable by group or others.
pub fn check_file(path: &Path, meta: &Metadata, owners: &Owners) -> Result<(), Untrusted> {
    let file_type = meta.file_type();
    if !file_type.is_file() {
        let what = if file_type.is_dir() {
            "a directory"
        } else if file_type.is_fifo() {
            "a named pipe"
        } else if file_type.is_socket() {
            "a socket"
        } else if file_type.is_block_device() || file_type.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(Untrusted {
            culprit: path.to_owned(),
            reason: format!("is {what}; the policy must be a regular file"),
        });
    }
    check_owner_and_mode(path, meta, owners, false)
}

/// Checks every directory above `path`, both as written and as resolved
/// through symbolic links.
pub fn check_directories(path: &Path, owners: &Owners) -> Result<(), Untrusted> {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir()
            .map_err(|err| Untrusted {
                culprit: path.to_owned(),
                reason: format!("cannot resolve a relative path: {err}"),
            })?
            .join(path)
    };
    check_ancestors(&absolute, owners)?;
    if let Ok(resolved) = absolute.canonicalize() {
        if resolved != absolute {
            check_ancestors(&resolved, owners)?;
        }
    }
    Ok(())
}

fn check_ancestors(path: &Path, owners: &Owners) -> Result<(), Untrusted> {
    for dir in path.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let meta = std::fs::metadata(dir).map_err(|err| Untrusted {
            culprit: dir.to_owned(),
            reason: format!("cannot be examined: {err}"),
        })?;
        check_owner_and_mode(dir, &meta, owners, true)?;
    }
    Ok(())
}

fn check_owner_and_mode(
    path: &Path,
    meta: &Metadata,
    owners: &Owners,
    is_dir: bool,
) -> Result<(), Untrusted> {
    let what = if is_dir { "directory" } else { "file" };
    if !owners.allows(meta.uid()) {
        return Err(Untrusted {
            culprit: path.to_owned(),
            reason: format!(
                "this {what} is owned by uid {}, but only {owners} may own the policy and the \
                 directories above it; fix: chown root {}",
                meta.uid(),
                path.display()
            ),
        });
    }
    let mode = meta.mode() & 0o7777;
    let writable = mode & GROUP_OTHER_WRITE;
    if writable != 0 && !(is_dir && mode & STICKY != 0) {
        let by = match (writable & 0o020 != 0, writable & 0o002 != 0) {
            (true, true) => "group and others",
            (true, false) => "its group",
            _ => "others",
        };
        return Err(Untrusted {
            culprit: path.to_owned(),
            reason: format!(
                "this {what} is writable by {by} (mode {mode:04o}), so they could change the \
                 policy; fix: chmod go-w {}",
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{chown, symlink, PermissionsExt};

    /// A scratch directory under the crate's target directory, whose
    /// ancestors are the build tree's (root-owned, 0755 on the test
    /// machines), not the world-writable temp directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("trust-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// The owners that make the scratch tree trusted: root and whoever runs
    /// the tests (and owns the checkout).
    fn owners() -> Owners {
        let me = fs::metadata(env!("CARGO_MANIFEST_DIR")).unwrap().uid();
        Owners::root_and([me])
    }

    fn running_as_root() -> bool {
        fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1) == 0
    }

    fn policy_in(dir: &Path) -> PathBuf {
        let path = dir.join("hetpolicy.yaml");
        fs::write(&path, "qos: {}\n").unwrap();
        chmod(&path, 0o644);
        path
    }

    #[test]
    fn a_root_owned_0644_file_in_0755_directories_is_trusted() {
        let dir = scratch("ok");
        let path = policy_in(&dir);
        assert_eq!(check_path(&path, &owners()), Ok(()));
        chmod(&path, 0o600);
        assert_eq!(check_path(&path, &owners()), Ok(()));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn group_or_other_writable_files_are_refused() {
        let dir = scratch("file-mode");
        let path = policy_in(&dir);
        for (mode, by) in [
            (0o664, "its group"),
            (0o646, "others"),
            (0o666, "group and others"),
        ] {
            chmod(&path, mode);
            let err = check_path(&path, &owners()).unwrap_err();
            assert_eq!(err.culprit, path);
            assert!(err.reason.contains(&format!("writable by {by}")), "{err}");
            assert!(err.reason.contains(&format!("{mode:04o}")), "{err}");
            assert!(err.to_string().contains("chmod go-w"), "{err}");
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_writable_directory_above_the_file_is_refused() {
        let dir = scratch("dir-mode");
        let sub = dir.join("etc");
        fs::create_dir(&sub).unwrap();
        chmod(&sub, 0o755);
        let path = policy_in(&sub);
        assert_eq!(check_path(&path, &owners()), Ok(()));

        chmod(&dir, 0o757);
        let err = check_path(&path, &owners()).unwrap_err();
        assert_eq!(err.culprit, dir, "{err}");
        assert!(
            err.reason.contains("directory is writable by others"),
            "{err}"
        );

        chmod(&dir, 0o775);
        let err = check_path(&path, &owners()).unwrap_err();
        assert!(err.reason.contains("writable by its group"), "{err}");

        // Sticky, like /tmp: only an entry's owner may replace it.
        chmod(&dir, 0o1777);
        assert_eq!(check_path(&path, &owners()), Ok(()));
        chmod(&dir, 0o755);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    #[ignore = "needs root (chown): tests/run-all runs it, as root, with --include-ignored"]
    fn files_owned_by_other_users_are_refused() {
        assert!(
            running_as_root(),
            "this test chowns files to other users: run it as root"
        );
        let dir = scratch("owner");
        let path = policy_in(&dir);
        chown(&path, Some(65534), None).unwrap();
        let err = check_path(&path, &Owners::root_and([])).unwrap_err();
        assert_eq!(err.culprit, path);
        assert!(err.reason.contains("owned by uid 65534"), "{err}");
        assert!(err.reason.contains("root (uid 0)"), "{err}");
        // SlurmUser may own it.
        assert_eq!(check_path(&path, &Owners::root_and([65534])), Ok(()));

        chown(&path, Some(0), None).unwrap();
        chown(&dir, Some(65534), None).unwrap();
        let err = check_path(&path, &Owners::root_and([])).unwrap_err();
        assert_eq!(err.culprit, dir);
        assert!(
            err.reason.contains("directory is owned by uid 65534"),
            "{err}"
        );
        chown(&dir, Some(0), None).unwrap();
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn symlinks_are_checked_where_they_point() {
        let dir = scratch("link");
        let real = dir.join("real");
        let open = dir.join("open");
        fs::create_dir(&real).unwrap();
        fs::create_dir(&open).unwrap();
        chmod(&real, 0o755);
        chmod(&open, 0o777);
        let target = policy_in(&real);
        let link = open.join("hetpolicy.yaml");
        symlink(&target, &link).unwrap();
        // The link sits in a world-writable directory: anyone could repoint it.
        let err = check_path(&link, &owners()).unwrap_err();
        assert_eq!(err.culprit, open);

        // A link from a safe directory into a writable one is refused too.
        chmod(&open, 0o755);
        fs::remove_file(&link).unwrap();
        let exposed = policy_in(&open);
        chmod(&open, 0o777);
        let safe_link = real.join("link.yaml");
        symlink(&exposed, &safe_link).unwrap();
        let err = check_path(&safe_link, &owners()).unwrap_err();
        assert_eq!(err.culprit, open);
        chmod(&open, 0o755);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_regular_files_are_policies() {
        let dir = scratch("kind");
        let err = check_path(&dir, &owners()).unwrap_err();
        assert!(err.reason.contains("is a directory"), "{err}");
        let missing = dir.join("missing.yaml");
        let err = check_path(&missing, &owners()).unwrap_err();
        assert!(err.reason.contains("cannot be examined"), "{err}");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn owners_are_listed_in_messages() {
        assert_eq!(Owners::default().to_string(), "root (uid 0)");
        assert_eq!(
            Owners::root_and([64030, 0]).to_string(),
            "root or SlurmUser (uid 0, 64030)"
        );
        assert!(Owners::root_and([64030]).allows(64030));
        assert!(!Owners::default().allows(1000));
    }
}
