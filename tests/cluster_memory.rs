//! Memory: 20,000 submissions through the plugin must not make slurmctld
//! grow by more than what 1,000 submissions are worth.
//!
//! The submissions are ones that leave no job record behind, so that what
//! remains is the plugin's share (and any leak): hetjobs whose first
//! components are accepted (the plugin sets their QOS and time limit, or
//! routes them: strings in Slurm's allocator) and whose last component is
//! refused (an err_msg), and plain jobs refused. (`sbatch --test-only`
//! leaves no record either, but Slurm 24.11's slurmctld grows by several
//! kB per --test-only submission without any job_submit plugin, so it
//! cannot measure ours.)
//!
//! The yardstick, "1,000 submissions' worth", is measured on the same
//! controller: the growth of its resident set when 1,000 held hetjobs are
//! accepted and kept.
mod common;

use common::cluster::{self, Cluster};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const WARM_UP: usize = 2_000;
const MEASURED: usize = 20_000;
const YARDSTICK: usize = 1_000;
const NAME: &str = "hetpolicy-memory";

/// The submissions of the measured run, in turn, and whether each is
/// accepted.
const MIX: &[(&[&str], bool)] = &[
    // Component 0 accepted with changes, component 1 refused.
    (
        &[
            "-J",
            NAME,
            "-p",
            "cpu",
            "--wrap",
            "true",
            ":",
            "-J",
            NAME,
            "-p",
            "cpu",
            "--gres=gpu:1",
        ],
        false,
    ),
    // A plain job refused.
    (
        &["-J", NAME, "-p", "cpu", "--gres=gpu:1", "--wrap", "true"],
        false,
    ),
    // Component 0 routed to gpu, component 1 refused.
    (
        &[
            "-J",
            NAME,
            "--gres=gpu:1",
            "--wrap",
            "true",
            ":",
            "-J",
            NAME,
            "-p",
            "cpu",
            "--gres=gpu:1",
        ],
        false,
    ),
    // Component 0 given a QOS and time limit, component 1 routed,
    // component 2 refused.
    (
        &[
            "-J",
            NAME,
            "-p",
            "cpu",
            "--wrap",
            "true",
            ":",
            "-J",
            NAME,
            "--gres=gpu:1",
            ":",
            "-J",
            NAME,
            "-p",
            "cpu",
            "--gres=gpu:1",
        ],
        false,
    ),
];

const HELD_HETJOB: &[&str] = &[
    "--hold",
    "-J",
    NAME,
    "-p",
    "cpu",
    "--wrap",
    "true",
    ":",
    "-J",
    NAME,
    "-p",
    "gpu",
    "--gres=gpu:1",
];

/// slurmctld's resident set, in kB, from /proc/<pid>/status.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}

/// Runs sbatch against the cluster as `Cluster::run` does
/// ([`Cluster::command`]), but waits for it without polling: thousands of
/// submissions are timed by sbatch itself, not by the harness. Returns the
/// exit code and stderr.
fn sbatch(c: &Cluster, args: &[&str]) -> (Option<i32>, String) {
    let out = c.command("sbatch", args).output().expect("run sbatch");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `count` submissions from CLIENTS threads; `pick(i)` gives the
/// arguments and whether submission `i` must be accepted. Returns a
/// description of each submission that did not get the expected outcome.
fn submit_all(
    c: &Cluster,
    count: usize,
    pick: impl Fn(usize) -> (&'static [&'static str], bool) + Sync,
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let wrong = std::sync::Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..CLIENTS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let (args, accept) = pick(i);
                let (code, stderr) = sbatch(c, args);
                let ok = if accept {
                    code == Some(0)
                } else {
                    code == Some(1) && stderr.contains("(policy: accelerators.gpu)")
                };
                if !ok {
                    wrong
                        .lock()
                        .unwrap()
                        .push(format!("{args:?}: exit {code:?}\n{stderr}"));
                }
            });
        }
    });
    wrong.into_inner().unwrap()
}

fn settle() {
    thread::sleep(Duration::from_secs(2));
}

#[test]
fn twenty_thousand_submissions_cost_less_than_a_thousand_held_jobs() {
    let c = cluster::ensure_up();
    let policy = std::fs::read_to_string(c.repo.join("tests/fixtures/ffi-policy.yaml"))
        .expect("read tests/fixtures/ffi-policy.yaml");
    let guard = c.with_policy(&policy);
    thread::sleep(Duration::from_millis(600));
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let mix = |i: usize| MIX[i % MIX.len()];

    let started = Instant::now();
    let wrong = submit_all(c, WARM_UP, mix);
    assert!(wrong.is_empty(), "warm-up: {}", wrong.join("\n"));
    settle();
    let rss_warm = rss_kb(pid);

    // The yardstick: 1,000 held hetjobs, kept while measured.
    let wrong = submit_all(c, YARDSTICK, |_| (HELD_HETJOB, true));
    assert!(wrong.is_empty(), "held hetjobs: {}", wrong.join("\n"));
    settle();
    let rss_held = rss_kb(pid);
    let cancel = c.run("scancel", &["--name", NAME]);
    assert!(cancel.success(), "{cancel:?}");
    let yardstick = rss_held.saturating_sub(rss_warm);
    settle();
    let rss_before = rss_kb(pid);

    let measured_start = Instant::now();
    let wrong = submit_all(c, MEASURED, mix);
    let measured_time = measured_start.elapsed();
    settle();
    let rss_after = rss_kb(pid);
    drop(guard);

    let growth = rss_after.saturating_sub(rss_before);
    println!(
        "memory: slurmctld VmRSS {rss_warm} kB after {WARM_UP} warm-up submissions; \
         {rss_held} kB with {YARDSTICK} held hetjobs (yardstick: {yardstick} kB for \
         {YARDSTICK} submissions)"
    );
    println!(
        "memory: {MEASURED} submissions in {:.1} s ({:.0}/s): VmRSS {rss_before} -> \
         {rss_after} kB, growth {growth} kB ({:.1} bytes per submission); total time {:.1} s",
        measured_time.as_secs_f64(),
        MEASURED as f64 / measured_time.as_secs_f64(),
        growth as f64 * 1024.0 / MEASURED as f64,
        started.elapsed().as_secs_f64()
    );
    assert!(
        wrong.is_empty(),
        "{} submissions got an unexpected verdict:\n{}",
        wrong.len(),
        wrong.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        yardstick > 0,
        "1,000 held hetjobs should make slurmctld grow ({rss_warm} -> {rss_held} kB)"
    );
    assert!(
        growth <= yardstick,
        "slurmctld grew by {growth} kB over {MEASURED} submissions, more than {YARDSTICK} \
         held hetjobs cost ({yardstick} kB)"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}
