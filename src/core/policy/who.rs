//! The rules about who submits: `exempt`, `maintenance`, `deny`,
//! `partitions.<p>.allow` and `.deny`, and `time`, compiled.

use super::file::{
    DenyFile, ExemptFile, JobKindName, MaintenanceFile, Name, TimeCapFile, TimeFile, WhoFile,
};
use super::{boxed, Problems};
use crate::engine::JobKind;
use crate::units::TimeLimit;

/// A rule a submitter can be exempt from, named by its top-level key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `maintenance`.
    Maintenance,
    /// `deny`.
    Deny,
    /// `partitions`: access (`allow`, `deny`) and `reserved_for`.
    Partitions,
    /// `accelerators`.
    Accelerators,
    /// `qos` and `partitions.<p>.qos`.
    Qos,
    /// `io_files`.
    IoFiles,
    /// `hetjob`.
    Hetjob,
    /// `options`.
    Options,
    /// `time`.
    Time,
    /// `memory`.
    Memory,
}

impl Rule {
    /// Every rule, with its key.
    pub const ALL: [(Rule, &'static str); 10] = [
        (Rule::Maintenance, "maintenance"),
        (Rule::Deny, "deny"),
        (Rule::Partitions, "partitions"),
        (Rule::Accelerators, "accelerators"),
        (Rule::Qos, "qos"),
        (Rule::IoFiles, "io_files"),
        (Rule::Hetjob, "hetjob"),
        (Rule::Options, "options"),
        (Rule::Time, "time"),
        (Rule::Memory, "memory"),
    ];

    fn bit(self) -> u16 {
        1 << Rule::ALL.iter().position(|(r, _)| *r == self).unwrap_or(0)
    }

    fn named(key: &str) -> Option<Rule> {
        Rule::ALL
            .iter()
            .find(|(_, name)| *name == key)
            .map(|(rule, _)| *rule)
    }
}

/// A set of rules (a bit per [`Rule`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rules(u16);

impl Rules {
    /// Every rule.
    pub const EVERY: Rules = Rules(u16::MAX);

    /// True when `rule` is in the set.
    pub fn contains(self, rule: Rule) -> bool {
        self.0 & rule.bit() != 0
    }

    /// True when the set holds every rule.
    pub fn is_every(self) -> bool {
        self == Rules::EVERY
    }

    fn insert(&mut self, rule: Rule) {
        self.0 |= rule.bit();
    }

    /// The union.
    pub fn with(self, other: Rules) -> Rules {
        Rules(self.0 | other.0)
    }
}

/// Lists of users, groups and accounts, and the kinds of job they are
/// about. Empty name lists match nobody, unless `jobs` is given: then they
/// match every submitter's jobs of those kinds.
#[derive(Debug, Default)]
pub(crate) struct WhoSet {
    pub(crate) users: Vec<Box<str>>,
    pub(crate) groups: Vec<Box<str>>,
    pub(crate) accounts: Vec<Box<str>>,
    /// Only jobs of these kinds match; every kind when empty.
    pub(crate) jobs: Vec<JobKind>,
}

impl WhoSet {
    fn compile(who: &WhoFile) -> WhoSet {
        WhoSet::of(&who.users, &who.groups, &who.accounts, &who.jobs)
    }

