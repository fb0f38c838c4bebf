//! Slurm accounting on the test cluster (`container/cluster up
//! --accounting`): the associations and QOS container/lib/accounting.sh
//! creates, and Slurm itself (AccountingStorageEnforce=associations,
//! limits,qos) accepting and refusing jobs by account.
//!
//! Each test starts the cluster with accounting itself
//! ([`common::cluster::ensure_accounting`]), so it never passes without it.
//! `container/cluster test` leaves this file out (it needs MariaDB and
//! slurmdbd); `container/cluster test --accounting` runs it with the rest.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::accounting::{sacctmgr_show, QOS, USERS};
use common::cluster::ensure_accounting;
use common::cluster::CmdOutput;
use common::users::run_as;

/// Slurm's own refusal of a user/account pair without an association.
const INVALID_ACCOUNT: &str = "Invalid account or account/partition combination";

fn submit_as(user: &str, account: &str) -> CmdOutput {
    let c = ensure_accounting();
    run_as(
        c,
        user,
        "sbatch",
        &[
            "-A",
            account,
            "-p",
            "cpu",
            "-t",
            "1",
            "-o",
            "/dev/null",
            "--wrap",
            "true",
        ],
    )
}

fn assert_refused_by_slurm(out: &CmdOutput, what: &str) {
    assert!(!out.success(), "{what}: Slurm accepted it:\n{out:?}");
    assert!(
        out.stderr.contains(INVALID_ACCOUNT),
        "{what}: refused, but not for the association (\"{INVALID_ACCOUNT}\"):\n{out:?}"
    );
}

#[test]
fn associations_are_as_specified() {
    let c = ensure_accounting();
    // account|user|default QOS|QOS, on our cluster only.
    let rows = sacctmgr_show(
        c,
        &[
            "assoc",
            "where",
            "cluster=hetpolicy",
            "format=account,user,defaultqos,qos",
        ],
    );
    let mut accounts: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &rows {
        let [account, user, default_qos, qos] = row.as_slice() else {
            panic!("unexpected sacctmgr line {row:?}");
        };
        if user.is_empty() {
            continue; // the account's own association
        }
        accounts
            .entry(user.clone())
            .or_default()
            .insert(account.clone());
        let qos: BTreeSet<&str> = qos.split(',').collect();
        assert_eq!(
            qos,
            QOS.iter().copied().collect(),
            "QOS of {user} in {account}"
        );
        assert_eq!(default_qos, "normal", "default QOS of {user} in {account}");
    }
    for (user, expected) in USERS {
        let expected: BTreeSet<String> = expected.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            accounts.get(*user),
            Some(&expected),
            "{user}'s accounts; all rows: {rows:?}"
        );
    }
    assert!(
        accounts.contains_key("root"),
        "root has no association: {rows:?}"
    );

    let users: BTreeMap<String, (String, String)> =
        sacctmgr_show(c, &["user", "format=user,defaultaccount,adminlevel"])
            .into_iter()
            .map(|row| (row[0].clone(), (row[1].clone(), row[2].clone())))
            .collect();
    for (user, expected) in USERS {
        assert_eq!(
            users.get(*user).map(|(default, _)| default.as_str()),
            Some(expected[0]),
            "{user}'s default account; users: {users:?}"
        );
    }
    assert_eq!(
        users.get("root").map(|(_, admin)| admin.as_str()),
        Some("Administrator"),
        "root must stay an admin: {users:?}"
    );
}

#[test]
fn qos_are_those_of_the_policy() {
    let c = ensure_accounting();
    let qos: BTreeMap<String, (String, String)> =
        sacctmgr_show(c, &["qos", "format=name,maxwall,maxtres"])
            .into_iter()
            .map(|row| (row[0].clone(), (row[1].clone(), row[2].clone())))
            .collect();
    // tests/fixtures/policy.yaml: qos.<name>.max_time and max_gres/max_nodes.
    for (name, wall, tres) in [
        ("normal", "1-00:00:00", "gres/gpu=1"),
        ("gpu", "2-00:00:00", "gres/gpu=2"),
        ("long", "7-00:00:00", "gres/gpu=0,node=2"),
    ] {
        assert_eq!(
            qos.get(name),
            Some(&(wall.to_owned(), tres.to_owned())),
            "QOS {name}; all: {qos:?}"
        );
    }
}

