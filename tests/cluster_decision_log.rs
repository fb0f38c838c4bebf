//! The decision log and the per-rule counters on the real slurmctld, on
//! every release: one JSON line per judged component, the counts those
//! submissions caused in the OpenMetrics file and in `hetpolicy stats`,
//! and a logrotate-style rotation (move, then create) under load that
//! loses and tears no line.
mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::cluster::{self, Cluster, CmdOutput};
use serde_json::Value;

/// How long the writer thread may take to write what was judged (it
/// writes within a second; this only bounds a broken one).
const WRITTEN_WITHIN: Duration = Duration::from_secs(60);

/// A name no other test run uses.
fn unique(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{what}-{}-{nanos}", std::process::id())
}

/// The reference policy with QOS normal in warn mode, a decision log and
/// a metrics file.
fn policy(c: &Cluster, log: &Path, metrics: &Path) -> String {
    let text = c.reference_policy_with(
        "  normal:\n    max_gres",
        "  normal:\n    enforcement: warn\n    max_gres",
    );
    format!(
        "{text}\ndecision_log: {}\nmetrics_file: {}\n",
        log.display(),
        metrics.display()
    )
}

/// Every line of the files, each parsed (a line that is not one JSON
/// object fails the test: a torn or interleaved line).
fn json_lines(files: &[PathBuf]) -> Vec<Value> {
    let mut lines = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{} ends in the middle of a line",
            file.display()
        );
        for line in text.lines() {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                panic!("{}: not one JSON object ({e}): {line}", file.display())
            });
            assert!(value.is_object(), "{line}");
            lines.push(value);
        }
    }
    lines
}

/// The lines of jobs named `name*`.
fn named<'v>(lines: &'v [Value], name: &str) -> Vec<&'v Value> {
    lines
        .iter()
        .filter(|l| l["job_name"].as_str().is_some_and(|n| n.starts_with(name)))
        .collect()
}