    fn of(users: &[Name], groups: &[Name], accounts: &[Name], jobs: &[JobKindName]) -> WhoSet {
        let mut kinds = Vec::new();
        for kind in jobs {
            let kind = match kind {
                JobKindName::Interactive => JobKind::Interactive,
                JobKindName::Batch => JobKind::Batch,
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        WhoSet {
            users: users.iter().map(boxed).collect(),
            groups: groups.iter().map(boxed).collect(),
            accounts: accounts.iter().map(boxed).collect(),
            jobs: kinds,
        }
    }

    /// True when no user, group or account is listed.
    pub(crate) fn names_nobody(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.accounts.is_empty()
    }

    /// True when the set matches nothing: no names and no kinds of job.
    pub(crate) fn is_empty(&self) -> bool {
        self.names_nobody() && self.jobs.is_empty()
    }
}

/// One `exempt` entry.
#[derive(Debug)]
pub(crate) struct Exemption {
    pub(crate) who: WhoSet,
    pub(crate) rules: Rules,
}

/// One `deny` entry.
#[derive(Debug)]
pub(crate) struct Denial {
    pub(crate) who: WhoSet,
    pub(crate) message: Box<str>,
}

/// `time.interactive` or `time.batch`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimeCap {
    pub(crate) max: Option<TimeLimit>,
    pub(crate) default: Option<TimeLimit>,
}

/// The compiled rules about who submits.
#[derive(Debug, Default)]
pub(crate) struct WhoRules {
    pub(crate) exempt: Vec<Exemption>,
    /// The maintenance message, while maintenance is on.
    pub(crate) maintenance: Option<Box<str>>,
    pub(crate) deny: Vec<Denial>,
    pub(crate) interactive_time: TimeCap,
    pub(crate) batch_time: TimeCap,
}

pub(super) fn compile(
    exempt: &[ExemptFile],
    maintenance: Option<&MaintenanceFile>,
    deny: &[DenyFile],
    time: &TimeFile,
    problems: &mut Problems,
) -> WhoRules {
    let exempt = exempt
        .iter()
        .enumerate()
        .map(|(index, entry)| compile_exemption(index, entry, problems))
        .collect();
    let deny = deny
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let who = WhoSet::of(&entry.users, &entry.groups, &entry.accounts, &entry.jobs);
            if who.is_empty() {
                problems.0.push(super::PolicyError {
                    position: None,
                    message: format!(
                        "deny entry {} names no users, groups, accounts or jobs: it would \
                         refuse nobody; list who (or which kind of job) is refused, or remove \
                         the entry",
                        index + 1
                    ),
                });
            }
            if entry.message.trim().is_empty() {
                problems.0.push(super::PolicyError {
                    position: None,
                    message: format!(
                        "deny entry {} has an empty message: say why these submitters are \
                         refused and whom to contact",
                        index + 1
                    ),
                });
            }
            Denial {
                who,
                message: entry.message.trim().into(),
            }
        })
        .collect();
    let maintenance = maintenance.filter(|m| m.enabled).map(|m| {
        if m.message.trim().is_empty() {
            problems.0.push(super::PolicyError {
                position: None,
                message: "maintenance.message is empty: say why jobs are refused and until \
                          when"
                    .to_owned(),
            });
        }
        m.message.trim().into()
    });
    WhoRules {
        exempt,
        maintenance,
        deny,
        interactive_time: time_cap("interactive", time.interactive.as_ref(), problems),
        batch_time: time_cap("batch", time.batch.as_ref(), problems),
    }
}

fn compile_exemption(index: usize, entry: &ExemptFile, problems: &mut Problems) -> Exemption {
    let who = WhoSet::of(&entry.users, &entry.groups, &[], &[]);
    if who.is_empty() {
        problems.0.push(super::PolicyError {
            position: None,
            message: format!(
                "exempt entry {} names no users or groups: it would exempt nobody; list \
                 them, or remove the entry",
                index + 1
            ),
        });
    }
    let rules = match &entry.rules {
        None => Rules::EVERY,
        Some(names) => {
            let mut rules = Rules::default();
            for name in names {
                match Rule::named(&name.value) {
                    Some(rule) => rules.insert(rule),
                    None => problems.at(
                        name,
                        format!(
                            "exempt from '{}': no such rule; the rules are {}",
                            name.value,
                            Rule::ALL.map(|(_, key)| key).join(", ")
                        ),
                    ),
                }
            }
            rules
        }
    };
    Exemption { who, rules }
}

fn time_cap(kind: &str, cap: Option<&TimeCapFile>, problems: &mut Problems) -> TimeCap {
    let Some(cap) = cap else {
        return TimeCap::default();
    };
    let compiled = TimeCap {
        max: cap.max.map(|t| t.0),
        default: cap.default.map(|t| t.0),
    };
    if let (Some(max), Some(default)) = (compiled.max, compiled.default) {
        if default > max {
            problems.0.push(super::PolicyError {
                position: None,
                message: format!(
                    "time.{kind}.default ({default}) is longer than time.{kind}.max ({max}): \
                     every {kind} job without --time would be refused; lower the default"
                ),
            });
        }
    }
    compiled
}

pub(super) fn compile_access(who: Option<&WhoFile>) -> Option<WhoSet> {
    who.map(WhoSet::compile)
}
