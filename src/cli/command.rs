//! Running the Slurm and system commands the tool asks (scontrol,
//! sacctmgr, id), each bounded in time.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Slurm command may take (sacctmgr retries a slurmdbd that
/// does not answer).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs a Slurm command, returning its standard output, or why it failed
/// (its first line of standard error).
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let shown = format!("`{program} {}`", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown} could not run: {e}"))?;
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{shown} did not answer within {} s",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
        }
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    if status.success() {
        Ok(stdout)
    } else {
        let why = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        Err(format!("{shown} failed ({status}): {}", why.trim()))
    }
}
