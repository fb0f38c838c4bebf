//! A configless cluster (`container/cluster test --configless`, see
//! container/lib/configless.sh): slurmd and the client commands run on the
//! configuration they fetched from slurmctld, with no hetpolicy.yaml beside
//! it, and plugstack.conf comes from slurmctld.
//!
//! In any other mode these tests say so and pass without checking
//! anything (tests/run-all runs them in configless mode on every release).
mod common;

use common::cluster::{self, Cluster};
use std::fs;
use std::time::Duration;

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
