//! Site options per hetjob component (`--qpu` of the reference policy),
//! through real sbatch/srun with spank_hetpolicy.so loaded from the test
//! cluster's plugstack.conf: checked in the client before any RPC,
//! forwarded per component, enforced again by slurmctld, and exported to
//! each component's own tasks.
mod common;

use common::cluster::{self, Cluster, CmdOutput};
use common::scripts::SEED_003;
use std::fs;
use std::sync::Mutex;
use std::time::Duration;

/// sdiag's counters and slurmctld's debug level are cluster-wide: the
/// tests of this file run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const NOT_ALLOWED: &str = "sbatch: error: hetpolicy: hetjob component 1 sets \
     --qpu=ibm_nowhere, which is not allowed; use one of: ibm_fez, ibm_torino (policy: \
     options.qpu.values)";

/// Runs a batch script to completion and returns its output.
fn run_to_completion(c: &Cluster, name: &str, script: &str) -> String {
    let out_file = c.tmp_dir().join(format!("{name}.out"));
    let _ = fs::remove_file(&out_file);
    let out = c.sbatch(&["-o", out_file.to_str().unwrap()], Some(script));
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    let state = c.wait_job(job, Duration::from_secs(90));
    let text = fs::read_to_string(&out_file).unwrap_or_default();
    assert_eq!(state, "COMPLETED", "job {job}:\n{text}");
    text
}

