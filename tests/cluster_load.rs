//! Reload under load: 2,000 hetjob submissions from 4 parallel sbatch
//! clients while the policy file is rewritten 100 times, rotating between
//! two valid versions with different verdicts (A and B) and one broken
//! version, alternately by atomic rename and by writing in place. Half of
//! the submissions of each version race its file (the plugin may still be
//! waiting for it to settle), the other half come once the plugin has surely
//! read it, so every version is seen.
//!
//! Every submission must get a job id or a clear rejection; every verdict
//! must be what one whole valid version decides (never component 0 judged
//! by one version and component 1 by the other); slurmctld keeps its pid;
//! and its log has no error from the plugin but the broken version's
//! reason and "kept last good policy".
mod common;

use common::cluster::{self, Cluster, CmdOutput};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const PER_CLIENT: usize = 500;
const REWRITES: usize = 100;
/// Submissions between two rewrites.
const PER_REWRITE: usize = CLIENTS * PER_CLIENT / REWRITES;
/// How long after a rewrite the plugin has surely seen the new file: its
/// change-check interval (250 ms) plus the time a changed file must stay
/// unchanged before it is read (100 ms), and a margin.
const SEEN_AFTER: Duration = Duration::from_millis(400);
const NAME: &str = "hetpolicy-load";

/// Version A: QOS normal 1 hour, QOS gpu 2 hours, GPUs only on gpu.
const POLICY_A: &str = "\
# load test, version A
partitions:
  cpu:
    default: true
    qos: {allowed: [normal, long], default: normal}
  gpu:
    reserved_for: [gpu]
    qos: {allowed: [normal, gpu], default: gpu}
accelerators:
  gpu: {partitions: [gpu], action: route}
qos:
  normal: {max_gres: {gpu: 1}, max_time: \"60\"}
  gpu: {max_gres: {gpu: 2}, max_time: \"120\"}
  long: {max_time: 7-00:00:00}
hetjob:
  max_components: 4
";

/// Version B: 3 and 4 hours, and GPUs allowed on cpu too.
fn policy_b() -> String {
    POLICY_A
        .replace("version A", "version B")
        .replace("max_time: \"60\"", "max_time: \"180\"")
        .replace("max_time: \"120\"", "max_time: \"240\"")
        .replace(
            "partitions: [gpu], action",
            "partitions: [gpu, cpu], action",
        )
}

/// Version A with a misspelt key: refused, the last good policy stays.
fn policy_broken() -> String {
    POLICY_A
        .replace("version A", "broken version")
        .replace("max_gres: {gpu: 2}", "max_gpus: 2")
}

/// The two kinds of submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    /// cpu + gpu with a GPU: accepted by both; the time limits tell which.
    Times,
    /// cpu + cpu with a GPU: A refuses component 1, B accepts.
    GpuOnCpu,
}

const ARGS_TIMES: &[&str] = &[
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
const ARGS_GPU_ON_CPU: &[&str] = &[
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
    "cpu",
    "--gres=gpu:1",
];
const A_REFUSES: &str = "sbatch: error: 1: hetjob component 1 requests gpu:1 on partition \
     cpu; gpu components must use --partition=gpu (policy: accelerators.gpu)";
const A_REFUSES_CODE: &str =
    "sbatch: error: Batch job submission failed: Invalid partition name specified";

struct Outcome {
    kind: Kind,
    out: CmdOutput,
}

/// Which version decided, or why the verdict is none of them.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Decided {
    A,
    B,
    Bad(String),
}

fn classify(outcome: &Outcome, limits: &HashMap<u32, Vec<(u32, String)>>) -> Decided {
    let out = &outcome.out;
    match (out.code, out.job_id()) {
        (0, Some(job)) => {
            let mut components = limits.get(&job).cloned().unwrap_or_default();
            components.sort();
            let times: Vec<&str> = components.iter().map(|(_, t)| t.as_str()).collect();
            match (outcome.kind, times.as_slice()) {
                (Kind::Times, ["1:00:00", "2:00:00"]) => Decided::A,
                (Kind::Times, ["3:00:00", "4:00:00"]) => Decided::B,
                (Kind::GpuOnCpu, ["3:00:00", "3:00:00"]) => Decided::B,
                (kind, times) => Decided::Bad(format!(
                    "{kind:?} job {job} accepted with time limits {times:?} (a mix of versions?)"
                )),
            }
        }
        (1, None)
            if outcome.kind == Kind::GpuOnCpu
                && out.stderr.lines().any(|l| l == A_REFUSES)
                && out.stderr.lines().any(|l| l == A_REFUSES_CODE) =>
        {
            Decided::A
        }
        _ => Decided::Bad(format!(
            "{:?}: neither a job id nor the expected rejection:\n{out:?}",
            outcome.kind
        )),
    }
}

/// Every component of our held jobs: het job id -> (offset, time limit).
fn time_limits(c: &Cluster) -> HashMap<u32, Vec<(u32, String)>> {
    let out = c.run(
        "squeue",
        &[
            "-h",
            "--name",
            NAME,
            "-O",
            "HetJobID:14,HetJobOffset:14,TimeLimit:16",
        ],
    );
    assert!(out.success(), "{out:?}");
    let mut limits: HashMap<u32, Vec<(u32, String)>> = HashMap::new();
    for line in out.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [job, offset, limit] = fields.as_slice() {
            if let (Ok(job), Ok(offset)) = (job.parse(), offset.parse()) {
                limits
                    .entry(job)
                    .or_default()
                    .push((offset, limit.to_string()));
            }
        }
    }
    limits
}

