//! Trust in the policy file, on the real slurmctld: a new version that is
//! writable by group or others, owned by another user, or below a
//! directory others may write, is refused with the reason in the log and
//! the last good policy stays in force; fixing the mode or owner (even of
//! the directory alone) brings the new version in. And `on_error: accept`
//! in a file that does not load lets a controller that starts without a
//! valid policy accept jobs unchecked.
mod common;

use common::cluster::{self, Cluster, CmdOutput};
use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

/// Longer than the plugin's change-check interval plus its settle time.
const SETTLE: Duration = Duration::from_millis(700);

const GPU_ON_CPU: &[&str] = &["--hold", "-p", "cpu", "--gres=gpu:1", "--wrap", "true"];
const REFUSED: &str = "(policy: accelerators.gpu)";

fn reference(c: &Cluster) -> String {
    c.reference_policy()
}

/// The reference policy with GPUs allowed on cpu too.
fn relaxed(c: &Cluster) -> String {
    let text = reference(c).replacen("    partitions: [gpu]\n", "    partitions: [gpu, cpu]\n", 1);
    assert_ne!(
        text,
        reference(c),
        "the edit applies to the reference policy"
    );
    text
}

/// Puts a directory's mode back when dropped, also when a check fails:
/// the rest of the suite needs a trusted policy directory.
struct RestoreMode<'a>(&'a Path, u32);

impl Drop for RestoreMode<'_> {
    fn drop(&mut self) {
        let _ = fs::set_permissions(self.0, fs::Permissions::from_mode(self.1));
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Submits a GPU job on cpu: true when the plugin accepted it.
fn gpu_on_cpu_accepted(c: &Cluster) -> bool {
    sleep(SETTLE);
    let out = c.sbatch(GPU_ON_CPU, None);
    cancel(c, &out);
    match out.code {
        0 => true,
        1 if out.stderr.contains(REFUSED) => false,
        _ => panic!("neither accepted nor refused by the policy:\n{out:?}"),
    }
}

fn cancel(c: &Cluster, out: &CmdOutput) {
    if let Some(job) = out.job_id() {
        c.run("scancel", &[&job.to_string()]);
    }
}

#[test]
fn untrusted_policy_files_are_refused_and_the_last_good_policy_stays() {
    let c = cluster::ensure_up();
    let _guard = c.with_policy(&reference(c));
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let path = c.policy_path();
    let etc = path.parent().expect("etc").to_owned();
    assert!(!gpu_on_cpu_accepted(c), "the reference policy refuses");

    // 1. The new version is writable by others.
    let log_start = c.log_len();
    fs::write(&path, relaxed(c)).unwrap();
    chmod(&path, 0o646);
    assert!(!gpu_on_cpu_accepted(c), "an o+w file is not loaded");
    let log = c.log_since(log_start);
    assert!(
        log.contains("refusing the policy file") && log.contains("writable by others (mode 0646)"),
        "{log}"
    );
    assert!(log.contains("kept last good policy"), "{log}");
    chmod(&path, 0o644);
    assert!(gpu_on_cpu_accepted(c), "fixed: the new version is in force");

    // 2. Owned by another user (nobody).
    fs::write(&path, reference(c)).unwrap();
    chown(&path, Some(65534), None).unwrap();
    assert!(
        gpu_on_cpu_accepted(c),
        "a file owned by uid 65534 is not loaded"
    );
    assert!(c.log_since(log_start).contains("owned by uid 65534"));
    chown(&path, Some(0), None).unwrap();
    assert!(
        !gpu_on_cpu_accepted(c),
        "fixed: the reference policy is back"
    );

    // 3. The directory above it is group-writable; the file is fine.
    fs::write(&path, relaxed(c)).unwrap();
    let refused = {
        let _restore = RestoreMode(&etc, 0o755);
        chmod(&etc, 0o775);
        !gpu_on_cpu_accepted(c)
    };
    assert!(refused, "a file below a g+w directory is not loaded");
    let log = c.log_since(log_start);
    assert!(
        log.contains(&format!("refusing the policy file: {}", etc.display()))
            && log.contains("writable by its group (mode 0775)"),
        "{log}"
    );
    // Fixing the directory alone is enough.
    assert!(
        gpu_on_cpu_accepted(c),
        "the directory fixed: the new version loads"
    );

    let refusals = c
        .log_since(offset)
        .matches("refusing the policy file")
        .count();
    println!(
        "trust: 3 untrusted versions refused ({refusals} log reports), each loaded once fixed"
    );
    cluster::assert_controller_healthy_allowing(
        c,
        pid,
        offset,
        &["refusing the policy file", "kept last good policy"],
    );
}

#[test]
fn on_error_accept_lets_a_controller_without_a_valid_policy_accept_jobs() {
    let c = cluster::ensure_up();
    let reference_text = reference(c);
    assert!(
        reference_text.contains("\non_error: reject\n"),
        "policy.yaml sets on_error"
    );
    let broken = reference_text
        .replacen("\non_error: reject\n", "\non_error: accept\n", 1)
        .replacen("    max_gres: {gpu: 1}\n", "    max_gpus: 1\n", 1);
    let guard = c.with_policy(&broken);
    let restart = || {
        let out = Command::new(c.repo.join("container").join("cluster"))
            .arg("restart-ctld")
            .output()
            .expect("run container/cluster restart-ctld");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let offset = c.log_len();
    restart();
    let pid = c.slurmctld_pid();
    assert!(
        gpu_on_cpu_accepted(c),
        "no valid policy and on_error: accept: accepted unchecked"
    );
    let log = c.log_since(offset);
    assert!(log.contains("unknown field `max_gpus`"), "{log}");
    assert!(
        log.contains("no valid policy is loaded, so every job is accepted unchecked"),
        "{log}"
    );

    // Fixing the file is enough.
    c.set_policy(&reference(c));
    assert!(!gpu_on_cpu_accepted(c), "the policy applies again");
    cluster::assert_controller_healthy_allowing(
        c,
        pid,
        offset,
        &[
            "unknown field `max_gpus`",
            "no valid policy is loaded",
            "accepted unchecked",
        ],
    );
    drop(guard);
    println!("on_error: accept: a controller started with a broken policy accepted jobs unchecked until it was fixed");
}
