//! `enforcement`: whether a rule refuses (`enforce`) or only warns
//! (`warn`, or `{warn_until: DATE}`), set at the top of the policy, on a
//! section (`io_files`, `time.interactive`, ...) or on an entry
//! (`partitions.gpu`, `partitions.gpu.allow`, `qos.normal`, ...); the
//! nearest setting to a rule wins.

use super::file::{EnforcementFile, PolicyFile};
use crate::units::Day;

/// How a rule is applied on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// What breaks the rule is refused; what the rule sets is set.
    Enforce,
    /// What breaks the rule is accepted and the user is told; what the
    /// rule would set is not set. `until`: the day it starts to refuse.
    Warn {
        /// The first day the rule refuses, when the policy names one.
        until: Option<Day>,
    },
}

/// Every `enforcement` setting of a policy, by the rule path it is on
/// (`""` for the top of the file).
#[derive(Debug, Default)]
pub(crate) struct Enforcement {
    settings: Vec<(Box<str>, EnforcementFile)>,
}

impl Enforcement {
    /// Collects the settings of `file`.
    pub(crate) fn compile(file: &PolicyFile) -> Enforcement {
        let mut settings: Vec<(Box<str>, EnforcementFile)> = Vec::new();
        let mut add = |path: String, setting: Option<EnforcementFile>| {
            if let Some(setting) = setting {
                settings.push((path.into(), setting));
            }
        };
        add(String::new(), file.enforcement);
        for (name, partition) in &file.partitions {
            let p = format!("partitions.{}", name.value);
            add(p.clone(), partition.enforcement);
            add(
                format!("{p}.qos"),
                partition.qos.as_ref().and_then(|q| q.enforcement),
            );
            add(
                format!("{p}.allow"),
                partition.allow.as_ref().and_then(|w| w.enforcement),
            );
            add(
                format!("{p}.deny"),
                partition.deny.as_ref().and_then(|w| w.enforcement),
            );
            add(
                format!("{p}.forbid"),
                partition.forbid.as_ref().and_then(|f| f.enforcement),
            );
            add(
                format!("{p}.per_gpu"),
                partition.per_gpu.as_ref().and_then(|g| g.enforcement),
            );
        }
        for (name, accelerator) in &file.accelerators {
            add(
                format!("accelerators.{}", name.value),
                accelerator.enforcement,
            );
        }
        for (name, qos) in &file.qos {
            add(format!("qos.{}", name.value), qos.enforcement);
        }
        for (name, option) in &file.options {
            add(format!("options.{}", name.value), option.enforcement);
        }
        add("io_files".to_owned(), file.io_files.enforcement);
        add("hetjob".to_owned(), file.hetjob.enforcement);
        add("memory".to_owned(), file.memory.enforcement);
        add("time".to_owned(), file.time.enforcement);
        add(
            "time.interactive".to_owned(),
            file.time.interactive.as_ref().and_then(|t| t.enforcement),
        );
        add(
            "time.batch".to_owned(),
            file.time.batch.as_ref().and_then(|t| t.enforcement),
        );
        Enforcement { settings }
    }

    /// The settings that warn until a day before `today`: those rules are
    /// enforced already. Path (`""` for the top of the file) and day.
    pub(crate) fn past_warn_until(&self, today: Day) -> impl Iterator<Item = (&str, Day)> {
        self.settings
            .iter()
            .filter_map(move |(path, setting)| match setting {
                EnforcementFile::WarnUntil(day) if *day <= today => Some((path.as_ref(), *day)),
                _ => None,
            })
    }

    /// True when no rule is in warn mode, whatever the day.
    pub(crate) fn all_enforced(&self) -> bool {
        self.settings
            .iter()
            .all(|(_, setting)| *setting == EnforcementFile::Enforce)
    }

    /// How `rule` (a policy path such as `partitions.gpu.qos.allowed`, or
    /// empty for refusals that belong to no rule) applies on `today`: the
    /// setting of the longest path that is `rule` or one of its parents,
    /// else the top of the file, else `enforce`.
    pub(crate) fn mode(&self, rule: &str, today: Day) -> Mode {
        if self.settings.is_empty() {
            return Mode::Enforce;
        }
        let mut parts = [""; MAX_DEPTH];
        let mut depth = 0;
        for part in rule.split('.').filter(|p| !p.is_empty()) {
            if depth == MAX_DEPTH {
                break;
            }
            parts[depth] = part;
            depth += 1;
        }
        self.mode_of(&parts[..depth], today)
    }