#[test]
fn two_thousand_hetjobs_while_the_policy_is_rewritten_a_hundred_times() {
    let c = cluster::ensure_up();
    let guard = c.with_policy(POLICY_A);
    // The plugin looks at the file when a submission arrives: make it load
    // version A before the clock starts.
    thread::sleep(Duration::from_millis(600));
    let prime = c.sbatch(ARGS_TIMES, None);
    thread::sleep(Duration::from_millis(600));
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let probe = c.sbatch(ARGS_GPU_ON_CPU, None);
    assert!(
        probe.stderr.lines().any(|l| l == A_REFUSES),
        "version A should be in force:\n{probe:?}"
    );
    assert!(prime.success(), "{prime:?}");
    let versions = [POLICY_A.to_owned(), policy_b(), policy_broken()];

    let submitted = AtomicUsize::new(0);
    let rewritten = AtomicUsize::new(0);
    let last_rewrite = Mutex::new(Instant::now());
    let outcomes = Mutex::new(Vec::with_capacity(CLIENTS * PER_CLIENT));
    let started = Instant::now();
    thread::scope(|scope| {
        // The rewriter: one rewrite per PER_REWRITE submissions; A, B,
        // broken, A, ...; rename, in place, ...
        scope.spawn(|| {
            for k in 0..REWRITES {
                while submitted.load(Ordering::SeqCst) < k * PER_REWRITE {
                    thread::sleep(Duration::from_millis(5));
                }
                let text = &versions[(k + 1) % versions.len()];
                let mut last = last_rewrite.lock().unwrap();
                if k % 2 == 0 {
                    c.set_policy(text);
                } else {
                    std::fs::write(c.policy_path(), text).expect("rewrite the policy in place");
                }
                *last = Instant::now();
                rewritten.fetch_add(1, Ordering::SeqCst);
            }
        });
        for client in 0..CLIENTS {
            let (submitted, rewritten, outcomes) = (&submitted, &rewritten, &outcomes);
            let last_rewrite = &last_rewrite;
            scope.spawn(move || {
                for i in 0..PER_CLIENT {
                    // Half of each rewrite's submissions race the new file
                    // (the plugin may still be waiting for it to settle);
                    // the other half come once the plugin has surely read
                    // it, so every version gets its turn. Never more than
                    // one rewrite ahead of the rewriter.
                    loop {
                        // Version `done` gets submissions done-1 .. done
                        // times PER_REWRITE.
                        let done = rewritten.load(Ordering::SeqCst);
                        let sent = submitted.load(Ordering::SeqCst);
                        if done > 0 && sent < done * PER_REWRITE {
                            let racing = sent < (done - 1) * PER_REWRITE + PER_REWRITE / 2;
                            if racing || last_rewrite.lock().unwrap().elapsed() >= SEEN_AFTER {
                                break;
                            }
                        }
                        thread::sleep(Duration::from_millis(2));
                    }
                    let kind = if (client + i) % 2 == 0 {
                        Kind::Times
                    } else {
                        Kind::GpuOnCpu
                    };
                    let args = match kind {
                        Kind::Times => ARGS_TIMES,
                        Kind::GpuOnCpu => ARGS_GPU_ON_CPU,
                    };
                    let out = c.sbatch(args, None);
                    submitted.fetch_add(1, Ordering::SeqCst);
                    outcomes.lock().unwrap().push(Outcome { kind, out });
                }
            });
        }
    });
    let elapsed = started.elapsed();

    let outcomes = outcomes.into_inner().unwrap();
    let limits = time_limits(c);
    let mut counts: HashMap<(Kind, bool), [usize; 2]> = HashMap::new();
    let mut bad = Vec::new();
    for outcome in &outcomes {
        let accepted = outcome.out.code == 0;
        match classify(outcome, &limits) {
            Decided::A => counts.entry((outcome.kind, accepted)).or_default()[0] += 1,
            Decided::B => counts.entry((outcome.kind, accepted)).or_default()[1] += 1,
            Decided::Bad(why) => bad.push(why),
        }
    }
    let cancel = c.run("scancel", &["--name", NAME]);
    assert!(cancel.success(), "{cancel:?}");
    drop(guard);

    let log = c.log_since(offset);
    let loads = log.matches("job_submit/hetpolicy: loaded policy").count();
    let kept = log.matches("kept last good policy").count();
    let total_a: usize = counts.values().map(|c| c[0]).sum();
    let total_b: usize = counts.values().map(|c| c[1]).sum();
    let accepted = outcomes.iter().filter(|o| o.out.code == 0).count();
    println!(
        "load: {} submissions from {CLIENTS} clients in {:.1} s ({:.0}/s); {} policy \
         rewrites ({} by rename, {} in place; A, B, broken in turn)",
        outcomes.len(),
        elapsed.as_secs_f64(),
        outcomes.len() as f64 / elapsed.as_secs_f64(),
        rewritten.load(Ordering::SeqCst),
        REWRITES.div_ceil(2),
        REWRITES / 2
    );
    println!(
        "verdicts: {accepted} accepted, {} rejected; version A decided {total_a}, version B \
         {total_b}, neither {}; the plugin loaded a new version {loads} times and kept the \
         last good policy {kept} times",
        outcomes.len() - accepted,
        bad.len()
    );
    for ((kind, accepted), [a, b]) in &counts {
        println!("  {kind:?}, accepted={accepted}: A {a}, B {b}");
    }
    assert!(
        bad.is_empty(),
        "{} submissions got no verdict of one whole version:\n{}",
        bad.len(),
        bad.iter().take(10).cloned().collect::<Vec<_>>().join("\n")
    );
    assert_eq!(outcomes.len(), CLIENTS * PER_CLIENT);
    assert_eq!(rewritten.load(Ordering::SeqCst), REWRITES);
    assert!(
        total_a > 0 && total_b > 0,
        "both versions must have decided some submissions (A {total_a}, B {total_b})"
    );
    assert_eq!(
        (loads, kept),
        (REWRITES - REWRITES / 3, REWRITES / 3),
        "every rewrite must have been seen: each valid version loaded, each broken one \
         refused while the last good policy stays:\n{log}"
    );
    cluster::assert_controller_healthy_allowing(
        c,
        pid,
        offset,
        &["unknown field `max_gpus`", "kept last good policy"],
    );
}
