//! A configless cluster (`container/cluster test --configless`, see
//! container/lib/configless.sh): slurmd and the client commands run on the
//! configuration they fetched from slurmctld, with no hetpolicy.yaml beside
//! it, and plugstack.conf comes from slurmctld. The SPANK plugin takes the
//! site options from its plugstack.conf line (`hetpolicy plugstack`),
//! which configless ships; slurmctld judges every job with its policy.
//! Every test runs alone: one of them swaps plugstack.conf and
//! reconfigures, which restarts slurmctld on 24.11.
//!
//! In any other mode these tests say so and pass without checking
//! anything (tests/run-all runs them in configless mode on every release).
mod common;

use common::cluster::{self, Cluster};
use common::scripts::SEED_003;
use std::fs;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The configless cluster, or None (with a note) in another mode.
fn configless() -> Option<&'static Cluster> {
    let c = cluster::ensure_up();
    if c.configless() {
        Some(c)
    } else {
        eprintln!("not a configless cluster: run `container/cluster test --configless`");
        None
    }
}

/// Runs `sbatch -p cpu --wrap COMMAND` to completion; its output file's text.
fn wrap_output(c: &Cluster, name: &str, command: &str) -> String {
    let out_file = c.tmp_dir().join(format!("{name}.out"));
    let _ = fs::remove_file(&out_file);
    let out = c.sbatch(
        &[
            "-p",
            "cpu",
            "-o",
            out_file.to_str().unwrap(),
            "--wrap",
            command,
        ],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let state = c.wait_job(job, Duration::from_secs(60));
    let text = fs::read_to_string(&out_file).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "job {job}:\n{text}");
    text
}

#[test]
fn slurmd_and_the_clients_run_on_fetched_copies_without_the_policy() {
    let Some(c) = configless() else { return };
    let _serial = serial();
    let controller = fs::read_to_string(c.controller_conf()).expect("slurmctld's slurm.conf");
    assert!(
        controller
            .lines()
            .any(|l| l == "SlurmctldParameters=enable_configless"),
        "{controller}"
    );
    assert!(
        !controller
            .lines()
            .any(|l| l.starts_with("PlugStackConfig=")),
        "an absolute PlugStackConfig would be read as it is on the nodes:\n{controller}"
    );
    let plugstack = fs::read_to_string(c.dir.join("etc").join("plugstack.conf"))
        .expect("slurmctld's plugstack.conf");
    assert!(c.policy_path().is_file(), "slurmctld's policy");

    // The clients' slurm.conf and each slurmd's: copies of slurmctld's,
    // elsewhere, with plugstack.conf and without the policy.
    let client_dir = c.slurm_conf.parent().expect("a directory").to_path_buf();
    let mut dirs = vec![client_dir.clone()];
    dirs.extend(["c1", "g1", "q1"].map(|node| c.node_conf_cache(node)));
    for dir in &dirs {
        assert_ne!(*dir, c.dir.join("etc"));
        let copy = fs::read_to_string(dir.join("slurm.conf"))
            .unwrap_or_else(|e| panic!("{}/slurm.conf: {e}", dir.display()));
        assert_eq!(copy, controller, "{}/slurm.conf", dir.display());
        let fetched = fs::read_to_string(dir.join("plugstack.conf"))
            .unwrap_or_else(|e| panic!("{}/plugstack.conf: {e}", dir.display()));
        assert_eq!(fetched, plugstack, "{}/plugstack.conf", dir.display());
        assert!(
            !dir.join("hetpolicy.yaml").exists(),
            "no policy may be beside {}/slurm.conf",
            dir.display()
        );
    }

    // A plain job: exactly its own output, nothing from hetpolicy.
    let text = wrap_output(c, "configless-hi", "echo hi");
    assert_eq!(text, "hi\n");
    // Its slurmstepd (and so the job) runs on slurmd c1's copy: Slurm
    // gives the job the SLURM_CONF its slurmd set for itself.
    let text = wrap_output(c, "configless-conf", "echo \"$SLURM_CONF\"");
    assert_eq!(
        text.trim_end(),
        c.node_conf_cache("c1").join("slurm.conf").to_str().unwrap(),
        "the job's SLURM_CONF"
    );
}

