//! Running the Slurm and system commands the tool asks (scontrol,
//! sacctmgr, id), each bounded in time.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Slurm command may take (sacctmgr retries a slurmdbd that
/// does not answer).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Starts `program` with no standard input and both outputs piped; the
/// command as messages show it.
fn spawn(program: &str, args: &[&str]) -> Result<(std::process::Child, String), String> {
    let shown = format!("`{program} {}`", args.join(" "));
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown} could not run: {e}"))?;
    Ok((child, shown))
}

/// Runs a Slurm command, returning its standard output, or why it failed
/// (its first line of standard error).
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let (mut child, shown) = spawn(program, args)?;
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

/// How long a streamed command (`sacct --json` over a long period) may
/// take in all.
pub(crate) const STREAM_TIMEOUT: Duration = Duration::from_secs(3600);

/// Runs a command and hands its standard output to `read` as a stream,
/// while it runs; the command is killed when it outlives `timeout`.
/// Returns what `read` returned, or why the command failed (its first line
/// of standard error), which wins over `read`'s result.
pub(crate) fn stream<T>(
    program: &str,
    args: &[&str],
    timeout: Duration,
    read: impl FnOnce(&mut dyn Read) -> T,
) -> Result<T, String> {
    use std::sync::mpsc;
    use std::sync::{Arc, Mutex};

    let (mut child, shown) = spawn(program, args)?;
    let mut stdout = child.stdout.take().ok_or("no standard output")?;
    let stderr = child.stderr.take();
    let child = Arc::new(Mutex::new(child));
    // Standard error is drained on its own thread, so a chatty command
    // never blocks on a full pipe; only its start is kept.
    let errors = std::thread::spawn(move || {
        let mut kept = String::new();
        if let Some(mut err) = stderr {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = err.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                if kept.len() < 4096 {
                    kept.push_str(&String::from_utf8_lossy(&buffer[..n]));
                }
            }
        }
        kept
    });
    let (done, finished) = mpsc::channel::<()>();
    let watched = Arc::clone(&child);
    let watchdog = std::thread::spawn(move || match finished.recv_timeout(timeout) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            if let Ok(mut child) = watched.lock() {
                let _ = child.kill();
            }
            true
        }
        _ => false,
    });
    let result = read(&mut stdout);
    // Whatever `read` left unread is drained, so the command can finish.
    let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    drop(stdout);
    let status = loop {
        let waited = child.lock().map(|mut c| c.try_wait());
        match waited {
            Ok(Ok(Some(status))) => break Some(status),
            Ok(Ok(None)) => std::thread::sleep(Duration::from_millis(20)),
            _ => break None,
        }
    };
    let _ = done.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    let stderr = errors.join().unwrap_or_default();
    if timed_out {
        return Err(format!(
            "{shown} did not finish within {} s",
            timeout.as_secs()
        ));
    }
    match status {
        Some(status) if status.success() => Ok(result),
        Some(status) => {
            let why = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            Err(format!("{shown} failed ({status}): {}", why.trim()))
        }
        None => Err(format!("{shown}: its end could not be awaited")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_reads_while_the_command_runs() {
        let counted = stream(
            "sh",
            &["-c", "echo one; echo two"],
            COMMAND_TIMEOUT,
            |out| {
                let mut text = String::new();
                out.read_to_string(&mut text).map(|_| text)
            },
        );
        assert_eq!(counted.expect("runs").expect("reads"), "one\ntwo\n");
    }

    #[test]
    fn stream_reports_failure_and_timeout() {
        let failed = stream(
            "sh",
            &["-c", "echo bad >&2; exit 3"],
            COMMAND_TIMEOUT,
            |_| (),
        );
        let message = failed.expect_err("fails");
        assert!(
            message.contains("failed") && message.ends_with(": bad"),
            "{message}"
        );
        let slow = stream("sleep", &["30"], Duration::from_millis(200), |_| ());
        assert_eq!(
            slow.expect_err("times out"),
            "`sleep 30` did not finish within 0 s"
        );
    }
}
