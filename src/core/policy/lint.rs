//! Policies that load but are surely wrong: [`lint`] finds rules no
//! component can satisfy and names that refer to nothing the policy uses,
//! with their line and column and a hint. `hetpolicy check` prints them as
//! warnings; the plugins do not run them.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use super::file::{Name, PolicyFile};
use super::Policy;
use crate::slurm_options::{client_option_releases, Release};

/// One surely-wrong spot in a policy that loads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWarning {
    /// 1-based line and column of the name it is about.
    pub position: Option<(u64, u64)>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for PolicyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((line, column)) = self.position {
            write!(f, "{line}:{column}: ")?;
        }
        write!(f, "{} ({})", self.message, self.hint)
    }
}

fn at(name: &Name) -> Option<(u64, u64)> {
    Some((name.referenced.line(), name.referenced.column()))
}

/// Lints `text`, a policy that `Policy::from_yaml` accepted as `policy`.
/// Warnings come in file order.
pub fn lint(text: &str, policy: &Policy) -> Vec<PolicyWarning> {
    let Ok(file) = super::parse(text) else {
        return Vec::new();
    };
    let mut warnings = Vec::new();
    let partitions: BTreeSet<&str> = file.partitions.keys().map(|n| n.value.as_str()).collect();
    accelerator_partitions(&file, &partitions, &mut warnings);
    route_targets(&file, policy, &mut warnings);
    forbidden_reserved_gres(&file, policy, &mut warnings);
    site_options(&file, &partitions, &mut warnings);
    unknown_gres_names(&file, &mut warnings);
    past_warn_until(policy, crate::units::Day::today(), &mut warnings);
    jobs_of_every_kind(&file, &mut warnings);
    warnings.sort_by_key(|w| w.position);
    warnings
}

/// A `jobs` list with both kinds of job: it limits nothing, and was surely
/// meant to name one.
fn jobs_of_every_kind(file: &PolicyFile, warnings: &mut Vec<PolicyWarning>) {
    use super::file::JobKindName;
    let every = |jobs: &[JobKindName]| {
        jobs.contains(&JobKindName::Interactive) && jobs.contains(&JobKindName::Batch)
    };
    let hint = "remove `jobs` for every kind of job, or keep the one kind the list is about";
    for (name, partition) in &file.partitions {
        for (key, list) in [("allow", &partition.allow), ("deny", &partition.deny)] {
            if list.as_ref().is_some_and(|l| every(&l.jobs)) {
                warnings.push(PolicyWarning {
                    position: at(name),
                    message: format!(
                        "partitions.{}.{key}.jobs lists both interactive and batch: it limits \
                         nothing",
                        name.value
                    ),
                    hint: hint.to_owned(),
                });
            }
        }
    }
    for (index, entry) in file.deny.iter().enumerate() {
        if every(&entry.jobs) {
            warnings.push(PolicyWarning {
                position: None,
                message: format!(
                    "deny entry {} lists both interactive and batch jobs: it limits nothing",
                    index + 1
                ),
                hint: hint.to_owned(),
            });
        }
    }
}

/// `enforcement: {warn_until: DAY}` with the day passed: the rule refuses
/// already, and the setting only misleads.
fn past_warn_until(policy: &Policy, today: crate::units::Day, warnings: &mut Vec<PolicyWarning>) {
    for (path, day) in policy.enforcement.past_warn_until(today) {
        let place = if path.is_empty() {
            "the top of the file".to_owned()
        } else {
            path.to_owned()
        };
        warnings.push(PolicyWarning {
            position: None,
            message: format!(
                "the enforcement of {place} warns until {day}, which has passed: its rules \
                 refuse already"
            ),
            hint: "write enforcement: enforce there, or remove the setting".to_owned(),
        });
    }
}

/// `accelerators.<g>.partitions` naming a partition the policy never
/// names under `partitions`.
fn accelerator_partitions(
    file: &PolicyFile,
    partitions: &BTreeSet<&str>,
    warnings: &mut Vec<PolicyWarning>,
) {
    for (gres, rule) in &file.accelerators {
        for partition in &rule.partitions {
            if partitions.contains(partition.value.as_str()) {
                continue;
            }
            let suggestion = closest_name(&partition.value, partitions.iter().copied())
                .map(|s| format!("did you mean '{s}'? Otherwise "))
                .unwrap_or_default();
            warnings.push(PolicyWarning {
                position: at(partition),
                message: format!(
                    "accelerators.{}.partitions names partition '{}', which the policy never \
                     names under `partitions`",
                    gres.value, partition.value
                ),
                hint: format!(
                    "{suggestion}fix the name, or add `partitions.{}: {{}}` if it is a real \
                     partition without rules",
                    partition.value
                ),
            });
        }
    }
}