/// The directory of the slurm.conf the clients read: the fetched copy.
fn client_conf_dir(c: &Cluster) -> PathBuf {
    c.slurm_conf
        .parent()
        .expect("slurm.conf has a directory")
        .to_path_buf()
}

/// slurmctld's own plugstack.conf, beside its slurm.conf.
fn controller_plugstack(c: &Cluster) -> PathBuf {
    c.dir.join("etc").join("plugstack.conf")
}

/// Runs a batch script to completion; its output and error files' text.
fn run_to_completion(c: &Cluster, name: &str, args: &[&str], script: &str) -> (String, String) {
    let out_file = c.tmp_dir().join(format!("{name}.out"));
    let err_file = c.tmp_dir().join(format!("{name}.err"));
    let _ = fs::remove_file(&out_file);
    let _ = fs::remove_file(&err_file);
    let mut all = vec![
        "-o",
        out_file.to_str().unwrap(),
        "-e",
        err_file.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = c.sbatch(&all, Some(script));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        !out.stderr.contains("hetpolicy"),
        "sbatch printed a hetpolicy line:\n{out:?}"
    );
    let job = out.expect_job_id();
    let state = c.wait_job(job, Duration::from_secs(90));
    let text = fs::read_to_string(&out_file).unwrap_or_default();
    let errors = fs::read_to_string(&err_file).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "job {job}:\n{text}\n{errors}");
    (text, errors)
}

#[test]
fn the_fetched_line_carries_the_options_and_agrees_with_the_policy() {
    let Some(c) = configless() else { return };
    let _serial = serial();
    let fetched = client_conf_dir(c).join("plugstack.conf");
    let line = fs::read_to_string(&fetched).expect("the fetched plugstack.conf");
    assert!(line.contains(" options=qpu "), "{line}");
    // ... and it agrees with slurmctld's policy.
    let check = c.run(
        common::bin::hetpolicy(),
        &[
            "check",
            "--plugstack",
            fetched.to_str().unwrap(),
            c.policy_path().to_str().unwrap(),
        ],
    );
    assert_eq!(check.code, 0, "{check:?}");
    assert!(
        check
            .stdout
            .contains("the spank_hetpolicy.so line agrees with the policy"),
        "{check:?}"
    );
}

#[test]
fn seed_003_runs_and_its_quantum_tasks_see_their_qpu() {
    let Some(c) = configless() else { return };
    let _serial = serial();
    let (text, errors) = run_to_completion(c, "configless-seed003", &[], SEED_003);
    assert!(text.contains("map_optimize on c1"), "{text}");
    assert!(
        text.lines().any(|l| l == "task_runner on ibm_fez"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "result"), "{text}");
    assert!(
        !text.contains("hetpolicy") && !errors.contains("hetpolicy"),
        "{text}\n{errors}"
    );
}

#[test]
fn a_bad_qpu_is_refused_in_sbatch_and_a_missing_one_by_slurmctld() {
    let Some(c) = configless() else { return };
    let _serial = serial();
    let help = c.run("sbatch", &["--help"]);
    assert!(
        help.stdout.contains("--qpu=NAME")
            && help
                .stdout
                .contains("quantum backend (QPU) this component uses"),
        "{help:?}"
    );
    let bad = SEED_003.replacen(
        "#SBATCH --qpu=ibm_fez\n#SBATCH --partition quantum",
        "#SBATCH --qpu=ibm_nowhere\n#SBATCH --partition quantum",
        1,
    );
    assert_ne!(bad, SEED_003);
    let out = c.sbatch(&[], Some(&bad));
    cluster::assert_refused(
        &out,
        "--qpu=ibm_nowhere",
        &[
            "sbatch: error: hetpolicy: hetjob component 1 sets --qpu=ibm_nowhere, which is not \
             allowed; use one of: ibm_fez, ibm_torino (policy: options.qpu.values)",
            "sbatch: error: spank: required plugin spank_hetpolicy.so: init_post_opt() failed \
             with rc=-1",
        ],
    );
    // The quantum component without --qpu: only slurmctld knows it must
    // give one (required_on), and refuses it with the policy's message.
    let offset = c.log_len();
    let missing = SEED_003.replace("#SBATCH --qpu=ibm_fez\n", "");
    assert!(!missing.contains("--qpu"), "{missing}");
    let out = c.sbatch(&["--hold"], Some(&missing));
    cluster::assert_refused(
        &out,
        "a quantum component without --qpu",
        &[
            "sbatch: error: 1: hetjob component 1 runs on partition quantum without --qpu; add \
             --qpu=NAME with one of: ibm_fez, ibm_torino to this component (policy: \
             options.qpu.required_on)",
            "sbatch: error: Batch job submission failed: Access/permission denied",
        ],
    );
    assert!(
        c.log_since(offset)
            .contains("rejected: hetjob component 1 runs on partition quantum"),
        "slurmctld judged it"
    );
}

