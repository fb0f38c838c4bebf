//! Rules about who submits: `exempt`, `maintenance`, `deny`,
//! `partitions.<p>.allow` and `.deny`, and `time` by kind of job.
//!
//! A submitter matches a list when their user name, one of their groups or
//! the job's account is in it. A list with `jobs` is about those kinds of
//! job only (batch, interactive), and with no names about everyone's. When
//! the groups could not be looked up, a list of groups cannot be judged: an
//! exemption then does not apply, and a rule that would refuse or allow by
//! group refuses, saying why.

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
    /// Not listed as far as is known, but the part that could make it
    /// match (the user's name, groups, or the kind of job) is not known.
    Unknown(Lookup),
}

/// What is not known: what the user database did not answer in time, or
/// the kind of job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lookup {
    Name,
    Groups,
    Kind,
}

/// What made a submitter match: the part messages name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject<'s> {
    User(&'s str),
    Group(&'s str),
    Account(&'s str),
    /// A list of no names, about this kind of job.
    Kind(JobKind),
}

impl std::fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User(name) => write!(f, "user {}", shown(name)),
            Subject::Group(name) => write!(f, "group {}", shown(name)),
            Subject::Account(name) => write!(f, "account {}", shown(name)),
            Subject::Kind(kind) => f.write_str(kind_jobs(*kind)),
        }
    }
}

/// How messages name a kind of job: "interactive jobs".
fn kind_jobs(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Interactive => "interactive jobs",
        JobKind::Batch => "batch jobs",
    }
}

/// How messages name one job of a kind, with the commands that make it.
fn kind_job(kind: JobKind) -> &'static str {
    match kind {
        JobKind::Interactive => "an interactive job (salloc, srun)",
        JobKind::Batch => "a batch job (sbatch)",
    }
}

/// How messages name the kinds of job of a list: "interactive jobs",
/// "interactive jobs and batch jobs".
fn kinds_jobs(kinds: &[JobKind]) -> String {
    kinds
        .iter()
        .map(|k| kind_jobs(*k))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Is the set to be judged for this component? A set that names users,
/// groups or accounts needs the submitter (always known in the plugins; in
/// `hetpolicy eval` only when told); one about kinds of job alone does
/// not.
fn judged(set: &WhoSet, component: &Component<'_>) -> bool {
    component.submitter.is_some() || set.names_nobody()
}

fn matches<'s>(set: &WhoSet, component: &Component<'s>, kind: Option<JobKind>) -> Match<'s> {
    if set.jobs.is_empty() {
        return named(set, component);
    }
    match kind {
        Some(kind) if !set.jobs.contains(&kind) => Match::No,
        Some(kind) if set.names_nobody() => Match::Yes(Subject::Kind(kind)),
        Some(_) => named(set, component),
        // The kind decides only for the submitters the set names.
        None if set.names_nobody() => Match::Unknown(Lookup::Kind),
        None => match named(set, component) {
            Match::Yes(_) => Match::Unknown(Lookup::Kind),
            other => other,
        },
    }
}

/// Whether the submitter is among the users, groups or accounts of `set`.
fn named<'s>(set: &WhoSet, component: &Component<'s>) -> Match<'s> {
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
    if submitter.groups_known {
        if let Some(group) = submitter.groups.iter().find(|g| {
            set.groups
                .iter()
                .any(|listed| listed.as_ref() == g.as_str())
        }) {
            return Match::Yes(Subject::Group(group));
        }
    }
    if submitter.user.is_none() && !set.users.is_empty() {
        return Match::Unknown(Lookup::Name);
    }
    if !submitter.groups_known && !set.groups.is_empty() {
        return Match::Unknown(Lookup::Groups);
    }
    Match::No
}

/// The rules `component`'s submitter is exempt from (the union of the
/// `exempt` entries that list them). None while the submitter is unknown.
pub(crate) fn exemptions(policy: &Policy, component: &Component<'_>) -> Rules {
    // Exemptions name users and groups only: the kind of job plays no part.
    policy
        .who
        .exempt
        .iter()
        .filter(|e| matches!(matches(&e.who, component, None), Match::Yes(_)))
        .fold(Rules::default(), |all, e| all.with(e.rules))
}

