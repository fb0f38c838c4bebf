//! `hetpolicy replay [--against OLD] [--sacct-json FILE | -] [POLICY]`:
//! judges a policy against jobs that already ran, read from `sacct --json`
//! (run here, or a saved file) as a stream, and counts per rule, account
//! and user how many components it would have refused, warned about or
//! changed; with `--against`, side by side with another policy.
//!
//! Memory stays bounded: one job record at a time, and counters per rule,
//! account and user.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hetpolicy_core::engine::{
    evaluate_on, Component, HetjobState, Notices, Position, Submitter, Verdict,
};
use hetpolicy_core::paths::default_policy_path;
use hetpolicy_core::policy::Policy;
use hetpolicy_core::units::Day;
use serde_json::{json, Value};

use crate::args::{no_value, Args, Format, Item, UsageError};
use crate::command;
use crate::sacct::{self, Job};

/// `sacct --starttime` when `--start` is not given.
const DEFAULT_START: &str = "now-30days";

/// `replay`'s options.
#[derive(Debug)]
pub struct Options {
    policy: Option<PathBuf>,
    against: Option<PathBuf>,
    input: Option<String>,
    start: Option<String>,
    end: Option<String>,
    on: Option<Day>,
    format: Format,
}

impl Options {
    /// Reads `replay`'s options and its policy argument.
    pub fn parse(args: &mut Args<'_>) -> Result<Options, UsageError> {
        let mut options = Options {
            policy: None,
            against: None,
            input: None,
            start: None,
            end: None,
            on: None,
            format: Format::Text,
        };
        while let Some(item) = args.next_item() {
            match item {
                Item::Flag(name, inline) => match name.as_str() {
                    "against" => options.against = Some(args.value(&name, inline)?.into()),
                    "sacct-json" => options.input = Some(args.value(&name, inline)?),
                    "start" => options.start = Some(args.value(&name, inline)?),
                    "end" => options.end = Some(args.value(&name, inline)?),
                    "on" => {
                        let value = args.value(&name, inline)?;
                        options.on =
                            Some(Day::parse(&value).map_err(|e| UsageError(format!("--on: {e}")))?);
                    }
                    "format" => options.format = Format::parse(&args.value(&name, inline)?)?,
                    "" => {
                        no_value(&name, inline)?;
                        return Err(UsageError(
                            "replay: unexpected `--`: replay takes options and one policy"
                                .to_owned(),
                        ));
                    }
                    _ => return Err(UsageError(format!("replay: unknown option --{name}"))),
                },
                Item::Word(word) if options.policy.is_none() => {
                    options.policy = Some(word.into());
                }
                Item::Word(word) => {
                    return Err(UsageError(format!(
                        "replay takes one policy (the one to judge; the other goes after \
                         --against), got '{word}' too"
                    )))
                }
                Item::Rest(_) => {
                    return Err(UsageError(
                        "replay: unexpected `--`: replay takes options and one policy".to_owned(),
                    ))
                }
            }
        }
        if options.input.is_some() && (options.start.is_some() || options.end.is_some()) {
            return Err(UsageError(
                "replay: --start and --end choose what sacct reads; a --sacct-json file is \
                 replayed whole"
                    .to_owned(),
            ));
        }
        Ok(options)
    }
}

/// Counts of components (or jobs) by what a policy does to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    seen: u64,
    refused: u64,
    warned: u64,
    changed: u64,
}

impl Counts {
    fn add(&mut self, outcome: &Outcome) {
        self.seen += 1;
        self.refused += u64::from(outcome.refused.is_some());
        self.warned += u64::from(!outcome.warned.is_empty());
        self.changed += u64::from(!outcome.changed.is_empty());
    }

    fn json(&self) -> Value {
        json!({"seen": self.seen, "refused": self.refused, "warned": self.warned, "changed": self.changed})
    }
}

/// What one policy did to one component.
#[derive(Debug, Default, Clone)]
struct Outcome {
    /// False for a component after a refused one of the same hetjob:
    /// slurmctld stops at the first refusal.
    judged: bool,
    /// The rule that refused it (`""` for an unreadable request).
    refused: Option<String>,
    /// The rules in warn mode that would have refused or changed it.
    warned: Vec<String>,
    /// The rules that changed it.
    changed: Vec<String>,
}

