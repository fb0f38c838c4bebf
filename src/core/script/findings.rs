//! Hetjob mistakes that sbatch gets wrong or hides, found once sbatch's
//! passes are done, each with its fix.

use super::directives::{het_group_id_reads, Directives};
use super::options::{self, Kind};
use super::{Finding, Origin, Request, Severity, Simulation};
use crate::slurm_options::Release;

/// True when option `name` carries a value the model reads and a later
/// hetjob component starts from the previous component's value (the
/// release's option table has no `reset_each_pass`).
fn propagated(release: Release, name: &str) -> bool {
    let valued = options::modelled(name).is_some_and(|m| {
        !matches!(
            m.kind,
            Kind::Flag | Kind::Informational | Kind::NotModelled | Kind::NoKill
        )
    });
    valued
        && release
            .sbatch_option(name)
            .is_some_and(|o| !o.reset_each_pass)
}

/// Adds the findings that need the whole script and every component.
pub(crate) fn after_passes(sim: &mut Simulation, directives: &Directives, script: &str) {
    het_group_in_script(sim, directives);
    let components = directives.components.len().max(sim.components.len()).max(1);
    het_group_id(sim, directives, script, components);
    srun_het_groups(sim, directives, script, components);
    if sim.refusal.is_none() {
        array_with_hetjob(sim);
        io_on_later_components(sim);
    }
    applies_to_earlier_components(sim);
    inherited_memory(sim);
    if let Some(line) = directives.slurm_magic_line {
        sim.findings.push(Finding {
            kind: "slurm_magic",
            severity: Severity::Note,
            component: None,
            line: Some(line),
            message: format!(
                "line {line} starts with #SLURM, which sbatch reads but complains about"
            ),
            fix: "write #SBATCH".to_owned(),
        });
    }
}

