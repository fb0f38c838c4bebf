//! What differs between the Slurm releases the suite runs on (22.05 on
//! Debian 12; 24.11 on Debian 13 and 26.05 on Debian forky, through
//! `container/cluster --slurm RELEASE test`), checked on the
//! real daemons, each expectation chosen by the release slurmctld reports:
//! the release the plugin logs, the form of GRES strings in job_desc, and
//! whether job_modify's reason reaches the user.
//! (Concurrent job_submit calls, which 23.02+ makes, are exercised by
//! tests/cluster_load.rs on every release.)
mod common;

use common::cluster::{self, Cluster};

fn release_text(release: (u32, u32, u32)) -> String {
    format!("{}.{:02}.{}", release.0, release.1, release.2)
}

fn show_field(c: &Cluster, job: u32, key: &str) -> Option<String> {
    let out = c.run("scontrol", &["show", "job", "-o", &job.to_string()]);
    assert!(out.success(), "{out:?}");
    let prefix = format!("{key}=");
    out.stdout
        .split_whitespace()
        .find_map(|field| field.strip_prefix(prefix.as_str()).map(str::to_owned))
}

#[test]
fn the_plugin_logs_the_release_it_was_built_for_and_runs_in() {
    let c = cluster::ensure_up();
    let release = release_text(c.slurm_release());
    let line = format!(
        "job_submit/hetpolicy: version {} built for Slurm {release}, running in Slurm {release}",
        env!("CARGO_PKG_VERSION")
    );
    let log = c.log_since(0);
    assert!(
        log.lines().any(|l| l.ends_with(&line)),
        "slurmctld's log lacks\n  {line}\n{log}"
    );
}

#[test]
fn gres_requests_arrive_in_the_releases_own_form_and_are_judged_alike() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let release = c.slurm_release();
    // 23.11 writes "gres/gpu" where 22.05 wrote "gres:gpu"; 24.05 puts
    // --cpus-per-task into tres_per_task too (slurm-facts.md).
    let slash = release >= (23, 11, 0);
    let cpu_in_task = release >= (24, 5, 0);
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["--gres=gpu:1"],
            "TresPerNode",
            if slash { "gres/gpu:1" } else { "gres:gpu:1" },
        ),
        (
            &["--gpus=1"],
            "TresPerJob",
            if slash { "gres/gpu:1" } else { "gres:gpu:1" },
        ),
        (
            &["-n", "1", "-c", "2", "--gpus-per-task=1"],
            "TresPerTask",
            match (cpu_in_task, slash) {
                (true, _) => "cpu=2,gres/gpu=1",
                (false, true) => "gres/gpu:1",
                (false, false) => "gres:gpu:1",
            },
        ),
    ];
    for (request, field, form) in cases {
        // On partition gpu the job is accepted: its request, as Slurm
        // stores it, is in the release's form.
        let mut args = vec!["--hold", "-p", "gpu"];
        args.extend_from_slice(request);
        args.extend_from_slice(&["--wrap", "true"]);
        let out = c.sbatch(&args, None);
        assert_eq!(out.code, 0, "{request:?}: {out:?}");
        let job = out.expect_job_id();
        assert_eq!(
            show_field(c, job, field).as_deref(),
            Some(form),
            "{request:?} on Slurm {}",
            release_text(release)
        );
        c.run("scancel", &[&job.to_string()]);

        // On partition cpu the plugin reads that form as one GPU.
        args[2] = "cpu";
        let out = c.sbatch(&args, None);
        assert_eq!(out.code, 1, "{request:?}: {out:?}");
        assert!(
            out.stderr.lines().any(|l| l
                == "sbatch: error: job requests gpu:1 on partition cpu; gpu components must \
                    use --partition=gpu (policy: accelerators.gpu)"),
            "{request:?}: {out:?}"
        );
        assert!(out.job_id().is_none(), "{out:?}");
    }
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_refused_update_tells_the_user_why_where_job_modify_has_err_msg() {
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
    c.run("scancel", &[&job]);
    let reason = "job uses QOS long on partition gpu; partition gpu allows QOS normal, gpu: use \
                  --qos=normal (policy: partitions.gpu.qos.allowed)";
    // job_modify(..., char **err_msg) from 23.02: scontrol prints the
    // reason.
    cluster::assert_update_refused(c, &update, &job, "Invalid qos specification", reason);
    if c.slurm_release() < (23, 2, 0) {
        // 22.05's job_modify has no err_msg: only the code's text.
        assert!(!update.stderr.contains(reason), "{update:?}");
    }
    let log = c.log_since(offset);
    assert!(
        log.lines()
            .any(|l| l.ends_with(&format!("update rejected: {reason}"))),
        "{log}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}