/// `action: route` sending components to a partition reserved for other
/// GRES, where they are then rejected.
fn route_targets(file: &PolicyFile, policy: &Policy, warnings: &mut Vec<PolicyWarning>) {
    for (gres, rule) in &file.accelerators {
        if rule.action != super::AcceleratorAction::Route {
            continue;
        }
        let Some(target) = rule.partitions.first() else {
            continue;
        };
        let Some(partition) = policy.partitions.get(target.value.as_str()) else {
            continue;
        };
        if partition.reserved_for.is_empty()
            || partition
                .reserved_for
                .iter()
                .any(|g| g.as_ref() == gres.value)
        {
            continue;
        }
        warnings.push(PolicyWarning {
            position: at(target),
            message: format!(
                "accelerators.{g} routes {g} components to partition '{p}', which is reserved \
                 for {r}: every routed component that does not also request {r} is rejected",
                g = gres.value,
                p = target.value,
                r = partition.reserved_for.join(" or ")
            ),
            hint: format!(
                "list a partition that takes {} first, or add {} to partitions.{}.reserved_for",
                gres.value, gres.value, target.value
            ),
        });
    }
}

/// A QOS allowed on a reserved partition whose limits forbid every GRES
/// the partition is reserved for: no component can use it there.
fn forbidden_reserved_gres(file: &PolicyFile, policy: &Policy, warnings: &mut Vec<PolicyWarning>) {
    for (partition, rule) in &file.partitions {
        if rule.reserved_for.is_empty() {
            continue;
        }
        let Some(qos) = &rule.qos else {
            continue;
        };
        let default = qos.default.as_ref().map(|d| d.value.as_str());
        for allowed in &qos.allowed {
            let Some(limits) = policy.qos.get(allowed.value.as_str()) else {
                continue;
            };
            let forbids = |gres: &str| {
                limits
                    .max_gres
                    .iter()
                    .any(|(name, max)| name.as_ref() == gres && *max == 0)
            };
            if !rule.reserved_for.iter().all(|g| forbids(&g.value)) {
                continue;
            }
            let reserved: Vec<&str> = rule.reserved_for.iter().map(|g| g.value.as_str()).collect();
            let reserved = reserved.join(" or ");
            let first = &rule.reserved_for[0].value;
            let default_note = if default == Some(allowed.value.as_str()) {
                "; it is the partition's default QOS, so every component there that names no \
                 QOS is rejected"
                    .to_owned()
            } else {
                String::new()
            };
            warnings.push(PolicyWarning {
                position: at(allowed),
                message: format!(
                    "partition '{}' allows QOS '{}', but every component there must request \
                     {reserved} and qos.{}.max_gres.{first} is 0: no component can use QOS {} on \
                     {}{default_note}",
                    partition.value, allowed.value, allowed.value, allowed.value, partition.value
                ),
                hint: format!(
                    "remove '{}' from partitions.{}.qos.allowed, or allow {first} in qos.{}.max_gres",
                    allowed.value, partition.value, allowed.value
                ),
            });
        }
    }
}

/// Site options no component can satisfy, or whose requirement names
/// something the policy never names.
fn site_options(file: &PolicyFile, partitions: &BTreeSet<&str>, warnings: &mut Vec<PolicyWarning>) {
    let gres_names = mentioned_gres(file);
    for (name, option) in &file.options {
        let required =
            !option.required_on.partitions.is_empty() || !option.required_on.gres.is_empty();
        let releases = client_option_releases(&name.value);
        if !releases.is_empty() {
            let consequence = if required {
                "; components that must give it (required_on) can never be accepted"
            } else {
                ""
            };
            // A clash in every release needs no releases named.
            let which = if releases.len() == Release::ALL.len() {
                String::new()
            } else {
                let names: Vec<String> = releases.iter().map(|r| format!("Slurm {r}")).collect();
                format!(" in {}", names.join(" and "))
            };
            warnings.push(PolicyWarning {
                position: at(name),
                message: format!(
                    "option '{}' is already an option of sbatch, salloc or srun{which}: the SPANK \
                     plugin cannot add --{}, so users cannot give it{consequence}",
                    name.value, name.value
                ),
                hint: format!("rename options.{} to a name Slurm does not use", name.value),
            });
        }
        for partition in &option.required_on.partitions {
            if !partitions.contains(partition.value.as_str()) {
                let suggestion = closest_name(&partition.value, partitions.iter().copied())
                    .map(|s| format!("did you mean '{s}'? Otherwise "))
                    .unwrap_or_default();
                warnings.push(PolicyWarning {
                    position: at(partition),
                    message: format!(
                        "options.{}.required_on.partitions names partition '{}', which the \
                         policy never names under `partitions`",
                        name.value, partition.value
                    ),
                    hint: format!(
                        "{suggestion}fix the name, or add `partitions.{}: {{}}` if it is a real \
                         partition without rules",
                        partition.value
                    ),
                });
            }
        }
        for gres in &option.required_on.gres {
            if gres_names.get(gres.value.as_str()).copied().unwrap_or(0) <= 1 {
                warnings.push(PolicyWarning {
                    position: at(gres),
                    message: format!(
                        "options.{}.required_on.gres names GRES '{}', which no other rule of the \
                         policy mentions",
                        name.value, gres.value
                    ),
                    hint: "check the GRES name against slurm.conf's GresTypes".to_owned(),
                });
            }
        }
    }
}

