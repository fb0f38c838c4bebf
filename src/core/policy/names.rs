//! Every name a policy file refers to, by kind and with its place, for
//! `hetpolicy check --cluster`, which holds them against a live cluster.

use super::file::{Name, PolicyFile};

/// What a name in the policy stands for on the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    /// A partition of slurm.conf.
    Partition,
    /// A QOS of slurmdbd.
    Qos,
    /// An account of slurmdbd.
    Account,
    /// A GRES name of slurm.conf (`GresTypes`, nodes' `Gres`).
    Gres,
}

impl NameKind {
    /// How messages name the kind.
    pub fn noun(self) -> &'static str {
        match self {
            NameKind::Partition => "partition",
            NameKind::Qos => "QOS",
            NameKind::Account => "account",
            NameKind::Gres => "GRES",
        }
    }
}

/// One name as the file writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRef {
    /// What it names.
    pub kind: NameKind,
    /// The name.
    pub name: String,
    /// 1-based line and column.
    pub position: (u64, u64),
    /// The key it is written under (`partitions.gpu.allow.accounts`).
    pub key: String,
}

/// Every partition, QOS, account and GRES name `text` refers to, in file
/// order; empty when the file does not parse (`Policy::from_yaml` reports
/// that).
pub fn referenced_names(text: &str) -> Vec<NameRef> {
    let Ok(file) = super::parse(text) else {
        return Vec::new();
    };
    let mut refs = Names(Vec::new());
    collect(&file, &mut refs);
    refs.0.sort_by_key(|r| (r.position, r.kind));
    refs.0
}

struct Names(Vec<NameRef>);

impl Names {
    fn add(&mut self, kind: NameKind, name: &Name, key: impl Into<String>) {
        self.0.push(NameRef {
            kind,
            name: name.value.clone(),
            position: (name.referenced.line(), name.referenced.column()),
            key: key.into(),
        });
    }

    fn all<'n>(&mut self, kind: NameKind, names: impl IntoIterator<Item = &'n Name>, key: &str) {
        for name in names {
            self.add(kind, name, key);
        }
    }
}

/// A dotted key, `partitions.gpu.allow.accounts`.
fn key(parts: &[&str]) -> String {
    parts.join(".")
}

fn collect(file: &PolicyFile, refs: &mut Names) {
    use NameKind::{Account, Gres, Partition, Qos};
    for (name, partition) in &file.partitions {
        let p = &name.value;
        refs.add(Partition, name, "partitions");
        refs.all(
            Gres,
            &partition.reserved_for,
            &key(&["partitions", p, "reserved_for"]),
        );
        if let Some(qos) = &partition.qos {
            refs.all(
                Qos,
                &qos.allowed,
                &key(&["partitions", p, "qos", "allowed"]),
            );
            refs.all(
                Qos,
                &qos.default,
                &key(&["partitions", p, "qos", "default"]),
            );
        }
        for (which, who) in [("allow", &partition.allow), ("deny", &partition.deny)] {
            if let Some(who) = who {
                refs.all(
                    Account,
                    &who.accounts,
                    &key(&["partitions", p, which, "accounts"]),
                );
            }
        }
    }
    for (gres, rule) in &file.accelerators {
        refs.add(Gres, gres, "accelerators");
        refs.all(
            Partition,
            &rule.partitions,
            &key(&["accelerators", &gres.value, "partitions"]),
        );
    }
    for (name, limits) in &file.qos {
        refs.add(Qos, name, "qos");
        refs.all(
            Gres,
            limits.max_gres.keys(),
            &key(&["qos", &name.value, "max_gres"]),
        );
    }
    refs.all(
        Gres,
        file.hetjob.max_total_gres.keys(),
        "hetjob.max_total_gres",
    );
    for (name, option) in &file.options {
        let o = &name.value;
        refs.all(
            Partition,
            &option.required_on.partitions,
            &key(&["options", o, "required_on", "partitions"]),
        );
        refs.all(
            Gres,
            &option.required_on.gres,
            &key(&["options", o, "required_on", "gres"]),
        );
    }
    for entry in &file.deny {
        refs.all(Account, &entry.accounts, "deny.accounts");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_with_their_kind_key_and_place() {
        let text = "partitions:\n  gpu:\n    qos: {allowed: [normal]}\n    allow: {accounts: [physics]}\nqos:\n  normal: {max_gres: {gpu: 1}}\n";
        let refs = referenced_names(text);
        let brief: Vec<(NameKind, &str, (u64, u64), &str)> = refs
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.position, r.key.as_str()))
            .collect();
        assert_eq!(
            brief,
            vec![
                (NameKind::Partition, "gpu", (2, 3), "partitions"),
                (
                    NameKind::Qos,
                    "normal",
                    (3, 21),
                    "partitions.gpu.qos.allowed"
                ),
                (
                    NameKind::Account,
                    "physics",
                    (4, 24),
                    "partitions.gpu.allow.accounts"
                ),
                (NameKind::Qos, "normal", (6, 3), "qos"),
                (NameKind::Gres, "gpu", (6, 23), "qos.normal.max_gres"),
            ]
        );
    }
}
