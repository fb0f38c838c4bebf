//! `hetpolicy check [POLICY]`: load the policy as the plugins do, print
//! every error as file:line:column with the line and a hint, then the
//! warnings of [`hetpolicy_core::policy::lint`].

use std::io::Write;

use hetpolicy_core::paths::{default_policy_path, slurm_conf_from_env};
use std::path::{Path, PathBuf};

use hetpolicy_core::policy::{closest_name, lint, LoadError, Policy, PolicyError};
use hetpolicy_core::store::MAX_POLICY_BYTES;
use hetpolicy_core::trust::{self, Owners};

use crate::args::{no_value, Args, Format, Item, UsageError};
use crate::cluster;
use crate::output::json;
use crate::plugstack;
use crate::report::{Problem, Report};

/// `check`'s options.
#[derive(Debug)]
pub struct Options {
    policy: Option<PathBuf>,
    format: Format,
    deny_warnings: bool,
    /// `--cluster`: also hold the policy's names against the live cluster.
    cluster: bool,
    /// `--plugstack FILE`: also hold the SPANK plugin's line against it.
    plugstack: Option<PathBuf>,
}

impl Options {
    pub fn parse(args: &mut Args<'_>) -> Result<Options, UsageError> {
        let mut options = Options {
            policy: None,
            format: Format::Text,
            deny_warnings: false,
            cluster: false,
            plugstack: None,
        };
        while let Some(item) = args.next_item() {
            match item {
                Item::Flag(name, inline) => match name.as_str() {
                    "format" => options.format = Format::parse(&args.value(&name, inline)?)?,
                    "deny-warnings" => {
                        no_value(&name, inline)?;
                        options.deny_warnings = true;
                    }
                    "cluster" => {
                        no_value(&name, inline)?;
                        options.cluster = true;
                    }
                    "plugstack" => options.plugstack = Some(args.value(&name, inline)?.into()),
                    _ => return Err(UsageError(format!("check: unknown option --{name}"))),
                },
                Item::Word(word) if options.policy.is_none() => options.policy = Some(word.into()),
                Item::Word(word) => {
                    return Err(UsageError(format!(
                        "check takes one policy file, not also '{word}'"
                    )))
                }
                Item::Rest(rest) => {
                    let [word] = rest.as_slice() else {
                        return Err(UsageError("check takes one policy file".to_owned()));
                    };
                    if options.policy.is_some() {
                        return Err(UsageError("check takes one policy file".to_owned()));
                    }
                    options.policy = Some(word.into());
                }
            }
        }
        Ok(options)
    }
}

pub fn run(options: Options) -> Result<u8, UsageError> {
    let installed = options.policy.is_none();
    let path = options.policy.unwrap_or_else(|| default_policy_path(None));
    let mut report = check(&path, installed);
    if options.cluster && report.errors.is_empty() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let (errors, warnings) = cluster::check(&text);
        report.errors.extend(errors);
        report.warnings.extend(warnings);
    }
    if let (Some(stack), true) = (&options.plugstack, report.errors.is_empty()) {
        if let Ok(policy) = Policy::load(&path) {
            let findings = plugstack::check_stack(stack, &policy, &path);
            report.stack = Some((stack.display().to_string(), findings));
        }
    }
    let findings = report.stack.as_ref().map_or(&[][..], |(_, f)| f.as_slice());
    let stack_errors = findings.iter().filter(|f| f.error).count();
    let stack_warnings = findings.len() - stack_errors;
    let failed = !report.errors.is_empty()
        || stack_errors > 0
        || (options.deny_warnings && (!report.warnings.is_empty() || stack_warnings > 0));
    let text = match options.format {
        Format::Json => json::check(&report),
        Format::Text => text(&report, &std::fs::read_to_string(&path).unwrap_or_default()),
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(u8::from(failed))
}