/// Everything one policy's replay counts.
#[derive(Debug, Default)]
struct Tally {
    components: Counts,
    jobs: Counts,
    not_judged: u64,
    rules: BTreeMap<String, Counts>,
    accounts: BTreeMap<String, Counts>,
    users: BTreeMap<String, Counts>,
    /// Refusals by rules about site options, whose values sacct does not
    /// record.
    site_option_refusals: u64,
}

/// The name a rule is counted under.
fn rule_name(rule: &str) -> &str {
    if rule.is_empty() {
        "(unreadable request)"
    } else {
        rule
    }
}

impl Tally {
    fn add(&mut self, job: &Job, outcome: &Outcome) {
        if !outcome.judged {
            self.not_judged += 1;
            return;
        }
        self.components.add(outcome);
        if let Some(rule) = &outcome.refused {
            self.rules
                .entry(rule_name(rule).to_owned())
                .or_default()
                .refused += 1;
            if rule.starts_with("options.") {
                self.site_option_refusals += 1;
            }
        }
        for rule in &outcome.warned {
            self.rules
                .entry(rule_name(rule).to_owned())
                .or_default()
                .warned += 1;
        }
        for rule in &outcome.changed {
            self.rules.entry(rule.clone()).or_default().changed += 1;
        }
        let account = job.account.as_deref().unwrap_or("(none)");
        bump(&mut self.accounts, account, outcome);
        bump(
            &mut self.users,
            job.user.as_deref().unwrap_or("(unknown)"),
            outcome,
        );
    }

    fn json(&self, file: &Path) -> Value {
        let map = |m: &BTreeMap<String, Counts>| -> Value {
            m.iter()
                .map(|(k, c)| (k.clone(), c.json()))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        json!({
            "file": file.display().to_string(),
            "components": self.components.json(),
            "jobs": self.jobs.json(),
            "not_judged": self.not_judged,
            "rules": map(&self.rules),
            "accounts": map(&self.accounts),
            "users": map(&self.users),
        })
    }
}

fn bump(map: &mut BTreeMap<String, Counts>, key: &str, outcome: &Outcome) {
    match map.get_mut(key) {
        Some(counts) => counts.add(outcome),
        None => {
            let mut counts = Counts::default();
            counts.add(outcome);
            map.insert(key.to_owned(), counts);
        }
    }
}

/// Components whose fate differs between the two policies (new against
/// old).
#[derive(Debug, Default, Clone, Copy)]
struct Changed {
    newly_refused: u64,
    no_longer_refused: u64,
    newly_warned: u64,
    no_longer_warned: u64,
    newly_changed: u64,
    no_longer_changed: u64,
}

impl Changed {
    fn add(&mut self, new: &Outcome, old: &Outcome) {
        let flip = |n: bool, o: bool| (u64::from(n && !o), u64::from(o && !n));
        let (a, b) = flip(new.refused.is_some(), old.refused.is_some());
        self.newly_refused += a;
        self.no_longer_refused += b;
        let (a, b) = flip(!new.warned.is_empty(), !old.warned.is_empty());
        self.newly_warned += a;
        self.no_longer_warned += b;
        let (a, b) = flip(!new.changed.is_empty(), !old.changed.is_empty());
        self.newly_changed += a;
        self.no_longer_changed += b;
    }

    fn is_empty(&self) -> bool {
        self.newly_refused
            + self.no_longer_refused
            + self.newly_warned
            + self.no_longer_warned
            + self.newly_changed
            + self.no_longer_changed
            == 0
    }