/// sdiag's count of submission RPCs (batch jobs and hetjobs).
fn submissions(c: &Cluster) -> u64 {
    let sdiag = c.run("sdiag", &[]).stdout;
    sdiag
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("REQUEST_SUBMIT_BATCH_JOB ")
                || l.starts_with("REQUEST_SUBMIT_BATCH_HET_JOB ")
        })
        .filter_map(|l| {
            l.split("count:")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn has_line(out: &CmdOutput, line: &str) -> bool {
    out.stderr.lines().any(|l| l == line)
}

#[test]
fn seed_003_runs_and_the_quantum_tasks_see_their_qpu() {
    let _serial = serial();
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let text = run_to_completion(c, "seed003", SEED_003);
    assert!(text.contains("map_optimize on c1"), "{text}");
    assert!(
        text.lines().any(|l| l == "task_runner on ibm_fez"),
        "{text}"
    );
    assert!(text.contains("result"), "{text}");
    assert!(
        !text.contains("hetpolicy:"),
        "no problem is reported:\n{text}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_components_own_qpu_wins_over_component_zeros() {
    let _serial = serial();
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    // In #SBATCH lines, sbatch replays component 0's value after the
    // component's own one.
    let script = SEED_003.replacen(
        "#SBATCH --qpu=ibm_fez\n#SBATCH --partition quantum",
        "#SBATCH --qpu=ibm_torino\n#SBATCH --partition quantum",
        1,
    );
    assert_ne!(script, SEED_003);
    // Slurm's own debug3 log shows each component's spank_job_env as
    // slurmctld received it.
    c.run("scontrol", &["setdebug", "debug3"]);
    let text = run_to_completion(c, "own_qpu", &script);
    c.run("scontrol", &["setdebug", "info"]);
    assert!(
        text.lines().any(|l| l == "task_runner on ibm_torino"),
        "{text}"
    );
    let log = c.log_since(offset);
    let envs: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("spank_job_env="))
        .collect();
    assert_eq!(
        envs.len(),
        2,
        "one dump per component:\n{}",
        envs.join("\n")
    );
    assert!(envs[0].contains("HETPOLICY_QPU=ibm_fez"), "{}", envs[0]);
    assert!(envs[1].contains("HETPOLICY_QPU=ibm_torino"), "{}", envs[1]);
    assert!(!envs[1].contains("HETPOLICY_QPU=ibm_fez"), "{}", envs[1]);

    // On the command line the replay comes first and the own value last.
    let out_file = c.tmp_dir().join("own_qpu_cli.out");
    let _ = fs::remove_file(&out_file);
    let out = c.sbatch(
        &[
            "-o",
            out_file.to_str().unwrap(),
            "-p",
            "cpu",
            "--qpu=ibm_fez",
            ":",
            "-p",
            "quantum",
            "--gres=qpu:1",
            "--qpu=ibm_torino",
            "--wrap",
            "srun --het-group=1 bash -c 'echo task_runner on $QPU_BACKEND'",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let job = out.expect_job_id();
    assert_eq!(c.wait_job(job, Duration::from_secs(90)), "COMPLETED");
    let text = fs::read_to_string(&out_file).unwrap();
    assert!(
        text.lines().any(|l| l == "task_runner on ibm_torino"),
        "{text}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_value_not_allowed_fails_inside_sbatch_before_any_rpc() {
    let _serial = serial();
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let before = submissions(c);
    let script = SEED_003.replacen(
        "#SBATCH --qpu=ibm_fez\n#SBATCH --partition quantum",
        "#SBATCH --qpu=ibm_nowhere\n#SBATCH --partition quantum",
        1,
    );
    let out = c.sbatch(&[], Some(&script));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(has_line(&out, NOT_ALLOWED), "{out:?}");
    assert!(
        has_line(&out, "sbatch: error: spank: required plugin spank_hetpolicy.so: init_post_opt() failed with rc=-1"),
        "{out:?}"
    );
    // On component 0, or on the command line, too.
    let out = c.sbatch(&["-p", "cpu", "--qpu=ibm_nowhere", "--wrap", "true"], None);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        has_line(&out, "sbatch: error: hetpolicy: job sets --qpu=ibm_nowhere, which is not allowed; use one of: ibm_fez, ibm_torino (policy: options.qpu.values)"),
        "{out:?}"
    );
    let out = c.run(
        "srun",
        &["-p", "quantum", "--gres=qpu:1", "--qpu=ibm_nowhere", "true"],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("--qpu=ibm_nowhere, which is not allowed"),
        "{out:?}"
    );
    assert_eq!(
        submissions(c),
        before,
        "slurmctld must not receive a submission"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn a_quantum_component_without_qpu_is_rejected_by_slurmctld() {
    let _serial = serial();
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let script = SEED_003
        .replacen(
            "#SBATCH --qpu=ibm_fez\n#SBATCH --partition quantum",
            "#SBATCH --partition quantum",
            1,
        )
        .replacen("#SBATCH --qpu=ibm_fez\n", "", 1);
    assert!(!script.contains("--qpu"), "{script}");
    let expected = "sbatch: error: 1: hetjob component 1 runs on partition quantum without --qpu; \
         add --qpu=NAME with one of: ibm_fez, ibm_torino to this component (policy: \
         options.qpu.required_on)";
    let out = c.sbatch(&["--hold"], Some(&script));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(has_line(&out, expected), "{out:?}");
    assert!(
        has_line(
            &out,
            "sbatch: error: Batch job submission failed: Access/permission denied"
        ),
        "{out:?}"
    );

    // A client that does not load the SPANK plugin at all (its own
    // slurm.conf without PlugStackConfig) is refused the same way.
    let conf = fs::read_to_string(&c.slurm_conf).unwrap();
    let no_spank: String = conf
        .lines()
        .filter(|l| !l.starts_with("PlugStackConfig="))
        .map(|l| format!("{l}\n"))
        .collect();
    let client_conf = c.write_tmp(".conf", &no_spank);
    let script_file = c.write_tmp(".sh", &script);
    let out = c.run_env(
        "sbatch",
        &["--hold", script_file.to_str().unwrap()],
        &[("SLURM_CONF", client_conf.to_str().unwrap())],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(has_line(&out, expected), "{out:?}");
    let help = c.run_env(
        "sbatch",
        &["--help"],
        &[("SLURM_CONF", client_conf.to_str().unwrap())],
    );
    assert!(
        !help.stdout.contains("--qpu"),
        "this client really has no SPANK plugin"
    );
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn sbatch_help_lists_the_option_and_srun_exports_it() {
    let _serial = serial();
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let help = c.run("sbatch", &["--help"]);
    assert!(
        help.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("--qpu=NAME")
                && l.contains("quantum backend (QPU) this component uses")),
        "{help:?}"
    );
    let out = c.run(
        "srun",
        &[
            "-p",
            "quantum",
            "--gres=qpu:1",
            "--qpu=ibm_torino",
            "printenv",
            "QPU_BACKEND",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.trim(), "ibm_torino", "{out:?}");
    cluster::assert_controller_healthy(c, pid, offset);
}

#[test]
fn salloc_keeps_each_components_value_apart() {
    let _serial = serial();
    let c = cluster::ensure_up();
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.run(
        "salloc",
        &[
            "-p",
            "cpu",
            "--qpu=ibm_fez",
            ":",
            "-p",
            "quantum",
            "--gres=qpu:1",
            "--qpu=ibm_torino",
            "srun",
            "--het-group=0,1",
            "bash",
            "-c",
            "echo $SLURMD_NODENAME=$QPU_BACKEND",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["c1=ibm_fez", "q1=ibm_torino"], "{out:?}");
    cluster::assert_controller_healthy(c, pid, offset);
}
