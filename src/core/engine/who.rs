//! Rules about who submits: `exempt`, `maintenance`, `deny`,
//! `partitions.<p>.allow` and `.deny`, and `time` by kind of job.
//!
//! A submitter matches a list when their user name, one of their groups or
//! the job's account is in it. When the groups could not be looked up, a
//! list of groups cannot be judged: an exemption then does not apply, and
//! a rule that would refuse or allow by group refuses, saying why.

use super::accelerators::Partitions;
use super::{reject, Changes, Component, JobKind, RejectCode, Rejection};
use crate::policy::{Policy, Rules, WhoSet};
use crate::shown::shown;

/// Whether a submitter is in a [`WhoSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Match<'s> {
    /// Listed: as a user, in a group, or by the job's account.
    Yes(Subject<'s>),
    /// Not listed.
    No,
    /// Only groups could make it match, and they are not known.
    GroupsUnknown,
}

/// What made a submitter match: the part messages name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject<'s> {
    User(&'s str),
    Group(&'s str),
    Account(&'s str),
}

impl std::fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User(name) => write!(f, "user {}", shown(name)),
            Subject::Group(name) => write!(f, "group {}", shown(name)),
            Subject::Account(name) => write!(f, "account {}", shown(name)),
        }
    }
}

fn matches<'s>(set: &WhoSet, component: &Component<'s>) -> Match<'s> {
    let Some(submitter) = component.submitter else {
        return Match::No;
    };
    if let Some(user) = submitter.user.as_deref() {
        if set.users.iter().any(|u| u.as_ref() == user) {
            return Match::Yes(Subject::User(user));
        }
    }
    if let Some(account) = component.account {
        if set.accounts.iter().any(|a| a.as_ref() == account) {
            return Match::Yes(Subject::Account(account));
        }
    }
    if set.groups.is_empty() {
        return Match::No;
    }
    if !submitter.groups_known {
        return Match::GroupsUnknown;
    }
    submitter
        .groups
        .iter()
        .find(|g| {
            set.groups
                .iter()
                .any(|listed| listed.as_ref() == g.as_str())
        })
        .map_or(Match::No, |g| Match::Yes(Subject::Group(g)))
}

/// The rules `component`'s submitter is exempt from (the union of the
/// `exempt` entries that list them). None while the submitter is unknown.
pub(crate) fn exemptions(policy: &Policy, component: &Component<'_>) -> Rules {
    policy
        .who
        .exempt
        .iter()
        .filter(|e| matches!(matches(&e.who, component), Match::Yes(_)))
        .fold(Rules::default(), |all, e| all.with(e.rules))
}

/// Who-based rules run only where the submitter is known: always in the
/// plugins, in `hetpolicy eval` only when told.
fn judged(component: &Component<'_>) -> bool {
    component.submitter.is_some()
}

fn groups_unknown(component: &Component<'_>, rule: &str) -> Rejection {
    let user = component
        .submitter
        .and_then(|s| s.user.as_deref())
        .map_or_else(|| "this user".to_owned(), |u| format!("user {}", shown(u)));
    reject(
        RejectCode::AccessDenied,
        format!(
            "{} cannot be judged: the groups of {user} could not be looked up (the user \
             database did not answer in time), and the rule depends on them; submit again \
             in a minute, or contact your administrator if this persists (policy: {rule})",
            component.position
        ),
    )
}

/// `maintenance`: while on, refuses every component with the site's
/// message.
pub(crate) fn check_maintenance(
    policy: &Policy,
    component: &Component<'_>,
) -> Result<(), Rejection> {
    match &policy.who.maintenance {
        Some(message) => Err(reject(
            RejectCode::AccessDenied,
            format!(
                "{} refused: {message} (policy: maintenance)",
                component.position
            ),
        )),
        None => Ok(()),
    }
}

/// `deny`: refuses the submitters listed, with the entry's message.
pub(crate) fn check_deny(policy: &Policy, component: &Component<'_>) -> Result<(), Rejection> {
    if !judged(component) {
        return Ok(());
    }
    for denial in &policy.who.deny {
        match matches(&denial.who, component) {
            Match::Yes(subject) => {
                return Err(reject(
                    RejectCode::AccessDenied,
                    format!(
                        "{} refused for {subject}: {} (policy: deny)",
                        component.position, denial.message
                    ),
                ))
            }
            Match::GroupsUnknown => return Err(groups_unknown(component, "deny")),
            Match::No => {}
        }
    }
    Ok(())
}