    fn json(&self) -> Value {
        json!({
            "newly_refused": self.newly_refused,
            "no_longer_refused": self.no_longer_refused,
            "newly_warned": self.newly_warned,
            "no_longer_warned": self.no_longer_warned,
            "newly_changed": self.newly_changed,
            "no_longer_changed": self.no_longer_changed,
        })
    }
}

/// The difference between the two policies, in components.
#[derive(Debug, Default)]
struct Difference {
    total: Changed,
    accounts: BTreeMap<String, Changed>,
    users: BTreeMap<String, Changed>,
}

impl Difference {
    fn add(&mut self, job: &Job, new: &Outcome, old: &Outcome) {
        let mut one = Changed::default();
        one.add(new, old);
        if one.is_empty() {
            return;
        }
        self.total.add(new, old);
        let account = job.account.as_deref().unwrap_or("(none)").to_owned();
        self.accounts.entry(account).or_default().add(new, old);
        let user = job.user.as_deref().unwrap_or("(unknown)").to_owned();
        self.users.entry(user).or_default().add(new, old);
    }
}

/// One policy being replayed: its hetjob state and its counts.
struct Judge<'p> {
    policy: &'p Policy,
    file: PathBuf,
    state: HetjobState,
    /// A component of the current hetjob was refused.
    job_refused: bool,
    job_outcome: Outcome,
    tally: Tally,
}

impl<'p> Judge<'p> {
    fn new(policy: &'p Policy, file: PathBuf) -> Self {
        Judge {
            policy,
            file,
            state: HetjobState::new(),
            job_refused: false,
            job_outcome: Outcome::default(),
            tally: Tally::default(),
        }
    }

    /// Ends the job whose components were judged so far.
    fn end_job(&mut self, judged_any: bool) {
        if judged_any {
            self.job_outcome.judged = true;
            self.tally.jobs.add(&self.job_outcome);
        }
        self.job_outcome = Outcome::default();
        self.job_refused = false;
    }

    fn judge(&mut self, component: &Component<'_>, on: Day, outcome: &mut Outcome) {
        outcome.judged = false;
        outcome.refused = None;
        outcome.warned.clear();
        outcome.changed.clear();
        if self.job_refused {
            return;
        }
        outcome.judged = true;
        match evaluate_on(self.policy, &mut self.state, component, on) {
            Verdict::Reject(rejection) => {
                outcome.refused = Some(rejection.rule().to_owned());
                self.job_refused = true;
                self.job_outcome.refused = Some(String::new());
            }
            Verdict::Accept(accepted) => {
                outcome
                    .warned
                    .extend(accepted.warnings.iter().map(|w| w.rule().to_owned()));
                if !accepted.changes.is_empty() {
                    let notices = Notices::new(self.policy, component, &accepted);
                    outcome
                        .changed
                        .extend(notices.changed_by().map(|rule| rule.to_string()));
                }
                if !outcome.warned.is_empty() {
                    self.job_outcome.warned.push(String::new());
                }
                if !outcome.changed.is_empty() {
                    self.job_outcome.changed.push(String::new());
                }
            }
        }
    }
}

/// Who submitted, as the user database here knows them; looked up once
/// per user, and only when a policy has rules about who submits.
struct Users {
    needed: bool,
    known: HashMap<String, Submitter>,
    unknown_groups: u64,
}

impl Users {
    fn get(&mut self, name: &str) -> &Submitter {
        if !self.known.contains_key(name) {
            let groups = command::run("id", &["-Gn", "--", name]).ok();
            if groups.is_none() {
                self.unknown_groups += 1;
            }
            let submitter = Submitter {
                // Rules name users, not uids; sacct's JSON has no uid in
                // 22.05.
                uid: u32::MAX,
                user: Some(name.to_owned()),
                groups_known: groups.is_some(),
                groups: groups
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect(),
            };
            self.known.insert(name.to_owned(), submitter);
        }
        &self.known[name]
    }
}

/// The whole run.
struct Replay<'p> {
    on: Day,
    new: Judge<'p>,
    old: Option<Judge<'p>>,
    users: Users,
    difference: Difference,
    /// The hetjob being read, and the offset its next component should
    /// have.
    current: Option<(u64, u32)>,
    components: u64,
    jobs: u64,
    out_of_order: u64,
    no_kind: u64,
    no_user: u64,
    new_outcome: Outcome,
    old_outcome: Outcome,
}

impl<'p> Replay<'p> {
    /// A replay judged on `on` by `new` (and `old`, with `--against`),
    /// with the submitters `users` knows; nothing read yet.
    fn new(on: Day, new: Judge<'p>, old: Option<Judge<'p>>, users: Users) -> Self {
        Replay {
            on,
            new,
            old,
            users,
            difference: Difference::default(),
            current: None,
            components: 0,
            jobs: 0,
            out_of_order: 0,
            no_kind: 0,
            no_user: 0,
            new_outcome: Outcome::default(),
            old_outcome: Outcome::default(),
        }
    }