#[test]
fn plain_jobs_and_steps_print_no_hetpolicy_line() {
    let Some(c) = configless() else { return };
    let _serial = serial();
    let (text, errors) = run_to_completion(
        c,
        "configless-plain",
        &["-p", "cpu"],
        "#!/bin/bash\necho hi\nsrun echo step\n",
    );
    assert_eq!(text, "hi\nstep\n");
    assert_eq!(errors, "");
    let out = c.run("srun", &["-p", "cpu", "-N1", "echo", "hi"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "hi\n");
    assert!(!out.stderr.contains("hetpolicy"), "{out:?}");
}

/// Installs `text` as slurmctld's plugstack.conf, reconfigures, and waits
/// until the clients' fetched copy has it.
fn push_plugstack(c: &Cluster, text: &str) {
    fs::write(controller_plugstack(c), text).expect("write plugstack.conf");
    let out = c.run("scontrol", &["reconfigure"]);
    assert!(out.success(), "{out:?}");
    let fetched = client_conf_dir(c).join("plugstack.conf");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::read_to_string(&fetched).ok().as_deref() != Some(text) {
        assert!(
            Instant::now() < deadline,
            "{} did not get the new plugstack.conf",
            fetched.display()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_classic_line_on_configless_nodes_offers_nothing_and_says_nothing() {
    let Some(c) = configless() else { return };
    let _serial = serial();
    let generated = fs::read_to_string(controller_plugstack(c)).unwrap();
    let classic = format!(
        "required spank_hetpolicy.so state_dir={}\n",
        c.dir.join("spool").join("hetpolicy").display()
    );
    push_plugstack(c, &classic);
    let restore = Restore { c, text: generated };
    // No policy beside the fetched slurm.conf: nothing registered, quietly.
    let (text, errors) = run_to_completion(
        c,
        "configless-classic",
        &["-p", "cpu"],
        "#!/bin/bash\necho hi\nsrun echo step\n",
    );
    assert_eq!((text.as_str(), errors.as_str()), ("hi\nstep\n", ""));
    let out = c.run(
        "sbatch",
        &[
            "-p",
            "quantum",
            "--gres=qpu:1",
            "--qpu=ibm_fez",
            "--wrap",
            "true",
        ],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("unrecognized option '--qpu=ibm_fez'"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("hetpolicy"), "{out:?}");
    // hetpolicy check names the problem.
    let check = c.run(
        common::bin::hetpolicy(),
        &[
            "check",
            "--deny-warnings",
            "--plugstack",
            controller_plugstack(c).to_str().unwrap(),
            c.policy_path().to_str().unwrap(),
        ],
    );
    assert_eq!(check.code, 1, "{check:?}");
    assert!(
        check
            .stdout
            .contains("warning: the line carries no site options"),
        "{check:?}"
    );
    drop(restore);
}

/// Puts the generated plugstack.conf back (also on panic).
struct Restore<'a> {
    c: &'a Cluster,
    text: String,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        push_plugstack(self.c, &self.text);
    }
}