/// `partitions.<p>.allow` and `.deny`, on every partition the component
/// may run in.
pub(crate) fn check_access(
    policy: &Policy,
    component: &Component<'_>,
    partitions: &Partitions<'_>,
) -> Result<(), Rejection> {
    if !judged(component) {
        return Ok(());
    }
    for partition in partitions.iter() {
        let Some(rule) = policy.partitions.get(partition) else {
            continue;
        };
        if let Some(deny) = &rule.deny {
            match matches(deny, component) {
                Match::Yes(subject) => {
                    return Err(reject(
                        RejectCode::InvalidPartitionName,
                        format!(
                            "{} uses partition {} as {subject}, which may not use it; use \
                             another partition (policy: partitions.{partition}.deny)",
                            component.position,
                            shown(partition)
                        ),
                    ))
                }
                Match::GroupsUnknown => {
                    return Err(groups_unknown(
                        component,
                        &format!("partitions.{partition}.deny"),
                    ))
                }
                Match::No => {}
            }
        }
        if let Some(allow) = &rule.allow {
            match matches(allow, component) {
                Match::Yes(_) => {}
                Match::GroupsUnknown => {
                    return Err(groups_unknown(
                        component,
                        &format!("partitions.{partition}.allow"),
                    ))
                }
                Match::No => return Err(not_allowed(component, partition, allow)),
            }
        }
    }
    Ok(())
}

fn not_allowed(component: &Component<'_>, partition: &str, allow: &WhoSet) -> Rejection {
    let mut only = Vec::new();
    let list = |names: &[Box<str>]| names.join(", ");
    if !allow.accounts.is_empty() {
        only.push(format!("accounts {}", list(&allow.accounts)));
    }
    if !allow.groups.is_empty() {
        only.push(format!("groups {}", list(&allow.groups)));
    }
    if !allow.users.is_empty() {
        only.push(format!("users {}", list(&allow.users)));
    }
    let as_whom = match (
        component.account,
        component.submitter.and_then(|s| s.user.as_deref()),
    ) {
        (Some(account), Some(user)) => {
            format!(" as user {} with account {}", shown(user), shown(account))
        }
        (Some(account), None) => format!(" with account {}", shown(account)),
        (None, Some(user)) => format!(" as user {}", shown(user)),
        (None, None) => String::new(),
    };
    let fix = match allow.accounts.first() {
        Some(account) => format!(
            "submit with -A {account} (or another account listed) if you belong to it, or use \
             another partition"
        ),
        None => "use another partition, or ask your administrator for access".to_owned(),
    };
    reject(
        RejectCode::InvalidPartitionName,
        format!(
            "{} uses partition {}{as_whom}, but partition {} is only for {}; {fix} (policy: \
             partitions.{partition}.allow)",
            component.position,
            shown(partition),
            shown(partition),
            only.join(" and ")
        ),
    )
}

/// `time.interactive` and `time.batch`: caps the time limit a component
/// asks for, and gives one that asks for none the smallest of the kind's
/// default, its cap and what the QOS rule set.
pub(crate) fn check_time<'p>(
    policy: &'p Policy,
    component: &Component<'_>,
    kind: Option<JobKind>,
    changes: &mut Changes<'p>,
) -> Result<(), Rejection> {
    let cap = match kind {
        Some(JobKind::Interactive) => policy.who.interactive_time,
        Some(JobKind::Batch) => policy.who.batch_time,
        None => return Ok(()),
    };
    let kind = kind.map_or("", |k| match k {
        JobKind::Interactive => "interactive",
        JobKind::Batch => "batch",
    });
    match component.time_limit {
        Some(asked) => match cap.max {
            Some(max) if asked > max => {
                let (article, other) = if kind == "interactive" {
                    ("an", ", or submit the work as a batch job with sbatch")
                } else {
                    ("a", "")
                };
                Err(reject(
                    RejectCode::InvalidTimeLimit,
                    format!(
                        "{} is {article} {kind} job asking for --time={asked}, but {kind} jobs may \
                         run at most {max}; ask for --time={max} or less{other} (policy: \
                         time.{kind}.max)",
                        component.position
                    ),
                ))
            }
            _ => Ok(()),
        },
        None => {
            changes.time_limit = [cap.default, changes.time_limit, cap.max]
                .into_iter()
                .flatten()
                .min();
            Ok(())
        }
    }
}