    fn end_job(&mut self) {
        let judged = self.current.take().is_some() || self.components > 0;
        self.new.end_job(judged);
        if let Some(old) = &mut self.old {
            old.end_job(judged);
        }
    }

    fn job(&mut self, job: &Job) {
        let continues = match (self.current, job.het) {
            (Some((leader, next)), Some((het_leader, offset))) if leader == het_leader => {
                if offset != next {
                    self.out_of_order += 1;
                }
                self.current = Some((leader, offset + 1));
                true
            }
            _ => false,
        };
        if !continues {
            if self.components > 0 {
                self.end_job();
            }
            self.jobs += 1;
            self.current = job.het.map(|(leader, offset)| (leader, offset + 1));
            self.new.state = HetjobState::new();
            if let Some(old) = &mut self.old {
                old.state = HetjobState::new();
            }
        }
        self.components += 1;
        let position = match job.het {
            Some((_, offset)) => Position::Het(offset),
            None => Position::Plain,
        };
        let kind = match position {
            Position::Het(k) if k > 0 => None,
            _ => {
                if job.kind.is_none() {
                    self.no_kind += 1;
                }
                job.kind
            }
        };
        if job.user.is_none() {
            self.no_user += 1;
        }
        let submitter = match (&job.user, self.users.needed) {
            (Some(user), true) => Some(self.users.get(user).clone()),
            _ => None,
        };
        let component = Component {
            position,
            partition: job.partition.as_deref(),
            qos: job.qos.as_deref(),
            tres_per_job: job.gres_per_job.as_deref(),
            nodes: job.nodes,
            min_cpus: job.cpus,
            memory: job.memory,
            time_limit: job.time_limit,
            submitter: submitter.as_ref(),
            account: job.account.as_deref(),
            kind,
            job_name: job.name.as_deref(),
            ..Component::default()
        };
        let mut new_outcome = std::mem::take(&mut self.new_outcome);
        self.new.judge(&component, self.on, &mut new_outcome);
        self.new.tally.add(job, &new_outcome);
        if let Some(old) = &mut self.old {
            let mut old_outcome = std::mem::take(&mut self.old_outcome);
            old.judge(&component, self.on, &mut old_outcome);
            old.tally.add(job, &old_outcome);
            self.difference.add(job, &new_outcome, &old_outcome);
            self.old_outcome = old_outcome;
        }
        self.new_outcome = new_outcome;
    }
}

fn load(path: &Path) -> Result<Policy, u8> {
    Policy::load(path).map_err(|error| {
        let _ = writeln!(
            std::io::stderr(),
            "hetpolicy: the policy does not load (`hetpolicy check {}` explains):\n{error}",
            path.display()
        );
        2
    })
}