    /// [`Enforcement::mode`] of the path made of `parts`
    /// (`["partitions", "gpu", "qos"]`), without building it.
    pub(crate) fn mode_of(&self, parts: &[&str], today: Day) -> Mode {
        for depth in (0..=parts.len()).rev() {
            let parent = &parts[..depth];
            if let Some((_, setting)) = self.settings.iter().find(|(p, _)| is_path(p, parent)) {
                return match *setting {
                    EnforcementFile::Enforce => Mode::Enforce,
                    EnforcementFile::Warn => Mode::Warn { until: None },
                    EnforcementFile::WarnUntil(day) if today >= day => Mode::Enforce,
                    EnforcementFile::WarnUntil(day) => Mode::Warn { until: Some(day) },
                };
            }
        }
        Mode::Enforce
    }
}

/// The most parts of a rule path that are looked at
/// (`partitions.<p>.qos.allowed` has 4).
const MAX_DEPTH: usize = 8;

/// True when `path` is `parts` joined with dots.
fn is_path(path: &str, parts: &[&str]) -> bool {
    let mut rest = path;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix('.') {
                Some(after) => rest = after,
                None => return false,
            }
        }
        match rest.strip_prefix(part) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Day;

    fn policy(yaml: &str) -> crate::policy::Policy {
        crate::policy::Policy::from_yaml(yaml, "enforcement.yaml").expect("the policy loads")
    }

    #[test]
    fn the_nearest_setting_wins() {
        let p = policy(
            "enforcement: warn\npartitions:\n  cpu:\n    default: true\n    enforcement: \
             enforce\n    allow: {users: [a], enforcement: {warn_until: 2027-01-15}}\n  gpu: {}\n\
             io_files: {first_component_only: true, enforcement: enforce}\n",
        );
        let before = Day::parse("2027-01-14").unwrap();
        let after = Day::parse("2027-01-15").unwrap();
        let warn = Mode::Warn { until: None };
        assert_eq!(p.mode("accelerators.gpu", before), warn, "top of the file");
        assert_eq!(p.mode("partitions.gpu.qos.allowed", before), warn);
        assert_eq!(p.mode("partitions.cpu.qos.allowed", before), Mode::Enforce);
        assert_eq!(
            p.mode("partitions.cpu.allow", before),
            Mode::Warn { until: Some(after) }
        );
        assert_eq!(p.mode("partitions.cpu.allow", after), Mode::Enforce);
        assert_eq!(
            p.mode("io_files.first_component_only", before),
            Mode::Enforce
        );
        assert_eq!(p.mode("", before), warn);
        assert!(!p.all_enforced());
        let plain = policy("partitions: {cpu: {default: true}}\n");
        assert_eq!(plain.mode("partitions.cpu", before), Mode::Enforce);
        assert!(plain.all_enforced());
    }

    #[test]
    fn paths_match_whole_parts_only() {
        assert!(is_path("partitions.gpu", &["partitions", "gpu"]));
        assert!(is_path("", &[]));
        assert!(!is_path("partitions.gpu", &["partitions", "gpu2"]));
        assert!(!is_path("partitions.gpu2", &["partitions", "gpu"]));
        assert!(!is_path("partitions", &["partitions", "gpu"]));
    }

    #[test]
    fn bad_settings_are_errors_at_their_place() {
        for (yaml, says) in [
            (
                "enforcement: warning\n",
                "enforce, warn, or {warn_until: YYYY-MM-DD}",
            ),
            ("enforcement: {warn_until: 2027-02-30}\n", "is not a date"),
            ("enforcement: {until: 2027-02-01}\n", "warn_until"),
        ] {
            let error = crate::policy::Policy::from_yaml(yaml, "bad.yaml")
                .expect_err(yaml)
                .to_string();
            assert!(error.contains(says), "{yaml}: {error}");
            assert!(error.contains("bad.yaml:1:"), "{yaml}: {error}");
        }
    }
}
