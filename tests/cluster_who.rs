//! The rules about who submits (`exempt`, `deny`, `partitions.<p>.allow`,
//! `time.interactive`), enforced by job_submit/hetpolicy in the real
//! slurmctld of the cluster with Slurm accounting: the users, groups and
//! default accounts container/lib/accounting.sh creates (alice: physics;
//! bob: chem by default, and physics; carol: chem, in group hpcadmin;
//! mallory: chem), real sbatch and salloc run as those users.
//!
//! Each test asserts the exit code and the exact lines users see, and that
//! slurmctld survived with a clean log. Like tests/cluster_accounting.rs it
//! starts the cluster with accounting itself, and `container/cluster test`
//! leaves it out unless given `--accounting`.

mod common;

use common::cluster::{self, assert_accepted, assert_refused, ensure_accounting};
use common::users::run_as;

/// tests/fixtures/policy.yaml, plus: partition gpu only for account
/// physics, group hpcadmin exempt from everything, mallory denied, and
/// interactive jobs capped at 8 hours.
fn who_policy(reference: &str) -> String {
    // Partition gpu's one line that names GRES gpu.
    let gpu = "    reserved_for: [gpu]\n";
    assert_eq!(
        reference.matches(gpu).count(),
        1,
        "tests/fixtures/policy.yaml changed: partition gpu's line\n{gpu}is not there once"
    );
    let mut policy = reference.replace(gpu, &format!("{gpu}    allow: {{accounts: [physics]}}\n"));
    policy.push_str(
        "\nexempt:\n  - groups: [hpcadmin]\n\
         deny:\n  - users: [mallory]\n    message: \"mallory's access is suspended; contact \
         hpc-support@example.org\"\n\
         time:\n  interactive:\n    max: \"8:00:00\"\n",
    );
    policy
}

/// Installs [`who_policy`] until the guard is dropped, and waits until the
/// plugin reads it at the next submission.
fn install_who_policy(c: &cluster::Cluster) -> cluster::PolicyGuard<'_> {
    c.with_policy_settled(&who_policy(&c.reference_policy()))
}

const GPU_ALLOW_BOB: &str = "job uses partition gpu as user bob with account chem, but partition \
                             gpu is only for accounts physics; submit with -A physics (or another \
                             account listed) if you belong to it, or use another partition \
                             (policy: partitions.gpu.allow)";

