//! `hetpolicy replay` on the cluster with Slurm accounting: jobs run as
//! alice, bob and carol under the reference policy, then what slurmdbd
//! recorded of them (`sacct --json`) is replayed against a stricter
//! policy, and the counts per rule, account and user must be exactly what
//! the stricter policy would have done to those jobs.
//!
//! Left out of plain `cargo test` like tests/cluster_accounting.rs: run it
//! with `container/cluster --slurm R test --accounting --test
//! cluster_replay`.

mod common;

use common::bin::hetpolicy;
use common::cluster::{ensure_accounting, run_command, Cluster, COMMAND_TIMEOUT};
use common::users::run_as;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The reference policy, plus partition gpu only for account physics
/// (enforced) and at most an hour on QOS normal (in warn mode).
fn stricter(reference: &str) -> String {
    let gpu = "    reserved_for: [gpu]\n";
    let normal = "  normal:\n    max_gres: {gpu: 1}\n    max_time: 1-00:00:00\n";
    assert_eq!(
        reference.matches(gpu).count(),
        1,
        "partition gpu's line changed"
    );
    assert_eq!(reference.matches(normal).count(), 1, "qos.normal changed");
    reference
        .replace(gpu, &format!("{gpu}    allow: {{accounts: [physics]}}\n"))
        .replace(
            normal,
            "  normal:\n    max_gres: {gpu: 1}\n    max_time: \"1:00:00\"\n    enforcement: warn\n",
        )
}

/// Submits `args` as `user`, named `name`, and returns the job id.
fn submit(c: &Cluster, user: &str, name: &str, args: &[&str]) -> u32 {
    let mut all = vec!["-J", name, "-o", "/dev/null"];
    all.extend_from_slice(args);
    let out = run_as(c, user, "sbatch", &all);
    assert!(out.success(), "{user} sbatch {all:?}:\n{out:?}");
    out.expect_job_id()
}

