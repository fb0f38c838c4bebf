//! sbatch's options between its passes (`slurm_opt_t` with its per-option
//! `state`): the value of every option the model reads
//! ([`super::options`]), each with where it came from, which options are
//! set, and which the environment set last.

use std::collections::{BTreeMap, BTreeSet};

use super::options::{self, Kind, GEOMETRY};
use super::rules::Rules;
use super::values;
use super::Origin;
use crate::slurm_options::{ClientOption, HasArg, Release};
use crate::units::{Megabytes, TimeLimit};

/// Lines sbatch prints before it gives up.
pub(crate) type Lines = Vec<String>;

/// `error()`'s line.
pub(crate) fn error_line(text: &str) -> String {
    format!("sbatch: error: {text}")
}

/// `fatal()`'s line.
pub(crate) fn fatal_line(text: &str) -> String {
    format!("sbatch: fatal: {text}")
}

/// A value as sbatch keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string.
    Text(String),
    /// A count.
    Count(i64),
    /// A node count range (`max` 0: no maximum).
    Nodes {
        /// The minimum.
        min: i64,
        /// The maximum, or 0.
        max: i64,
    },
    /// Megabytes.
    Megabytes(u64),
    /// A time limit.
    Time(TimeLimit),
    /// A flag that is set.
    Flag,
}

impl Value {
    /// How messages show the value.
    pub(crate) fn shown(&self) -> String {
        match self {
            Value::Text(text) => text.clone(),
            Value::Count(n) => n.to_string(),
            Value::Nodes { min, max } if min == max || *max == 0 => min.to_string(),
            Value::Nodes { min, max } => format!("{min}-{max}"),
            Value::Megabytes(mb) => Megabytes(*mb).to_string(),
            Value::Time(limit) => limit.to_string(),
            Value::Flag => String::new(),
        }
    }
}

/// A value with what set it.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    /// The value.
    pub(crate) value: Value,
    /// Where it came from.
    pub(crate) origin: Origin,
}

/// What sbatch holds while it reads one component's options.
#[derive(Clone, Debug)]
pub(crate) struct Opts {
    rules: Rules,
    /// The values of the options the model reads, by main option name.
    values: BTreeMap<&'static str, Slot>,
    /// Slurm's per-option state: which options are set, and which were
    /// last set "by the environment". A reset clears `set` but not the
    /// environment flag, so an option the first pass read (it reads the
    /// command line as if from the environment) keeps that flag for every
    /// component.
    set: BTreeSet<&'static str>,
    by_env: BTreeSet<&'static str>,
    /// `--help`, `--usage`, `--version`, `--gres=help`, `--hint=help`: what
    /// sbatch prints instead of submitting.
    pub(crate) informational: Option<String>,
}

impl Opts {
    /// No option set yet.
    pub(crate) fn new(rules: Rules) -> Opts {
        Opts {
            rules,
            values: BTreeMap::new(),
            set: BTreeSet::new(),
            by_env: BTreeSet::new(),
            informational: None,
        }
    }

    /// The release whose sbatch this is.
    pub(crate) fn release(&self) -> Release {
        self.rules.release
    }

    /// The value of option `name`, with its origin.
    pub(crate) fn slot(&self, name: &str) -> Option<&Slot> {
        debug_assert!(
            options::modelled(name).is_some(),
            "--{name} is not in the model's option table"
        );
        self.values.get(name)
    }

    /// Every value the model holds, by option name.
    pub(crate) fn slots(&self) -> impl Iterator<Item = (&'static str, &Slot)> {
        self.values.iter().map(|(name, slot)| (*name, slot))
    }

    /// Where option `name` came from.
    pub(crate) fn origin(&self, name: &str) -> Option<&Origin> {
        self.slot(name).map(|slot| &slot.origin)
    }

