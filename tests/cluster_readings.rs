//! Requests that Slurm releases read in more than one way, through real
//! sbatch/scontrol on the test cluster: each is refused with the fix, or
//! judged as slurmctld then acts on it (partition lists that name nothing,
//! GRES counts with suffixes, QOS lists, --test-only hetjobs, updates
//! hetpolicy cannot judge).
mod common;

use common::cluster::{self, Cluster, CmdOutput};
use common::users::run_as;

/// The user-visible lines of a refused submission: exit 1, each line, and
/// nothing submitted.
fn assert_refused(out: &CmdOutput, lines: &[&str]) {
    assert_eq!(out.code, 1, "{out:?}");
    for line in lines {
        assert!(
            out.stderr.lines().any(|l| l == *line),
            "stderr lacks the line\n  {line}\n{out:?}"
        );
    }
    assert!(out.job_id().is_none(), "nothing may be submitted:\n{out:?}");
}

fn field<'a>(record: &'a str, name: &str) -> &'a str {
    record
        .split_whitespace()
        .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {record}"))
}

fn show_job(c: &Cluster, job: u32) -> String {
    c.run("scontrol", &["show", "job", "-o", &job.to_string()])
        .stdout
}

#[test]
fn a_partition_list_without_names_is_refused_on_every_release() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    // 24.11+ would put both on the default partition cpu: a GPU there, or
    // a week under QOS normal (1 day).
    for args in [
        &["-p", ",", "--gres=gpu:1"][..],
        &["-p", ",", "--time=7-00:00:00"][..],
        &["--partition=,,"][..],
    ] {
        let list = if args[0] == "-p" { args[1] } else { ",," };
        let mut all = vec!["--hold"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--wrap", "true"]);
        let out = c.sbatch(&all, None);
        assert_refused(
            &out,
            &[
                &format!(
                    "sbatch: error: job gives --partition={list} but names no partition in \
                     it: name one, e.g. --partition=cpu, or leave it out to use the default \
                     partition"
                ),
                "sbatch: error: Batch job submission failed: Invalid partition name specified",
            ],
        );
    }
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn gres_counts_with_suffixes_are_counted_as_slurm_counts_them() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    for request in [
        "--gres=gpu:1kb",
        "--gres=gpu:1KiB",
        "--gres=gpu:1t",
        "--gpus=1kib",
        "--gpus=1k",
        "--gpus-per-node=1m",
    ] {
        let out = c.sbatch(&["--hold", "-p", "gpu", request, "--wrap", "true"], None);
        assert_eq!(out.code, 1, "{request}: {out:?}");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with("sbatch: error: job requests ")
                    && l.ends_with(
                        " gpu with QOS gpu; QOS gpu allows at most 2 gpu per component: request \
                     at most 2 (policy: qos.gpu.max_gres.gpu)"
                    )),
            "{request}: {out:?}"
        );
        assert!(out.job_id().is_none(), "{out:?}");
    }
    // A bare suffix is read as a count of 0 by one release and as a type
    // by another: refused.
    let out = c.sbatch(
        &["--hold", "-p", "gpu", "--gres=gpu:kb", "--wrap", "true"],
        None,
    );
    assert_refused(
        &out,
        &[
            "sbatch: error: Batch job submission failed: Invalid generic resource (gres) \
           specification",
        ],
    );
    assert!(
        out.stderr.contains("cannot read the GRES request"),
        "{out:?}"
    );
    // A count without a suffix is judged as before.
    let out = c.sbatch(
        &["--hold", "-p", "gpu", "--gres=gpu:2", "--wrap", "true"],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    c.run("scancel", &[&out.expect_job_id().to_string()]);
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn every_qos_of_a_list_must_fit() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.sbatch(
        &[
            "--hold",
            "-p",
            "gpu",
            "--qos=gpu,normal",
            "--gres=gpu:2",
            "--wrap",
            "true",
        ],
        None,
    );
    assert_refused(
        &out,
        &[
            "sbatch: error: job requests 2 gpu with QOS normal; QOS normal allows at most 1 gpu \
           per component: request at most 1, or use --qos=gpu (policy: \
           qos.normal.max_gres.gpu)",
        ],
    );
    let out = c.sbatch(
        &[
            "--hold",
            "-p",
            "gpu",
            "--qos=gpu,long",
            "--gres=gpu:1",
            "--wrap",
            "true",
        ],
        None,
    );
    assert_refused(
        &out,
        &[
            "sbatch: error: job uses QOS long on partition gpu; partition gpu allows QOS \
             normal, gpu: use --qos=normal (policy: partitions.gpu.qos.allowed)",
            "sbatch: error: Batch job submission failed: Invalid qos specification",
        ],
    );
    // One GPU fits both; the time limit given is the smaller max_time.
    let out = c.sbatch(
        &[
            "--hold",
            "-p",
            "gpu",
            "--qos=gpu,normal",
            "--gres=gpu:1",
            "--wrap",
            "true",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let record = show_job(c, job);
    c.run("scancel", &[&job.to_string()]);
    assert_eq!(field(&record, "TimeLimit"), "1-00:00:00", "{record}");
    if c.slurm_release() >= (24, 11, 0) {
        // Several QOS per job are Slurm 24.11's; 22.05 without accounting
        // records none.
        assert_eq!(field(&record, "QOS"), "gpu,normal", "{record}");
    }
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_test_only_hetjob_is_not_promised_a_start_the_real_submission_refuses() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    // Three GPUs over the hetjob: max_total_gres is 2.
    let hetjob = [
        "-p",
        "gpu",
        "--gres=gpu:2",
        ":",
        "-p",
        "gpu",
        "--gres=gpu:1",
        "--wrap",
        "true",
    ];
    let real = c.sbatch(&[&["--hold"][..], &hetjob[..]].concat(), None);
    assert_eq!(real.code, 1, "{real:?}");
    assert!(real.stderr.contains("max_total_gres"), "{real:?}");
    let dry = c.sbatch(&[&["--test-only"][..], &hetjob[..]].concat(), None);
    assert_ne!(dry.code, 0, "{dry:?}");
    assert!(
        dry.stderr.lines().any(|l| l
            == "sbatch: error: hetjob component 1 reached slurmctld as a separate job, as \
                --test-only sends hetjob components, so hetpolicy cannot check the rules over \
                the whole hetjob; check the script with `hetpolicy eval SCRIPT`, or submit it \
                held (sbatch --hold) and release it (scontrol release JOBID)"),
        "{dry:?}"
    );
    // A plain job's dry run is judged as usual.
    let dry = c.sbatch(
        &["--test-only", "-p", "gpu", "--gres=gpu:1", "--wrap", "true"],
        None,
    );
    assert_eq!(dry.code, 0, "{dry:?}");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn updates_hetpolicy_cannot_judge_are_for_operators_only() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = run_as(
        c,
        "nobody",
        "sbatch",
        &[
            "--hold",
            "-p",
            "gpu",
            "--gres=gpu:1",
            "--chdir=/tmp",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id().to_string();
    let jobid = format!("jobid={job}");
    let reason = cluster::unjudged_update_reason("partition");
    // The GPU job moved to partition cpu would break accelerators.gpu.
    let update = run_as(
        c,
        "nobody",
        "scontrol",
        &["update", &jobid, "partition=cpu"],
    );
    cluster::assert_update_refused(c, &update, &job, "Access/permission denied", &reason);
    // What hetpolicy can judge from the update alone still passes.
    let update = run_as(c, "nobody", "scontrol", &["update", &jobid, "timelimit=10"]);
    assert_eq!(update.code, 0, "{update:?}");
    // root is an operator: its update is made.
    let update = c.run("scontrol", &["update", &jobid, "partition=gpu"]);
    assert_eq!(update.code, 0, "{update:?}");
    c.run("scancel", &[&job]);
    let log = c.log_since(offset);
    assert!(
        log.lines()
            .any(|l| l.ends_with(&format!("uid 65534: update rejected: {reason}"))),
        "{log}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_site_option_value_with_a_control_character_is_refused() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    for value in ["ibm_fez\nQPU_BACKEND=ibm_torino", "ibm_fez\t"] {
        let option = format!("--qpu={value}");
        let out = c.sbatch(
            &[
                "--hold",
                "-p",
                "quantum",
                "--gres=qpu:1",
                &option,
                "--wrap",
                "true",
            ],
            None,
        );
        assert_eq!(out.code, 1, "{out:?}");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(
                    "sbatch: error: hetpolicy: job sets --qpu to a value with a control character"
                ) && l.ends_with("use printable text only (policy: options.qpu)")),
            "{out:?}"
        );
        assert!(out.job_id().is_none(), "{out:?}");
    }
    cluster::assert_controller_healthy(c, pid, offset);
}
