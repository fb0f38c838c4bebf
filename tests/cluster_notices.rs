//! Notices on accepted jobs on the real slurmctld, on every release: what
//! hetpolicy changed and what a rule in warn mode would refuse reach the
//! user as sbatch's and salloc's own lines (job_submit's message on
//! success, `job_submit_user_msg`), with slurmctld's `<offset>: ` before a
//! batch hetjob's lines, and `notices: false` turns them off.
mod common;

use common::cluster::{self, Cluster, CmdOutput};

fn install_policy<'c>(c: &'c Cluster, text: &str) -> cluster::PolicyGuard<'c> {
    c.with_policy_settled(text)
}

/// The reference policy with QOS normal's rules in warn mode.
fn warn_policy(c: &Cluster) -> String {
    c.reference_policy_with(
        "  normal:\n    max_gres",
        "  normal:\n    enforcement: warn\n    max_gres",
    )
}

fn stderr_lines(out: &CmdOutput) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

fn scancel(c: &Cluster, job: u32) {
    let out = c.run("scancel", &[&job.to_string()]);
    assert!(out.success(), "scancel {job}:\n{out:?}");
}

/// `scontrol show job` of `job`, as one string.
fn show_job(c: &Cluster, job: u32) -> String {
    let out = c.run("scontrol", &["show", "job", &job.to_string()]);
    assert!(out.success(), "scontrol show job {job}:\n{out:?}");
    out.stdout
}

/// Component 1 of hetjob `job` was recorded on partition gpu; then the
/// job is cancelled.
fn assert_component_1_routed_then_cancel(c: &Cluster, job: u32) {
    let shown = show_job(c, job);
    assert!(
        shown.contains("Partition=gpu"),
        "component 1 routed:\n{shown}"
    );
    scancel(c, job);
}

#[test]
fn a_rule_in_warn_mode_accepts_and_sbatch_prints_the_warning() {
    let c = cluster::ensure_up();
    let _policy = install_policy(c, &warn_policy(c));
    let out = c.run(
        "sbatch",
        &[
            "--hold",
            "-o",
            "/dev/null",
            "-p",
            "cpu",
            "--qos=normal",
            "-t",
            "3-00:00:00",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "warn mode accepts:\n{out:?}");
    let job = out.expect_job_id();
    assert_eq!(
        stderr_lines(&out),
        [
            "sbatch: warning: job requests time limit 3-00:00:00 with QOS normal; QOS normal \
             allows at most 1-00:00:00: use --time=1-00:00:00 or less, or use --qos=long \
             (policy: qos.normal.max_time); this rule only warns for now"
        ],
        "{out:?}"
    );
    // Accepted as submitted: nothing set, nothing cut.
    let shown = show_job(c, job);
    assert!(shown.contains("TimeLimit=3-00:00:00"), "{shown}");
    // (QOS=(null) without accounting: slurmctld records no QOS then.)
    assert!(shown.contains("Partition=cpu"), "{shown}");
    scancel(c, job);
}

#[test]
fn a_routed_hetjob_component_is_told_with_its_offset() {
    // sbatch carries component 0's --qos and -t to component 1: only the
    // routing is told, with slurmctld's offset before it.
    let c = cluster::ensure_up();
    let _policy = install_policy(c, &c.reference_policy());
    let out = c.sbatch(
        &["--hold", "-o", "/dev/null"],
        Some(
            "#!/bin/sh\n#SBATCH -p cpu --qos=normal -t 10\n#SBATCH hetjob\n\
             #SBATCH --gres=gpu:1 -t 10\ntrue\n",
        ),
    );
    assert_eq!(out.code, 0, "accepted:\n{out:?}");
    let job = out.expect_job_id();
    assert_eq!(
        stderr_lines(&out),
        [
            "sbatch: 1: hetjob component 1 runs on partition gpu: components requesting gpu are \
             routed there (policy: accelerators.gpu)",
        ],
        "{out:?}"
    );
    assert_component_1_routed_then_cancel(c, job);
}

#[test]
fn an_salloc_hetjob_prints_each_component_offset_itself() {
    // salloc gets the notices of every component in the allocation
    // response and puts each component's offset before its lines
    // (src/api/allocate.c _het_job_alloc_test); component 0 gave its QOS
    // and time, so only component 1 has something to be told.
    let c = cluster::ensure_up();
    let _policy = install_policy(c, &c.reference_policy());
    let out = c.run(
        "salloc",
        &[
            "--no-shell",
            "-p",
            "cpu",
            "--qos=normal",
            "-t",
            "5",
            ":",
            "--gres=gpu:1",
            "--qos=normal",
            "-t",
            "5",
        ],
    );
    assert_eq!(out.code, 0, "accepted:\n{out:?}");
    let job = out.expect_job_id();
    let lines = stderr_lines(&out);
    assert_eq!(
        lines[0],
        "salloc: 1: hetjob component 1 runs on partition gpu: components requesting gpu are \
         routed there (policy: accelerators.gpu)",
        "{out:?}"
    );
    assert!(
        lines[1..].iter().all(|l| !l.contains("hetjob component")),
        "one notice only:\n{out:?}"
    );
    assert!(
        lines.contains(&format!("salloc: Granted job allocation {job}").as_str()),
        "{out:?}"
    );
    assert_component_1_routed_then_cancel(c, job);
}

#[test]
fn a_plain_job_gets_its_notices_from_sbatch_and_salloc() {
    let c = cluster::ensure_up();
    let _policy = install_policy(c, &c.reference_policy());
    let routed = [
        "job runs on partition gpu: components requesting gpu are routed there (policy: \
         accelerators.gpu)",
        "job gets QOS gpu, the default on partition gpu (policy: partitions.gpu.qos)",
        "job gets time limit 2-00:00:00, the most QOS gpu allows; give --time for less \
         (policy: qos.gpu.max_time)",
    ];
    let out = c.run(
        "sbatch",
        &[
            "--hold",
            "-o",
            "/dev/null",
            "--gres=gpu:1",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "accepted:\n{out:?}");
    let want: Vec<String> = routed.iter().map(|l| format!("sbatch: {l}")).collect();
    assert_eq!(stderr_lines(&out), want, "{out:?}");
    scancel(c, out.expect_job_id());

    let out = c.run("salloc", &["--no-shell", "--gres=gpu:1"]);
    assert_eq!(out.code, 0, "accepted:\n{out:?}");
    let job = out.expect_job_id();
    let mut want: Vec<String> = routed.iter().map(|l| format!("salloc: {l}")).collect();
    want.push(format!("salloc: Granted job allocation {job}"));
    let lines = stderr_lines(&out);
    assert_eq!(lines[..want.len()], want, "{out:?}");
    scancel(c, job);
}

#[test]
fn notices_false_says_nothing() {
    let c = cluster::ensure_up();
    let _policy = install_policy(c, &format!("{}\nnotices: false\n", c.reference_policy()));
    let out = c.run(
        "sbatch",
        &[
            "--hold",
            "-o",
            "/dev/null",
            "--gres=gpu:1",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "accepted:\n{out:?}");
    assert!(stderr_lines(&out).is_empty(), "{out:?}");
    let shown = show_job(c, out.expect_job_id());
    assert!(shown.contains("Partition=gpu"), "still routed:\n{shown}");
    scancel(c, out.expect_job_id());
}