fn unknown(component: &Component<'_>, lookup: Lookup, rule: &str) -> Rejection {
    let submitter = component.submitter;
    let user = submitter
        .and_then(|s| s.user.as_deref())
        .map(|u| format!("user {}", shown(u)));
    let user = user.unwrap_or_else(|| format!("uid {}", submitter.map_or(0, |s| s.uid)));
    let what = match lookup {
        Lookup::Name => "the name",
        Lookup::Groups => "the groups",
        Lookup::Kind => {
            return reject(
                RejectCode::AccessDenied,
                format!(
                    "{} cannot be judged: whether it is a batch or an interactive job is not \
                     known (a later hetjob component submitted on its own), and the rule \
                     depends on it; submit the whole hetjob at once (policy: {rule})",
                    component.position
                ),
            )
        }
    };
    reject(
        RejectCode::AccessDenied,
        format!(
            "{} cannot be judged: {what} of {user} could not be looked up (the user database \
             did not answer in time, or does not know the user), and the rule depends on it; \
             submit again in a minute, or contact your administrator if this persists \
             (policy: {rule})",
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
pub(crate) fn check_deny(
    policy: &Policy,
    component: &Component<'_>,
    kind: Option<JobKind>,
) -> Result<(), Rejection> {
    for denial in &policy.who.deny {
        if !judged(&denial.who, component) {
            continue;
        }
        match matches(&denial.who, component, kind) {
            Match::Yes(subject) => {
                return Err(reject(
                    RejectCode::AccessDenied,
                    format!(
                        "{} refused for {subject}: {} (policy: deny)",
                        component.position, denial.message
                    ),
                ))
            }
            Match::Unknown(lookup) => return Err(unknown(component, lookup, "deny")),
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
    kind: Option<JobKind>,
) -> Result<(), Rejection> {
    for partition in partitions.iter() {
        let Some(rule) = policy.partitions.get(partition) else {
            continue;
        };
        if let Some(deny) = rule.deny.as_ref().filter(|d| judged(d, component)) {
            match matches(deny, component, kind) {
                Match::Yes(subject) => return Err(denied(component, partition, deny, subject)),
                Match::Unknown(lookup) => {
                    return Err(unknown(
                        component,
                        lookup,
                        &format!("partitions.{partition}.deny"),
                    ))
                }
                Match::No => {}
            }
        }
        if let Some(allow) = rule.allow.as_ref().filter(|a| judged(a, component)) {
            match matches(allow, component, kind) {
                Match::Yes(_) => {}
                Match::Unknown(lookup) => {
                    return Err(unknown(
                        component,
                        lookup,
                        &format!("partitions.{partition}.allow"),
                    ))
                }
                Match::No => return Err(not_allowed(component, partition, allow, kind)),
            }
        }
    }
    Ok(())
}

/// The refusal of `partitions.<partition>.deny`, which `subject` matched.
fn denied(
    component: &Component<'_>,
    partition: &str,
    deny: &WhoSet,
    subject: Subject,
) -> Rejection {
    let message = match subject {
        Subject::Kind(kind) => {
            let fix = match kind {
                JobKind::Interactive => "submit the work as a batch job with sbatch",
                JobKind::Batch => "run it interactively with salloc or srun",
            };
            format!(
                "{} runs as {} on partition {}, which takes no {}; {fix}, or use another \
                 partition (policy: partitions.{partition}.deny)",
                component.position,
                kind_job(kind),
                shown(partition),
                kind_jobs(kind)
            )
        }
        _ => {
            let only_for = if deny.jobs.is_empty() {
                String::new()
            } else {
                format!(" for {}", kinds_jobs(&deny.jobs))
            };
            format!(
                "{} uses partition {} as {subject}, which may not use it{only_for}; use another \
                 partition (policy: partitions.{partition}.deny)",
                component.position,
                shown(partition)
            )
        }
    };
    reject(RejectCode::InvalidPartitionName, message)
}

fn not_allowed(
    component: &Component<'_>,
    partition: &str,
    allow: &WhoSet,
    kind: Option<JobKind>,
) -> Rejection {
    if let Some(kind) = kind.filter(|k| !allow.jobs.is_empty() && !allow.jobs.contains(k)) {
        let fix = match kind {
            JobKind::Batch => "run it interactively with salloc or srun",
            JobKind::Interactive => "submit the work as a batch job with sbatch",
        };
        return reject(
            RejectCode::InvalidPartitionName,
            format!(
                "{} runs as {} on partition {}, but partition {} takes only {}; {fix}, or use \
                 another partition (policy: partitions.{partition}.allow)",
                component.position,
                kind_job(kind),
                shown(partition),
                shown(partition),
                kinds_jobs(&allow.jobs)
            ),
        );
    }
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
                + &if allow.jobs.is_empty() {
                    String::new()
                } else {
                    format!(", in {}", kinds_jobs(&allow.jobs))
                }
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
                let (which, other) = if kind == "interactive" {
                    (
                        "interactive jobs (salloc, srun)",
                        ", or submit the work as a batch job with sbatch",
                    )
                } else {
                    ("batch jobs", "")
                };
                Err(reject(
                    RejectCode::InvalidTimeLimit,
                    format!(
                        "{} asks for --time={asked}, but {which} may run at most {max}; ask \
                         for --time={max} or less{other} (policy: time.{kind}.max)",
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

#[cfg(test)]
mod tests {
    use crate::engine::{evaluate, Component, HetjobState, Position, Submitter, Verdict};
    use crate::engine::{JobKind, RejectCode};
    use crate::policy::Policy;
    use crate::units::TimeLimit;

    /// The rules of issue scenarios: partition gpu for physics only,
    /// hpcadmin exempt, mallory refused, interactive jobs up to 8 hours.
    const POLICY: &str = "
partitions:
  cpu: {default: true}
  gpu:
    reserved_for: [gpu]
    allow: {accounts: [physics]}
  debug:
    deny: {users: [eve], groups: [students]}
accelerators:
  gpu: {partitions: [gpu]}
qos:
  normal: {max_time: 1-00:00:00}
exempt:
  - groups: [hpcadmin]
  - users: [backup]
    rules: [time]
deny:
  - users: [mallory]
    message: mallory's access is suspended; contact hpc-support@example.org
time:
  interactive: {max: 8:00:00, default: 1:00:00}
  batch: {max: 2-00:00:00}
";

    fn policy(text: &str) -> Policy {
        Policy::from_yaml(text, "p.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    fn user(name: &str, groups: &[&str]) -> Submitter {
        Submitter {
            uid: 1000,
            user: Some(name.to_owned()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            groups_known: true,
        }
    }

    fn job<'a>(who: &'a Submitter, account: &'a str, partition: &'a str) -> Component<'a> {
        Component {
            submitter: Some(who),
            account: Some(account),
            partition: Some(partition),
            kind: Some(JobKind::Batch),
            ..Component::default()
        }
    }

    fn judge<'p>(policy: &'p Policy, component: &Component<'_>) -> Verdict<'p> {
        evaluate(policy, &mut HetjobState::new(), component)
    }

    fn refused(verdict: Verdict<'_>) -> (RejectCode, String) {
        match verdict {
            Verdict::Reject(r) => (r.code, r.message),
            Verdict::Accept(c) => panic!("expected a refusal, got {c:?}"),
        }
    }

    #[test]
    fn a_partition_for_some_accounts_refuses_the_others_with_the_fix() {
        let p = policy(POLICY);
        let bob = user("bob", &["bob"]);
        let gpu_job = Component {
            tres_per_node: Some("gres:gpu:1"),
            ..job(&bob, "chem", "gpu")
        };
        let (code, message) = refused(judge(&p, &gpu_job));
        assert_eq!(code, RejectCode::InvalidPartitionName);
        assert_eq!(
            message,
            "job uses partition gpu as user bob with account chem, but partition gpu is only \
             for accounts physics; submit with -A physics (or another account listed) if you \
             belong to it, or use another partition (policy: partitions.gpu.allow)"
        );
        let physics = Component {
            account: Some("physics"),
            ..gpu_job.clone()
        };
        assert!(judge(&p, &physics).is_accept());
    }

    #[test]
    fn exempt_groups_skip_every_rule_and_named_rules_only_those() {
        let p = policy(POLICY);
        let carol = user("carol", &["carol", "hpcadmin"]);
        let gpu_on_cpu = Component {
            tres_per_node: Some("gres:gpu:1"),
            ..job(&carol, "chem", "cpu")
        };
        assert!(judge(&p, &gpu_on_cpu).is_accept());
        let alice = user("alice", &["alice"]);
        let same = Component {
            submitter: Some(&alice),
            ..gpu_on_cpu.clone()
        };
        assert_eq!(
            refused(judge(&p, &same)).0,
            RejectCode::InvalidPartitionName
        );

        // backup is exempt from `time` alone: its long job passes, its GPU
        // request on cpu does not.
        let backup = user("backup", &[]);
        let long = Component {
            time_limit: Some(TimeLimit::Minutes(10 * 24 * 60)),
            ..job(&backup, "chem", "cpu")
        };
        assert!(judge(&p, &long).is_accept());
        let gpu = Component {
            tres_per_node: Some("gres:gpu:1"),
            ..long.clone()
        };
        assert!(!judge(&p, &gpu).is_accept());
    }

    #[test]
    fn denied_users_get_the_site_message() {
        let p = policy(POLICY);
        let mallory = user("mallory", &["mallory"]);
        let (code, message) = refused(judge(&p, &job(&mallory, "chem", "cpu")));
        assert_eq!(code, RejectCode::AccessDenied);
        assert_eq!(
            message,
            "job refused for user mallory: mallory's access is suspended; contact \
             hpc-support@example.org (policy: deny)"
        );
    }

    #[test]
    fn partition_deny_lists_users_and_groups() {
        let p = policy(POLICY);
        let student = user("sam", &["sam", "students"]);
        let (_, message) = refused(judge(&p, &job(&student, "chem", "debug")));
        assert_eq!(
            message,
            "job uses partition debug as group students, which may not use it; use another \
             partition (policy: partitions.debug.deny)"
        );
        let alice = user("alice", &["alice"]);
        assert!(judge(&p, &job(&alice, "chem", "debug")).is_accept());
    }

    #[test]
    fn unknown_groups_refuse_group_rules_and_never_exempt() {
        let p = policy(POLICY);
        let carol = Submitter {
            groups_known: false,
            ..user("carol", &[])
        };
        // Not exempt, so the GPU-on-cpu rule applies.
        let gpu_on_cpu = Component {
            tres_per_node: Some("gres:gpu:1"),
            ..job(&carol, "chem", "cpu")
        };
        assert_eq!(
            refused(judge(&p, &gpu_on_cpu)).0,
            RejectCode::InvalidPartitionName
        );
        // A rule that refuses by group cannot tell: it refuses, saying why.
        let (code, message) = refused(judge(&p, &job(&carol, "chem", "debug")));
        assert_eq!(code, RejectCode::AccessDenied);
        assert!(
            message.starts_with(
                "job cannot be judged: the groups of user carol could not be looked up"
            ),
            "{message}"
        );
        assert!(
            message.ends_with("(policy: partitions.debug.deny)"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_name_refuses_user_lists_and_never_exempts() {
        let p = policy(POLICY);
        let nameless = Submitter {
            uid: 4242,
            user: None,
            groups: Vec::new(),
            groups_known: false,
        };
        // `deny` lists mallory: an unknown name might be hers.
        let (code, message) = refused(judge(&p, &job(&nameless, "chem", "cpu")));
        assert_eq!(code, RejectCode::AccessDenied);
        assert_eq!(
            message,
            "job cannot be judged: the name of uid 4242 could not be looked up (the user \
             database did not answer in time, or does not know the user), and the rule \
             depends on it; submit again in a minute, or contact your administrator if this \
             persists (policy: deny)"
        );
    }

    #[test]
    fn interactive_jobs_have_their_own_cap_and_default() {
        let p = policy(POLICY);
        let alice = user("alice", &["alice"]);
        let ten_hours = Component {
            kind: Some(JobKind::Interactive),
            time_limit: Some(TimeLimit::Minutes(600)),
            ..job(&alice, "physics", "cpu")
        };
        let (code, message) = refused(judge(&p, &ten_hours));
        assert_eq!(code, RejectCode::InvalidTimeLimit);
        assert_eq!(
            message,
            "job asks for --time=10:00:00, but interactive jobs (salloc, srun) may run at \
             most 08:00:00; ask for --time=08:00:00 or less, or submit the work as a batch job \
             with sbatch (policy: time.interactive.max)"
        );
        let batch = Component {
            kind: Some(JobKind::Batch),
            ..ten_hours.clone()
        };
        assert!(judge(&p, &batch).is_accept());
        // No --time: the interactive default (1 hour), below the cap.
        let untimed = Component {
            time_limit: None,
            ..ten_hours.clone()
        };
        match judge(&p, &untimed) {
            Verdict::Accept(accepted) => {
                assert_eq!(accepted.changes.time_limit, Some(TimeLimit::Minutes(60)))
            }
            Verdict::Reject(r) => panic!("{}", r.message),
        }
    }

    #[test]
    fn a_later_hetjob_component_is_of_component_0s_kind() {
        let p = policy(POLICY);
        let alice = user("alice", &["alice"]);
        let mut state = HetjobState::new();
        let first = Component {
            position: Position::Het(0),
            kind: Some(JobKind::Interactive),
            ..job(&alice, "physics", "cpu")
        };
        assert!(evaluate(&p, &mut state, &first).is_accept());
        let second = Component {
            position: Position::Het(1),
            kind: None,
            time_limit: Some(TimeLimit::Minutes(9 * 60)),
            ..job(&alice, "physics", "cpu")
        };
        let (_, message) = refused(evaluate(&p, &mut state, &second));
        assert!(
            message
                .starts_with("hetjob component 1 asks for --time=09:00:00, but interactive jobs"),
            "{message}"
        );
    }

    #[test]
    fn maintenance_refuses_all_but_the_exempt() {
        let text = format!(
            "{POLICY}maintenance:\n  message: the cluster is down for maintenance until \
             Monday 08:00\n"
        );
        let p = policy(&text);
        let alice = user("alice", &["alice"]);
        let (code, message) = refused(judge(&p, &job(&alice, "physics", "cpu")));
        assert_eq!(code, RejectCode::AccessDenied);
        assert_eq!(
            message,
            "job refused: the cluster is down for maintenance until Monday 08:00 (policy: \
             maintenance)"
        );
        let carol = user("carol", &["hpcadmin"]);
        assert!(judge(&p, &job(&carol, "chem", "cpu")).is_accept());
        let off = policy(&format!(
            "{POLICY}maintenance:\n  enabled: false\n  message: later\n"
        ));
        assert!(judge(&off, &job(&alice, "physics", "cpu")).is_accept());
    }

    #[test]
    fn without_a_submitter_who_rules_are_not_judged() {
        let p = policy(POLICY);
        let anonymous = Component {
            partition: Some("gpu"),
            tres_per_node: Some("gres:gpu:1"),
            ..Component::default()
        };
        assert!(judge(&p, &anonymous).is_accept());
    }

    #[test]
    fn mistakes_in_who_rules_are_load_errors() {
        for (text, expected) in [
            (
                "exempt:\n  - users: [root]\n    rules: [tiem]\n",
                "exempt from 'tiem': no such rule",
            ),
            (
                "exempt:\n  - rules: [time]\n",
                "exempt entry 1 names no users or groups",
            ),
            (
                "deny:\n  - message: go away\n",
                "deny entry 1 names no users, groups, accounts or jobs",
            ),
            (
                "time:\n  batch: {max: 1:00:00, default: 2:00:00}\n",
                "time.batch.default (02:00:00) is longer than time.batch.max (01:00:00)",
            ),
        ] {
            let error = Policy::from_yaml(text, "p.yaml").unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    /// Partitions for one kind of job, and a kind of job refused everywhere.
    const KINDS: &str = "
partitions:
  cpu: {default: true}
  debug:
    allow: {jobs: [interactive]}
  gpu:
    deny: {jobs: [interactive]}
  long:
    allow: {accounts: [physics], jobs: [batch]}
  bigmem:
    deny: {groups: [students], jobs: [batch]}
deny:
  - jobs: [interactive]
    users: [eve]
    message: eve may only submit batch jobs
";

    fn of_kind<'a>(
        who: &'a Submitter,
        account: &'a str,
        partition: &'a str,
        kind: JobKind,
    ) -> Component<'a> {
        Component {
            kind: Some(kind),
            ..job(who, account, partition)
        }
    }

    #[test]
    fn a_partition_for_interactive_jobs_refuses_batch_jobs_with_the_fix() {
        let p = policy(KINDS);
        let bob = user("bob", &[]);
        assert!(matches!(
            judge(&p, &of_kind(&bob, "chem", "debug", JobKind::Interactive)),
            Verdict::Accept(_)
        ));
        let (code, message) = refused(judge(&p, &of_kind(&bob, "chem", "debug", JobKind::Batch)));
        assert_eq!(code, RejectCode::InvalidPartitionName);
        assert_eq!(
            message,
            "job runs as a batch job (sbatch) on partition debug, but partition debug takes only \
             interactive jobs; run it interactively with salloc or srun, or use another \
             partition (policy: partitions.debug.allow)"
        );
    }

    #[test]
    fn a_partition_denying_interactive_jobs_takes_batch_jobs() {
        let p = policy(KINDS);
        let bob = user("bob", &[]);
        assert!(matches!(
            judge(&p, &of_kind(&bob, "chem", "gpu", JobKind::Batch)),
            Verdict::Accept(_)
        ));
        let (code, message) = refused(judge(
            &p,
            &of_kind(&bob, "chem", "gpu", JobKind::Interactive),
        ));
        assert_eq!(code, RejectCode::InvalidPartitionName);
        assert_eq!(
            message,
            "job runs as an interactive job (salloc, srun) on partition gpu, which takes no \
             interactive jobs; submit the work as a batch job with sbatch, or use another \
             partition (policy: partitions.gpu.deny)"
        );
    }

    #[test]
    fn names_and_jobs_together_need_both() {
        let p = policy(KINDS);
        let (alice, bob) = (user("alice", &[]), user("bob", &["students"]));
        // long: batch jobs of account physics only.
        assert!(matches!(
            judge(&p, &of_kind(&alice, "physics", "long", JobKind::Batch)),
            Verdict::Accept(_)
        ));
        let (_, message) = refused(judge(
            &p,
            &of_kind(&alice, "physics", "long", JobKind::Interactive),
        ));
        assert!(
            message.contains("takes only batch jobs; submit the work as a batch job with sbatch"),
            "{message}"
        );
        let (_, message) = refused(judge(&p, &of_kind(&bob, "chem", "long", JobKind::Batch)));
        assert!(
            message.contains("is only for accounts physics, in batch jobs; submit with -A physics"),
            "{message}"
        );
        // bigmem: students' batch jobs refused, their interactive ones not.
        assert!(matches!(
            judge(&p, &of_kind(&bob, "chem", "bigmem", JobKind::Interactive)),
            Verdict::Accept(_)
        ));
        assert!(matches!(
            judge(&p, &of_kind(&alice, "chem", "bigmem", JobKind::Batch)),
            Verdict::Accept(_)
        ));
        let (_, message) = refused(judge(&p, &of_kind(&bob, "chem", "bigmem", JobKind::Batch)));
        assert_eq!(
            message,
            "job uses partition bigmem as group students, which may not use it for batch jobs; \
             use another partition (policy: partitions.bigmem.deny)"
        );
    }

    #[test]
    fn a_deny_entry_with_jobs_refuses_only_those_jobs() {
        let p = policy(KINDS);
        let eve = user("eve", &[]);
        assert!(matches!(
            judge(&p, &of_kind(&eve, "chem", "cpu", JobKind::Batch)),
            Verdict::Accept(_)
        ));
        let (code, message) = refused(judge(
            &p,
            &of_kind(&eve, "chem", "cpu", JobKind::Interactive),
        ));
        assert_eq!(code, RejectCode::AccessDenied);
        assert_eq!(
            message,
            "job refused for user eve: eve may only submit batch jobs (policy: deny)"
        );
    }

    #[test]
    fn a_later_hetjob_components_partition_is_judged_by_component_0s_kind() {
        let p = policy(KINDS);
        let bob = user("bob", &[]);
        let mut state = HetjobState::new();
        let first = Component {
            position: Position::Het(0),
            ..of_kind(&bob, "chem", "cpu", JobKind::Interactive)
        };
        assert!(matches!(
            evaluate(&p, &mut state, &first),
            Verdict::Accept(_)
        ));
        let second = Component {
            position: Position::Het(1),
            kind: None,
            ..job(&bob, "chem", "gpu")
        };
        let (_, message) = refused(evaluate(&p, &mut state, &second));
        assert!(
            message.starts_with(
                "hetjob component 1 runs as an interactive job (salloc, srun) on partition gpu"
            ),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_kind_is_refused_where_a_list_depends_on_it() {
        let p = policy(KINDS);
        let bob = user("bob", &[]);
        let alone = Component {
            position: Position::Het(1),
            kind: None,
            ..job(&bob, "chem", "gpu")
        };
        let (code, message) = refused(judge(&p, &alone));
        assert_eq!(code, RejectCode::AccessDenied);
        assert!(
            message.contains("whether it is a batch or an interactive job is not known"),
            "{message}"
        );
        // Nowhere else does the kind matter.
        let elsewhere = Component {
            position: Position::Het(1),
            kind: None,
            ..job(&bob, "chem", "cpu")
        };
        assert!(
            !matches!(judge(&p, &elsewhere), Verdict::Reject(ref r) if r.message.contains("not known"))
        );
    }

    #[test]
    fn lists_of_jobs_alone_are_judged_without_the_submitter() {
        // As in `hetpolicy eval --no-user`: no submitter, the kind known.
        let p = policy(KINDS);
        let batch = Component {
            partition: Some("debug"),
            kind: Some(JobKind::Batch),
            ..Component::default()
        };
        let (_, message) = refused(judge(&p, &batch));
        assert!(
            message.contains("partition debug takes only interactive jobs"),
            "{message}"
        );
        let long = Component {
            partition: Some("long"),
            kind: Some(JobKind::Batch),
            ..Component::default()
        };
        assert!(matches!(judge(&p, &long), Verdict::Accept(_)));
    }

    #[test]
    fn a_deny_entry_of_nothing_is_an_error_and_one_of_jobs_is_not() {
        let err =
            Policy::from_yaml("deny:\n  - message: no\n", "p.yaml").expect_err("an empty entry");
        assert!(
            err.to_string()
                .contains("names no users, groups, accounts or jobs"),
            "{err}"
        );
        policy("deny:\n  - jobs: [interactive]\n    message: batch only\n");
        let err = Policy::from_yaml(
            "partitions:\n  cpu:\n    allow: {jobs: [nightly]}\n",
            "p.yaml",
        )
        .expect_err("an unknown kind");
        assert!(err.to_string().contains("nightly"), "{err}");
    }
}