/// Runs the replay; the exit status (0 replayed, 2 input or policy that
/// cannot be read).
pub fn run(options: Options) -> Result<u8, UsageError> {
    let policy_path = options
        .policy
        .clone()
        .unwrap_or_else(|| default_policy_path(None));
    let Ok(policy) = load(&policy_path) else {
        return Ok(2);
    };
    let against = match &options.against {
        Some(path) => match load(path) {
            Ok(policy) => Some((policy, path.clone())),
            Err(code) => return Ok(code),
        },
        None => None,
    };
    let needed = policy.has_rules_about_who()
        || against
            .as_ref()
            .is_some_and(|(p, _)| p.has_rules_about_who());
    let mut replay = Replay::new(
        options.on.unwrap_or_else(Day::today),
        Judge::new(&policy, policy_path.clone()),
        against
            .as_ref()
            .map(|(p, path)| Judge::new(p, path.clone())),
        Users {
            needed,
            known: HashMap::new(),
            unknown_groups: 0,
        },
    );
    let started = Instant::now();
    let (source, read) = match options.input.as_deref() {
        Some("-") => (
            "standard input".to_owned(),
            Ok(sacct::read(std::io::stdin().lock(), &mut |job| {
                replay.job(&job)
            })),
        ),
        Some(file) => match std::fs::File::open(file) {
            Ok(reader) => (
                file.to_owned(),
                Ok(sacct::read(reader, &mut |job| replay.job(&job))),
            ),
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "hetpolicy: replay: {file}: {e}");
                return Ok(2);
            }
        },
        None => {
            let start = options.start.as_deref().unwrap_or(DEFAULT_START);
            let mut args = vec!["--json", "--allusers", "--starttime", start];
            if let Some(end) = options.end.as_deref() {
                args.extend(["--endtime", end]);
            }
            let read = command::stream("sacct", &args, command::STREAM_TIMEOUT, |out| {
                sacct::read(out, &mut |job| replay.job(&job))
            });
            (format!("`sacct {}`", args.join(" ")), read)
        }
    };
    let meta = match read {
        Ok(Ok(meta)) => meta,
        Ok(Err(error)) => {
            let _ = writeln!(std::io::stderr(), "hetpolicy: replay: {source}: {error}");
            return Ok(2);
        }
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "hetpolicy: replay: {error}");
            return Ok(2);
        }
    };
    if replay.components > 0 {
        replay.end_job();
    }
    let seconds = started.elapsed().as_secs_f64();
    let notes = notes(&replay, &meta.errors);
    let report = Report {
        source,
        release: meta.release,
        replay: &replay,
        notes,
        seconds,
    };
    let text = match options.format {
        Format::Text => report.text(),
        Format::Json => format!("{:#}\n", report.json()),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(0)
}

fn notes(replay: &Replay<'_>, errors: &[String]) -> Vec<String> {
    let mut notes = Vec::new();
    for error in errors {
        notes.push(format!("sacct reported an error: {error}"));
    }
    if replay.no_user > 0 {
        notes.push(format!(
            "{} components have no user in the accounting records: rules about who submits \
             are not judged for them",
            replay.no_user
        ));
    }
    if replay.users.unknown_groups > 0 {
        notes.push(format!(
            "{} users are not in the user database here (`id -Gn` fails): rules about groups \
             refuse their jobs, as the plugin does when it cannot read the groups",
            replay.users.unknown_groups
        ));
    }
    if replay.no_kind > 0 {
        notes.push(format!(
            "{} jobs never started and carry no submit line: whether they were batch or \
             interactive is unknown, so the time rules for a kind of job do not apply to them",
            replay.no_kind
        ));
    }
    if replay.out_of_order > 0 {
        notes.push(format!(
            "{} hetjob components came out of order: the rules over a whole hetjob were \
             skipped for them",
            replay.out_of_order
        ));
    }
    let option_refusals = replay.new.tally.site_option_refusals
        + replay
            .old
            .as_ref()
            .map_or(0, |o| o.tally.site_option_refusals);
    if option_refusals > 0 {
        notes.push(
            "accounting does not record site option values (--qpu=NAME): refusals by \
             options.* rules count every component that needs one, given or not"
                .to_owned(),
        );
    }
    notes
}

/// What the run prints.
struct Report<'r, 'p> {
    source: String,
    release: Option<String>,
    replay: &'r Replay<'p>,
    notes: Vec<String>,
    seconds: f64,
}

