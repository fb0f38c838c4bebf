//! `hetpolicy stats`: the per-rule counters job_submit/hetpolicy keeps
//! since slurmctld started, read from the OpenMetrics file it writes
//! (`metrics_file` in the policy), as a table per rule or as JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use hetpolicy_core::paths::default_policy_path;
use hetpolicy_core::policy::Policy;

use crate::args::{no_value, Args, Format, Item, UsageError};

/// `hetpolicy stats`'s options.
#[derive(Debug)]
pub struct Options {
    metrics: Option<PathBuf>,
    policy: Option<PathBuf>,
    format: Format,
}

impl Options {
    /// Reads `[--metrics FILE | --policy FILE] [--format text|json]`.
    pub fn parse(args: &mut Args<'_>) -> Result<Options, UsageError> {
        let mut options = Options {
            metrics: None,
            policy: None,
            format: Format::Text,
        };
        while let Some(item) = args.next_item() {
            match item {
                Item::Flag(name, inline) => match name.as_str() {
                    "metrics" => options.metrics = Some(args.value(&name, inline)?.into()),
                    "policy" => options.policy = Some(args.value(&name, inline)?.into()),
                    "format" => options.format = Format::parse(&args.value(&name, inline)?)?,
                    "h" | "help" => {
                        no_value(&name, inline)?;
                        return Err(UsageError("stats: usage".to_owned()));
                    }
                    other => {
                        return Err(UsageError(format!("stats: unknown option --{other}")));
                    }
                },
                Item::Word(word) => {
                    return Err(UsageError(format!("stats: unexpected argument '{word}'")));
                }
                Item::Rest(_) => return Err(UsageError("stats: unexpected --".to_owned())),
            }
        }
        if options.metrics.is_some() && options.policy.is_some() {
            return Err(UsageError(
                "stats: give --metrics or --policy, not both".to_owned(),
            ));
        }
        Ok(options)
    }
}

/// The four counts of one rule (or of every component, rule "").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Components accepted (the total only).
    pub accepted: u64,
    /// Components changed.
    pub changed: u64,
    /// Warnings given (the total: components with a warning).
    pub warned: u64,
    /// Components refused.
    pub refused: u64,
}

/// What a metrics file holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every component judged.
    pub total: Counts,
    /// Per rule path, sorted.
    pub rules: BTreeMap<String, Counts>,
    /// Decision log lines dropped.
    pub dropped: u64,
}

/// Reads the OpenMetrics text job_submit/hetpolicy writes; lines it does
/// not know are skipped, a malformed sample is an error.
pub fn parse(text: &str) -> Result<Stats, String> {
    let mut stats = Stats::default();
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("line {}: cannot read '{line}'", n + 1);
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (name_labels, value) = line.rsplit_once(' ').ok_or_else(bad)?;
        let value: u64 = value.parse().map_err(|_| bad())?;
        if name_labels == "hetpolicy_decision_log_dropped_total" {
            stats.dropped = value;
            continue;
        }
        let Some(labels) = name_labels
            .strip_prefix("hetpolicy_components_total{")
            .and_then(|l| l.strip_suffix('}'))
        else {
            continue;
        };
        let labels = read_labels(labels).ok_or_else(bad)?;
        let (Some(rule), Some(outcome)) = (labels.get("rule"), labels.get("outcome")) else {
            return Err(bad());
        };
        let counts = if rule.is_empty() {
            &mut stats.total
        } else {
            stats.rules.entry(rule.clone()).or_default()
        };
        match outcome.as_str() {
            "accepted" => counts.accepted = value,
            "changed" => counts.changed = value,
            "warned" => counts.warned = value,
            "refused" => counts.refused = value,
            _ => return Err(bad()),
        }
    }
    Ok(stats)
}

/// `a="x",b="y\"z"` as a map; `None` when malformed.
fn read_labels(text: &str) -> Option<BTreeMap<String, String>> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (at, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break at,
                c => value.push(c),
            }
        };
        labels.insert(name.trim().to_owned(), value);
        rest = after[end + 1..].trim_start_matches(',');
    }
    Some(labels)
}