#[test]
fn bob_may_use_physics() {
    let c = ensure_accounting();
    let out = submit_as("bob", "physics");
    assert!(out.success(), "bob -A physics refused:\n{out:?}");
    let id = out.expect_job_id();
    let state = c.wait_job(id, Duration::from_secs(120));
    assert_eq!(state, "COMPLETED", "bob's job {id} in physics");
    // Gone from the queue once completed: accounting still knows it.
    // slurmctld sends job records to slurmdbd through a queue, so the
    // record may arrive a moment after the job ends.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let sacct = loop {
        let sacct = c.run(
            "sacct",
            &["-nP", "-X", "-j", &id.to_string(), "-o", "account,user"],
        );
        let found = sacct.stdout.lines().any(|l| l.trim() == "physics|bob");
        if found || std::time::Instant::now() > deadline {
            break sacct;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        sacct.stdout.lines().any(|l| l.trim() == "physics|bob"),
        "sacct does not show bob's job {id} in physics within 60 s:\n{sacct:?}"
    );
}

#[test]
fn unknown_account_is_refused() {
    ensure_accounting();
    assert_refused_by_slurm(
        &submit_as("mallory", "no-such-account"),
        "mallory -A no-such-account",
    );
    assert_refused_by_slurm(&submit_as("mallory", "physics"), "mallory -A physics");
}

#[test]
fn alice_cannot_use_chem() {
    ensure_accounting();
    assert_refused_by_slurm(&submit_as("alice", "chem"), "alice -A chem");
    // Her own account works.
    let out = submit_as("alice", "physics");
    assert!(out.success(), "alice -A physics refused:\n{out:?}");
}

/// `hetpolicy check --cluster` on the accounting cluster: a QOS slurmdbd
/// lacks and a partition slurm.conf lacks are errors at their places; the
/// reference policy itself matches the cluster.
#[test]
fn check_cluster_reports_what_the_cluster_lacks() {
    let c = ensure_accounting();
    let hetpolicy = common::bin::hetpolicy();
    let reference = c.reference_policy_path();
    let reference = reference.to_str().expect("a UTF-8 path");
    let out = c.run(hetpolicy, &["check", "--cluster", reference]);
    assert!(
        out.success(),
        "the reference policy matches the cluster:\n{out:?}"
    );
    assert!(out.stdout.contains("; 0 warnings"), "{out:?}");

    let text =
        c.reference_policy()
            .replacen("\nqos:\n", "\nqos:\n  premium:\n    max_time: 1:00:00\n", 1);
    let text = text.replacen("\npartitions:\n", "\npartitions:\n  bigmem: {}\n", 1);
    let path = c.tmp_dir().join("check-cluster.yaml");
    std::fs::write(&path, &text).expect("write the policy");
    let file = path.to_str().expect("a UTF-8 path");
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("no line {needle:?}"))
            + 1
    };
    let out = c.run(hetpolicy, &["check", "--cluster", file]);
    assert_eq!(out.code, 1, "{out:?}");
    let partition = format!(
        "{file}:{}:3: error: partition 'bigmem' (partitions) does not exist on this cluster \
         (scontrol show partition lists: cpu, gpu, quantum)",
        line_of("  bigmem:")
    );
    let qos = format!(
        "{file}:{}:3: error: QOS 'premium' (qos) does not exist on this cluster (sacctmgr show \
         qos lists: gpu, long, normal)",
        line_of("  premium:")
    );
    assert!(out.stdout.contains(&partition), "{partition}\n{out:?}");
    assert!(out.stdout.contains(&qos), "{qos}\n{out:?}");
    assert!(
        out.stdout
            .contains("hint: create it (sacctmgr add qos premium), or fix the name"),
        "{out:?}"
    );
}