impl Report<'_, '_> {
    fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let components = self.replay.components as f64;
            components / self.seconds
        } else {
            0.0
        }
    }

    fn json(&self) -> Value {
        let r = self.replay;
        let difference = r.old.as_ref().map(|_| {
            let map = |m: &BTreeMap<String, Changed>| -> Value {
                m.iter()
                    .map(|(k, c)| (k.clone(), c.json()))
                    .collect::<serde_json::Map<_, _>>()
                    .into()
            };
            let mut total = r.difference.total.json();
            total["accounts"] = map(&r.difference.accounts);
            total["users"] = map(&r.difference.users);
            total
        });
        json!({
            "source": self.source,
            "slurm": self.release,
            "judged_on": r.on.to_string(),
            "components": r.components,
            "jobs": r.jobs,
            "policy": r.new.tally.json(&r.new.file),
            "against": r.old.as_ref().map(|o| o.tally.json(&o.file)),
            "difference": difference,
            "notes": self.notes,
            "seconds": self.seconds,
            "components_per_second": self.per_second(),
        })
    }

    fn text(&self) -> String {
        let r = self.replay;
        let mut out = String::new();
        let release = self
            .release
            .as_deref()
            .map_or(String::new(), |v| format!(" (Slurm {v})"));
        let _ = writeln!(
            out,
            "replayed {} components of {} jobs from {}{release}, judged on {}",
            r.components, r.jobs, self.source, r.on
        );
        let _ = writeln!(out, "  policy   {}", r.new.file.display());
        if let Some(old) = &r.old {
            let _ = writeln!(out, "  against  {}", old.file.display());
        }
        out.push('\n');
        let mut table = Table::new(r.old.is_some());
        let pair = |new: Counts, old: Option<Counts>| (new, old);
        table.section("");
        table.row(
            "jobs",
            pair(r.new.tally.jobs, r.old.as_ref().map(|o| o.tally.jobs)),
        );
        table.row(
            "components",
            pair(
                r.new.tally.components,
                r.old.as_ref().map(|o| o.tally.components),
            ),
        );
        for (title, select) in [
            (
                "rule",
                (|t: &Tally| &t.rules) as fn(&Tally) -> &BTreeMap<String, Counts>,
            ),
            ("account", |t: &Tally| &t.accounts),
            ("user", |t: &Tally| &t.users),
        ] {
            table.section(title);
            let new = select(&r.new.tally);
            let old = r.old.as_ref().map(|o| select(&o.tally));
            let mut keys: Vec<&String> = new.keys().collect();
            if let Some(old) = old {
                keys.extend(old.keys().filter(|k| !new.contains_key(*k)));
                keys.sort();
            }
            for key in keys {
                let n = new.get(key).copied().unwrap_or_default();
                let o = old.map(|old| old.get(key).copied().unwrap_or_default());
                table.row(&format!("  {key}"), (n, o));
            }
        }
        out.push_str(&table.render());
        if r.new.tally.not_judged > 0 {
            let _ = writeln!(
                out,
                "\nnot judged: {} components that follow a refused component of their hetjob \
                 (slurmctld stops at the first refusal)",
                r.new.tally.not_judged
            );
        }
        if r.old.is_some() {
            let d = &r.difference.total;
            let _ = writeln!(
                out,
                "\nwhat the edit does, in components: {} newly refused, {} no longer refused, \
                 {} newly warned, {} no longer warned, {} newly changed, {} no longer changed",
                d.newly_refused,
                d.no_longer_refused,
                d.newly_warned,
                d.no_longer_warned,
                d.newly_changed,
                d.no_longer_changed
            );
            for (what, map) in [
                ("account", &r.difference.accounts),
                ("user", &r.difference.users),
            ] {
                for (key, c) in map {
                    let _ = writeln!(
                        out,
                        "  {what} {key}: {} newly refused, {} no longer refused, {} newly \
                         warned, {} no longer warned, {} newly changed, {} no longer changed",
                        c.newly_refused,
                        c.no_longer_refused,
                        c.newly_warned,
                        c.no_longer_warned,
                        c.newly_changed,
                        c.no_longer_changed
                    );
                }
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nnotes:\n");
            for note in &self.notes {
                let _ = writeln!(out, "  {note}");
            }
        }
        let _ = writeln!(
            out,
            "\nreplayed {} components in {:.2} s ({:.0} components/s)",
            r.components,
            self.seconds,
            self.per_second()
        );
        out
    }
}