/// Runs `hetpolicy stats`.
pub fn run(options: Options) -> Result<u8, UsageError> {
    let path = match options.metrics {
        Some(path) => path,
        None => {
            let policy_path = options.policy.unwrap_or_else(|| default_policy_path(None));
            match Policy::load(&policy_path) {
                Ok(policy) => match policy.metrics_file() {
                    Some(file) => PathBuf::from(file),
                    None => {
                        let _ = writeln!(
                            std::io::stderr(),
                            "hetpolicy: stats: {} names no metrics_file; set `metrics_file:` \
                             in the policy, or give --metrics FILE",
                            policy_path.display()
                        );
                        return Ok(2);
                    }
                },
                Err(error) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "hetpolicy: stats: the policy does not load (`hetpolicy check {}` \
                         explains); give --metrics FILE:\n{error}",
                        policy_path.display()
                    );
                    return Ok(2);
                }
            }
        }
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "hetpolicy: stats: cannot read {}: {error} (slurmctld writes it about a second \
                 after the first job is judged)",
                path.display()
            );
            return Ok(2);
        }
    };
    let stats = match parse(&text) {
        Ok(stats) => stats,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "hetpolicy: stats: {}: {error}",
                path.display()
            );
            return Ok(2);
        }
    };
    let printed = match options.format {
        Format::Text => text_table(&stats),
        Format::Json => json(&stats),
    };
    print!("{printed}");
    Ok(0)
}

/// The table: one row per rule, then every component.
pub fn text_table(stats: &Stats) -> String {
    let mut rows: Vec<[String; 5]> = vec![[
        "rule".into(),
        "accepted".into(),
        "changed".into(),
        "warned".into(),
        "refused".into(),
    ]];
    for (rule, c) in &stats.rules {
        rows.push([
            rule.clone(),
            "-".into(),
            c.changed.to_string(),
            c.warned.to_string(),
            c.refused.to_string(),
        ]);
    }
    let t = stats.total;
    rows.push([
        "(all components)".into(),
        t.accepted.to_string(),
        t.changed.to_string(),
        t.warned.to_string(),
        t.refused.to_string(),
    ]);
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let mut line = format!("{:<w$}", row[0], w = widths[0]);
        for i in 1..5 {
            line.push_str(&format!("  {:>w$}", row[i], w = widths[i]));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&format!("decision log lines dropped: {}\n", stats.dropped));
    out
}

/// `--format json`.
pub fn json(stats: &Stats) -> String {
    use serde_json::{json, Map, Value};
    let counts = |c: &Counts| {
        json!({
            "accepted": c.accepted,
            "changed": c.changed,
            "warned": c.warned,
            "refused": c.refused,
        })
    };
    let rules: Map<String, Value> = stats
        .rules
        .iter()
        .map(|(rule, c)| {
            (
                rule.clone(),
                json!({"changed": c.changed, "warned": c.warned, "refused": c.refused}),
            )
        })
        .collect();
    let value = json!({
        "total": counts(&stats.total),
        "rules": rules,
        "dropped": stats.dropped,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# HELP hetpolicy_components x
# TYPE hetpolicy_components counter
hetpolicy_components_total{rule=\"\",outcome=\"accepted\"} 5
hetpolicy_components_total{rule=\"\",outcome=\"changed\"} 3
hetpolicy_components_total{rule=\"\",outcome=\"warned\"} 1
hetpolicy_components_total{rule=\"\",outcome=\"refused\"} 2
hetpolicy_components_total{rule=\"accelerators.gpu\",outcome=\"changed\"} 1
hetpolicy_components_total{rule=\"accelerators.gpu\",outcome=\"warned\"} 0
hetpolicy_components_total{rule=\"accelerators.gpu\",outcome=\"refused\"} 2
hetpolicy_components_total{rule=\"a\\\"b\",outcome=\"refused\"} 7
# TYPE hetpolicy_decision_log_dropped counter
hetpolicy_decision_log_dropped_total 4
# EOF
";

    #[test]
    fn reads_what_the_plugin_writes() {
        let stats = parse(FILE).expect("reads");
        assert_eq!(
            stats.total,
            Counts {
                accepted: 5,
                changed: 3,
                warned: 1,
                refused: 2
            }
        );
        assert_eq!(stats.rules["accelerators.gpu"].refused, 2);
        assert_eq!(stats.rules["a\"b"].refused, 7);
        assert_eq!(stats.dropped, 4);
        let table = text_table(&stats);
        assert!(table.starts_with("rule              accepted  changed  warned  refused\n"));
        assert!(table.contains("\naccelerators.gpu         -        1       0        2\n"));
        assert!(table.contains("\n(all components)         5        3       1        2\n"));
        let json: serde_json::Value = serde_json::from_str(&json(&stats)).expect("JSON");
        assert_eq!(json["rules"]["accelerators.gpu"]["refused"], 2);
        assert_eq!(json["total"]["accepted"], 5);
    }

    #[test]
    fn malformed_samples_are_errors() {
        assert!(parse("hetpolicy_components_total{rule=\"x\"} 1\n").is_err());
        assert!(
            parse("hetpolicy_components_total{rule=\"x\",outcome=\"refused\"} many\n").is_err()
        );
    }
}