#[test]
fn a_gpu_job_is_judged_by_the_default_account_and_by_dash_a() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let gpu_job = |extra: &[&str]| {
        let mut args = vec![
            "--hold",
            "-p",
            "gpu",
            "--gres=gpu:1",
            "-t",
            "1",
            "-o",
            "/dev/null",
        ];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--wrap", "true"]);
        run_as(c, "bob", "sbatch", &args)
    };
    // No -A: bob's default account, chem, which partition gpu does not take.
    assert_refused(
        &gpu_job(&[]),
        "bob's GPU job without -A",
        &[
            &format!("sbatch: error: {GPU_ALLOW_BOB}"),
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ],
    );
    assert_accepted(
        c,
        &gpu_job(&["-A", "physics"]),
        "bob's GPU job with -A physics",
    );
    // slurmctld records accounts lower-cased, and so does hetpolicy.
    assert_accepted(
        c,
        &gpu_job(&["-A", "Physics"]),
        "bob's GPU job with -A Physics",
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn group_hpcadmin_is_exempt_and_others_are_not() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    // Component 1 asks for a GPU on partition cpu.
    let hetjob = |user: &str| {
        run_as(
            c,
            user,
            "sbatch",
            &[
                "--hold",
                "-p",
                "cpu",
                "-t",
                "1",
                "-o",
                "/dev/null",
                ":",
                "-p",
                "cpu",
                "--gres=gpu:1",
                "-t",
                "1",
                "--wrap",
                "true",
            ],
        )
    };
    let policy_line = "sbatch: error: 1: hetjob component 1 requests gpu:1 on partition cpu; gpu \
                       components must use --partition=gpu (policy: accelerators.gpu)";
    assert_refused(
        &hetjob("alice"),
        "alice's GPU component on partition cpu",
        &[
            policy_line,
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ],
    );
    // carol (group hpcadmin) is exempt: hetpolicy lets the component
    // through as written, and Slurm itself judges it (partition cpu has no
    // GPU node, which Slurm may refuse with its own error).
    let carol = hetjob("carol");
    assert!(
        !carol.stderr.contains("(policy:"),
        "carol is exempt, yet hetpolicy refused her hetjob:\n{carol:?}"
    );
    if carol.code == 0 {
        assert_accepted(c, &carol, "carol's GPU component on partition cpu");
    } else {
        assert!(
            carol
                .stderr
                .contains("Requested node configuration is not available"),
            "carol's hetjob was refused for another reason than Slurm's own:\n{carol:?}"
        );
    }
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn group_hpcadmin_is_exempt_from_a_rule_slurm_does_not_check() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    // QOS gpu on partition cpu: Slurm accepts it (every association may
    // use QOS gpu), the policy allows only normal and long there.
    let job = |user: &str| {
        run_as(
            c,
            user,
            "sbatch",
            &[
                "--hold",
                "-p",
                "cpu",
                "--qos=gpu",
                "-t",
                "1",
                "-o",
                "/dev/null",
                "--wrap",
                "true",
            ],
        )
    };
    let alice = job("alice");
    assert_eq!(
        alice.code, 1,
        "alice's QOS gpu on partition cpu:\n{alice:?}"
    );
    assert!(
        alice.stderr.contains("(policy: partitions.cpu.qos"),
        "alice's QOS gpu on partition cpu is refused by another rule:\n{alice:?}"
    );
    assert_accepted(c, &job("carol"), "carol's QOS gpu on partition cpu");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_denied_user_is_refused_with_the_site_message() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = run_as(
        c,
        "mallory",
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "1",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_refused(
        &out,
        "mallory's job",
        &[
            "sbatch: error: job refused for user mallory: mallory's access is suspended; \
             contact hpc-support@example.org (policy: deny)",
            "sbatch: error: Batch job submission failed: Access/permission denied",
        ],
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn interactive_jobs_are_capped_and_batch_jobs_are_not() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let salloc = run_as(
        c,
        "alice",
        "salloc",
        &["--no-shell", "-p", "cpu", "-t", "9:00:00"],
    );
    assert_eq!(
        salloc.code, 1,
        "a 9-hour salloc should be refused:\n{salloc:?}"
    );
    let line = "salloc: error: job asks for --time=09:00:00, but interactive jobs (salloc, \
                srun) may run at most 08:00:00; ask for --time=08:00:00 or less, or submit the \
                work as a batch job with sbatch (policy: time.interactive.max)";
    assert!(
        salloc.stderr.lines().any(|l| l == line),
        "salloc's stderr lacks the line\n  {line}\n{salloc:?}"
    );
    assert!(
        salloc
            .stderr
            .contains("Requested time limit is invalid (missing or exceeds some limit)"),
        "{salloc:?}"
    );
    let sbatch = run_as(
        c,
        "alice",
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "9:00:00",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_accepted(c, &sbatch, "the same job as a batch job");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_hetjob_names_the_component_that_breaks_a_rule_about_who() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = run_as(
        c,
        "bob",
        "sbatch",
        &[
            "--hold",
            "-p",
            "cpu",
            "-t",
            "1",
            "-o",
            "/dev/null",
            ":",
            "-p",
            "gpu",
            "--gres=gpu:1",
            "-t",
            "1",
            "--wrap",
            "true",
        ],
    );
    let component_1 = GPU_ALLOW_BOB.replacen("job uses", "hetjob component 1 uses", 1);
    assert_refused(
        &out,
        "bob's hetjob with a GPU component",
        &[
            &format!("sbatch: error: 1: {component_1}"),
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ],
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

/// The shipped policy.yaml carries the same rules about who submits as
/// [`who_policy`] (its header says so): each of them, as the demo shows
/// them, on this release.
#[test]
fn the_shipped_policy_yaml_enforces_the_rules_about_who_submits() {
    let c = ensure_accounting();
    let _policy = c.with_policy_settled(&c.shipped_policy());
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let held = |user: &str, args: &[&str]| {
        let mut all = vec!["--hold", "-t", "1", "-o", "/dev/null"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--wrap", "true"]);
        run_as(c, user, "sbatch", &all)
    };
    assert_refused(
        &held("bob", &["-p", "gpu", "--gres=gpu:1"]),
        "bob's GPU job in chem",
        &[&format!("sbatch: error: {GPU_ALLOW_BOB}")],
    );
    assert_accepted(
        c,
        &held("bob", &["-A", "physics", "-p", "gpu", "--gres=gpu:1"]),
        "bob's GPU job with -A physics",
    );
    assert_accepted(
        c,
        &held("carol", &["-p", "cpu", "--qos=gpu"]),
        "carol's QOS gpu on partition cpu (exempt)",
    );
    assert_refused(
        &held("mallory", &["-p", "cpu"]),
        "mallory's job",
        &[
            "sbatch: error: job refused for user mallory: mallory's access is suspended; \
           contact hpc-support@example.org (policy: deny)",
        ],
    );
    let salloc = run_as(
        c,
        "alice",
        "salloc",
        &["--no-shell", "-p", "cpu", "-t", "9:00:00"],
    );
    assert_eq!(salloc.code, 1, "a 9-hour salloc:\n{salloc:?}");
    assert!(
        salloc.stderr.contains("(policy: time.interactive.max)"),
        "a 9-hour salloc is refused by another rule:\n{salloc:?}"
    );
    assert_accepted(
        c,
        &held("alice", &["-p", "cpu", "-t", "9:00:00"]),
        "alice's 9-hour batch job",
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

/// Moving a job to another account could take it past a rule by account
/// (`partitions.gpu.allow`), and slurmctld does not show plugins the job's
/// partition: only operators may (`job_updates.unjudged_allowed_for`).
#[test]
fn an_account_change_by_update_is_for_operators_only() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = run_as(
        c,
        "bob",
        "sbatch",
        &[
            "--hold",
            "-A",
            "physics",
            "-p",
            "gpu",
            "--gres=gpu:1",
            "-t",
            "1",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    );
    assert_eq!(out.code, 0, "bob's GPU job with -A physics:\n{out:?}");
    let job = out.expect_job_id().to_string();
    let jobid = format!("jobid={job}");
    let update = run_as(c, "bob", "scontrol", &["update", &jobid, "account=chem"]);
    cluster::assert_update_refused(
        c,
        &update,
        &job,
        "Access/permission denied",
        &cluster::unjudged_update_reason("account"),
    );
    let shown = c.run("scontrol", &["show", "job", &job]);
    assert!(
        shown.stdout.contains("Account=physics"),
        "the refused update changed the account:\n{shown:?}"
    );
    // A change hetpolicy can judge from the update alone still passes.
    let update = run_as(c, "bob", "scontrol", &["update", &jobid, "timelimit=0:30"]);
    assert_eq!(update.code, 0, "{update:?}");
    // root is an operator: its update is made.
    let update = c.run("scontrol", &["update", &jobid, "account=chem"]);
    assert_eq!(update.code, 0, "root's update:\n{update:?}");
    c.run("scancel", &[&job]);
    cluster::assert_controller_healthy(c, pid, offset);
}

/// `hetpolicy eval --user U` says what the real sbatch, run as U, gets:
/// the same verdict and the same lines, with U's groups and default
/// account as slurmctld knows them.
#[test]
fn eval_as_each_user_agrees_with_their_real_submission() {
    let c = ensure_accounting();
    let _policy = install_who_policy(c);
    let script = c.write_tmp(
        ".sh",
        "#!/bin/bash\n#SBATCH -p gpu --gres=gpu:1 -t 1\ntrue\n",
    );
    let script = script.to_string_lossy().into_owned();
    let release = cluster::requested_release();
    for (user, extra) in [
        ("alice", &[][..]),
        ("bob", &[][..]),
        ("bob", &["-A", "physics"][..]),
        ("carol", &[][..]),
        ("mallory", &[][..]),
    ] {
        let mut real_args = vec!["--hold", "-o", "/dev/null"];
        real_args.extend_from_slice(extra);
        real_args.push(&script);
        let real = run_as(c, user, "sbatch", &real_args);
        let mut eval_args = vec!["eval", "--slurm", &release, "--user", user, &script, "--"];
        eval_args.push("--hold");
        eval_args.extend_from_slice(extra);
        let eval = c.run(common::bin::hetpolicy(), &eval_args);
        let what = format!("{user} {extra:?}");
        assert_eq!(
            eval.code == 0,
            real.code == 0,
            "{what}: eval and sbatch disagree:\n{eval:?}\n{real:?}"
        );
        for line in real
            .stderr
            .lines()
            .filter(|l| l.starts_with("sbatch: error:"))
        {
            assert!(
                eval.stdout.lines().any(|l| l.trim() == line),
                "{what}: eval does not print sbatch's line\n  {line}\n{eval:?}"
            );
        }
        if let Some(job) = real.job_id() {
            c.run("scancel", &[&job.to_string()]);
        }
    }
}
