//! `hetpolicy check --cluster`: holds every partition, QOS, account and
//! GRES name of a policy against the live cluster, asking Slurm's own
//! commands (on PATH, with this shell's `SLURM_CONF`):
//!
//! - partitions: `scontrol show partition --oneliner`;
//! - GRES: `scontrol show config` (`GresTypes`) and the nodes' `Gres`
//!   (`scontrol show node --oneliner`);
//! - QOS and accounts: `sacctmgr --noheader --parsable2 show qos|account`,
//!   from slurmdbd.
//!
//! A name the cluster lacks is an error at its line and column. A source
//! that cannot be asked (no accounting, slurmctld down) is a warning that
//! says what was not checked.

use std::collections::BTreeSet;

use hetpolicy_core::policy::{closest_name, referenced_names, NameKind, PolicyWarning};

use crate::command::run;
use crate::report::Problem;

/// What the cluster has, by kind; `Err` says why a kind could not be read.
struct Cluster {
    partitions: Result<BTreeSet<String>, String>,
    gres: Result<BTreeSet<String>, String>,
    qos: Result<BTreeSet<String>, String>,
    accounts: Result<BTreeSet<String>, String>,
}

/// The names of `text` the cluster lacks (errors), and what could not be
/// checked (warnings).
pub fn check(text: &str) -> (Vec<Problem>, Vec<PolicyWarning>) {
    check_against(text, &ask_cluster())
}

fn check_against(text: &str, cluster: &Cluster) -> (Vec<Problem>, Vec<PolicyWarning>) {
    let mut errors = Vec::new();
    let mut unread: Vec<(NameKind, &str)> = Vec::new();
    for reference in referenced_names(text) {
        let (known, source, fix) = match reference.kind {
            NameKind::Partition => (
                &cluster.partitions,
                "scontrol show partition",
                "add the partition to slurm.conf, or fix the name".to_owned(),
            ),
            NameKind::Gres => (
                &cluster.gres,
                "slurm.conf's GresTypes and the nodes' Gres",
                "add it to GresTypes and to the nodes that have it, or fix the name".to_owned(),
            ),
            NameKind::Qos => (
                &cluster.qos,
                "sacctmgr show qos",
                format!(
                    "create it (sacctmgr add qos {}), or fix the name",
                    reference.name
                ),
            ),
            NameKind::Account => (
                &cluster.accounts,
                "sacctmgr show account",
                format!(
                    "create it (sacctmgr add account {}), or fix the name",
                    reference.name
                ),
            ),
        };
        let known = match known {
            Ok(known) => known,
            Err(why) => {
                if !unread.iter().any(|(kind, _)| *kind == reference.kind) {
                    unread.push((reference.kind, why));
                }
                continue;
            }
        };
        if known.contains(&reference.name) {
            continue;
        }
        let listed: Vec<&str> = known.iter().map(String::as_str).collect();
        let nearest = closest_name(&reference.name, listed.iter().copied())
            .map(|n| format!("did you mean '{n}'? Otherwise "))
            .unwrap_or_default();
        errors.push(Problem {
            position: Some(reference.position),
            message: format!(
                "{} '{}' ({}) does not exist on this cluster ({source} lists: {})",
                reference.kind.noun(),
                reference.name,
                reference.key,
                if listed.is_empty() {
                    "none".to_owned()
                } else {
                    listed.join(", ")
                }
            ),
            hint: format!("{nearest}{fix}"),
        });
    }
    let warnings = unread
        .into_iter()
        .map(|(kind, why)| PolicyWarning {
            position: None,
            message: format!(
                "the policy's {} names were not checked against the cluster: {why}",
                kind.noun()
            ),
            hint: match kind {
                NameKind::Qos | NameKind::Account => {
                    "run it where sacctmgr reaches slurmdbd; without accounting \
                     (AccountingStorageType=accounting_storage/slurmdbd) Slurm neither \
                     knows nor enforces QOS and accounts"
                        .to_owned()
                }
                NameKind::Partition | NameKind::Gres => {
                    "run it where scontrol reaches slurmctld (SLURM_CONF)".to_owned()
                }
            },
        })
        .collect();
    (errors, warnings)
}

