//! The common rule kinds on the real slurmctld, with the exact lines users
//! see: `partitions.<p>.forbid` (`--nodelist`, `--exclude`, reserved job
//! names, through sbatch and salloc; allowed where not forbidden),
//! `partitions.<p>.qos.by_time` (the QOS chosen by `--time`), and
//! partitions for one kind of job (`allow`/`deny` with `jobs`).
mod common;

use std::fs;

use common::cluster::{self, assert_accepted, assert_refused, Cluster, CmdOutput};
use common::users::run_as;

/// The reference policy with `before` replaced by `after` once, installed
/// until the guard is dropped.
fn install_policy<'c>(c: &'c Cluster, before: &str, after: &str) -> cluster::PolicyGuard<'c> {
    c.with_policy_settled(&c.reference_policy_with(before, after))
}

fn sbatch(c: &Cluster, args: &[&str]) -> CmdOutput {
    let mut all = vec!["--hold", "-t", "1", "-o", "/dev/null"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--wrap", "true"]);
    c.run("sbatch", &all)
}

#[test]
fn nodelist_exclude_and_reserved_names_are_refused_on_the_partition() {
    let c = cluster::ensure_up();
    let _policy = install_policy(
        c,
        "    default: true\n",
        "    default: true\n    forbid:\n      nodelist: true\n      exclude: true\n      \
         job_names: [sys-*]\n",
    );
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());

    assert_refused(
        &sbatch(c, &["-p", "cpu", "-w", "c1"]),
        "sbatch -w c1 on cpu",
        &[
            "sbatch: error: job gives --nodelist=c1 on partition cpu, which does not allow it; \
             drop --nodelist (-w) and let Slurm choose the nodes (policy: \
             partitions.cpu.forbid)",
            "sbatch: error: Batch job submission failed: Requested operation not supported on \
             this system",
        ],
    );
    assert_refused(
        &sbatch(c, &["-p", "cpu", "-x", "c1"]),
        "sbatch -x c1 on cpu",
        &[
            "sbatch: error: job gives --exclude=c1 on partition cpu, which does not allow it; \
           drop --exclude (-x); if a node misbehaves, tell your administrator (policy: \
           partitions.cpu.forbid)",
        ],
    );
    // The default partition: no -p at all.
    assert_refused(
        &sbatch(c, &["-J", "sys-health"]),
        "sbatch -J sys-health",
        &[
            "sbatch: error: job is named sys-health on partition cpu, where the job name sys-* \
           is reserved; choose another --job-name (-J) (policy: \
           partitions.cpu.forbid.job_names)",
        ],
    );
    // A hetjob whose second component picks a node on cpu.
    let het = c.run(
        "sbatch",
        &[
            "--hold",
            "-t",
            "1",
            "-o",
            "/dev/null",
            "-p",
            "gpu",
            "--gres=gpu:1",
            ":",
            "-p",
            "cpu",
            "-w",
            "c1",
            "--wrap",
            "true",
        ],
    );
    assert_refused(
        &het,
        "a hetjob with -w on component 1",
        &[
            "sbatch: error: 1: hetjob component 1 gives --nodelist=c1 on partition cpu, which \
           does not allow it; drop --nodelist (-w) and let Slurm choose the nodes (policy: \
           partitions.cpu.forbid)",
        ],
    );
    // salloc is judged too.
    let salloc = c.run(
        "salloc",
        &["--no-shell", "-t", "1", "-p", "cpu", "-w", "c1"],
    );
    assert_eq!(salloc.code, 1, "salloc -w c1 on cpu:\n{salloc:?}");
    assert!(
        salloc
            .stderr
            .contains("job gives --nodelist=c1 on partition cpu"),
        "{salloc:?}"
    );

    // Allowed elsewhere, and without the forbidden options.
    assert_accepted(
        c,
        &sbatch(c, &["-p", "gpu", "--gres=gpu:1", "-w", "g1"]),
        "-w g1 on gpu",
    );
    assert_accepted(
        c,
        &sbatch(c, &["-p", "cpu", "-J", "my-sys-health"]),
        "-J my-sys-health",
    );

    // Without -J, sbatch names the job after its script: slurmctld sees
    // the name, and `hetpolicy eval` (this release's model) says the same.
    let dir = c.write_tmp(".d", "");
    fs::remove_file(&dir).expect("remove the placeholder");
    fs::create_dir(&dir).expect("create a directory for the script");
    let script = dir.join("sys-nightly.sh");
    fs::write(
        &script,
        "#!/bin/bash\n#SBATCH -p cpu -t 1 -o /dev/null\ntrue\n",
    )
    .expect("write the script");
    let script = script.to_string_lossy().into_owned();
    let real = c.run("sbatch", &["--hold", &script]);
    let line = "sbatch: error: job is named sys-nightly.sh on partition cpu, where the job name \
                sys-* is reserved; choose another --job-name (-J) (policy: \
                partitions.cpu.forbid.job_names)";
    assert_refused(&real, "the script sys-nightly.sh", &[line]);
    let release = cluster::requested_release();
    let eval = c.run(
        common::bin::hetpolicy(),
        &["eval", "--slurm", &release, &script, "--", "--hold"],
    );
    assert_eq!(eval.code, 1, "eval of sys-nightly.sh:\n{eval:?}");
    assert!(
        eval.stdout.lines().any(|l| l.trim() == line),
        "eval does not print sbatch's line\n  {line}\n{eval:?}"
    );

    // `scontrol update` does not show the job's partition: a user may not
    // give a held job a node list or a reserved name afterwards.
    let out = run_as(
        c,
        "nobody",
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "1",
            "--chdir=/tmp",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "nobody's job:\n{out:?}");
    let job = out.expect_job_id().to_string();
    let jobid = format!("jobid={job}");
    for (change, field) in [("nodelist=c1", "nodelist"), ("name=sys-backup", "name")] {
        let update = run_as(c, "nobody", "scontrol", &["update", &jobid, change]);
        cluster::assert_update_refused(
            c,
            &update,
            &job,
            "Access/permission denied",
            &cluster::unjudged_update_reason(field),
        );
    }
    let shown = c.run("scontrol", &["show", "job", &job]);
    assert!(
        shown.stdout.contains("JobName=wrap"),
        "a refused update renamed the job:\n{shown:?}"
    );
    c.run("scancel", &[&job]);
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn qos_by_time_lets_a_longer_job_run_under_the_qos_that_holds_it() {
    let c = cluster::ensure_up();
    // cpu allows normal (1 day) and long (7 days); normal is the default.
    let _policy = install_policy(
        c,
        "      default: normal\n",
        "      default: normal\n      by_time: [normal, long]\n",
    );
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    // Two days and no --qos: long holds it, so the job is accepted...
    let two_days = c.run(
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "2-0",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(two_days.code, 0, "{two_days:?}");
    let job = two_days.expect_job_id();
    let shown = c.run("scontrol", &["show", "job", &job.to_string()]).stdout;
    assert!(shown.contains("TimeLimit=2-00:00:00"), "{shown}");
    let cancel = c.run("scancel", &[&job.to_string()]);
    assert!(cancel.success(), "{cancel:?}");
    // ...while naming the default QOS keeps its 1-day limit.
    let named = c.run(
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "--qos=normal",
            "-t",
            "2-0",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(named.code, 1, "{named:?}");
    assert!(
        named.stderr.contains("(policy: qos.normal.max_time)"),
        "{named:?}"
    );
    // Eight days: nothing holds it; the default QOS refuses it.
    let eight = c.run(
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "8-0",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(eight.code, 1, "{eight:?}");
    assert!(
        eight.stderr.contains("(policy: qos.normal.max_time)"),
        "{eight:?}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn memory_rules_refuse_whole_nodes_and_small_requests_and_set_the_default() {
    let c = cluster::ensure_up();
    let _policy = install_policy(
        c,
        "\nqos:\n",
        "\nmemory:\n  refuse_whole_node: true\n  default_per_cpu: 2G\n  min_per_cpu: 512M\nqos:\n",
    );
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    assert_refused(
        &sbatch(c, &["-p", "cpu", "--mem=0"]),
        "sbatch --mem=0",
        &[
            "sbatch: error: job asks for --mem=0 (all the memory of each node), which this \
             cluster does not allow; ask for what the job needs, e.g. --mem=16G or \
             --mem-per-cpu=2G (policy: memory.refuse_whole_node)",
            "sbatch: error: Batch job submission failed: Requested operation not supported on \
             this system",
        ],
    );
    assert_refused(
        &sbatch(c, &["-p", "cpu", "--mem-per-cpu=100M"]),
        "sbatch --mem-per-cpu=100M",
        &[
            "sbatch: error: job asks for --mem-per-cpu=100M, less than the 512M per CPU this \
           cluster requires; ask for --mem-per-cpu=512M or more (policy: memory.min_per_cpu)",
        ],
    );
    // No memory asked: the default per CPU, as slurmctld records it.
    let out = sbatch(c, &["-p", "cpu"]);
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let shown = c.run("scontrol", &["show", "job", &job.to_string()]).stdout;
    assert!(shown.contains("MinMemoryCPU=2G"), "{shown}");
    let cancel = c.run("scancel", &[&job.to_string()]);
    assert!(cancel.success(), "{cancel:?}");
    // What the user asked for is kept.
    let out = sbatch(c, &["-p", "cpu", "--mem=1G"]);
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let shown = c.run("scontrol", &["show", "job", &job.to_string()]).stdout;
    assert!(shown.contains("MinMemoryNode=1G"), "{shown}");
    let cancel = c.run("scancel", &[&job.to_string()]);
    assert!(cancel.success(), "{cancel:?}");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn cpus_per_gpu_stay_within_the_partition_bounds() {
    let c = cluster::ensure_up();
    let _policy = install_policy(
        c,
        "    reserved_for: [gpu]\n",
        "    reserved_for: [gpu]\n    per_gpu: {min_cpus: 2, max_cpus: 4}\n",
    );
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    assert_refused(
        &sbatch(c, &["-p", "gpu", "--gres=gpu:1", "-c", "1"]),
        "1 CPU for a GPU",
        &[
            "sbatch: error: job asks for 1 CPU with 1 GPU on partition gpu; each GPU needs at \
             least 2 CPUs: ask for 2 CPUs or more (--cpus-per-gpu=2, or more tasks or \
             --cpus-per-task) (policy: partitions.gpu.per_gpu)",
            "sbatch: error: Batch job submission failed: Requested operation not supported on \
             this system",
        ],
    );
    assert_refused(
        &sbatch(c, &["-p", "gpu", "--gres=gpu:1", "-c", "8"]),
        "8 CPUs for a GPU",
        &[
            "sbatch: error: job asks for 8 CPUs with 1 GPU on partition gpu; each GPU may have \
           at most 4 CPUs: ask for 4 CPUs or fewer, or run the CPU-heavy part as a component \
           on a CPU partition (policy: partitions.gpu.per_gpu)",
        ],
    );
    assert_accepted(
        c,
        &sbatch(c, &["-p", "gpu", "--gres=gpu:2", "-c", "8"]),
        "8 CPUs for 2 GPUs",
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn whole_node_partitions_refuse_sharing_and_give_whole_nodes() {
    let c = cluster::ensure_up();
    let _policy = install_policy(
        c,
        "    default: true\n",
        "    default: true\n    whole_nodes: true\n",
    );
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    assert_refused(
        &sbatch(c, &["-p", "cpu", "--oversubscribe"]),
        "sbatch --oversubscribe on cpu",
        &[
            "sbatch: error: job asks to share nodes (--oversubscribe, --exclusive=user or \
           --exclusive=mcs) on partition cpu, which gives every job whole nodes; drop that \
           option, or use --exclusive (policy: partitions.cpu.whole_nodes)",
        ],
    );
    // Nothing asked: whole nodes, as slurmctld records them.
    let out = sbatch(c, &["-p", "cpu"]);
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let shown = c.run("scontrol", &["show", "job", &job.to_string()]).stdout;
    assert!(shown.contains("OverSubscribe=NO"), "{shown}");
    let cancel = c.run("scancel", &[&job.to_string()]);
    assert!(cancel.success(), "{cancel:?}");
    assert_accepted(c, &sbatch(c, &["-p", "cpu", "--exclusive"]), "--exclusive");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn partitions_for_one_kind_of_job_refuse_the_other_kind() {
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    {
        // GPUs for batch jobs only.
        let _policy = install_policy(
            c,
            "    reserved_for: [gpu]\n",
            "    reserved_for: [gpu]\n    deny: {jobs: [interactive]}\n",
        );
        assert_refused(
            &c.run(
                "salloc",
                &["--no-shell", "-p", "gpu", "--gres=gpu:1", "-t", "1"],
            ),
            "salloc on gpu",
            &[
                "salloc: error: job runs as an interactive job (salloc, srun) on partition gpu, \
                 which takes no interactive jobs; submit the work as a batch job with sbatch, \
                 or use another partition (policy: partitions.gpu.deny)",
                "salloc: error: Job submit/allocate failed: Invalid partition name specified",
            ],
        );
        assert_accepted(
            c,
            &sbatch(c, &["-p", "gpu", "--gres=gpu:1"]),
            "sbatch on gpu",
        );
        // A later component is of component 0's kind: salloc's hetjob is
        // interactive in every component.
        assert_refused(
            &c.run(
                "salloc",
                &[
                    "--no-shell",
                    "-p",
                    "cpu",
                    "-t",
                    "1",
                    ":",
                    "-p",
                    "gpu",
                    "--gres=gpu:1",
                    "-t",
                    "1",
                ],
            ),
            "salloc hetjob with a gpu component",
            &[
                "salloc: error: 1: hetjob component 1 runs as an interactive job (salloc, srun) \
               on partition gpu, which takes no interactive jobs; submit the work as a batch \
               job with sbatch, or use another partition (policy: partitions.gpu.deny)",
            ],
        );
    }
    {
        // The default partition for batch jobs only.
        let _policy = install_policy(
            c,
            "    default: true\n",
            "    default: true\n    allow: {jobs: [batch]}\n",
        );
        assert_refused(
            &c.run("salloc", &["--no-shell", "-t", "1"]),
            "salloc on the default partition",
            &[
                "salloc: error: job runs as an interactive job (salloc, srun) on partition cpu, \
               but partition cpu takes only batch jobs; submit the work as a batch job with \
               sbatch, or use another partition (policy: partitions.cpu.allow)",
            ],
        );
        assert_accepted(c, &sbatch(c, &[]), "sbatch on the default partition");
    }
    cluster::assert_controller_healthy(c, pid, offset);
}
