//! The plugin's arguments on its plugstack.conf line, parsed strictly:
//! `required spank_hetpolicy.so [policy=PATH] [state_dir=PATH]`.

use std::path::PathBuf;

/// Where the per-job records of site option values live by default (see
/// `prolog.rs`).
pub(crate) const DEFAULT_STATE_DIR: &str = "/run/hetpolicy";

/// Parsed plugstack.conf arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Args {
    /// `policy=PATH`: the policy file; `None` means hetpolicy.yaml beside
    /// slurm.conf, as the job_submit plugin reads it.
    pub(crate) policy: Option<PathBuf>,
    /// `state_dir=PATH`: where job prologs record each component's values
    /// for its tasks.
    pub(crate) state_dir: PathBuf,
}

impl Default for Args {
    /// No arguments: the policy beside slurm.conf, the default state dir.
    fn default() -> Self {
        Args {
            policy: None,
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
        }
    }
}

impl Args {
    /// Parses `key=value` words. Unknown keys, repeated keys, empty values
    /// and relative paths are errors.
    pub(crate) fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Args, String> {
        let mut policy = None;
        let mut state_dir = None;
        for word in words {
            let (key, value) = word.split_once('=').ok_or_else(|| {
                format!("plugstack.conf argument '{word}' is not KEY=VALUE; {USAGE}")
            })?;
            let slot = match key {
                "policy" => &mut policy,
                "state_dir" => &mut state_dir,
                _ => return Err(format!("unknown plugstack.conf argument '{key}'; {USAGE}")),
            };
            if slot.is_some() {
                return Err(format!("plugstack.conf argument '{key}' is given twice"));
            }
            if !value.starts_with('/') {
                return Err(format!(
                    "plugstack.conf argument {key}={value} must be an absolute path"
                ));
            }
            *slot = Some(PathBuf::from(value));
        }
        let defaults = Args::default();
        Ok(Args {
            policy,
            state_dir: state_dir.unwrap_or(defaults.state_dir),
        })
    }
}

const USAGE: &str = "spank_hetpolicy.so takes policy=/path/to/hetpolicy.yaml and \
                     state_dir=/path (both optional)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_both_keys() {
        let args = Args::parse([]).unwrap();
        assert_eq!(args.policy, None);
        assert_eq!(args.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
        let args = Args::parse(["policy=/etc/slurm/p.yaml", "state_dir=/var/run/h"]).unwrap();
        assert_eq!(args.policy, Some(PathBuf::from("/etc/slurm/p.yaml")));
        assert_eq!(args.state_dir, PathBuf::from("/var/run/h"));
    }

    #[test]
    fn strict() {
        for bad in [
            vec!["polcy=/x"],
            vec!["policy"],
            vec!["policy=relative.yaml"],
            vec!["policy="],
            vec!["policy=/a", "policy=/b"],
            vec!["debug"],
        ] {
            assert!(Args::parse(bad.iter().copied()).is_err(), "{bad:?}");
        }
        let err = Args::parse(["verbose=1"]).unwrap_err();
        assert!(
            err.contains("unknown plugstack.conf argument 'verbose'"),
            "{err}"
        );
    }
}