/// `sacct --json` of the jobs named `name`, once slurmdbd has all `count`
/// records ended.
fn recorded(c: &Cluster, name: &str, count: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let out = c.run(
            "sacct",
            &[
                "--json",
                "--allusers",
                "--starttime",
                "now-1days",
                "--name",
                name,
            ],
        );
        assert!(out.success(), "sacct --json:\n{out:?}");
        let value: Value = serde_json::from_str(&out.stdout).expect("sacct prints JSON");
        let jobs = value["jobs"].as_array().expect("jobs").clone();
        let ended = jobs
            .iter()
            .filter(|job| {
                let end = &job["time"]["end"];
                end.as_u64().or_else(|| end["number"].as_u64()).unwrap_or(0) > 0
            })
            .count();
        if jobs.len() == count && ended == count {
            return out.stdout;
        }
        assert!(
            Instant::now() < deadline,
            "slurmdbd has {} records of {count} ({ended} ended):\n{}",
            jobs.len(),
            out.stdout
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn replay(c: &Cluster, args: &[&str]) -> Value {
    let out = run_command(c.command(hetpolicy(), args), COMMAND_TIMEOUT);
    assert!(out.success(), "hetpolicy {args:?}:\n{out:?}");
    serde_json::from_str(&out.stdout).expect("replay --format json prints JSON")
}

fn counts(report: &Value, path: &[&str]) -> (u64, u64, u64) {
    let mut at = report;
    for key in path {
        at = &at[*key];
    }
    let get = |k: &str| at[k].as_u64().unwrap_or(0);
    (get("refused"), get("warned"), get("changed"))
}

#[test]
fn jobs_that_ran_replayed_against_a_stricter_policy() {
    let c = ensure_accounting();
    let name = format!("replay-{}", std::process::id());
    let mut ids = vec![
        // alice's default account is physics; bob's and carol's is chem.
        submit(
            c,
            "alice",
            &name,
            &["-p", "gpu", "--gres=gpu:1", "-t", "10", "--wrap", "true"],
        ),
        submit(
            c,
            "bob",
            &name,
            &[
                "-p",
                "cpu",
                "-n",
                "2",
                "--mem=100M",
                "-t",
                "60",
                "--wrap",
                "true",
            ],
        ),
        submit(
            c,
            "bob",
            &name,
            &[
                "-A", "physics", "-p", "gpu", "--gpus=1", "-t", "10", "--wrap", "true",
            ],
        ),
        submit(
            c,
            "carol",
            &name,
            &["-p", "cpu", "-t", "120", "--wrap", "true"],
        ),
        submit(
            c,
            "alice",
            &name,
            &[
                "-p",
                "cpu",
                "-t",
                "5",
                ":",
                "-p",
                "gpu",
                "--gpus-per-node=1",
                "-t",
                "5",
                "--wrap",
                "true",
            ],
        ),
        submit(
            c,
            "carol",
            &name,
            &["-p", "gpu", "--gres=gpu:1", "-t", "10", "--wrap", "true"],
        ),
        submit(
            c,
            "bob",
            &name,
            &["-p", "gpu", "--gres=gpu:1", "-t", "10", "--wrap", "true"],
        ),
    ];
    for id in ids.drain(..) {
        c.wait_job(id, Duration::from_secs(120));
    }
    // Seven jobs, one of them a hetjob of two components.
    let json = recorded(c, &name, 8);
    let file = c.write_tmp(".json", &json);
    let strict = c.write_tmp(".yaml", &stricter(&c.reference_policy()));
    let reference = c.reference_policy_path();
    let report = replay(
        c,
        &[
            "replay",
            "--format",
            "json",
            "--sacct-json",
            file.to_str().expect("utf-8"),
            "--against",
            reference.to_str().expect("utf-8"),
            strict.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(report["components"], 8, "{report:#}");
    assert_eq!(report["jobs"], 7, "{report:#}");
    // Under the policy they ran with, nothing was refused.
    assert_eq!(
        counts(&report, &["against", "components"]),
        (0, 0, 0),
        "{report:#}"
    );
    // carol's and bob's GPU jobs on account chem are refused; carol's two
    // hours on QOS normal are warned about.
    let policy = |path: &[&str]| {
        let mut full = vec!["policy"];
        full.extend_from_slice(path);
        counts(&report, &full)
    };
    assert_eq!(policy(&["components"]), (2, 1, 0), "{report:#}");
    assert_eq!(policy(&["jobs"]), (2, 1, 0), "{report:#}");
    assert_eq!(
        policy(&["rules", "partitions.gpu.allow"]),
        (2, 0, 0),
        "{report:#}"
    );
    assert_eq!(
        policy(&["rules", "qos.normal.max_time"]),
        (0, 1, 0),
        "{report:#}"
    );
    assert_eq!(
        report["policy"]["rules"].as_object().map(|r| r.len()),
        Some(2),
        "{report:#}"
    );
    assert_eq!(policy(&["accounts", "chem"]), (2, 1, 0), "{report:#}");
    assert_eq!(policy(&["accounts", "physics"]), (0, 0, 0), "{report:#}");
    assert_eq!(
        report["policy"]["accounts"]["physics"]["seen"], 4,
        "{report:#}"
    );
    assert_eq!(policy(&["users", "carol"]), (1, 1, 0), "{report:#}");
    assert_eq!(policy(&["users", "bob"]), (1, 0, 0), "{report:#}");
    assert_eq!(policy(&["users", "alice"]), (0, 0, 0), "{report:#}");
    assert_eq!(report["difference"]["newly_refused"], 2, "{report:#}");
    assert_eq!(report["difference"]["newly_warned"], 1, "{report:#}");
    assert_eq!(report["difference"]["no_longer_refused"], 0, "{report:#}");
    assert_eq!(
        report["difference"]["accounts"]["chem"]["newly_refused"], 2,
        "{report:#}"
    );

    // The same records read from sacct itself, as a stream: the cluster may
    // hold other tests' jobs too, so at least these.
    let live = replay(
        c,
        &[
            "replay",
            "--format",
            "json",
            "--start",
            "now-1days",
            strict.to_str().expect("utf-8"),
        ],
    );
    assert!(live["components"].as_u64().unwrap_or(0) >= 8, "{live:#}");
    let live_gpu = counts(&live, &["policy", "rules", "partitions.gpu.allow"]);
    assert!(live_gpu.0 >= 2, "{live:#}");
    let release = live["slurm"].as_str().unwrap_or("");
    let (major, minor, _) = c.slurm_release();
    assert!(
        release.starts_with(&format!("{major}.{minor:02}")),
        "sacct's release {release} is not the cluster's {major}.{minor:02}"
    );
}