/// How often each GRES name appears as a key or value in the policy.
fn mentioned_gres(file: &PolicyFile) -> HashMap<&str, usize> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let names = file
        .accelerators
        .keys()
        .chain(file.partitions.values().flat_map(|p| &p.reserved_for))
        .chain(file.qos.values().flat_map(|q| q.max_gres.keys()))
        .chain(file.hetjob.max_total_gres.keys())
        .chain(file.options.values().flat_map(|o| &o.required_on.gres));
    for name in names {
        *counts.entry(name.value.as_str()).or_default() += 1;
    }
    counts
}

/// A GRES name in a limit that no other rule names: a typo (`gpus` for
/// `gpu`) makes the limit apply to nothing.
fn unknown_gres_names(file: &PolicyFile, warnings: &mut Vec<PolicyWarning>) {
    let counts = mentioned_gres(file);
    let known: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(g, _)| *g)
        .chain(file.accelerators.keys().map(|g| g.value.as_str()))
        .chain(
            file.partitions
                .values()
                .flat_map(|p| &p.reserved_for)
                .map(|g| g.value.as_str()),
        )
        .collect();
    let limits = file
        .qos
        .iter()
        .flat_map(|(q, limits)| {
            limits
                .max_gres
                .keys()
                .map(move |g| (format!("qos.{}.max_gres", q.value), g))
        })
        .chain(
            file.hetjob
                .max_total_gres
                .keys()
                .map(|g| ("hetjob.max_total_gres".to_owned(), g)),
        );
    for (key, gres) in limits {
        if known.contains(gres.value.as_str()) {
            continue;
        }
        let Some(suggestion) = closest_name(&gres.value, known.iter().copied()) else {
            continue;
        };
        warnings.push(PolicyWarning {
            position: at(gres),
            message: format!(
                "{key} limits GRES '{}', which no accelerator or reserved partition names, while \
                 '{suggestion}' is: the limit applies only to requests of '{}'",
                gres.value, gres.value
            ),
            hint: format!("did you mean '{suggestion}'?"),
        });
    }
}

