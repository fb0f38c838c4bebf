//! Which Slurm release `hetpolicy eval` models, and why:
//!
//! 1. `--slurm RELEASE` (22.05, 24.11, 26.05), when given;
//! 2. else the release of the `sbatch` on PATH, from `sbatch --version`
//!    ("slurm 24.11.5"): first as the user would run it, then, when that
//!    fails (sbatch reads slurm.conf before it prints anything, so it fails
//!    where slurm.conf is missing or unreadable), with `SLURM_CONF` set to
//!    a minimal temporary configuration, which is all `--version` needs. A
//!    release eval does not model gives the closest supported release
//!    below it (or the oldest), with a note;
//! 3. else the newest supported release, with a note.
//!
//! Each run of sbatch is killed after [`SBATCH_TIMEOUT`].

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hetpolicy_core::slurm_options::Release;

use crate::args::UsageError;

/// How long `sbatch --version` may take.
pub const SBATCH_TIMEOUT: Duration = Duration::from_secs(10);

/// How the release was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChosenBy {
    /// `--slurm`.
    Option,
    /// The installed sbatch's version, a supported release.
    Installed(String),
    /// The installed sbatch's version, a release eval does not model: the
    /// closest supported one.
    Nearest(String),
    /// No sbatch answered: the newest supported release.
    Newest,
}

/// The release eval models, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The release.
    pub release: Release,
    /// Why.
    pub chosen_by: ChosenBy,
}

impl Choice {
    /// `option`, `installed`, `nearest` or `newest`.
    pub fn kind(&self) -> &'static str {
        match self.chosen_by {
            ChosenBy::Option => "option",
            ChosenBy::Installed(_) => "installed",
            ChosenBy::Nearest(_) => "nearest",
            ChosenBy::Newest => "newest",
        }
    }

    /// The installed sbatch's version, when one answered.
    pub fn installed(&self) -> Option<&str> {
        match &self.chosen_by {
            ChosenBy::Installed(v) | ChosenBy::Nearest(v) => Some(v),
            _ => None,
        }
    }

    /// "modelled on Slurm 24.11 (sbatch 24.11.5 on this machine)".
    pub fn sentence(&self) -> String {
        let r = self.release;
        match &self.chosen_by {
            ChosenBy::Option => format!("modelled on Slurm {r} (--slurm {r})"),
            ChosenBy::Installed(v) => {
                format!("modelled on Slurm {r} (sbatch {v} on this machine)")
            }
            ChosenBy::Nearest(v) => format!(
                "modelled on Slurm {r}, the closest release eval models to sbatch {v} on this \
                 machine: results may differ (--slurm chooses another)"
            ),
            ChosenBy::Newest => format!(
                "modelled on Slurm {r}, the newest release eval models: no sbatch on this \
                 machine told its version (--slurm chooses another)"
            ),
        }
    }
}