/// An aligned table: a label, then refused, warned and changed, each for
/// the policy (and with `--against`, old, new and the difference).
struct Table {
    against: bool,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(against: bool) -> Self {
        let header: Vec<String> = if against {
            ["", "refused", "", "", "warned", "", "", "changed", "", ""]
                .iter()
                .chain(
                    [
                        "", "old", "new", "diff", "old", "new", "diff", "old", "new", "diff",
                    ]
                    .iter(),
                )
                .map(|s| (*s).to_owned())
                .collect()
        } else {
            ["", "seen", "refused", "warned", "changed"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        };
        let width = if against { 10 } else { 5 };
        Table {
            against,
            rows: header.chunks(width).map(<[String]>::to_vec).collect(),
        }
    }

    fn section(&mut self, title: &str) {
        if !title.is_empty() {
            let width = self.rows[0].len();
            let mut row = vec![String::new(); width];
            row[0] = format!("{title}:");
            self.rows.push(row);
        }
    }

    fn row(&mut self, label: &str, (new, old): (Counts, Option<Counts>)) {
        let mut row = vec![label.to_owned()];
        match (self.against, old) {
            (true, Some(old)) => {
                for (n, o) in [
                    (new.refused, old.refused),
                    (new.warned, old.warned),
                    (new.changed, old.changed),
                ] {
                    #[allow(clippy::cast_possible_wrap)]
                    let diff = n as i64 - o as i64;
                    row.extend([o.to_string(), n.to_string(), format!("{diff:+}")]);
                }
            }
            _ => row.extend([
                new.seen.to_string(),
                new.refused.to_string(),
                new.warned.to_string(),
                new.changed.to_string(),
            ]),
        }
        self.rows.push(row);
    }

    fn render(&self) -> String {
        let columns = self.rows[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                if c == 0 {
                    let _ = write!(line, "{cell:<w$}", w = widths[0]);
                } else {
                    let _ = write!(line, "  {cell:>w$}", w = widths[c]);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn replay_file(
        policy: &Policy,
        against: Option<&Policy>,
        file: &str,
    ) -> (Tally, Option<Tally>, Changed) {
        let mut replay = Replay::new(
            Day::parse("2027-01-01").expect("day"),
            Judge::new(policy, "new".into()),
            against.map(|p| Judge::new(p, "old".into())),
            Users {
                needed: true,
                // The sample's users, without asking this machine's user
                // database.
                known: ["alice", "bob", "carol"]
                    .into_iter()
                    .map(|name| {
                        let submitter = Submitter {
                            uid: 1,
                            user: Some(name.to_owned()),
                            groups: vec![name.to_owned()],
                            groups_known: true,
                        };
                        (name.to_owned(), submitter)
                    })
                    .collect(),
                unknown_groups: 0,
            },
        );
        let reader = std::fs::File::open(fixture(file)).expect("fixture");
        sacct::read(reader, &mut |job| replay.job(&job)).expect("reads");
        replay.end_job();
        let difference = replay.difference.total;
        (replay.new.tally, replay.old.map(|o| o.tally), difference)
    }

    /// The reference policy with `partitions.gpu.allow: {accounts:
    /// [physics]}` and at most 30 minutes on QOS normal.
    fn stricter() -> Policy {
        let text = std::fs::read_to_string(fixture("policy.yaml"))
            .expect("policy")
            .replace(
                "    reserved_for: [gpu]\n",
                "    reserved_for: [gpu]\n    allow: {accounts: [chem]}\n",
            )
            .replace("    max_time: 1-00:00:00\n", "    max_time: \"0:30:00\"\n");
        Policy::from_yaml(&text, "stricter.yaml").expect("stricter policy loads")
    }

    #[test]
    fn counts_per_rule_account_and_user() {
        let reference = Policy::load(Path::new(&fixture("policy.yaml"))).expect("loads");
        let strict = stricter();
        for file in ["sacct-22.05.json", "sacct-24.11.json", "sacct-26.05.json"] {
            let (new, old, diff) = replay_file(&strict, Some(&reference), file);
            let old = old.expect("against");
            assert_eq!(old.components.refused, 0, "{file}: every job ran under it");
            // gpu jobs 1, 3 and the hetjob's component 1 are physics';
            // jobs 2 (1440 min) and the hetjob's component 0 exceed
            // normal's 30 minutes, and refusing component 0 leaves
            // component 1 unjudged.
            assert_eq!(new.rules["partitions.gpu.allow"].refused, 2, "{file}");
            assert_eq!(
                new.rules["qos.normal.max_time"].refused, 3,
                "{file}: {new:?}"
            );
            assert_eq!(new.not_judged, 1, "{file}");
            assert_eq!(new.accounts["physics"].refused, 3, "{file}");
            assert_eq!(new.accounts["chem"].refused, 2, "{file}");
            assert_eq!(new.users["alice"].refused, 2, "{file}");
            assert_eq!(diff.newly_refused, 5, "{file}");
            assert_eq!(diff.no_longer_refused, 0, "{file}");
        }
    }
}