/// `--het-group` (or the old `--pack-group`) is srun's option: sbatch
/// refuses it in `#SBATCH` lines. Suggests the header the author meant.
fn het_group_in_script(sim: &mut Simulation, directives: &Directives) {
    let mut groups: Vec<(String, Vec<String>, usize)> = Vec::new();
    let mut lines = Vec::new();
    for words in directives.components.iter().flatten() {
        let mut current: Option<usize> = None;
        let mut line_of_current = None;
        let mut iter = words.iter().peekable();
        while let Some(word) = iter.next() {
            if word.line != line_of_current {
                current = None;
                line_of_current = word.line;
            }
            let text = word.text.as_str();
            let value = ["--het-group", "--pack-group"].iter().find_map(|opt| {
                if let Some(v) = text.strip_prefix(opt).and_then(|r| r.strip_prefix('=')) {
                    Some(v.to_owned())
                } else if text == *opt {
                    iter.next().map(|w| w.text.clone())
                } else {
                    None
                }
            });
            if let Some(value) = value {
                lines.push(word.line.unwrap_or(0));
                let index = match groups.iter().position(|(g, _, _)| *g == value) {
                    Some(i) => i,
                    None => {
                        groups.push((value, Vec::new(), word.line.unwrap_or(0)));
                        groups.len() - 1
                    }
                };
                current = Some(index);
                continue;
            }
            if let Some(index) = current {
                groups[index].1.push(text.to_owned());
            }
        }
    }
    let Some(&first) = lines.first() else {
        return;
    };
    groups.sort_by_key(|(g, _, line)| (g.parse::<u64>().unwrap_or(u64::MAX), *line));
    let mut header = String::new();
    let mut renumber = Vec::new();
    for (i, (group, options, _)) in groups.iter().enumerate() {
        if i > 0 {
            header.push_str("\n  #SBATCH hetjob");
        }
        header.push_str(&format!("\n  #SBATCH {}", options.join(" ")));
        if *group != i.to_string() {
            renumber.push(format!("--het-group={group} becomes {i}"));
        }
    }
    let mut notes = String::new();
    if directives.separators.first().is_some_and(|s| *s < first)
        && directives
            .components
            .first()
            .is_some_and(|c| c.as_ref().is_ok_and(Vec::is_empty))
    {
        notes.push_str(
            "\nDrop the `#SBATCH hetjob` line before the first block: it would make an empty \
             component 0.",
        );
    }
    if !renumber.is_empty() {
        notes.push_str(&format!(
            "\nComponents are numbered from 0, so in the script body {}.",
            renumber.join(" and ")
        ));
    }
    let where_ = if lines.len() == 1 {
        format!("line {first}")
    } else {
        format!(
            "lines {}",
            lines
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    sim.findings.push(Finding {
        kind: "het_group_in_script",
        severity: Severity::Error,
        component: None,
        line: Some(first),
        message: format!(
            "--het-group in #SBATCH ({where_}): it is srun's option and sbatch refuses it; in a \
             batch script, components are #SBATCH blocks separated by `#SBATCH hetjob` lines"
        ),
        fix: format!(
            "write one #SBATCH block per component, separated by `#SBATCH hetjob`, and keep \
             --het-group for srun in the script body. The header meant here:{header}{notes}"
        ),
    });
}

/// The batch script runs once, in component 0, where SLURM_HET_GROUP_ID
/// is unset: branching on it never reaches the other components.
fn het_group_id(sim: &mut Simulation, directives: &Directives, script: &str, components: usize) {
    let lines = het_group_id_reads(script, directives.body_start);
    let Some(&first) = lines.first() else {
        return;
    };
    let text_of = |n: usize| script.split('\n').nth(n - 1).unwrap_or_default();
    let branches = lines.iter().any(|&n| {
        [
            "if ", "if[", "case ", "[[", "[ ", "test ", "elif ", "&&", "||",
        ]
        .iter()
        .any(|k| text_of(n).contains(k))
    });
    let numeric = lines.iter().any(|&n| {
        ["-eq", "-ne", "-lt", "-gt", "-le", "-ge"]
            .iter()
            .any(|k| text_of(n).contains(k))
    });
    let consequence = if numeric {
        "there `[ \"\" -eq 0 ]` is an error, so the script takes the other branch, still in \
         component 0, and no branch ever runs on another component"
    } else if branches {
        "no branch for another component ever runs there"
    } else {
        "it expands to nothing"
    };
    let list = lines
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let steps = (0..components.min(4))
        .map(|i| format!("srun --het-group={i} <component {i}'s command>"))
        .collect::<Vec<_>>()
        .join("; ");
    sim.findings.push(Finding {
        kind: "het_group_id_in_batch_script",
        severity: if branches {
            Severity::Error
        } else {
            Severity::Warning
        },
        component: None,
        line: Some(first),
        message: format!(
            "the batch script {} SLURM_HET_GROUP_ID (line{} {list}), but it runs once, in \
             component 0, where SLURM_HET_GROUP_ID is unset: {consequence}",
            if branches { "branches on" } else { "reads" },
            if lines.len() > 1 { "s" } else { "" },
        ),
        fix: format!(
            "start each component's work as a step on that component instead: {steps} (inside a \
             step, SLURM_HET_GROUP_ID is set)"
        ),
    });
}

/// `srun --het-group=N` in the body naming a component the job lacks.
fn srun_het_groups(sim: &mut Simulation, directives: &Directives, script: &str, components: usize) {
    let Some(start) = directives.body_start else {
        return;
    };
    for (i, line) in script.split('\n').enumerate().skip(start - 1) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if !words.first().is_some_and(|w| w.ends_with("srun")) {
            continue;
        }
        let mut values = Vec::new();
        for (j, w) in words.iter().enumerate() {
            for opt in ["--het-group", "--pack-group"] {
                if let Some(v) = w.strip_prefix(opt).and_then(|r| r.strip_prefix('=')) {
                    values.push(v.to_owned());
                } else if *w == opt {
                    if let Some(v) = words.get(j + 1) {
                        values.push((*v).to_owned());
                    }
                }
            }
        }
        let highest = values
            .iter()
            .flat_map(|v| v.split(','))
            .flat_map(|r| r.split('-'))
            .filter_map(|n| n.trim().parse::<usize>().ok())
            .max();
        if let Some(highest) = highest.filter(|h| *h >= components) {
            let lineno = i + 1;
            sim.findings.push(Finding {
                kind: "het_group_out_of_range",
                severity: Severity::Error,
                component: None,
                line: Some(lineno),
                message: format!(
                    "line {lineno}: srun --het-group names component {highest}, but this job has \
                     components 0 to {} (srun fails: \"Attempt to run a job step with het-group \
                     value of {highest}, but the job allocation has maximum value of {}\")",
                    components - 1,
                    components - 1
                ),
                fix: "components are numbered from 0, in the order of the #SBATCH hetjob \
                      sections: use --het-group values below the component count"
                    .to_owned(),
            });
        }
    }
}

fn origin_text(request: &Request, name: &str) -> String {
    match request.origin(name) {
        Some(Origin::Script { line, .. }) => format!(" (line {line})"),
        Some(origin) => format!(" ({origin})"),
        None => String::new(),
    }
}

/// Job arrays of hetjobs are not supported: slurmctld refuses them.
fn array_with_hetjob(sim: &mut Simulation) {
    if !sim.hetjob {
        return;
    }
    let Some((k, request)) = sim
        .components
        .iter()
        .enumerate()
        .find(|(_, r)| r.array.is_some())
    else {
        return;
    };
    sim.findings.push(Finding {
        kind: "array_with_hetjob",
        severity: Severity::Error,
        component: Some(k),
        line: match request.origin("array") {
            Some(Origin::Script { line, .. }) => Some(*line),
            _ => None,
        },
        message: format!(
            "--array={}{} on a hetjob: Slurm does not support job arrays of heterogeneous jobs \
             (sbatch propagates --array to every later component and slurmctld refuses the \
             submission with \"Invalid job array specification\")",
            request.array.as_deref().unwrap_or_default(),
            origin_text(request, "array")
        ),
        fix: "drop --array, or submit the array as a plain job (one component) that starts the \
              other part with its own sbatch, or submit one hetjob per array index in a loop"
            .to_owned(),
    });
}

/// --output/--error/--input given on a component after the first: Slurm
/// uses only component 0's and silently ignores the others.
fn io_on_later_components(sim: &mut Simulation) {
    let mut found = Vec::new();
    for (k, request) in sim.components.iter().enumerate().skip(1) {
        for (name, value) in [
            ("output", &request.std_out),
            ("error", &request.std_err),
            ("input", &request.std_in),
        ] {
            let Some(origin) = request.origin(name) else {
                continue;
            };
            if origin.component() != Some(k) {
                continue;
            }
            let first = sim.components[0].origin(name);
            let leaked = matches!(origin, Origin::CommandLine { .. })
                && first.is_some_and(|o| o.component() == Some(k));
            let line = match origin {
                Origin::Script { line, .. } => Some(*line),
                _ => None,
            };
            let message = if leaked {
                format!(
                    "--{name}={} is given for component {k}; Slurm writes the batch script's \
                     {name} only from component 0, and here sbatch also copied it into component \
                     0 (it reads the whole command line first), so it works by accident",
                    value.as_deref().unwrap_or_default()
                )
            } else {
                let source = if line.is_some() {
                    String::new()
                } else {
                    origin_text(request, name)
                };
                format!(
                    "--{name}={}{source} is given for component {k}; Slurm writes the batch \
                     script's {name} only from component 0 and silently ignores it here",
                    value.as_deref().unwrap_or_default(),
                )
            };
            found.push(Finding {
                kind: "output_on_later_component",
                severity: Severity::Warning,
                component: Some(k),
                line,
                message,
                fix: format!(
                    "give --{name} on the first component only: before the first `#SBATCH hetjob` \
                     line, or before the first `:` on the command line"
                ),
            });
        }
    }
    sim.findings.extend(found);
}

/// sbatch reads every propagated option of the whole command line before
/// component 0: one given for a later component also applies to earlier
/// components that give none.
fn applies_to_earlier_components(sim: &mut Simulation) {
    let mut found: Vec<Finding> = Vec::new();
    for (k, request) in sim.components.iter().enumerate() {
        for (name, origin) in &request.origins {
            let Origin::CommandLine { component: j } = origin else {
                continue;
            };
            if !propagated(sim.release, name) {
                continue;
            }
            // I/O files have their own finding (output_on_later_component).
            let io = matches!(name.as_str(), "output" | "error" | "input");
            if *j <= k
                || (io && sim.refusal.is_none())
                || (name == "input" && request.std_in.as_deref() == Some("/dev/null"))
            {
                continue;
            }
            if found
                .iter()
                .any(|f| f.component == Some(k) && f.message.contains(&format!("--{name}=")))
            {
                continue;
            }
            found.push(Finding {
                kind: "applies_to_earlier_component",
                severity: Severity::Warning,
                component: Some(k),
                line: None,
                message: format!(
                    "--{name}={} is given after `:` for component {j}, but it also applies to \
                     component {k}, which gives no --{name}: sbatch reads the propagated options \
                     of the whole command line before component 0",
                    value_text(request, name)
                ),
                fix: format!(
                    "give component {k} its own --{name}, or put --{name} before the first `:` if \
                     every component should share it"
                ),
            });
        }
    }
    sim.findings.extend(found);
}

fn value_text(request: &Request, name: &str) -> String {
    request.values.get(name).cloned().unwrap_or_default()
}

/// sbatch propagates --mem (not --mem-per-cpu) into later components.
fn inherited_memory(sim: &mut Simulation) {
    let mut found = Vec::new();
    for (k, request) in sim.components.iter().enumerate().skip(1) {
        let Some(origin) = request.origin("mem") else {
            continue;
        };
        let Some(j) = origin.component().filter(|j| *j < k) else {
            continue;
        };
        if !matches!(origin, Origin::Script { .. } | Origin::CommandLine { .. }) {
            continue;
        }
        found.push(Finding {
            kind: "inherited_memory",
            severity: Severity::Note,
            component: Some(k),
            line: None,
            message: format!(
                "component {k} gives no --mem and inherits --mem={} from component {j}: sbatch \
                 propagates --mem, unlike --mem-per-cpu, --ntasks and --cpus-per-task",
                value_text(request, "mem")
            ),
            fix: format!("give component {k} its own --mem if it needs a different amount"),
        });
    }
    sim.findings.extend(found);
}