/// Loads and lints the file at `path`. `installed`: the file slurmctld
/// reads, whose owner and directories the plugins also check.
pub fn check(path: &Path, installed: bool) -> Report {
    let file = path.display().to_string();
    let mut report = Report {
        file: file.clone(),
        errors: Vec::new(),
        warnings: Vec::new(),
        summary: None,
        stack: None,
    };
    if installed {
        if let Err(untrusted) = trust::check_path(path, &Owners::root_and(slurm_user_uid())) {
            report.errors.push(Problem {
                position: None,
                message: untrusted.to_string(),
                hint: "slurmctld keeps its last good policy (or rejects every job) until the file \
                       and every directory above it are owned by root or SlurmUser and not \
                       writable by group or others"
                    .to_owned(),
            });
            return report;
        }
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() > MAX_POLICY_BYTES {
            report.errors.push(Problem {
                position: None,
                message: format!(
                    "the policy file is {} bytes, more than the {MAX_POLICY_BYTES} bytes a policy \
                     may have",
                    meta.len()
                ),
                hint: "a policy is a few kilobytes: is this the right file?".to_owned(),
            });
            return report;
        }
    }
    let text = std::fs::read(path).map(String::from_utf8);
    let text = match text {
        Ok(Ok(text)) => text,
        _ => {
            // The same words the plugins log.
            let error = Policy::load(path).err().unwrap_or_else(|| LoadError {
                source: file.clone(),
                errors: vec![PolicyError {
                    position: None,
                    message: "cannot read the policy file".to_owned(),
                }],
            });
            report.errors = error
                .errors
                .into_iter()
                .map(|e| Problem {
                    position: e.position,
                    hint: "give the path of a readable UTF-8 YAML file".to_owned(),
                    message: e.message,
                })
                .collect();
            return report;
        }
    };
    match Policy::from_yaml(&text, &file) {
        Ok(policy) => {
            report.warnings = lint(&text, &policy);
            report.summary = Some(summary(&policy));
        }
        Err(error) => {
            report.errors = error
                .errors
                .into_iter()
                .map(|e| Problem {
                    hint: hint(&e, &text),
                    position: e.position,
                    message: clean_message(&e.message),
                })
                .collect();
        }
    }
    report
}

fn summary(policy: &Policy) -> String {
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} QOS, {}, {}",
        count(policy.partition_names().len(), "partition"),
        policy.qos_names().len(),
        count(policy.accelerator_names().len(), "accelerator"),
        count(policy.options().len(), "site option"),
    )
}

/// SlurmUser's uid, from slurm.conf and /etc/passwd, if not root.
fn slurm_user_uid() -> Option<u32> {
    let conf = std::fs::read_to_string(slurm_conf_from_env()).ok()?;
    let user = conf.lines().find_map(|line| {
        let line = line.split('#').next()?.trim();
        let (key, value) = line.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("SlurmUser")
            .then(|| value.trim().to_owned())
    })?;
    if let Ok(uid) = user.parse() {
        return Some(uid);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == user).then_some(())?;
        fields.nth(1)?.parse().ok()
    })
}

/// The candidate for a misspelt key: a key about GPUs or GRES means
/// `max_gres`/`max_total_gres`; otherwise the nearest name.
fn suggest<'c>(unknown: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let lower = unknown.to_ascii_lowercase();
    if ["gpu", "gres", "qpu"].iter().any(|g| lower.contains(g)) {
        if let Some(gres) = candidates.iter().find(|c| c.contains("gres")) {
            return Some(gres);
        }
    }
    closest_name(unknown, candidates.iter().copied())
}

/// The words of "expected one of a, b" / "expected `a` or `b`".
fn expected_words(text: &str) -> Vec<&str> {
    text.split(['`', ',', ' '])
        .filter(|w| !w.is_empty() && !["expected", "one", "of", "or"].contains(w))
        .collect()
}

/// Cleans a load error's message for people: serde-saphyr's advice about
/// its own options means nothing to an admin.
fn clean_message(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return format!("duplicate key `{key}`");
    }
    message.to_owned()
}