/// The releases `--slurm` takes, for messages: "22.05, 24.11 or 26.05".
pub fn valid_releases() -> String {
    let names: Vec<&str> = Release::ALL.iter().map(|r| r.name()).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// `--slurm`'s value: a supported release (`24.11`, or a version of it
/// such as `24.11.5`).
pub fn parse(value: &str) -> Result<Release, UsageError> {
    Release::from_version(value).ok_or_else(|| {
        UsageError(format!(
            "--slurm takes a Slurm release eval models: {} (not '{value}')",
            valid_releases()
        ))
    })
}

/// The release to model: `option`, else the installed sbatch's, else the
/// newest.
pub fn choose(option: Option<Release>) -> Choice {
    if let Some(release) = option {
        return Choice {
            release,
            chosen_by: ChosenBy::Option,
        };
    }
    match installed_sbatch_version() {
        Some(version) => from_installed(&version),
        None => Choice {
            release: Release::NEWEST,
            chosen_by: ChosenBy::Newest,
        },
    }
}

/// The release for an installed sbatch of `version`.
fn from_installed(version: &str) -> Choice {
    if let Some(release) = Release::from_version(version) {
        return Choice {
            release,
            chosen_by: ChosenBy::Installed(version.to_owned()),
        };
    }
    let number = |text: &str| -> Option<(u32, u32)> {
        let mut parts = text.split(['.', '-']);
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    let installed = number(version);
    let release = Release::ALL
        .into_iter()
        .rev()
        .find(|r| installed.is_some_and(|v| number(r.name()).is_some_and(|r| r <= v)))
        .unwrap_or(Release::ALL[0]);
    Choice {
        release,
        chosen_by: ChosenBy::Nearest(version.to_owned()),
    }
}

/// The version `sbatch --version` prints, as the user's environment runs
/// it, else with a minimal configuration.
fn installed_sbatch_version() -> Option<String> {
    sbatch_version(None).or_else(|| {
        let conf = MinimalConf::write()?;
        sbatch_version(Some(&conf.path))
    })
}

/// A slurm.conf with only what `sbatch --version` needs, removed on drop.
struct MinimalConf {
    path: PathBuf,
}

impl MinimalConf {
    fn write() -> Option<MinimalConf> {
        let path =
            std::env::temp_dir().join(format!("hetpolicy-eval-{}-slurm.conf", std::process::id()));
        std::fs::write(&path, "ClusterName=hetpolicy\nSlurmctldHost=localhost\n").ok()?;
        Some(MinimalConf { path })
    }
}

impl Drop for MinimalConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs `sbatch --version` (with `SLURM_CONF=conf` when given) and reads
/// the version from "slurm 24.11.5" or "slurm-wlm 24.11.5".
fn sbatch_version(conf: Option<&Path>) -> Option<String> {
    let mut command = Command::new("sbatch");
    command
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(conf) = conf {
        command.env("SLURM_CONF", conf);
    }
    let mut child = command.spawn().ok()?;
    let deadline = Instant::now() + SBATCH_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let mut out = String::new();
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    if !status.success() {
        return None;
    }
    version_in(&out)
}

/// The version in `sbatch --version`'s output.
fn version_in(output: &str) -> Option<String> {
    let line = output.lines().next()?;
    let mut words = line.split_whitespace();
    let name = words.next()?;
    let version = words.next()?;
    (name.starts_with("slurm") && version.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sbatch_prints() {
        assert_eq!(version_in("slurm 24.11.5\n").as_deref(), Some("24.11.5"));
        assert_eq!(
            version_in("slurm-wlm 22.05.8\n").as_deref(),
            Some("22.05.8")
        );
        assert_eq!(version_in("sbatch: error: no config\n"), None);
        assert_eq!(version_in(""), None);
    }

    #[test]
    fn an_installed_release_eval_does_not_model() {
        let c = from_installed("22.05.8");
        assert_eq!((c.release, c.kind()), (Release::Slurm22_05, "installed"));
        let c = from_installed("25.05.1");
        assert_eq!((c.release, c.kind()), (Release::Slurm24_11, "nearest"));
        let c = from_installed("23.02.7");
        assert_eq!(c.release, Release::Slurm22_05);
        let c = from_installed("21.08.8");
        assert_eq!(c.release, Release::Slurm22_05, "the oldest");
        let c = from_installed("27.05.0");
        assert_eq!(c.release, Release::Slurm26_05);
        assert!(c
            .sentence()
            .contains("closest release eval models to sbatch 27.05.0"));
    }

    #[test]
    fn the_option() {
        assert_eq!(parse("24.11").ok(), Some(Release::Slurm24_11));
        assert_eq!(parse("26.05.5").ok(), Some(Release::Slurm26_05));
        let UsageError(message) = parse("23.02").unwrap_err();
        assert_eq!(
            message,
            "--slurm takes a Slurm release eval models: 22.05, 24.11 or 26.05 (not '23.02')"
        );
        assert_eq!(
            choose(Some(Release::Slurm22_05)).sentence(),
            "modelled on Slurm 22.05 (--slurm 22.05)"
        );
    }
}
