//! Where slurm.conf and the policy file are: one rule for both plugins and
//! the `hetpolicy` command.

use std::path::{Path, PathBuf};

/// The policy file's name; it lives in slurm.conf's directory.
pub const POLICY_FILE_NAME: &str = "hetpolicy.yaml";

/// Slurm's slurm.conf when `$SLURM_CONF` is not set (Debian's packages).
pub const DEFAULT_SLURM_CONF: &str = "/etc/slurm/slurm.conf";

/// slurm.conf as Slurm's commands find it: `$SLURM_CONF` when set and not
/// empty, else [`DEFAULT_SLURM_CONF`].
pub fn slurm_conf_from_env() -> PathBuf {
    std::env::var_os("SLURM_CONF")
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_SLURM_CONF), PathBuf::from)
}

/// The policy file the plugins read when plugstack.conf names none:
/// hetpolicy.yaml beside slurm.conf. `loaded_slurm_conf` is the file the
/// Slurm process loaded (slurmctld's `-f`, for instance), when it is
/// known; otherwise slurm.conf is found as [`slurm_conf_from_env`] does.
pub fn default_policy_path(loaded_slurm_conf: Option<&Path>) -> PathBuf {
    let conf = loaded_slurm_conf.map_or_else(slurm_conf_from_env, Path::to_path_buf);
    conf.parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("/etc/slurm"))
        .join(POLICY_FILE_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_is_beside_the_loaded_slurm_conf() {
        assert_eq!(
            default_policy_path(Some(Path::new("/opt/slurm/etc/slurm.conf"))),
            PathBuf::from("/opt/slurm/etc/hetpolicy.yaml")
        );
        assert_eq!(
            default_policy_path(Some(Path::new("slurm.conf"))),
            PathBuf::from("/etc/slurm/hetpolicy.yaml")
        );
    }
}
