//! The controller's own recovery: after `scontrol reconfigure` and after a
//! slurmctld restart (state recovered, slurmd's kept), the plugin is loaded
//! cleanly and every verdict is the same as before, down to the values it
//! set (routed partition, time limits). A hetjob accepted before the
//! restart comes back with what the plugin set on it.
//!
//! One test in this file: it restarts slurmctld, which no other test may
//! see happen.
mod common;

use common::cluster::{self, Cluster, CmdOutput};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// One probe: a name and sbatch arguments (all held, so nothing runs).
struct Probe {
    name: &'static str,
    args: &'static [&'static str],
}

const PROBES: &[Probe] = &[
    Probe {
        name: "plain cpu job gets QOS normal's time",
        args: &["-p", "cpu", "--wrap", "true"],
    },
    Probe {
        name: "GPU on cpu is refused",
        args: &["-p", "cpu", "--gres=gpu:1", "--wrap", "true"],
    },
    Probe {
        name: "GPU without partition is routed",
        args: &["--gres=gpu:1", "--wrap", "true"],
    },
    Probe {
        name: "cpu+gpu hetjob",
        args: &[
            "-p",
            "cpu",
            "-n",
            "2",
            "--wrap",
            "true",
            ":",
            "-p",
            "gpu",
            "--gres=gpu:1",
        ],
    },
    Probe {
        name: "output on component 1",
        args: &[
            "-p",
            "cpu",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
            ":",
            "-p",
            "gpu",
            "--gres=gpu:1",
            "-o",
            "/tmp/other",
        ],
    },
    Probe {
        name: "QOS long not allowed on gpu",
        args: &["-p", "gpu", "--gres=gpu:1", "--qos=long", "--wrap", "true"],
    },
    Probe {
        name: "two GPUs with QOS normal",
        args: &[
            "-p",
            "gpu",
            "--gres=gpu:2",
            "--qos=normal",
            "--wrap",
            "true",
        ],
    },
    Probe {
        name: "time beyond QOS normal",
        args: &["-p", "cpu", "-t", "2-00:00:00", "--wrap", "true"],
    },
];

/// What a probe's verdict looks like from outside: exit code, the error
/// lines sbatch printed, and for an accepted job each component's
/// partition and time limit as slurmctld stored them.
fn verdict(c: &Cluster, out: &CmdOutput) -> String {
    let mut text = format!("exit {}", out.code);
    for line in out
        .stderr
        .lines()
        .filter(|l| l.starts_with("sbatch: error:"))
    {
        text.push_str("\n  ");
        text.push_str(line);
    }
    if let Some(job) = out.job_id() {
        text.push_str(&job_fields(c, job));
        c.run("scancel", &[&job.to_string()]);
    }
    text
}

/// Partition and time limit of every component of `job`.
fn job_fields(c: &Cluster, job: u32) -> String {
    let show = c.run("scontrol", &["show", "job", "-o", &job.to_string()]);
    assert!(show.success(), "{show:?}");
    let mut text = String::new();
    for line in show.stdout.lines() {
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(key))
                .unwrap_or("?")
                .to_owned()
        };
        text.push_str(&format!(
            "\n  component {}: Partition={} TimeLimit={}",
            field("HetJobOffset="),
            field("Partition="),
            field("TimeLimit=")
        ));
    }
    text
}

fn probe_all(c: &Cluster) -> Vec<String> {
    PROBES
        .iter()
        .map(|probe| {
            let mut args = vec!["--hold"];
            args.extend_from_slice(probe.args);
            let out = c.sbatch(&args, None);
            assert!(
                out.code == 0 || out.code == 1,
                "{}: sbatch neither accepted nor refused:\n{out:?}",
                probe.name
            );
            format!("{}: {}", probe.name, verdict(c, &out))
        })
        .collect()
}

fn assert_same(before: &[String], after: &[String], when: &str) {
    for (b, a) in before.iter().zip(after) {
        assert_eq!(b, a, "a verdict changed after {when}");
    }
    assert_eq!(before.len(), after.len());
}

fn wait_until_up(c: &Cluster) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !c.run("scontrol", &["ping"]).stdout.contains("is UP") {
        assert!(Instant::now() < deadline, "slurmctld did not come back");
        sleep(Duration::from_millis(200));
    }
}

#[test]
fn verdicts_survive_reconfigure_and_a_controller_restart() {
    let c = cluster::ensure_up();
    let before = probe_all(c);
    println!("verdicts before:\n{}", before.join("\n"));
    // The probes cover both outcomes.
    assert!(before.iter().any(|v| v.contains(": exit 0")), "{before:?}");
    assert!(before.iter().any(|v| v.contains(": exit 1")), "{before:?}");

    // scontrol reconfigure: the configuration read again, by the same
    // slurmctld before Slurm 23.11 and by a new one that takes over since.
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let out = c.run("scontrol", &["reconfigure"]);
    assert!(out.success(), "{out:?}");
    wait_until_up(c);
    let after_reconfigure = probe_all(c);
    assert_same(&before, &after_reconfigure, "scontrol reconfigure");
    let pid = c.slurmctld_pid_after_reconfigure(pid);
    let log = c.log_since(offset);
    assert!(
        log.contains("reconfigure"),
        "slurmctld should log the reconfigure:\n{log}"
    );
    cluster::assert_controller_healthy(c, pid, offset);
    println!(
        "after scontrol reconfigure: {} verdicts unchanged",
        before.len()
    );

    // A held hetjob accepted before the restart, with what the plugin set.
    let kept = c.sbatch(
        &["--hold", "-p", "cpu", "--wrap", "true", ":", "--gres=gpu:1"],
        None,
    );
    let kept_job = kept.expect_job_id();
    let kept_fields = job_fields(c, kept_job);
    assert!(kept_fields.contains("Partition=gpu"), "{kept_fields}");

    // Restart slurmctld alone; it recovers its state.
    let offset = c.log_len();
    let restart = Command::new(c.repo.join("container").join("cluster"))
        .arg("restart-ctld")
        .output()
        .expect("run container/cluster restart-ctld");
    assert!(
        restart.status.success(),
        "restart-ctld failed:\n{}\n{}",
        String::from_utf8_lossy(&restart.stdout),
        String::from_utf8_lossy(&restart.stderr)
    );
    let new_pid = c.slurmctld_pid();
    assert_ne!(new_pid, pid, "slurmctld should have a new pid");
    wait_until_up(c);
    let log = c.log_since(offset);
    assert!(
        log.contains("job_submit/hetpolicy: loaded policy"),
        "the restarted slurmctld loads the plugin and the policy:\n{log}"
    );
    assert_eq!(
        job_fields(c, kept_job),
        kept_fields,
        "the job accepted before the restart is recovered as it was"
    );
    c.run("scancel", &[&kept_job.to_string()]);
    let after_restart = probe_all(c);
    assert_same(&before, &after_restart, "a slurmctld restart");
    cluster::assert_controller_healthy(c, new_pid, offset);
    println!(
        "after a slurmctld restart (pid {pid} -> {new_pid}): {} verdicts unchanged, held \
         hetjob {kept_job} recovered",
        before.len()
    );
}