/// The candidate nearest to `word` (edit distance at most 2, and less
/// than half its length), for "did you mean" hints.
pub fn closest_name<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (distance(word, c), c))
        .filter(|(d, c)| *d <= 2 && *d * 2 < word.len().max(c.len()))
        .min()
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal
/// string alignment): `lnog` is one edit from `long`.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("../../../tests/fixtures/policy.yaml");

    fn warnings(text: &str) -> Vec<PolicyWarning> {
        let policy = Policy::from_yaml(text, "test.yaml").expect("the policy loads");
        lint(text, &policy)
    }

    #[test]
    fn the_reference_policy_is_clean() {
        assert_eq!(warnings(REFERENCE), []);
    }

    #[test]
    fn a_warn_until_day_that_has_passed_is_a_warning() {
        let text = format!(
            "{REFERENCE}\nenforcement: {{warn_until: 2020-01-01}}\nio_files:\n  \
             first_component_only: true\n  enforcement: {{warn_until: 2999-01-01}}\n"
        )
        .replace("io_files:\n  first_component_only: true\n\n", "");
        let w = warnings(&text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(
            w[0].message,
            "the enforcement of the top of the file warns until 2020-01-01, which has passed: \
             its rules refuse already"
        );
    }

    #[test]
    fn a_jobs_list_of_both_kinds_limits_nothing() {
        let text = "partitions:\n  debug:\n    allow: {jobs: [interactive, batch]}\n  gpu:\n    \
                    deny: {jobs: [interactive]}\ndeny:\n  - jobs: [batch, interactive]\n    \
                    message: no\n";
        let w = warnings(text);
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(w[0].position, None);
        assert_eq!(
            w[0].message,
            "deny entry 1 lists both interactive and batch jobs: it limits nothing"
        );
        assert_eq!(w[1].position, Some((2, 3)));
        assert_eq!(
            w[1].message,
            "partitions.debug.allow.jobs lists both interactive and batch: it limits nothing"
        );
    }

    #[test]
    fn gres_mapped_to_a_partition_never_named() {
        let text = "partitions:\n  gpu: {}\naccelerators:\n  gpu:\n    partitions: [gpu, gpus]\n";
        let w = warnings(text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].position, Some((5, 23)));
        assert!(
            w[0].message.contains("partition 'gpus'"),
            "{}",
            w[0].message
        );
        assert!(w[0].hint.contains("did you mean 'gpu'?"), "{}", w[0].hint);
    }

    #[test]
    fn qos_on_a_reserved_partition_that_forbids_its_gres() {
        let text = "partitions:\n  gpu:\n    reserved_for: [gpu]\n    qos:\n      allowed: [normal, long]\n      default: long\naccelerators:\n  gpu:\n    partitions: [gpu]\nqos:\n  normal: {}\n  long:\n    max_gres: {gpu: 0}\n";
        let w = warnings(text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].position, Some((5, 25)));
        assert!(
            w[0].message
                .contains("no component can use QOS long on gpu"),
            "{}",
            w[0].message
        );
        assert!(w[0].message.contains("default QOS"), "{}", w[0].message);
    }

    #[test]
    fn options_nothing_can_satisfy() {
        let text = "partitions:\n  quantum: {}\noptions:\n  partition:\n    help: clashes\n    required_on:\n      partitions: [quantum]\n  qpu:\n    help: fine\n    required_on:\n      partitions: [quantm]\n      gres: [qpus]\n";
        let w = warnings(text);
        let messages: Vec<&str> = w.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(w.len(), 3, "{messages:?}");
        assert!(
            messages[0].contains("already an option of sbatch"),
            "{messages:?}"
        );
        assert!(
            messages[0].contains("can never be accepted"),
            "{messages:?}"
        );
        assert!(messages[1].contains("'quantm'"), "{messages:?}");
        assert!(messages[2].contains("GRES 'qpus'"), "{messages:?}");
    }

    #[test]
    fn a_client_option_of_any_supported_release_clashes() {
        let text = "options:\n  tres-bind:\n    help: 24.11 added it\n  partition:\n    help: always\n  qpu:\n    help: fine\n";
        let w = warnings(text);
        let messages: Vec<&str> = w.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(w.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains(
                "srun in Slurm 24.11 and Slurm 26.05: the SPANK plugin cannot add --tres-bind"
            ),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("srun: the SPANK plugin cannot add --partition"),
            "{messages:?}"
        );
    }

    #[test]
    fn routing_into_a_partition_reserved_for_something_else() {
        let text = "partitions:\n  quantum:\n    reserved_for: [qpu]\naccelerators:\n  qpu:\n    partitions: [quantum]\n  gpu:\n    partitions: [quantum]\n    action: route\n";
        // accelerators.gpu maps quantum although it is reserved for qpu only;
        // Policy::from_yaml accepts that (gpu is not in reserved_for).
        let w = warnings(text);
        assert!(
            w.iter()
                .any(|w| w.message.contains("routes gpu components")),
            "{w:?}"
        );
    }

    #[test]
    fn misspelt_gres_in_limits() {
        let text = "partitions:\n  gpu:\n    reserved_for: [gpu]\naccelerators:\n  gpu:\n    partitions: [gpu]\nqos:\n  normal:\n    max_gres: {gpus: 1}\n";
        let w = warnings(text);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].hint, "did you mean 'gpu'?");
    }

    #[test]
    fn closest() {
        assert_eq!(
            closest_name("max_gpus", ["max_gres", "max_nodes", "max_time"]),
            Some("max_gres")
        );
        assert_eq!(closest_name("xyz", ["max_gres"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("lnog", "long"), 1);
        assert_eq!(closest_name("lnog", ["long", "normal"]), Some("long"));
    }
}
