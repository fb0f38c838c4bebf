//! Differential test of `hetpolicy eval` against the real sbatch and
//! slurmctld of the test cluster, on the cluster's Slurm release
//! (`container/cluster --slurm RELEASE test` runs it on each): for every
//! script of tests/corpus, eval with `--slurm RELEASE` must give the same
//! verdict (accepted, rejected by slurmctld, refused by sbatch) and every
//! line sbatch prints on stderr. Both judge with the test policy,
//! tests/fixtures/policy.yaml.
//!
//! Each corpus script says what it exercises in its header:
//!
//! ```text
//! # corpus: what the script exercises
//! # corpus-args: sbatch options before the script (`:` separates components)
//! # corpus-env: SBATCH_PARTITION=gpu SBATCH_QOS=normal
//! # corpus-expect: accepted | rejected | refused
//! # corpus-expect-24.11: refused      (optional: a release whose sbatch differs)
//! ```
//!
//! Both run in the same directory with the same environment; sbatch gets
//! `--hold` (and accepted jobs are cancelled), eval gets the same options.
mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::cluster::{self, Cluster};
use serde_json::Value;

/// One corpus script's header.
#[derive(Debug)]
struct Header {
    what: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// The verdict on the release the test runs on.
    expect: String,
}

/// The verdicts a corpus script may expect.
const VERDICTS: [&str; 3] = ["accepted", "rejected", "refused"];

/// The releases `--slurm` takes (and `corpus-expect-RELEASE` may name).
const RELEASES: [&str; 3] = ["22.05", "24.11", "26.05"];

/// The test policy both sbatch (through the plugins) and eval judge with.
fn test_policy() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("policy.yaml");
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `header` for the release of this run.
fn header(path: &Path) -> Header {
    header_for(path, &cluster::requested_release())
}

fn header_for(path: &Path, release: &str) -> Header {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("# corpus-{key}:")))
            .map(|v| v.trim().to_owned())
    };
    let what = text
        .lines()
        .find_map(|l| l.strip_prefix("# corpus:"))
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("{} has no `# corpus:` line", path.display()));
    let env = field("env")
        .unwrap_or_default()
        .split_whitespace()
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("corpus-env takes NAME=value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Header {
        what,
        args: field("args")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        env,
        expect: field(&format!("expect-{release}"))
            .or_else(|| field("expect"))
            .unwrap_or_else(|| panic!("{} has no `# corpus-expect:` line", path.display())),
    }
}

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/corpus exists")
        .map(|e| e.expect("read tests/corpus").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    files.sort();
    files
}

/// What one side said.
#[derive(Debug, PartialEq, Eq)]
struct Said {
    verdict: String,
    stderr: Vec<String>,
}

