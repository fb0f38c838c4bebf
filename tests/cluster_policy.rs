//! The reference policy.yaml, enforced by job_submit/hetpolicy inside the
//! real slurmctld of the test cluster, through real sbatch/salloc/scontrol.
//! Each test asserts the exit code and the exact lines users see, and that
//! slurmctld survived with a clean log.
mod common;

use common::cluster::{self, CmdOutput};
use std::fs;
use std::time::Duration;

/// Seed 000's CPU+GPU hetjob, partitions renamed to cpu/gpu, with a body
/// that uses srun --het-group (the batch script runs once, in component 0).
const SEED_000: &str = "#!/bin/bash
#SBATCH --job-name=hetero_example

# Component 1: CPU-only
#SBATCH --partition=cpu
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G

#SBATCH hetjob

# Component 2: GPU
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G

srun --het-group=0 echo cpu-component
srun --het-group=1 echo gpu-component
";

/// The user-visible lines of a rejected submission.
fn assert_rejected(out: &CmdOutput, command: &str, lines: &[&str]) {
    assert_eq!(out.code, 1, "{command} should fail:\n{out:?}");
    for line in lines {
        assert!(
            out.stderr.lines().any(|l| l == *line),
            "{command}'s stderr lacks the line\n  {line}\n{out:?}"
        );
    }
    assert!(
        !out.stderr.contains("Unspecified error"),
        "a specific error is expected:\n{out:?}"
    );
    assert!(out.job_id().is_none(), "nothing may be submitted:\n{out:?}");
}

fn show_job(c: &cluster::Cluster, job: u32) -> String {
    c.run("scontrol", &["show", "job", &job.to_string()]).stdout
}

#[test]
fn seed_000_hetjob_is_accepted_and_runs_to_completion() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out_file = c.tmp_dir().join("seed000.out");
    let _ = fs::remove_file(&out_file);
    let out = c.sbatch(&["-o", out_file.to_str().unwrap()], Some(SEED_000));
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let details = show_job(c, job);
    assert!(details.contains("Partition=cpu"), "{details}");
    assert!(details.contains("Partition=gpu"), "{details}");
    assert!(
        details.contains("TimeLimit=2-00:00:00"),
        "gpu QOS (default) max_time:\n{details}"
    );
    assert_eq!(
        c.wait_job(job, Duration::from_secs(90)),
        "COMPLETED",
        "{}",
        show_job(c, job)
    );
    let text = fs::read_to_string(&out_file).unwrap();
    assert!(text.contains("cpu-component"), "{text}");
    assert!(text.contains("gpu-component"), "{text}");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn gpu_component_on_cpu_partition_is_rejected_with_a_specific_error() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let script = SEED_000.replace("#SBATCH --partition=gpu", "#SBATCH --partition=cpu");
    let out = c.sbatch(&[], Some(&script));
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: 1: hetjob component 1 requests gpu:1 on partition cpu; gpu \
             components must use --partition=gpu (policy: accelerators.gpu)",
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ],
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn output_only_on_component_one_is_rejected_and_on_component_zero_accepted() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let later = "#!/bin/bash
#SBATCH -p cpu -t 5
#SBATCH hetjob
#SBATCH -p cpu -t 5 --output=later.txt
true
";
    let out = c.sbatch(&["--hold"], Some(later));
    // sbatch makes relative paths absolute against the working directory.
    let later_path = c.tmp_dir().join("later.txt");
    assert_rejected(
        &out,
        "sbatch",
        &[
            &format!(
                "sbatch: error: 1: hetjob component 1 sets --output={}, but Slurm uses only \
                 the first component's output file (here Slurm's default) and silently ignores \
                 this one; give --output on the first component only (policy: \
                 io_files.first_component_only)",
                later_path.display()
            ),
            "sbatch: error: Batch job submission failed: Requested operation not supported on \
             this system",
        ],
    );

    // #SBATCH --output on component 0 is copied into component 1 by sbatch:
    // identical values pass.
    let first = "#!/bin/bash
