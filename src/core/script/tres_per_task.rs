//! `tres_per_task` in 24.11 and 26.05: `--tres-per-task` merged with its
//! siblings `--gpus-per-task` and `--cpus-per-task` into one string
//! (`cpu=2,gres/gpu=1`), and `--cpus-per-task` against `--cpus-per-gpu`
//! (src/common/slurm_opt.c: `_validate_tres_per_task` 5193,
//! `_set_tres_per_task_from_sibling_opt` 5073,
//! `slurm_option_update_tres_per_task` 4960, `slurm_format_tres_string`
//! in src/common/slurm_protocol_defs.c 5937 and `_validate_cpus_per_tres`
//! 5229, lines of 24.11). 22.05 has none of this ([`super::rules`]).
//!
//! The merged string is kept as the `--tres-per-task` value, where Slurm
//! keeps it (`opt->tres_per_task`).

use super::state::{fatal_line, Lines, Opts, Value};
use super::Origin;
use crate::slurm_options::Release;

/// TRES `--tres-per-task` refuses, in the order sbatch checks them.
const NOT_PER_TASK: [&str; 8] = [
    "mem", "energy", "node", "billing", "fs", "vmem", "pages", "bb",
];

/// `xstrcasestr`: the byte offset of `needle` in `text`, any case.
fn find_any_case(text: &str, needle: &str) -> Option<usize> {
    text.to_ascii_lowercase().find(&needle.to_ascii_lowercase())
}

