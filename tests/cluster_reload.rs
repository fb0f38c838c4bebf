//! Editing hetpolicy.yaml on a live cluster: a valid edit takes effect
//! without restarting slurmctld, a broken edit keeps the last good policy
//! and the log names file:line:column, and a controller that starts
//! without a valid policy rejects every job (fail closed) until it is fixed.
mod common;

use common::cluster::{self, Cluster, CmdOutput};
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

/// Longer than the plugin's change-check interval (250 ms).
const SETTLE: Duration = Duration::from_millis(600);

const GPU_ON_CPU: &[&str] = &[
    "--hold",
    "-p",
    "cpu",
    "--gres=gpu:1",
    "-t",
    "5",
    "--wrap",
    "true",
];

const ACCELERATOR_MESSAGE: &str = "sbatch: error: job requests gpu:1 on partition cpu; gpu \
     components must use --partition=gpu (policy: accelerators.gpu)";

fn reference(c: &Cluster) -> String {
    c.reference_policy()
}

/// The reference policy with `max_gres` of QOS normal misspelt, and the
/// 1-based line of the mistake.
fn broken(c: &Cluster) -> (String, usize) {
    let text = reference(c).replacen("    max_gres: {gpu: 1}\n", "    max_gpus: 1\n", 1);
    let line = text
        .lines()
        .position(|l| l.contains("max_gpus"))
        .expect("the edit applies")
        + 1;
    (text, line)
}

fn scancel(c: &Cluster, out: &CmdOutput) {
    if let Some(job) = out.job_id() {
        c.run("scancel", &[&job.to_string()]);
    }
}

#[test]
fn edits_apply_live_and_broken_edits_keep_the_last_good_policy() {
    let c = cluster::ensure_up();
    let (broken_text, line) = broken(c);
    // with_policy also serialises this with the restart test below.
    let guard = c.with_policy(&broken_text);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    sleep(SETTLE);

    let out = c.sbatch(GPU_ON_CPU, None);
    assert_eq!(out.code, 1, "the last good policy still rejects:\n{out:?}");
    assert!(
        out.stderr.lines().any(|l| l == ACCELERATOR_MESSAGE),
        "{out:?}"
    );
    let log = c.log_since(offset);
    let position = format!(
        "{}:{line}:5: unknown field `max_gpus`",
        c.policy_path().display()
    );
    assert!(
        log.contains(&position),
        "the log should say {position}:\n{log}"
    );
    assert!(log.contains("kept last good policy"), "{log}");

    // A valid edit, written in place this time, is picked up.
    let relaxed =
        reference(c).replacen("    partitions: [gpu]\n", "    partitions: [gpu, cpu]\n", 1);
    std::fs::write(c.policy_path(), relaxed).expect("rewrite the policy in place");
    sleep(SETTLE);
    let out = c.sbatch(GPU_ON_CPU, None);
    assert_eq!(
        out.code, 0,
        "the relaxed policy accepts a GPU on cpu:\n{out:?}"
    );
    scancel(c, &out);

    // Back to the reference policy, still holding the guard: the other
    // test of this file restarts slurmctld once it gets the lock.
    c.restore_policy();
    sleep(SETTLE);
    let out = c.sbatch(GPU_ON_CPU, None);
    assert_eq!(out.code, 1, "the reference policy is back:\n{out:?}");
    cluster::assert_controller_healthy_allowing(
        c,
        pid,
        offset,
        &["unknown field `max_gpus`", "kept last good policy"],
    );
    drop(guard);
}

#[test]
fn a_controller_without_a_valid_policy_rejects_every_job_until_fixed() {
    let c = cluster::ensure_up();
    let _serialise = c.with_policy(&reference(c));
    let (broken_text, line) = broken(c);
    let broken_file = c.write_tmp(".yaml", &broken_text);
    let script = c.repo.join("container/cluster");
    let restart = |policy: &std::path::Path| {
        let out = Command::new(&script)
            .args(["up", "--policy"])
            .arg(policy)
            .output()
            .expect("run container/cluster up");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    restart(&broken_file);
    let (pid, offset) = (c.slurmctld_pid(), 0);

    let out = c.sbatch(&["--hold", "-p", "cpu", "-t", "5", "--wrap", "true"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.lines().any(|l| l
            == "sbatch: error: hetpolicy: this cluster's job policy could not be loaded, so no \
                job can be accepted now; please contact your administrator"),
        "{out:?}"
    );
    assert!(out.stderr.contains("Access/permission denied"), "{out:?}");
    let log = c.log_since(offset);
    assert!(
        log.contains(&format!(":{line}:5: unknown field `max_gpus`")),
        "{log}"
    );
    assert!(log.contains("no valid policy is loaded"), "{log}");

    // Fixing the file is enough: no restart needed.
    std::fs::write(c.policy_path(), reference(c)).expect("fix the policy");
    sleep(SETTLE);
    let out = c.sbatch(&["--hold", "-p", "cpu", "-t", "5", "--wrap", "true"], None);
    assert_eq!(out.code, 0, "{out:?}");
    scancel(c, &out);
    cluster::assert_controller_healthy_allowing(
        c,
        pid,
        offset,
        &["unknown field `max_gpus`", "no valid policy is loaded"],
    );
    restart(&c.reference_policy_path());
}