    /// A string option's value.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        match self.slot(name)?.value {
            Value::Text(ref text) => Some(text),
            _ => None,
        }
    }

    /// A count option's value.
    pub(crate) fn count(&self, name: &str) -> Option<i64> {
        match self.slot(name)?.value {
            Value::Count(n) => Some(n),
            _ => None,
        }
    }

    /// A memory option's value.
    pub(crate) fn megabytes(&self, name: &str) -> Option<u64> {
        match self.slot(name)?.value {
            Value::Megabytes(mb) => Some(mb),
            _ => None,
        }
    }

    /// `--time`.
    pub(crate) fn time(&self) -> Option<TimeLimit> {
        match self.slot("time")?.value {
            Value::Time(limit) => Some(limit),
            _ => None,
        }
    }

    /// `--nodes` as (min, max).
    pub(crate) fn nodes(&self) -> Option<(i64, i64)> {
        match self.slot("nodes")?.value {
            Value::Nodes { min, max } => Some((min, max)),
            _ => None,
        }
    }

    /// True when flag `name` is set.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.slot(name).is_some()
    }

    /// Sets option `name` to `value`.
    pub(crate) fn put(&mut self, name: &'static str, value: Value, origin: Origin) {
        self.values.insert(name, Slot { value, origin });
    }

    /// Replaces the value of an option that is set, keeping its origin.
    pub(crate) fn replace(&mut self, name: &str, value: Value) {
        if let Some(slot) = self.values.get_mut(name) {
            slot.value = value;
        }
    }

    /// Forgets a value sbatch computed (`opt->field = NULL`), leaving the
    /// option's state alone.
    pub(crate) fn forget(&mut self, name: &str) {
        self.values.remove(name);
    }

    /// Forgets option `name`'s value (its reset function).
    fn clear(&mut self, name: &str) {
        self.values.remove(name);
        if options::modelled(name).is_some_and(|m| m.kind == Kind::Geometry) {
            for field in GEOMETRY {
                self.values.remove(field);
            }
        }
    }

    /// `slurm_reset_all_options(opt, false)`: the options with
    /// `reset_each_pass` start the next component from their default.
    pub(crate) fn reset_for_next_component(&mut self) {
        let release = self.rules.release;
        for option in release.sbatch_options().filter(|o| o.reset_each_pass) {
            let state = release.sbatch_state_of(option).name;
            self.set.remove(state);
            self.clear(state);
        }
    }

    /// Slurm's `slurm_option_set_by_cli`: set, and not last set by the
    /// environment.
    pub(crate) fn by_cli(&self, name: &str) -> bool {
        self.set.contains(name) && !self.by_env.contains(name)
    }

    /// Slurm's `slurm_option_set_by_env`.
    pub(crate) fn by_env(&self, name: &str) -> bool {
        self.by_env.contains(name)
    }

    /// Slurm's `slurm_option_reset`.
    pub(crate) fn reset_option(&mut self, name: &str) {
        self.set.remove(name);
        self.clear(name);
    }

    /// `slurm_process_option`: sets one option, or returns sbatch's error
    /// lines. `value` is the option's argument (or an environment
    /// variable's value for an option without argument). Notes about what
    /// eval does not model go to `notes`.
    pub(crate) fn apply(
        &mut self,
        option: &'static ClientOption,
        value: Option<&str>,
        by_env: bool,
        origin: &Origin,
        cwd: &str,
        notes: &mut Vec<String>,
    ) -> Result<(), Lines> {
        let state = self.rules.release.sbatch_state_of(option).name;
        let mut value = value;
        if by_env {
            match (option.has_arg, value) {
                // An environment variable for a flag: "", "yes" or a
                // non-zero number sets it; anything else resets it.
                (HasArg::No, Some(v)) => {
                    let set = v.is_empty()
                        || v.eq_ignore_ascii_case("yes")
                        || v.parse::<i64>().is_ok_and(|n| n != 0);
                    if !set {
                        self.set.remove(state);
                        self.by_env.remove(state);
                        self.clear(state);
                        return Ok(());
                    }
                }
                // An empty value of an option with an optional argument is
                // no argument, as with getopt.
                (HasArg::Optional, Some("")) => value = None,
                _ => {}
            }
        }
        self.set.insert(state);
        if by_env {
            self.by_env.insert(state);
        } else {
            self.by_env.remove(state);
        }
        let Some(modelled) = options::modelled(state) else {
            return Ok(());
        };
        let text = value.unwrap_or_default();
        let origin = origin.clone();
        let name = modelled.name;
        let invalid = || vec![error_line(&format!("Invalid --{name} specification"))];
        match modelled.kind {
            Kind::Text | Kind::Gpus => self.put(name, Value::Text(text.to_owned()), origin),
            Kind::Gres => {
                if text.eq_ignore_ascii_case("help") || text.eq_ignore_ascii_case("list") {
                    self.informational = Some("--gres=help".to_owned());
                } else if text.eq_ignore_ascii_case("none") {
                    self.put(name, Value::Text(text.to_owned()), origin);
                } else {
                    let gres = prepend_gres(text, self.rules.gres_prefix);
                    self.put(name, Value::Text(gres), origin);
                }
            }
            Kind::Count => {
                let label = format!("--{name}");
                let n = values::positive_int(&label, text, self.rules.int_max_too_large)
                    .map_err(|e| vec![error_line(&e)])?;
                self.put(name, Value::Count(n), origin);
            }
            Kind::NodeCount => {
                let (min, max) = values::node_count(text, self.rules.node_count_lists)
                    .map_err(|e| vec![error_line(&e)])?;
                self.put(name, Value::Nodes { min, max }, origin);
            }
            Kind::Megabytes => {
                let mb = values::megabytes(text).ok_or_else(invalid)?;
                self.put(name, Value::Megabytes(mb), origin);
            }
            Kind::Time => {
                let limit = values::time_limit(text).ok_or_else(invalid)?;
                self.put(name, Value::Time(limit), origin);
            }
            Kind::File => {
                let file = if text.eq_ignore_ascii_case("none") {
                    "/dev/null".to_owned()
                } else {
                    text.to_owned()
                };
                self.put(name, Value::Text(file), origin);
            }
            Kind::Directory => {
                let dir = if text.starts_with('/') {
                    text.to_owned()
                } else {
                    format!("{cwd}/{text}")
                };
                self.put(name, Value::Text(dir), origin);
            }
            Kind::Flag => self.put(name, Value::Flag, origin),
            Kind::Geometry => {
                let counts = values::socket_core_thread(text).ok_or_else(invalid)?;
                for (field, count) in GEOMETRY.into_iter().zip(counts) {
                    match count {
                        Some(n) => self.put(field, Value::Count(n), origin.clone()),
                        None => {
                            self.values.remove(field);
                        }
                    }
                }
                self.put(name, Value::Flag, origin);
            }
            Kind::NoKill => {
                let ok = value.is_none_or(|v| {
                    ["set", "off", "no"]
                        .iter()
                        .any(|w| v.eq_ignore_ascii_case(w))
                });
                if !ok {
                    return Err(invalid());
                }
            }
            Kind::Informational => self.informational = Some(format!("--{name}")),
            Kind::NotModelled => {
                let note = format!(
                    "--{name} changes the task, node or GPU counts slurmctld sees in ways eval \
                     does not model; counts shown may differ"
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
        }
        Ok(())
    }

    /// `_validate_memory_options`: one of --mem, --mem-per-cpu and
    /// --mem-per-gpu; the command line's wins over the environment's.
    pub(crate) fn validate_memory(&mut self) -> Result<(), Lines> {
        const MEMORY: [&str; 3] = ["mem", "mem-per-cpu", "mem-per-gpu"];
        let by_cli: Vec<bool> = MEMORY.iter().map(|m| self.by_cli(m)).collect();
        if by_cli.iter().filter(|b| **b).count() > 1 {
            return Err(vec![fatal_line(
                "--mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive.",
            )]);
        }
        if let Some(i) = by_cli.iter().position(|b| *b) {
            for (j, other) in MEMORY.iter().enumerate() {
                if j != i {
                    self.reset_option(other);
                }
            }
        } else if MEMORY.iter().filter(|m| self.by_env(m)).count() > 1 {
            return Err(vec![fatal_line(
                "SLURM_MEM_PER_CPU, SLURM_MEM_PER_GPU, and SLURM_MEM_PER_NODE are mutually \
                 exclusive.",
            )]);
        }
        Ok(())
    }

    /// `validate_hint_option` and `verify_hint`: --hint gives way to the
    /// options it would set, and otherwise replaces them with what the
    /// hint implies.
    pub(crate) fn apply_hint(&mut self) -> Result<(), Lines> {
        let Some(slot) = self.slot("hint").cloned() else {
            return Ok(());
        };
        let Value::Text(hint) = slot.value else {
            return Ok(());
        };
        // The options that beat --hint (validate_hint_option).
        let mut cli_others = vec!["ntasks-per-core", "threads-per-core", "extra-node-info"];
        let env_others = ["ntasks-per-core", "threads-per-core", "extra-node-info"];
        if self.rules.hint_yields_to_sockets_and_cores {
            cli_others.extend(["cores-per-socket", "sockets-per-node"]);
        }
        let others_cli = cli_others.iter().any(|o| self.by_cli(o));
        let use_hint = if self.by_cli("hint") && others_cli {
            false
        } else if self.by_cli("hint") {
            for other in &cli_others {
                self.reset_option(other);
            }
            true
        } else if others_cli {
            false
        } else {
            !(self.by_env("hint") && env_others.iter().any(|o| self.by_env(o)))
        };
        if !use_hint {
            self.reset_option("hint");
            return Ok(());
        }
        let one = || Value::Count(1);
        for token in hint.split([',', ';']).filter(|t| !t.is_empty()) {
            match token.to_ascii_lowercase().as_str() {
                "compute_bound" => {
                    self.values.remove("sockets-per-node");
                    self.values.remove("cores-per-socket");
                    self.put("threads-per-core", one(), slot.origin.clone());
                }
                "memory_bound" => {
                    self.put("cores-per-socket", one(), slot.origin.clone());
                    self.put("threads-per-core", one(), slot.origin.clone());
                }
                "multithread" => {
                    self.values.remove("threads-per-core");
                }
                "nomultithread" => self.put("threads-per-core", one(), slot.origin.clone()),
                "help" => self.informational = Some("--hint=help".to_owned()),
                _ => {
                    return Err(vec![error_line(&format!(
                        "unrecognized --hint argument \"{token}\", see --hint=help"
                    ))])
                }
            }
        }
        Ok(())
    }
}

/// `gres_prepend_tres_type`: `gpu:1,qpu` becomes `gres:gpu:1,gres:qpu`
/// (22.05) or `gres/gpu:1,gres/qpu` (24.11).
pub(crate) fn prepend_gres(text: &str, prefix: &str) -> String {
    format!("{prefix}{text}")
        .replace(',', &format!(",{prefix}"))
        .replace(&format!("{prefix}{prefix}"), prefix)
}

/// `xfmt_tres`: appends `<prefix>gpu:<token>` for each comma token.
pub(crate) fn format_tres(dest: &mut Option<String>, prefix: &str, src: Option<&str>) {
    let Some(src) = src.filter(|s| !s.is_empty()) else {
        return;
    };
    for token in src.split(',').filter(|t| !t.is_empty()) {
        let entry = format!("{prefix}gpu:{token}");
        match dest {
            Some(d) => {
                d.push(',');
                d.push_str(&entry);
            }
            None => *dest = Some(entry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gres_strings_as_each_release_writes_them() {
        assert_eq!(prepend_gres("gpu:1,qpu", "gres:"), "gres:gpu:1,gres:qpu");
        assert_eq!(prepend_gres("gres:gpu:1", "gres:"), "gres:gpu:1");
        assert_eq!(prepend_gres("gpu:1,qpu", "gres/"), "gres/gpu:1,gres/qpu");
        assert_eq!(prepend_gres("gres:gpu:1", "gres/"), "gres/gres:gpu:1");
        let mut tres = None;
        format_tres(&mut tres, "gres/", Some("a100:1,2"));
        assert_eq!(tres.as_deref(), Some("gres/gpu:a100:1,gres/gpu:2"));
    }
}