/// C's `atoi` of the text after `name=` at `at` in `text`: blanks, a sign,
/// then digits; 0 without digits.
fn count_after(text: &str, at: usize, name: &str) -> i64 {
    let rest = text
        .get(at + name.len() + 1..)
        .unwrap_or_default()
        .trim_start();
    let (sign, digits) = match rest.strip_prefix('-') {
        Some(digits) => (-1, digits),
        None => (1, rest.strip_prefix('+').unwrap_or(rest)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().map_or(0, |n| sign * n)
}

/// `slurm_format_tres_string`: `gres:gpu=1` becomes `gres/gpu=1`.
fn format_tres_string(text: &str, tres_type: &str) -> String {
    let prefix = format!("{tres_type}:");
    if !text.contains(&prefix) {
        return text.to_owned();
    }
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(|token| match token.strip_prefix(&prefix) {
            Some(rest) => format!("{tres_type}/{rest}"),
            None => token.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// `slurm_option_update_tres_per_task`: sets `name`'s count in
/// `tres_per_task` to `count` (adding it first, or removing it for 0).
fn update(count: i64, name: &str, tres_per_task: Option<String>) -> Option<String> {
    let Some(at) = tres_per_task
        .as_deref()
        .and_then(|t| find_any_case(t, name))
    else {
        return match (count, tres_per_task) {
            (0, unchanged) => unchanged,
            (_, Some(rest)) => Some(format!("{name}={count},{rest}")),
            (_, None) => Some(format!("{name}={count}")),
        };
    };
    let text = tres_per_task.unwrap_or_default();
    if count_after(&text, at, name) == count {
        return Some(text);
    }
    let suffix = text[at..]
        .find(',')
        .map(|comma| &text[at + comma + 1..])
        .filter(|s| !s.is_empty());
    let prefix =
        Some(text[..at].strip_suffix(',').unwrap_or(&text[..at])).filter(|p| !p.is_empty());
    let entry = (count != 0).then(|| format!("{name}={count}"));
    let parts: Vec<&str> = [prefix, entry.as_deref(), suffix]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(","))
}

/// One sibling of `--tres-per-task` and what it asks for.
struct Sibling {
    /// The option: `gpus-per-task` or `cpus-per-task`.
    option: &'static str,
    /// Its name in `tres_per_task`: `gres/gpu[:TYPE]` or `cpu`.
    tres: String,
    /// Its count.
    count: i64,
    /// The variable its value is exported in.
    variable: &'static str,
}

/// `_set_tres_per_task_from_sibling_opt(_internal)`.
fn merge(
    opts: &mut Opts,
    tres_per_task: &mut Option<String>,
    sibling: &Sibling,
) -> Result<(), Lines> {
    let name = sibling.tres.as_str();
    let Some(at) = tres_per_task
        .as_deref()
        .and_then(|t| find_any_case(t, name))
    else {
        *tres_per_task = update(sibling.count, name, tres_per_task.take());
        return Ok(());
    };
    let fatal = |text: String| Err(vec![fatal_line(&text)]);
    let (own_cli, own_env) = (opts.by_cli(sibling.option), opts.by_env(sibling.option));
    if own_cli && opts.by_cli("tres-per-task") {
        return fatal(format!(
            "You can not have --tres-per-task={name}= and --{} please use one or the other",
            sibling.option
        ));
    }
    if own_cli && opts.by_env("tres-per-task") {
        *tres_per_task = update(sibling.count, name, tres_per_task.take());
        return Ok(());
    }
    let given = count_after(tres_per_task.as_deref().unwrap_or_default(), at, name);
    if given <= 0 {
        return fatal(format!("Invalid --tres-per-task={name}={given}"));
    }
    let cpus_per_task = opts.count("cpus-per-task").unwrap_or(0);
    // 24.11 compares --gpus-per-task's count with --cpus-per-task's too.
    let compares_cpus = sibling.option == "cpus-per-task" || opts.release() < Release::Slurm26_05;
    if own_env && opts.by_env("tres-per-task") && compares_cpus && given != cpus_per_task {
        return fatal(format!(
            "{} set by two different environment variables {}={} != SLURM_TRES_PER_TASK=cpu={given}",
            sibling.option, sibling.variable, sibling.count
        ));
    }
    // --tres-per-task's count is the sibling's now.
    if sibling.option == "cpus-per-task" {
        let origin = opts
            .origin("tres-per-task")
            .cloned()
            .unwrap_or(Origin::Default);
        opts.put("cpus-per-task", Value::Count(given), origin);
    }
    Ok(())
}

/// The entries of `--gpus-per-task` as (`gres/gpu[:TYPE]`, count)
/// (`_get_gpu_cnt_and_str`): 24.11 reads the first entry, 26.05 each of a
/// comma list of typed entries.
fn gpu_entries(text: &str, release: Release) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut rest = Some(text);
    while let Some(entry) = rest.filter(|r| !r.is_empty()) {
        let strtol = |s: &str| -> i64 {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap_or(0)
        };
        match entry.find([':', '=']) {
            Some(sep) => {
                out.push((
                    format!("gres/gpu:{}", &entry[..sep]),
                    strtol(&entry[sep + 1..]),
                ));
                rest = entry.find(',').map(|comma| &entry[comma + 1..]);
            }
            None => {
                out.push(("gres/gpu".to_owned(), strtol(entry)));
                rest = None;
            }
        }
        if release < Release::Slurm26_05 {
            break;
        }
    }
    out
}

/// `_validate_tres_per_task`: refuses TRES that are not per task, writes
/// `gres:` as `gres/`, and merges `--gpus-per-task` and `--cpus-per-task`
/// in.
pub(crate) fn validate(opts: &mut Opts, notes: &mut Vec<String>) -> Result<(), Lines> {
    let release = opts.release();
    let given = opts.text("tres-per-task").map(str::to_owned);
    let mut tres_per_task = None;
    if let Some(text) = &given {
        let lower = text.to_ascii_lowercase();
        if let Some(bad) = NOT_PER_TASK
            .iter()
            .find(|bad| lower.starts_with(*bad) || lower.contains(&format!(",{bad}")))
        {
            return Err(vec![fatal_line(&format!(
                "Invalid TRES for --tres-per-task: {bad}"
            ))]);
        }
        tres_per_task = Some(format_tres_string(
            &format_tres_string(text, "license"),
            "gres",
        ));
        let note = "--tres-per-task: eval passes it to the policy as sbatch merges it with \
                    --gpus-per-task and --cpus-per-task, but does not model --tres-bind"
            .to_owned();
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
    if let Some(gpus) = opts.text("gpus-per-task").map(str::to_owned) {
        for (tres, count) in gpu_entries(&gpus, release) {
            let sibling = Sibling {
                option: "gpus-per-task",
                tres,
                count,
                variable: "SLURM_GPUS_PER_TASK",
            };
            merge(opts, &mut tres_per_task, &sibling)?;
        }
    }
    if let Some(count) = opts.count("cpus-per-task") {
        let sibling = Sibling {
            option: "cpus-per-task",
            tres: "cpu".to_owned(),
            count,
            variable: "SLURM_CPUS_PER_TASK",
        };
        merge(opts, &mut tres_per_task, &sibling)?;
    } else if tres_per_task
        .as_deref()
        .and_then(|t| find_any_case(t, "cpu"))
        .is_some()
    {
        // --tres-per-task=cpu=N alone sets --cpus-per-task.
        let sibling = Sibling {
            option: "cpus-per-task",
            tres: "cpu".to_owned(),
            count: 0,
            variable: "SLURM_CPUS_PER_TASK",
        };
        merge(opts, &mut tres_per_task, &sibling)?;
    }
    store(opts, tres_per_task);
    Ok(())
}

/// Keeps the merged string as `--tres-per-task`'s value, with the origin
/// of what asked for it.
fn store(opts: &mut Opts, tres_per_task: Option<String>) {
    let Some(text) = tres_per_task else {
        opts.forget("tres-per-task");
        return;
    };
    let origin = ["tres-per-task", "gpus-per-task", "cpus-per-task"]
        .iter()
        .find_map(|name| opts.origin(name).cloned())
        .unwrap_or(Origin::Default);
    opts.put("tres-per-task", Value::Text(text), origin);
}

/// `_validate_cpus_per_tres`: `--cpus-per-task` (or `cpu=` in
/// `--tres-per-task`) and `--cpus-per-gpu` from the same source are fatal;
/// the command line's wins over the environment's.
pub(crate) fn validate_cpus_per_gpu(opts: &mut Opts) -> Result<(), Lines> {
    let tres_per_task = opts.text("tres-per-task").map(str::to_owned);
    let cpu_in_tres = tres_per_task
        .as_deref()
        .is_some_and(|t| find_any_case(t, "cpu").is_some());
    let cpt_cli = opts.by_cli("cpus-per-task") || (cpu_in_tres && opts.by_cli("tres-per-task"));
    let cpt_env = opts.by_env("cpus-per-task") || (cpu_in_tres && opts.by_env("tres-per-task"));
    if (cpt_cli && opts.by_cli("cpus-per-gpu")) || (cpt_env && opts.by_env("cpus-per-gpu")) {
        return Err(vec![fatal_line(
            "--cpus-per-task, --tres-per-task=cpu:#, and --cpus-per-gpu are mutually exclusive",
        )]);
    }
    if cpt_cli && opts.by_env("cpus-per-gpu") {
        opts.reset_option("cpus-per-gpu");
    } else if opts.by_cli("cpus-per-gpu") && cpt_env {
        opts.reset_option("cpus-per-task");
        store(opts, update(0, "cpu", tres_per_task));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_as_slurm_writes_them() {
        assert_eq!(update(2, "cpu", None).as_deref(), Some("cpu=2"));
        assert_eq!(
            update(2, "cpu", Some("gres/gpu=1".into())).as_deref(),
            Some("cpu=2,gres/gpu=1")
        );
        assert_eq!(
            update(4, "cpu", Some("gres/gpu=1,cpu=2,license/x=1".into())).as_deref(),
            Some("gres/gpu=1,cpu=4,license/x=1")
        );
        assert_eq!(
            update(0, "cpu", Some("cpu=2,gres/gpu=1".into())).as_deref(),
            Some("gres/gpu=1")
        );
        assert_eq!(update(0, "cpu", Some("cpu=2".into())), None);
        assert_eq!(
            format_tres_string("gres:gpu=1,cpu=2", "gres"),
            "gres/gpu=1,cpu=2"
        );
        assert_eq!(
            gpu_entries("a100:1,v100:2", Release::Slurm26_05),
            [
                ("gres/gpu:a100".to_owned(), 1),
                ("gres/gpu:v100".to_owned(), 2)
            ]
        );
        assert_eq!(
            gpu_entries("a100:1,v100:2", Release::Slurm24_11),
            [("gres/gpu:a100".to_owned(), 1)]
        );
        assert_eq!(
            gpu_entries("2", Release::Slurm24_11),
            [("gres/gpu".to_owned(), 2)]
        );
    }
}