/// Polls until `files` hold `count` lines of jobs named `name*`.
fn wait_for_lines(files: &dyn Fn() -> Vec<PathBuf>, name: &str, count: usize) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let lines = json_lines(&files());
        let found = named(&lines, name).len();
        if found >= count || start.elapsed() > WRITTEN_WITHIN {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The metrics file's samples: `name{labels}` → value.
fn metrics(path: &Path) -> BTreeMap<String, u64> {
    let text = fs::read_to_string(path).unwrap_or_default();
    if !text.is_empty() {
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn sample(rule: &str, outcome: &str) -> String {
    format!("hetpolicy_components_total{{rule=\"{rule}\",outcome=\"{outcome}\"}}")
}

/// Polls until the metrics file's total of judged components reaches
/// `judged`.
fn wait_for_metrics(path: &Path, judged: u64) -> BTreeMap<String, u64> {
    let start = Instant::now();
    loop {
        let m = metrics(path);
        let total = m.get(&sample("", "accepted")).copied().unwrap_or(0)
            + m.get(&sample("", "refused")).copied().unwrap_or(0);
        if total >= judged || start.elapsed() > WRITTEN_WITHIN {
            return m;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The metrics once the writer has written everything judged so far:
/// two reads more than two of its ticks apart that agree (nothing else
/// submits while a test of this file holds the policy).
fn settled_metrics(path: &Path) -> BTreeMap<String, u64> {
    let start = Instant::now();
    let mut last = metrics(path);
    loop {
        std::thread::sleep(Duration::from_millis(2_500));
        let now = metrics(path);
        if (now == last && !now.is_empty()) || start.elapsed() > WRITTEN_WITHIN {
            return now;
        }
        last = now;
    }
}

fn delta(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>, key: &str) -> u64 {
    after.get(key).copied().unwrap_or(0) - before.get(key).copied().unwrap_or(0)
}

fn judged_total(m: &BTreeMap<String, u64>) -> u64 {
    m.get(&sample("", "accepted")).copied().unwrap_or(0)
        + m.get(&sample("", "refused")).copied().unwrap_or(0)
}

/// Submits one job named `name` and waits for its line: the policy is
/// loaded and the writer runs.
fn prime(c: &Cluster, log: &Path, name: &str) {
    let out = sbatch(c, name, &["-p", "cpu"]);
    assert_eq!(out.code, 0, "{out:?}");
    cancel(c, &out);
    let lines = wait_for_lines(&|| vec![log.to_path_buf()], name, 1);
    assert_eq!(
        named(&lines, name).len(),
        1,
        "the primer's line:\n{lines:?}"
    );
}

fn sbatch(c: &Cluster, name: &str, args: &[&str]) -> CmdOutput {
    let mut all = vec!["--hold", "-o", "/dev/null", "-J", name];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--wrap", "true"]);
    c.run("sbatch", &all)
}

fn cancel(c: &Cluster, out: &CmdOutput) {
    if let Some(job) = out.job_id() {
        c.run("scancel", &[&job.to_string()]);
    }
}

#[test]
fn each_judged_component_is_logged_and_counted() {
    let c = cluster::ensure_up();
    let log = c.tmp_dir().join(unique("decisions") + ".jsonl");
    let prom = c.tmp_dir().join(unique("metrics") + ".prom");
    let _policy = c.with_policy_settled(&policy(c, &log, &prom));
    let name = unique("logged");
    prime(c, &log, &format!("{name}-primer"));
    let before = settled_metrics(&prom);

    // Accepted with changes (default QOS and time), refused (a GPU on
    // cpu), accepted with a warning (over QOS normal's time, warn mode),
    // and a hetjob whose component 1 is routed: 5 components.
    let plain = sbatch(c, &format!("{name}-plain"), &["-p", "cpu"]);
    assert_eq!(plain.code, 0, "{plain:?}");
    let refused = sbatch(
        c,
        &format!("{name}-refused"),
        &["-p", "cpu", "--gres=gpu:1"],
    );
    assert_eq!(refused.code, 1, "{refused:?}");
    let warned = sbatch(
        c,
        &format!("{name}-warned"),
        &["-p", "cpu", "--qos=normal", "-t", "3-00:00:00"],
    );
    assert_eq!(warned.code, 0, "{warned:?}");
    assert!(
        warned.stderr.contains("this rule only warns for now"),
        "{warned:?}"
    );
    let het = c.sbatch(
        &["--hold", "-o", "/dev/null", "-J", &format!("{name}-het")],
        Some("#!/bin/sh\n#SBATCH -p cpu --qos=normal -t 10\n#SBATCH hetjob\n#SBATCH --gres=gpu:1 -t 10\ntrue\n"),
    );
    assert_eq!(het.code, 0, "{het:?}");
    for out in [&plain, &warned, &het] {
        cancel(c, out);
    }

    let files = || vec![log.clone()];
    let lines = wait_for_lines(&files, &format!("{name}-"), 6);
    let ours = named(&lines, &format!("{name}-"));
    assert_eq!(ours.len(), 6, "primer + 5 components:\n{ours:#?}");
    let by_name = |suffix: &str| -> Vec<&Value> {
        ours.iter()
            .copied()
            .filter(|l| l["job_name"] == format!("{name}-{suffix}"))
            .collect()
    };
    let plain_line = by_name("plain");
    assert_eq!(plain_line.len(), 1);
    assert_eq!(plain_line[0]["verdict"], "accepted");
    assert_eq!(plain_line[0]["component"], Value::Null);
    assert_eq!(plain_line[0]["uid"], 0);
    assert_eq!(plain_line[0]["user"], "root");
    assert_eq!(plain_line[0]["request"]["partition"], "cpu");
    assert_eq!(plain_line[0]["request"]["kind"], "batch");
    // QOS normal's rules warn: its time limit is not set, only told.
    assert_eq!(
        plain_line[0]["changes"],
        serde_json::json!({"whole_nodes": false, "qos": "normal"})
    );
    assert_eq!(
        plain_line[0]["changed_by"],
        serde_json::json!(["partitions.cpu.qos"])
    );
    assert_eq!(plain_line[0]["warnings"][0]["rule"], "qos.normal.max_time");
    let refused_line = by_name("refused");
    assert_eq!(refused_line.len(), 1);
    assert_eq!(refused_line[0]["verdict"], "refused");
    assert_eq!(refused_line[0]["rule"], "accelerators.gpu");
    assert_eq!(refused_line[0]["error"], "ESLURM_INVALID_PARTITION_NAME");
    assert_eq!(
        refused_line[0]["request"]["tres_per_node"]
            .as_str()
            .map(|t| t.contains("gpu")),
        Some(true)
    );
    let warned_line = by_name("warned");
    assert_eq!(warned_line.len(), 1);
    assert_eq!(warned_line[0]["verdict"], "accepted");
    assert_eq!(warned_line[0]["warnings"][0]["rule"], "qos.normal.max_time");
    assert_eq!(
        warned_line[0]["changes"],
        serde_json::json!({"whole_nodes": false})
    );
    let het_lines = by_name("het");
    assert_eq!(het_lines.len(), 2, "{het_lines:#?}");
    assert_eq!(het_lines[0]["component"], 0);
    assert_eq!(het_lines[1]["component"], 1);
    assert_eq!(het_lines[1]["changes"]["partition"], "gpu");
    assert_eq!(
        het_lines[1]["changed_by"],
        serde_json::json!(["accelerators.gpu"])
    );

    // The counts those 5 components caused.
    let after = wait_for_metrics(&prom, judged_total(&before) + 5);
    assert_eq!(
        delta(&after, &before, &sample("", "accepted")),
        4,
        "{after:#?}"
    );
    assert_eq!(delta(&after, &before, &sample("", "refused")), 1);
    // plain (time not set) and warned (over the time).
    assert_eq!(delta(&after, &before, &sample("", "warned")), 2);
    // plain (QOS) and het 1 (routing; sbatch carried --qos and -t to it);
    // het 0 and warned asked for everything.
    assert_eq!(delta(&after, &before, &sample("", "changed")), 2);
    for (rule, outcome, count) in [
        ("accelerators.gpu", "refused", 1),
        ("accelerators.gpu", "changed", 1),
        ("qos.normal.max_time", "warned", 2),
        ("qos.normal.max_time", "changed", 0),
        ("partitions.cpu.qos", "changed", 1),
    ] {
        assert_eq!(
            delta(&after, &before, &sample(rule, outcome)),
            count,
            "{rule} {outcome}: {after:#?}"
        );
    }

    // hetpolicy stats shows the same file: by --metrics, and through the
    // policy's metrics_file.
    for args in [
        vec![
            "stats",
            "--format",
            "json",
            "--metrics",
            prom.to_str().unwrap(),
        ],
        vec![
            "stats",
            "--format",
            "json",
            "--policy",
            c.policy_path().to_str().unwrap(),
        ],
    ] {
        let out = c.run(common::bin::hetpolicy(), &args);
        assert_eq!(out.code, 0, "{out:?}");
        let stats: Value = serde_json::from_str(&out.stdout).expect("JSON");
        let now = metrics(&prom);
        assert_eq!(
            stats["total"]["accepted"],
            now[&sample("", "accepted")],
            "{out:?}"
        );
        assert_eq!(
            stats["rules"]["accelerators.gpu"]["refused"],
            now[&sample("accelerators.gpu", "refused")]
        );
        assert_eq!(stats["dropped"], 0, "{out:?}");
    }
    let table = c.run(
        common::bin::hetpolicy(),
        &["stats", "--metrics", prom.to_str().unwrap()],
    );
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.stdout.starts_with("rule "), "{table:?}");
    assert!(table.stdout.contains("\naccelerators.gpu "), "{table:?}");
    assert!(
        table.stdout.contains("\ndecision log lines dropped: 0\n"),
        "{table:?}"
    );
}

#[test]
fn a_rotation_under_load_loses_and_tears_no_line() {
    const CLIENTS: usize = 8;
    const EACH: usize = 100;
    let c = cluster::ensure_up();
    let dir = c.tmp_dir().join(unique("rotated"));
    fs::create_dir_all(&dir).expect("log directory");
    let log = dir.join("decisions.jsonl");
    let prom = dir.join("metrics.prom");
    let _policy = c.with_policy_settled(&policy(c, &log, &prom));
    let name = unique("load");
    prime(c, &log, &format!("{name}-primer"));
    let before = settled_metrics(&prom);

    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut rotations = 0;
    std::thread::scope(|scope| {
        for client in 0..CLIENTS {
            let (done, name) = (&done, &name);
            scope.spawn(move || {
                for i in 0..EACH {
                    // Every other job accepted, refused in between.
                    let out = if i % 2 == 0 {
                        sbatch(c, &format!("{name}-{client}-{i}"), &["-p", "cpu"])
                    } else {
                        sbatch(
                            c,
                            &format!("{name}-{client}-{i}"),
                            &["-p", "cpu", "--gres=gpu:1"],
                        )
                    };
                    assert!(out.code == 0 || out.code == 1, "{out:?}");
                    cancel(c, &out);
                }
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        }
        // logrotate's default: move the file, then create a new one.
        while done.load(std::sync::atomic::Ordering::SeqCst) < CLIENTS {
            std::thread::sleep(Duration::from_millis(150));
            rotations += 1;
            let moved = dir.join(format!("decisions.jsonl.{rotations}"));
            if fs::rename(&log, &moved).is_ok() {
                // As logrotate's `create`, without truncating a file the
                // plugin may have created meanwhile.
                fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .expect("create the new log");
            }
        }
    });
    assert!(rotations >= 10, "the load ended before 10 rotations");

    let files = || {
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("read the log directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.to_string_lossy().contains("decisions.jsonl"))
            .collect();
        files.sort();
        files
    };
    let expected = CLIENTS * EACH;
    let lines = wait_for_lines(&files, &format!("{name}-"), expected + 1);
    let ours = named(&lines, &format!("{name}-"));
    assert_eq!(
        ours.len(),
        expected + 1,
        "every component once (primer + {expected}), over {} files",
        files().len()
    );
    let mut seen = std::collections::BTreeSet::new();
    for line in &ours {
        assert!(
            seen.insert(line["job_name"].as_str().unwrap_or_default().to_owned()),
            "twice: {line}"
        );
    }
    let with_lines = files()
        .iter()
        .filter(|f| fs::metadata(f).is_ok_and(|m| m.len() > 0))
        .count();
    assert!(
        with_lines >= 3,
        "the lines went to the moved files too ({with_lines} files)"
    );
    let after = wait_for_metrics(&prom, judged_total(&before) + expected as u64);
    assert_eq!(
        judged_total(&after) - judged_total(&before),
        expected as u64
    );
    assert_eq!(
        delta(&after, &before, &sample("", "refused")),
        expected as u64 / 2
    );
    assert_eq!(
        delta(&after, &before, "hetpolicy_decision_log_dropped_total"),
        0,
        "no line dropped"
    );
}