#SBATCH -p cpu -t 5 --output=first.txt
#SBATCH hetjob
#SBATCH -p cpu -t 5
true
";
    let out = c.sbatch(&["--hold"], Some(first));
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    c.run("scancel", &[&job.to_string()]);

    // On the command line, `:` separates components.
    let out = c.sbatch(
        &[
            "--hold", "-p", "cpu", "-t", "5", "-o", "a.txt", ":", "-p", "cpu", "-t", "5", "-o",
            "b.txt", "--wrap", "true",
        ],
        None,
    );
    let tmp = c.tmp_dir();
    assert_rejected(
        &out,
        "sbatch",
        &[&format!(
            "sbatch: error: 1: hetjob component 1 sets --output={}, but Slurm uses only the \
             first component's output file (here --output={}) and silently ignores this one; \
             give --output on the first component only (policy: io_files.first_component_only)",
            tmp.join("b.txt").display(),
            tmp.join("a.txt").display()
        )],
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn qos_not_allowed_on_partition_is_rejected() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.sbatch(
        &[
            "--hold",
            "-p",
            "gpu",
            "--gres=gpu:1",
            "--qos=long",
            "--wrap",
            "true",
        ],
        None,
    );
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: job uses QOS long on partition gpu; partition gpu allows QOS normal, \
             gpu: use --qos=normal (policy: partitions.gpu.qos.allowed)",
            "sbatch: error: Batch job submission failed: Invalid qos specification",
        ],
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn per_component_gpu_cap_is_rejected() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.sbatch(
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "5",
            ":",
            "-p",
            "gpu",
            "--gres=gpu:2",
            "--qos=normal",
            "--wrap",
            "true",
        ],
        None,
    );
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: 1: hetjob component 1 requests 2 gpu with QOS normal; QOS normal \
             allows at most 1 gpu per component: request at most 1, or use --qos=gpu (policy: \
             qos.normal.max_gres.gpu)",
            "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy \
             (job submit limit, user's size and/or time limits)",
        ],
    );
    // --gpus (tres_per_job) is counted the same way.
    let out = c.sbatch(
        &[
            "--hold",
            "-p",
            "gpu",
            "--gpus=2",
            "--qos=normal",
            "--wrap",
            "true",
        ],
        None,
    );
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: job requests 2 gpu with QOS normal; QOS normal allows at most 1 gpu \
           per component: request at most 1, or use --qos=gpu (policy: qos.normal.max_gres.gpu)",
        ],
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn plain_jobs_follow_the_same_rules() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.sbatch(
        &["--hold", "-p", "cpu", "--gres=gpu:1", "--wrap", "true"],
        None,
    );
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: job requests gpu:1 on partition cpu; gpu components must use \
             --partition=gpu (policy: accelerators.gpu)",
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ],
    );
    let out = c.sbatch(&["--hold", "-p", "quantum", "--wrap", "true"], None);
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: job runs on partition quantum without requesting qpu; partition \
           quantum is reserved for qpu components: add --gres=qpu:1 (or the count you need), or \
           use another partition (policy: partitions.quantum.reserved_for)",
            "sbatch: error: Batch job submission failed: Invalid generic resource (gres) \
           specification",
        ],
    );
    let out = c.sbatch(
        &["--hold", "-p", "cpu", "-t", "2-00:00:00", "--wrap", "true"],
        None,
    );
    assert_rejected(
        &out,
        "sbatch",
        &[
            "sbatch: error: job requests time limit 2-00:00:00 with QOS normal; QOS normal allows \
           at most 1-00:00:00: use --time=1-00:00:00 or less, or use --qos=long (policy: \
           qos.normal.max_time)",
            "sbatch: error: Batch job submission failed: Requested time limit is invalid (missing \
           or exceeds some limit)",
        ],
    );
    let out = c.sbatch(&["--hold", "-p", "cpu", "--wrap", "true"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let details = show_job(c, job);
    // cpu's default QOS is normal, whose max_time becomes the time limit.
    assert!(details.contains("TimeLimit=1-00:00:00"), "{details}");
    c.run("scancel", &[&job.to_string()]);
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn gpu_job_without_partition_is_routed_to_gpu() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.sbatch(&["--hold", "--gres=gpu:1", "--wrap", "true"], None);
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let details = show_job(c, job);
    assert!(details.contains("Partition=gpu"), "{details}");
    assert!(
        details.contains("TimeLimit=2-00:00:00"),
        "gpu's default QOS:\n{details}"
    );
    c.run("scancel", &[&job.to_string()]);
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn salloc_is_judged_too() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.run("salloc", &["-p", "cpu", "--gres=gpu:1", "true"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.lines().any(|l| l
            == "salloc: error: job requests gpu:1 on partition cpu; gpu components must use \
                --partition=gpu (policy: accelerators.gpu)"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("Invalid partition name specified"),
        "{out:?}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn scontrol_update_is_judged_from_the_fields_it_carries() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.sbatch(
        &["--hold", "-p", "gpu", "--gres=gpu:1", "--wrap", "true"],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id().to_string();
    let update = c.run(
        "scontrol",
        &[
            "update",
            &format!("jobid={job}"),
            "partition=gpu",
            "qos=long",
        ],
    );
    assert_ne!(update.code, 0, "{update:?}");
    assert!(
        update.stderr.contains("Invalid qos specification"),
        "{update:?}"
    );
    let update = c.run(
        "scontrol",
        &[
            "update",
            &format!("jobid={job}"),
            "timelimit=3-00:00:00",
            "qos=gpu",
        ],
    );
    assert_ne!(update.code, 0, "{update:?}");
    assert!(
        update.stderr.contains("Requested time limit is invalid"),
        "{update:?}"
    );
    let update = c.run(
        "scontrol",
        &["update", &format!("jobid={job}"), "timelimit=01:00:00"],
    );
    assert_eq!(update.code, 0, "{update:?}");
    c.run("scancel", &[&job]);
    cluster::assert_controller_healthy(c, pid, offset);
}