/// A hint for one load error: the nearest key for an unknown one, what a
/// key takes for a wrong type, or the fix the message already names.
fn hint(error: &PolicyError, text: &str) -> String {
    let message = error.message.as_str();
    let key = error
        .position
        .and_then(|(line, _)| {
            text.lines()
                .nth(usize::try_from(line).ok()?.checked_sub(1)?)
        })
        .and_then(|line| line.trim_start().trim_start_matches("- ").split(':').next())
        .map(|k| k.trim().trim_start_matches(['{', '[']).trim().to_owned())
        .filter(|k| !k.is_empty() && !k.contains(' '));
    let key_takes = |what: &str| match &key {
        Some(key) => format!("`{key}` takes {what}"),
        None => format!("this value must be {what}"),
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (unknown, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates = expected_words(expected);
        return match suggest(unknown, &candidates) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!(
                "remove `{unknown}`; the keys allowed here are: {}",
                candidates.join(", ")
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (unknown, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates = expected_words(expected);
        return match suggest(unknown, &candidates) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("use one of: {}", candidates.join(", ")),
        };
    }
    if message.starts_with("invalid u") || message.starts_with("invalid i") {
        return key_takes("a whole number, 0 or more");
    }
    if message.starts_with("invalid bool") {
        return key_takes("true or false");
    }
    if message.starts_with("expected mapping") {
        return key_takes("a map: `name: settings` entries indented below it");
    }
    if message.starts_with("expected sequence") {
        return key_takes("a list: [a, b]");
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        let expected = message
            .split_once("expected ")
            .map_or("another kind of value", |(_, e)| e);
        return key_takes(expected);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return format!("add `{field}:` to this entry");
    }
    if message.starts_with("duplicate mapping key") {
        return "each name may appear once here: merge the two entries".to_owned();
    }
    if message.contains("is not a Slurm time") {
        return key_takes("a time as sbatch --time takes it: 90, 2:00:00, 1-00:00:00 or UNLIMITED");
    }
    if message.contains("is not a memory size") {
        return key_takes("a size as sbatch --mem takes it: 512M, 64G, 1T");
    }
    // A dangling name: suggest the nearest defined one.
    // ("partition 'cpu' allows QOS 'longg', which is not defined ...")
    if let Some(list) = message.split_once("(defined: ") {
        let dangling = message.split('\'').nth(3).unwrap_or_default();
        let defined: Vec<&str> = list
            .1
            .split(')')
            .next()
            .unwrap_or_default()
            .split(", ")
            .collect();
        let fix = message.split_once("; ").map_or("", |(_, fix)| fix);
        return match closest_name(dangling, defined.iter().copied()) {
            Some(best) => format!("did you mean '{best}'? Otherwise {fix}"),
            None => fix.to_owned(),
        };
    }
    if message.contains("expected")
        || message.contains("while scanning")
        || message.contains("did not find")
    {
        return "YAML syntax: each entry is `key: value`, nested keys are indented by the same \
                amount of spaces (no tabs)"
            .to_owned();
    }
    // Semantic errors name their fix after "; ", or after the last ": ".
    if let Some((_, fix)) = message.split_once("; ") {
        return fix.to_owned();
    }
    match message.rfind(": ") {
        Some(at) if at + 2 < message.len() => message[at + 2..].to_owned(),
        _ => "see the comments in policy.yaml for this key".to_owned(),
    }
}

/// The text report: each error with its source line and a caret.
fn text(report: &Report, source: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = source.lines().collect();
    let excerpt = |out: &mut String, position: Option<(u64, u64)>| {
        let Some((line, column)) = position else {
            return;
        };
        let Some(text) = usize::try_from(line)
            .ok()
            .and_then(|l| lines.get(l.checked_sub(1)?))
        else {
            return;
        };
        let width = line.to_string().len();
        let pad = " ".repeat(usize::try_from(column.saturating_sub(1)).unwrap_or(0));
        out.push_str(&format!(
            " {line:>width$} | {text}\n {:>width$} | {pad}^\n",
            ""
        ));
    };
    let place = |position: Option<(u64, u64)>| match position {
        Some((line, column)) => format!("{}:{line}:{column}", report.file),
        None => report.file.clone(),
    };
    for error in &report.errors {
        out.push_str(&format!(
            "{}: error: {}\n",
            place(error.position),
            error.message
        ));
        excerpt(&mut out, error.position);
        out.push_str(&format!("  hint: {}\n", error.hint));
    }
    for warning in &report.warnings {
        out.push_str(&format!(
            "{}: warning: {}\n",
            place(warning.position),
            warning.message
        ));
        excerpt(&mut out, warning.position);
        out.push_str(&format!("  hint: {}\n", warning.hint));
    }
    let findings = report.stack.as_ref().map_or(&[][..], |(_, f)| f.as_slice());
    for finding in findings {
        let kind = if finding.error { "error" } else { "warning" };
        out.push_str(&format!(
            "{}: {kind}: {}\n  hint: {}\n",
            finding.place, finding.message, finding.hint
        ));
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    if let Some((file, findings)) = &report.stack {
        let errors = findings.iter().filter(|f| f.error).count();
        if findings.is_empty() {
            out.push_str(&format!(
                "{file}: the spank_hetpolicy.so line agrees with the policy\n"
            ));
        } else {
            out.push_str(&format!(
                "{file}: {}, {}\n",
                plural(errors, "error"),
                plural(findings.len() - errors, "warning")
            ));
        }
    }
    if report.errors.is_empty() {
        out.push_str(&format!(
            "{}: valid ({}); {}\n",
            report.file,
            report.summary.as_deref().unwrap_or_default(),
            plural(report.warnings.len(), "warning")
        ));
    } else {
        out.push_str(&format!(
            "{}: invalid: {}; the plugins would refuse it and keep the last good policy\n",
            report.file,
            plural(report.errors.len(), "error")
        ));
    }
    out
}