/// Runs real sbatch (cancelling an accepted job).
fn sbatch(c: &Cluster, script: &Path, h: &Header) -> Said {
    let mut args = vec!["--hold".to_owned()];
    args.extend(h.args.iter().cloned());
    args.push(script.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = h
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = c.run_env("sbatch", &args, &env);
    let verdict = match out.job_id() {
        Some(id) if out.code == 0 => {
            c.run("scancel", &[&id.to_string()]);
            "accepted"
        }
        _ if out.stderr.contains("Batch job submission failed") => "rejected",
        _ => "refused",
    };
    Said {
        verdict: verdict.to_owned(),
        stderr: out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// Runs `hetpolicy eval --slurm RELEASE --format json` with the cluster's
/// policy and slurm.conf (found through SLURM_CONF, as on a login node).
fn eval(c: &Cluster, script: &Path, h: &Header) -> (Said, Value) {
    let release = cluster::requested_release();
    let mut args = vec![
        "eval".to_owned(),
        "--slurm".to_owned(),
        release.clone(),
        "--format".to_owned(),
        "json".to_owned(),
        script.display().to_string(),
        "--".to_owned(),
        "--hold".to_owned(),
    ];
    args.extend(h.args.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = h
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = c.run_env(common::bin::hetpolicy(), &args, &env);
    let json: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "eval printed no JSON ({e}) for {}:\n{out:?}",
            script.display()
        )
    });
    let said = Said {
        verdict: json["verdict"].as_str().unwrap_or_default().to_owned(),
        stderr: json["stderr"]
            .as_array()
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| l.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let code_agrees = (out.code == 0) == (said.verdict == "accepted");
    assert!(
        code_agrees,
        "eval's exit code disagrees with its verdict:\n{out:?}"
    );
    assert_eq!(
        json["slurm"]["release"], release,
        "eval modelled another release:\n{out:?}"
    );
    (said, json)
}

#[test]
fn eval_agrees_with_sbatch_on_every_corpus_script() {
    let c = cluster::ensure_up();
    let _policy = c.with_policy(&test_policy());
    // The plugin notices a new file at most every 250 ms.
    std::thread::sleep(std::time::Duration::from_millis(400));
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let files = corpus();
    assert!(
        files.len() >= 40,
        "the corpus has only {} scripts",
        files.len()
    );
    let mut failures = Vec::new();
    let mut verdicts = std::collections::BTreeMap::<String, usize>::new();
    for file in &files {
        let h = header(file);
        let real = sbatch(c, file, &h);
        let (predicted, json) = eval(c, file, &h);
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        *verdicts.entry(real.verdict.clone()).or_default() += 1;
        if real != predicted {
            failures.push(format!(
                "{name} ({}):\n  sbatch: {real:?}\n  eval:   {predicted:?}",
                h.what
            ));
        } else if real.verdict != h.expect {
            failures.push(format!(
                "{name} ({}): both say {}, the corpus expects {}",
                h.what, real.verdict, h.expect
            ));
        }
        if name.starts_with("seed004_hetjob_as_written")
            && !json["findings"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f["kind"] == "het_group_in_script"))
        {
            failures.push(format!(
                "{name}: eval does not report --het-group in #SBATCH"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "eval disagrees with Slurm {}'s sbatch on {} of {} scripts:\n{}",
        cluster::requested_release(),
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!(
        "Slurm {}: eval agrees with sbatch on all {} corpus scripts ({verdicts:?})",
        cluster::requested_release(),
        files.len()
    );
    for verdict in VERDICTS {
        assert!(
            verdicts.get(verdict).copied().unwrap_or(0) >= 3,
            "the corpus should exercise at least 3 {verdict} submissions: {verdicts:?}"
        );
    }
    // Rejections are logged with their message, which may contain "error"
    // (`--error=...`).
    cluster::assert_controller_healthy_allowing(c, pid, offset, &[": rejected: "]);
}

#[test]
fn the_corpus_headers_are_complete() {
    for file in corpus() {
        for release in RELEASES {
            let h = header_for(&file, release);
            assert!(
                VERDICTS.contains(&h.expect.as_str()),
                "{}: corpus-expect for {release} is {}",
                file.display(),
                h.expect
            );
            assert!(!h.what.is_empty(), "{}", file.display());
        }
        let text = fs::read_to_string(&file).expect("read a corpus script");
        for line in text.lines() {
            if let Some(release) = line
                .strip_prefix("# corpus-expect-")
                .and_then(|rest| rest.split(':').next())
            {
                assert!(
                    RELEASES.contains(&release),
                    "{}: corpus-expect-{release} names no supported release",
                    file.display()
                );
            }
        }
    }
}

/// A small deterministic generator (xorshift64*), so a failing case can be
/// reproduced from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// One component's options, from pools of every form the policy reads:
/// partitions, each GRES option, QOS, each time and memory notation, node
/// and task counts, I/O files, the site option.
fn component(rng: &mut Rng) -> Vec<String> {
    let mut parts: Vec<&str> = Vec::new();
    match rng.pick(&["cpu", "cpu", "gpu", "gpu", "quantum", "none", "wild"]) {
        "cpu" => {
            parts.push(rng.pick(&["-p cpu", "--partition=cpu", "--part=cpu", ""]));
            parts.push(rng.pick(&["", "--gpus=0", "--gres=none", "--gres=gpu:1"]));
        }
        "gpu" => {
            parts.push(rng.pick(&["-p gpu", "--partition=gpu", ""]));
            parts.push(rng.pick(&[
                "--gres=gpu",
                "--gres=gpu:1",
                "--gres=gpu:2",
                "--gres=gres:gpu:1",
                "--gpus=1",
                "--gpus=2",
                "--gpus=3",
                "--gpus-per-node=1",
                "--gpus-per-node=2 -N 1",
                "--gpus-per-task=1 -n 2",
                "--gpus-per-socket=1 --sockets-per-node=1",
                "--gpus=2 --gpus-per-node=1",
                "--gres=gpu:1,qpu:1",
            ]));
        }
        "quantum" => {
            parts.push("-p quantum");
            parts.push(rng.pick(&["--gres=qpu:1", "--gres=qpu:1", ""]));
            parts.push(rng.pick(&["--qpu=ibm_fez", "--qpu=ibm_torino", ""]));
        }
        "wild" => {
            parts.push(rng.pick(&["-p gpu,cpu", "-p quantum", "-p cpu"]));
            parts.push(rng.pick(&[
                "--gpus-per-socket=1",
                "--mem-per-gpu=1G",
                "--qpu=bad",
                "--hint=nomultithread",
            ]));
        }
        _ => {}
    }
    parts.push(rng.pick(&["", "", "--qos=normal", "--qos=gpu", "-q long"]));
    parts.push(rng.pick(&[
        "",
        "",
        "-t 90",
        "-t 90:30",
        "-t 23:59:59",
        "-t 24:00:01",
        "-t 1-0",
        "-t 1-00:01",
        "-t 2-",
        "-t 6-23:59:59",
        "--time=UNLIMITED",
        "--time=0",
    ]));
    parts.push(rng.pick(&["", "", "", "-N 1", "-N 2", "-N 1-2"]));
    parts.push(rng.pick(&["", "", "-n 2", "-n 4 -c 2", "-c 2", "--ntasks-per-node=2"]));
    parts.push(rng.pick(&[
        "",
        "",
        "--mem=1G",
        "--mem=16GB",
        "--mem-per-cpu=500",
        "--mem-per-cpu=1500K",
    ]));
    parts.push(rng.pick(&[
        "",
        "",
        "",
        "",
        "-o gen-%j.out",
        "--error=gen-%j.err",
        "--input=/dev/null",
    ]));
    parts
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(str::to_owned)
        .collect()
}

/// A script of 1-3 `#SBATCH hetjob` components, 0-2 `:` parts on the
/// command line, and sometimes SBATCH_* variables.
fn generated(rng: &mut Rng) -> (String, Header) {
    let mut script = String::from("#!/bin/bash\n");
    for k in 0..1 + rng.below(3) {
        if k > 0 {
            script.push_str("#SBATCH hetjob\n");
        }
        let options = component(rng);
        if !options.is_empty() {
            script.push_str(&format!("#SBATCH {}\n", options.join(" ")));
        }
    }
    script.push_str("srun true\n");
    let mut args = Vec::new();
    if rng.chance(60) {
        for k in 0..1 + rng.below(3) {
            if k > 0 {
                args.push(":".to_owned());
            }
            args.extend(component(rng));
        }
    }
    let mut env = Vec::new();
    for (variable, values) in [
        ("SBATCH_PARTITION", &["cpu", "gpu"][..]),
        ("SBATCH_QOS", &["normal", "long"][..]),
        ("SBATCH_TIMELIMIT", &["60", "1-0", "3-0"][..]),
        ("SBATCH_GRES", &["gpu:1"][..]),
        ("SBATCH_GPUS_PER_NODE", &["1"][..]),
        ("SBATCH_GPUS", &["1", "2"][..]),
        ("SBATCH_OUTPUT", &["gen-env.out"][..]),
        ("SBATCH_MEM_PER_NODE", &["2G"][..]),
        ("SBATCH_MEM_PER_CPU", &["100"][..]),
    ] {
        if rng.chance(8) {
            env.push((variable.to_owned(), rng.pick(values).to_owned()));
        }
    }
    let header = Header {
        what: "generated".to_owned(),
        args,
        env,
        expect: String::new(),
    };
    (script, header)
}

/// Submissions eval has never seen: generated from a seed
/// (HETPOLICY_GENERATED_SEED, HETPOLICY_GENERATED_CASES to explore more).
#[test]
fn eval_agrees_with_sbatch_on_generated_submissions() {
    let seed: u64 = std::env::var("HETPOLICY_GENERATED_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_251_122);
    let cases: usize = std::env::var("HETPOLICY_GENERATED_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let c = cluster::ensure_up();
    let _policy = c.with_policy(&test_policy());
    std::thread::sleep(std::time::Duration::from_millis(400));
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let mut rng = Rng(seed | 1);
    let mut failures = Vec::new();
    let mut verdicts = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..cases {
        let (script, h) = generated(&mut rng);
        let path = c.write_tmp(&format!("-gen{i}.sh"), &script);
        let real = sbatch(c, &path, &h);
        let (predicted, _) = eval(c, &path, &h);
        *verdicts.entry(real.verdict.clone()).or_default() += 1;
        if real != predicted {
            failures.push(format!(
                "case {i} (seed {seed}): sbatch {} {}, env {:?}\n{script}  sbatch: {real:?}\n  eval:   {predicted:?}",
                h.args.join(" "),
                path.display(),
                h.env
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "eval disagrees with Slurm {}'s sbatch on {} of {cases} generated submissions:\n{}",
        cluster::requested_release(),
        failures.len(),
        failures.join("\n")
    );
    println!(
        "Slurm {}: eval agrees with sbatch on all {cases} generated submissions (seed {seed}, \
         {verdicts:?})",
        cluster::requested_release()
    );
    assert!(
        verdicts.len() >= 2,
        "the generated submissions should not all end alike: {verdicts:?}"
    );
    cluster::assert_controller_healthy_allowing(c, pid, offset, &[": rejected: "]);
}