fn ask_cluster() -> Cluster {
    let partitions = run("scontrol", &["show", "partition", "--oneliner"])
        .map(|out| words_after(&out, "PartitionName="));
    let gres = run("scontrol", &["show", "config"]).and_then(|config| {
        let mut names = gres_types(&config);
        let nodes = run("scontrol", &["show", "node", "--oneliner"])?;
        for list in words_after(&nodes, "Gres=") {
            names.extend(gres_names(&list));
        }
        Ok(names)
    });
    let sacctmgr = |what: &str, field: &str| {
        let format = format!("format={field}");
        run(
            "sacctmgr",
            &["--noheader", "--parsable2", "show", what, &format],
        )
        .map(|out| {
            out.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        })
    };
    Cluster {
        partitions,
        gres,
        qos: sacctmgr("qos", "name"),
        accounts: sacctmgr("account", "account"),
    }
}

/// Every value of `key` (`PartitionName=`) in `scontrol --oneliner` lines.
fn words_after(output: &str, key: &str) -> BTreeSet<String> {
    output
        .split_whitespace()
        .filter_map(|word| word.strip_prefix(key))
        .filter(|value| !value.is_empty() && *value != "(null)")
        .map(str::to_owned)
        .collect()
}

/// `GresTypes = gpu,qpu` of `scontrol show config`.
fn gres_types(config: &str) -> BTreeSet<String> {
    config
        .lines()
        .filter_map(|line| line.split_once('='))
        .filter(|(key, _)| key.trim() == "GresTypes")
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .filter(|name| !name.is_empty() && *name != "(null)")
        .map(str::to_owned)
        .collect()
}

/// The names of a node's `Gres=gpu:a100:2(S:0),qpu:1`.
fn gres_names(list: &str) -> impl Iterator<Item = String> + '_ {
    list.split(',')
        .filter_map(|entry| entry.split(':').next())
        .map(|name| name.trim_start_matches("gres/"))
        .filter(|name| !name.is_empty() && *name != "(null)")
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Result<BTreeSet<String>, String> {
        Ok(names.iter().map(|n| (*n).to_owned()).collect())
    }

    #[test]
    fn names_the_cluster_lacks_are_errors_at_their_place() {
        let text = "partitions:\n  cpu: {qos: {allowed: [normal, long]}}\n  gpu: {}\nqos:\n  normal: {}\n  long: {}\n";
        let cluster = Cluster {
            partitions: set(&["cpu"]),
            gres: set(&["gpu"]),
            qos: set(&["normal"]),
            accounts: Err("`sacctmgr` could not run".to_owned()),
        };
        let (errors, warnings) = check_against(text, &cluster);
        let shown: Vec<(Option<(u64, u64)>, &str)> = errors
            .iter()
            .map(|e| (e.position, e.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    Some((2, 33)),
                    "QOS 'long' (partitions.cpu.qos.allowed) does not exist on this cluster \
                     (sacctmgr show qos lists: normal)"
                ),
                (
                    Some((3, 3)),
                    "partition 'gpu' (partitions) does not exist on this cluster (scontrol \
                     show partition lists: cpu)"
                ),
                (
                    Some((6, 3)),
                    "QOS 'long' (qos) does not exist on this cluster (sacctmgr show qos \
                     lists: normal)"
                ),
            ]
        );
        assert_eq!(
            errors[0].hint,
            "create it (sacctmgr add qos long), or fix the name"
        );
        // No account is named: nothing to warn about.
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_source_that_cannot_be_asked_is_a_warning() {
        let text = "qos:\n  normal: {}\n";
        let cluster = Cluster {
            partitions: set(&[]),
            gres: set(&[]),
            qos: Err("`sacctmgr --noheader --parsable2 show qos format=name` failed".to_owned()),
            accounts: set(&[]),
        };
        let (errors, warnings) = check_against(text, &cluster);
        assert!(errors.is_empty());
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0]
            .message
            .starts_with("the policy's QOS names were not checked against the cluster: "));
    }

    #[test]
    fn gres_names_come_from_gres_types_and_nodes() {
        assert_eq!(
            gres_types("GresTypes               = gpu,qpu\nOther = x\n"),
            ["gpu", "qpu"].map(String::from).into_iter().collect()
        );
        let names: Vec<String> = gres_names("gpu:a100:2(S:0),gres/qpu:1").collect();
        assert_eq!(names, ["gpu", "qpu"]);
    }
}
