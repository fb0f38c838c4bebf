//! The private Slurm cluster works end to end: a plain batch job on the cpu
//! partition runs to completion, and slurmctld stays healthy.
mod common;

use common::cluster;
use std::fs;
use std::time::Duration;

#[test]
fn plain_batch_job_runs_to_completion() {
    let c = cluster::ensure_up();
    let pid = c.slurmctld_pid();
    let offset = c.log_len();

    let out_file = c.tmp_dir().join("smoke.out");
    let _ = fs::remove_file(&out_file);
    let out_arg = out_file.to_str().expect("UTF-8 path");
    let out = c.sbatch(&["-p", "cpu", "--wrap", "echo hi", "-o", out_arg], None);
    assert_eq!(out.code, 0, "sbatch failed:\n{out:?}");
    let job = out.expect_job_id();

    let state = c.wait_job(job, Duration::from_secs(60));
    assert_eq!(
        state,
        "COMPLETED",
        "job {job}: {:?}",
        c.run("scontrol", &["show", "job", &job.to_string()])
    );
    let text = fs::read_to_string(&out_file).expect("read the job's output");
    assert_eq!(text.trim(), "hi");

    cluster::assert_controller_healthy(c, pid, offset);
}
