//! bench/job_submit.lua, the job_submit/lua version of the reference
//! policy that bench/controller compares hetpolicy with, gives the same
//! verdicts as job_submit/hetpolicy: the same sample jobs (plain jobs and
//! hetjobs, accepted and rejected, every rule of tests/fixtures/policy.yaml) go through
//! real sbatch to the test cluster started with `HETPOLICY_JOB_SUBMIT=lua`,
//! then with hetpolicy. Each sample must get its expected verdict from
//! both, the same lines on sbatch's stderr (message and error code), and,
//! when accepted, the same partition and time limit on every component.
//!
//! Samples on the quantum partition are left out: the reference policy's
//! rules for it involve site options that bench/job_submit.lua does not
//! read.
mod common;

use common::cluster::{cluster_dir, requested_release, Cluster, CmdOutput};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One sample: sbatch arguments (a hetjob's components separated by `:`),
/// or a batch script, and whether the policy accepts it.
struct Sample {
    name: &'static str,
    args: &'static str,
    script: Option<&'static str>,
    accepted: bool,
}

const fn args(name: &'static str, args: &'static str, accepted: bool) -> Sample {
    Sample {
        name,
        args,
        script: None,
        accepted,
    }
}

const fn script(name: &'static str, script: &'static str, accepted: bool) -> Sample {
    Sample {
        name,
        args: "",
        script: Some(script),
        accepted,
    }
}

const SAMPLES: &[Sample] = &[
    // Plain jobs.
    args("cpu job", "-p cpu -t 10", true),
    args("no partition: default partition, QOS and time", "", true),
    args("gpu named no partition: routed", "--gres=gpu:1", true),
    args("--gpus, routed", "--gpus=1 -t 30", true),
    args(
        "gpu on its partition with QOS gpu",
        "-p gpu --gres=gpu:2 --qos=gpu -t 4:00:00",
        true,
    ),
    args(
        "QOS long on cpu for 3 days",
        "-p cpu --qos=long -t 3-00:00:00",
        true,
    ),
    args(
        "a zero GRES count is no request",
        "-p cpu --gres=gpu:0",
        true,
    ),
    args("accelerators: gpu on cpu", "-p cpu --gres=gpu:1", false),
    args(
        "accelerators: gpu on a partition list",
        "-p cpu,gpu --gres=gpu:1",
        false,
    ),
    args(
        "accelerators: qpu names no partition",
        "--gres=qpu:1",
        false,
    ),
    args(
        "accelerators: gpu on quantum",
        "-p quantum --gres=gpu:1",
        false,
    ),
    args(
        "reserved_for: gpu partition without gpu",
        "-p gpu -t 10",
        false,
    ),
    args(
        "qos.allowed: long on gpu",
        "-p gpu --gres=gpu:1 --qos=long",
        false,
    ),
    args(
        "max_gres: 2 gpu with QOS normal",
        "-p gpu --gres=gpu:2 --qos=normal",
        false,
    ),
    args(
        "max_gres: --gpus-per-task times tasks",
        "-p gpu --gpus-per-task=1 -n 3",
        false,
    ),
    args(
        "max_nodes: 3 nodes with QOS long",
        "-p cpu --qos=long -N 3",
        false,
    ),
    args(
        "max_time: 2 days with QOS normal",
        "-p cpu -t 2-00:00:00",
        false,
    ),
    args(
        "max_time: UNLIMITED with QOS gpu",
        "-p gpu --gres=gpu:1 -t UNLIMITED",
        false,
    ),
    args("unreadable GRES", "-p cpu --gres=gpu:x:y", false),
    // Hetjobs on the command line.
    args(
        "hetjob cpu + gpu",
        "-p cpu -t 5 : -p gpu --gres=gpu:1 -t 5",
        true,
    ),
    args(
        "hetjob routed component",
        "-p cpu -t 5 : --gres=gpu:1 -t 5",
        true,
    ),
    args(
        "hetjob component 1 gpu on cpu",
        "-p cpu -t 5 : -p cpu --gres=gpu:1 -t 5",
        false,
    ),
    args(
        "hetjob component 1 with its own --output",
        "-p cpu -t 5 -o a.txt : -p cpu -t 5 -o b.txt",
        false,
    ),
    args(
        "hetjob component 0 over max_time",
        "-p cpu -t 2-0 : -p cpu -t 5",
        false,
    ),
    args(
        "hetjob of 5 components",
        "-p cpu -t 5 : -p cpu -t 5 : -p cpu -t 5 : -p cpu -t 5 : -p cpu -t 5",
        false,
    ),
    args(
        "hetjob of 4 components",
        "-p cpu -t 5 : -p cpu -t 5 : -p cpu -t 5 : -p cpu -t 5",
        true,
    ),
    // Hetjobs in batch scripts.
    script(
        "seed 000: cpu + gpu hetjob",
        "#!/bin/bash
#SBATCH --partition=cpu --ntasks=2 --cpus-per-task=4 --mem=8G
#SBATCH hetjob
#SBATCH --partition=gpu --gres=gpu:1 --ntasks=1 --cpus-per-task=2 --mem=16G
true
",
        true,
    ),
    script(
        "#SBATCH --output on component 0 only",
        "#!/bin/bash
#SBATCH -p cpu -t 5 --output=first.txt
#SBATCH hetjob
#SBATCH -p cpu -t 5
true
",
        true,
    ),
    script(
        "#SBATCH --error on component 1 only",
        "#!/bin/bash
#SBATCH -p cpu -t 5
#SBATCH hetjob
#SBATCH -p cpu -t 5 --error=later.err
true
",
        false,
    ),
    script(
        "max_total_gres: 3 gpu over the hetjob",
        "#!/bin/bash
#SBATCH -p gpu --gres=gpu:2 -t 5
#SBATCH hetjob
#SBATCH -p gpu --gres=gpu:1 -t 5
true
",
        false,
    ),
];

/// What one plugin did with one sample.
#[derive(Debug, PartialEq)]
struct Outcome {
    accepted: bool,
    /// sbatch's stderr, trimmed.
    stderr: String,
    /// Partition and TimeLimit of each component, when accepted.
    components: Vec<(String, String)>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Holds `container/cluster`'s lock (the one tests/common takes) until
/// dropped: no other test restarts the cluster meanwhile.
struct ClusterLock {
    _file: File,
}

impl ClusterLock {
    fn take(path: &Path) -> ClusterLock {
        let file = File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // SAFETY: flock on a descriptor this File owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "flock {}", path.display());
        ClusterLock { _file: file }
    }
}

/// Restarts the cluster with `job_submit` (lua or hetpolicy) and submits
/// every sample.
fn run_samples(repo: &Path, dir: &Path, job_submit: &str) -> Vec<Outcome> {
    // The tests' policy, as every cluster test starts from (the shipped
    // policy.yaml also has rules about who submits, which root's jobs here
    // would break).
    let policy = repo.join("tests").join("fixtures").join("policy.yaml");
    let out = Command::new(repo.join("container").join("cluster"))
        .arg("up")
        .arg("--policy")
        .arg(&policy)
        .env("HETPOLICY_JOB_SUBMIT", job_submit)
        .env_remove("HETPOLICY_SKIP_BUILD")
        .env_remove("HETPOLICY_CONFIGLESS")
        .current_dir(repo)
        .output()
        .expect("run container/cluster up");
    assert!(
        out.status.success(),
        "container/cluster up ({job_submit}) failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let cluster = Cluster {
        slurm_conf: dir.join("etc").join("slurm.conf"),
        dir: dir.to_path_buf(),
        repo: repo.to_path_buf(),
        configless: false,
    };
    std::fs::create_dir_all(cluster.tmp_dir()).expect("create the cluster's tmp directory");
    let log_start = cluster.log_len();
    let outcomes = SAMPLES
        .iter()
        .map(|sample| submit(&cluster, sample))
        .collect();
    let log = cluster.log_since(log_start);
    // Slurm's log lines: "[time] error: ..."; a Lua run-time error names
    // job_submit/lua.
    let bad: Vec<&str> = log
        .lines()
        .filter(|l| {
            let text = l.split_once("] ").map_or(*l, |(_, text)| text);
            (text.starts_with("error:") || text.starts_with("fatal:"))
                && (text.contains("lua") || text.contains("hetpolicy"))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "slurmctld ({job_submit}) logged errors:\n{}",
        bad.join("\n")
    );
    outcomes
}

fn submit(cluster: &Cluster, sample: &Sample) -> Outcome {
    let mut argv: Vec<&str> = vec!["--hold"];
    argv.extend(sample.args.split_whitespace());
    let out: CmdOutput = match sample.script {
        Some(body) => cluster.sbatch(&argv, Some(body)),
        None => {
            argv.extend(["--wrap", "true"]);
            cluster.sbatch(&argv, None)
        }
    };
    let accepted = out.code == 0;
    let components = match out.job_id() {
        Some(job) if accepted => {
            let show = cluster.run("scontrol", &["show", "job", "-o", &job.to_string()]);
            show.stdout
                .lines()
                .map(|line| (field(line, "Partition="), field(line, "TimeLimit=")))
                .collect()
        }
        _ => Vec::new(),
    };
    Outcome {
        accepted,
        stderr: without_notices(&out.stderr),
        components,
    }
}

/// sbatch's stderr, trimmed, without hetpolicy's notices of what it set
/// on accepted components (`notices`, docs/policy.md), which
/// bench/job_submit.lua does not tell: the lines compared are the
/// refusals.
fn without_notices(stderr: &str) -> String {
    const NOTICES: [&str; 5] = [
        ": components requesting ",
        " gets QOS ",
        " gets time limit ",
        " gets --mem-per-cpu=",
        " gets whole nodes (--exclusive)",
    ];
    stderr
        .lines()
        .filter(|line| !NOTICES.iter().any(|notice| line.contains(notice)))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

fn field(line: &str, key: &str) -> String {
    line.split_whitespace()
        .find_map(|f| f.strip_prefix(key))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn lua_comparison_gives_hetpolicys_verdicts_and_messages() {
    let repo = repo();
    let dir = cluster_dir(&repo, &requested_release());
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).expect("create the cluster's parent directory");
    }
    let _lock = ClusterLock::take(&dir.with_extension("lock"));
    let lua = run_samples(&repo, &dir, "lua");
    // hetpolicy last: the cluster is left as the other tests expect it.
    let hetpolicy = run_samples(&repo, &dir, "hetpolicy");

    let mut problems = Vec::new();
    for ((sample, lua), hetpolicy) in SAMPLES.iter().zip(&lua).zip(&hetpolicy) {
        let expected = if sample.accepted { "accept" } else { "reject" };
        if hetpolicy.accepted != sample.accepted {
            problems.push(format!(
                "{}: hetpolicy does not {expected}: {hetpolicy:?}",
                sample.name
            ));
        }
        if lua.accepted != sample.accepted {
            problems.push(format!("{}: lua does not {expected}: {lua:?}", sample.name));
        }
        if lua != hetpolicy {
            problems.push(format!(
                "{}: lua and hetpolicy differ\n  lua:       {lua:?}\n  hetpolicy: {hetpolicy:?}",
                sample.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let rejected = SAMPLES.iter().filter(|s| !s.accepted).count();
    assert!(SAMPLES.len() >= 20 && rejected >= 10 && SAMPLES.len() - rejected >= 10);
}
