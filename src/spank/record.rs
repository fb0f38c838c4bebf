//! The per-job record of site option values, written by the job prolog
//! (which receives the component's own values from slurmctld) and read in
//! slurmstepd for the component's tasks.
//!
//! The file is `<state_dir>/<job id>`, one `name=value` line per option,
//! written by root with mode 0644 through a rename, so tasks (running as
//! the user) read a whole record or none.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The record's path for `job_id`.
pub(crate) fn path(state_dir: &Path, job_id: u32) -> PathBuf {
    state_dir.join(job_id.to_string())
}

/// Writes the record for `job_id`. A value with a control character (a
/// newline would add a line of its own) is refused, and nothing is written:
/// slurmctld refuses such values, so only a job it never judged has one.
pub(crate) fn write(state_dir: &Path, job_id: u32, values: &[(&str, &str)]) -> std::io::Result<()> {
    if let Some((name, _)) = values
        .iter()
        .find(|(_, value)| value.chars().any(char::is_control))
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the value of {name} has a control character"),
        ));
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(state_dir)?;
    let target = path(state_dir, job_id);
    let temporary = state_dir.join(format!(".{job_id}.{}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(&temporary)?;
    for (name, value) in values {
        writeln!(file, "{name}={value}")?;
    }
    file.sync_all()?;
    fs::rename(&temporary, &target)
}

/// Reads the value of option `name` from the record for `job_id`.
/// `Ok(None)` when the record exists without a value for it.
pub(crate) fn read(state_dir: &Path, job_id: u32, name: &str) -> std::io::Result<Option<String>> {
    let text = fs::read_to_string(path(state_dir, job_id))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty()))
}

/// Removes the record for `job_id`, if any.
pub(crate) fn remove(state_dir: &Path, job_id: u32) -> std::io::Result<()> {
    match fs::remove_file(path(state_dir, job_id)) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_remove() {
        let dir = std::env::temp_dir().join(format!("hetpolicy-record-{}", std::process::id()));
        let state = dir.join("state");
        write(&state, 42, &[("qpu", "ibm_torino"), ("other", "")]).unwrap();
        assert_eq!(
            read(&state, 42, "qpu").unwrap().as_deref(),
            Some("ibm_torino")
        );
        assert_eq!(read(&state, 42, "other").unwrap(), None);
        assert_eq!(read(&state, 42, "missing").unwrap(), None);
        assert!(read(&state, 43, "qpu").is_err());
        remove(&state, 42).unwrap();
        remove(&state, 42).unwrap();
        assert!(read(&state, 42, "qpu").is_err());
        let forged = write(&state, 44, &[("qpu", "ibm_fez\nother=x")]);
        assert_eq!(forged.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
        assert!(read(&state, 44, "other").is_err(), "nothing was written");
        fs::remove_dir_all(dir).unwrap();
    }
}
