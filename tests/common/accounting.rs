//! The cluster with Slurm accounting: `container/cluster ensure
//! --accounting` (MariaDB and slurmdbd, associations and QOS enforced; see
//! container/lib/accounting.sh), for tests/cluster_accounting.rs.
//!
//! What it creates, and how tests read it back; the cluster itself comes
//! from [`super::cluster::ensure_accounting`].
#![allow(dead_code)]

use super::cluster::Cluster;

/// What container/lib/accounting.sh creates: user, accounts (the first is
/// the default account).
pub const USERS: &[(&str, &[&str])] = &[
    ("alice", &["physics"]),
    ("bob", &["chem", "physics"]),
    ("carol", &["chem"]),
    ("mallory", &["chem"]),
];
/// The QOS of tests/fixtures/policy.yaml; every association may use them.
pub const QOS: &[&str] = &["normal", "gpu", "long"];

/// `sacctmgr -nP show ARGS`, as lines of '|'-separated fields.
pub fn sacctmgr_show(c: &Cluster, args: &[&str]) -> Vec<Vec<String>> {
    let mut all = vec!["-nP", "show"];
    all.extend_from_slice(args);
    let out = c.run("sacctmgr", &all);
    assert!(out.success(), "sacctmgr {all:?} failed:\n{out:?}");
    out.stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.split('|').map(str::to_owned).collect())
        .collect()
}
