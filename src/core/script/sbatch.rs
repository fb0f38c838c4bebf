//! sbatch 22.05's passes over its options, one component at a time, and
//! the job description it builds from them.
//!
//! The order is sbatch's (src/sbatch/sbatch.c `main`, src/sbatch/opt.c):
//! 1. first pass: every option of the whole command line (`:` removed),
//!    as if it came from the environment; options Slurm propagates keep
//!    the last value given anywhere on the command line, so a later
//!    component's `--qos` also reaches component 0 when component 0 gives
//!    none;
//! 2. per component: reset the options that are not propagated, then read
//!    the component's `#SBATCH` lines, the `SBATCH_*` variables (and
//!    SPANK's replay of earlier site option values), and the component's
//!    part of the command line; verify (`_opt_verify`); run the SPANK
//!    plugin's check; build the job description, including the GRES
//!    checks sbatch makes before sending (`gres_job_state_validate`).

use std::collections::{BTreeMap, BTreeSet};

use super::directives::{self, Directives};
use super::getopt::{getopt, Found, GetoptError, OptionTable, Which, Word};
use super::table::{by_name, HasArg, OptSpec, Pass, ENV_OPTIONS, SBATCH_OPTIONS};
use super::values;
use super::{
    Finding, Invocation, Origin, Refusal, RefusedBy, Request, Severity, Simulation, SiteValues,
};
use crate::engine::{check_option_value, Memory, Position};
use crate::gres;
use crate::units::{Megabytes, TimeLimit};

/// A value with what set it.
#[derive(Clone, Debug)]
struct Val<T> {
    value: T,
    origin: Origin,
}

/// The options eval models, as sbatch keeps them between passes.
#[derive(Clone, Debug, Default)]
struct Opts {
    partition: Option<Val<String>>,
    qos: Option<Val<String>>,
    account: Option<Val<String>>,
    gres: Option<Val<String>>,
    gpus: Option<Val<String>>,
    gpus_per_node: Option<Val<String>>,
    gpus_per_socket: Option<Val<String>>,
    gpus_per_task: Option<Val<String>>,
    cpus_per_gpu: Option<Val<i64>>,
    nodes: Option<Val<(i64, i64)>>,
    ntasks: Option<Val<i64>>,
    cpus_per_task: Option<Val<i64>>,
    ntasks_per_node: Option<Val<i64>>,
    sockets_per_node: Option<Val<i64>>,
    cores_per_socket: Option<Val<i64>>,
    threads_per_core: Option<Val<i64>>,
    extra_node_info: bool,
    overcommit: Option<Val<()>>,
    nodelist: Option<Val<String>>,
    mem: Option<Val<u64>>,
    mem_per_cpu: Option<Val<u64>>,
    mem_per_gpu: Option<Val<u64>>,
    /// Slurm's per-option state: which options are set, and which were
    /// last set "by the environment". A reset clears `set` but not the
    /// environment flag, so an option the first pass read (it reads the
    /// command line as if from the environment) keeps that flag for every
    /// component.
    set: BTreeSet<&'static str>,
    by_env: BTreeSet<&'static str>,
    hint: Option<Val<String>>,
    time: Option<Val<TimeLimit>>,
    output: Option<Val<String>>,
    error: Option<Val<String>>,
    input: Option<Val<String>>,
    chdir: Option<Val<String>>,
    array: Option<Val<String>>,
    /// `--help`, `--usage` or `--version` on the command line.
    informational: Option<&'static str>,
    wrap: bool,
    test_only: bool,
}

/// Options that change what slurmctld sees in ways eval does not model.
const NOT_MODELED: &[&str] = &[
    "ntasks-per-gpu",
    "ntasks-per-tres",
    "nodefile",
    "distribution",
];

/// What one pass left to say.
type Lines = Vec<String>;

fn error_line(text: &str) -> String {
    format!("sbatch: error: {text}")
}

impl Opts {
    /// `slurm_reset_all_options(opt, false)`: options without
    /// `reset_each_pass` keep their value.
    fn reset_for_next_component(&mut self) {
        for spec in SBATCH_OPTIONS.iter().filter(|o| o.pass == Pass::Reset) {
            self.set.remove(state_name(spec.name));
        }
        self.hint = None;
        self.partition = None;
        self.gres = None;
        self.gpus = None;
        self.gpus_per_node = None;
        self.gpus_per_socket = None;
        self.gpus_per_task = None;
        self.cpus_per_gpu = None;
        self.nodes = None;
        self.ntasks = None;
        self.cpus_per_task = None;
        self.ntasks_per_node = None;
        self.sockets_per_node = None;
        self.cores_per_socket = None;
        self.threads_per_core = None;
        self.extra_node_info = false;
        self.overcommit = None;
        self.nodelist = None;
        self.mem_per_cpu = None;
        self.mem_per_gpu = None;
    }

    /// Sets one option (sbatch's `arg_set_*`), or returns sbatch's error
    /// lines. `value` is the option's argument (or an environment
    /// variable's value for an option without argument).
    fn apply(
        &mut self,
        spec: &OptSpec,
        value: Option<&str>,
        by_env: bool,
        origin: &Origin,
        cwd: &str,
        notes: &mut Vec<String>,
    ) -> Result<(), Lines> {
        let text = value.unwrap_or_default().to_owned();
        if spec.has_arg == HasArg::No && by_env {
            if let Some(v) = value {
                // An environment variable for a flag: "", "yes" or a
                // non-zero number sets it; anything else resets it.
                let set = v.is_empty()
                    || v.eq_ignore_ascii_case("yes")
                    || v.parse::<i64>().is_ok_and(|n| n != 0);
                if !set {
                    self.set.remove(state_name(spec.name));
                    self.by_env.remove(state_name(spec.name));
                    if spec.name == "overcommit" {
                        self.overcommit = None;
                    }
                    return Ok(());
                }
            }
        }
        let state = state_name(spec.name);
        self.set.insert(state);
        if by_env {
            self.by_env.insert(state);
        } else {
            self.by_env.remove(state);
        }
        macro_rules! val {
            ($value:expr) => {
                Val {
                    value: $value,
                    origin: origin.clone(),
                }
            };
        }
        match spec.name {
            "partition" => self.partition = Some(val!(text)),
            "qos" => self.qos = Some(val!(text)),
            "account" => self.account = Some(val!(text)),
            "gres" => {
                if text.eq_ignore_ascii_case("help") || text.eq_ignore_ascii_case("list") {
                    self.informational = Some("--gres=help");
                } else if text.eq_ignore_ascii_case("none") {
                    self.gres = Some(val!(text));
                } else {
                    self.gres = Some(val!(prepend_gres(&text)));
                }
            }
            "gpus" => self.gpus = Some(val!(text)),
            "gpus-per-node" => self.gpus_per_node = Some(val!(text)),
            "gpus-per-socket" => self.gpus_per_socket = Some(val!(text)),
            "gpus-per-task" => self.gpus_per_task = Some(val!(text)),
            "cpus-per-gpu" => {
                let n = values::positive_int("--cpus-per-gpu", &text)
                    .map_err(|e| vec![error_line(&e)])?;
                self.cpus_per_gpu = Some(val!(n));
            }
            "nodes" => {
                let range = values::node_count(&text).map_err(|e| vec![error_line(&e)])?;
                self.nodes = Some(val!(range));
            }
            "ntasks" => {
                let n =
                    values::positive_int("--ntasks", &text).map_err(|e| vec![error_line(&e)])?;
                self.ntasks = Some(val!(n));
            }
            "cpus-per-task" => {
                let n = values::positive_int("--cpus-per-task", &text)
                    .map_err(|e| vec![error_line(&e)])?;
                self.cpus_per_task = Some(val!(n));
            }
            "ntasks-per-node" | "tasks-per-node" => {
                let n = values::positive_int("--ntasks-per-node", &text)
                    .map_err(|e| vec![error_line(&e)])?;
                self.ntasks_per_node = Some(val!(n));
            }
            "sockets-per-node" => {
                let n = values::positive_int("--sockets-per-node", &text)
                    .map_err(|e| vec![error_line(&e)])?;
                self.sockets_per_node = Some(val!(n));
            }
            "cores-per-socket" => {
                let n = values::positive_int("--cores-per-socket", &text)
                    .map_err(|e| vec![error_line(&e)])?;
                self.cores_per_socket = Some(val!(n));
            }
            "threads-per-core" => {
                let n = values::positive_int("--threads-per-core", &text)
                    .map_err(|e| vec![error_line(&e)])?;
                self.threads_per_core = Some(val!(n));
            }
            "extra-node-info" => {
                let [s, c, t] = values::socket_core_thread(&text)
                    .ok_or_else(|| vec![error_line("Invalid --extra-node-info specification")])?;
                self.sockets_per_node = s.map(|v| val!(v));
                self.cores_per_socket = c.map(|v| val!(v));
                self.threads_per_core = t.map(|v| val!(v));
                self.extra_node_info = true;
            }
            "overcommit" => self.overcommit = Some(val!(())),
            "hint" => self.hint = Some(val!(text)),
            "no-kill" => {
                let ok = value.is_none_or(|v| {
                    ["set", "off", "no"]
                        .iter()
                        .any(|w| v.eq_ignore_ascii_case(w))
                });
                if !ok {
                    return Err(vec![error_line("Invalid --no-kill specification")]);
                }
            }
            "nodelist" => self.nodelist = Some(val!(text)),
            "mem" => {
                let mb = values::megabytes(&text)
                    .ok_or_else(|| vec![error_line("Invalid --mem specification")])?;
                self.mem = Some(val!(mb));
            }
            "mem-per-cpu" => {
                let mb = values::megabytes(&text)
                    .ok_or_else(|| vec![error_line("Invalid --mem-per-cpu specification")])?;
                self.mem_per_cpu = Some(val!(mb));
            }
            "mem-per-gpu" => {
                let mb = values::megabytes(&text)
                    .ok_or_else(|| vec![error_line("Invalid --mem-per-gpu specification")])?;
                self.mem_per_gpu = Some(val!(mb));
            }
            "time" => {
                let limit = values::time_limit(&text)
                    .ok_or_else(|| vec![error_line("Invalid --time specification")])?;
                self.time = Some(val!(limit));
            }
            "output" => self.output = Some(val!(io_name(text))),
            "error" => self.error = Some(val!(io_name(text))),
            "input" => self.input = Some(val!(io_name(text))),
            "chdir" => {
                let dir = if text.starts_with('/') {
                    text
                } else {
                    format!("{cwd}/{text}")
                };
                self.chdir = Some(val!(dir));
            }
            "array" => self.array = Some(val!(text)),
            "help" | "usage" | "version" => {
                self.informational = Some(match spec.name {
                    "help" => "--help",
                    "usage" => "--usage",
                    _ => "--version",
                });
            }
            "wrap" => self.wrap = true,
            "test-only" => self.test_only = true,
            name if NOT_MODELED.contains(&name) => {
                let note = format!(
                    "--{name} changes the task, node or GPU counts slurmctld sees in ways eval \
                     does not model; counts shown may differ"
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// What set option `name`, for the options eval models.
    fn origin_of(&self, name: &str) -> Option<&Origin> {
        fn o<T>(v: &Option<Val<T>>) -> Option<&Origin> {
            v.as_ref().map(|v| &v.origin)
        }
        match name {
            "partition" => o(&self.partition),
            "qos" => o(&self.qos),
            "account" => o(&self.account),
            "gres" => o(&self.gres),
            "gpus" => o(&self.gpus),
            "gpus-per-node" => o(&self.gpus_per_node),
            "gpus-per-socket" => o(&self.gpus_per_socket),
            "gpus-per-task" => o(&self.gpus_per_task),
            "nodes" => o(&self.nodes),
            "ntasks" => o(&self.ntasks),
            "cpus-per-task" => o(&self.cpus_per_task),
            "mem" => o(&self.mem),
            "mem-per-cpu" => o(&self.mem_per_cpu),
            "mem-per-gpu" => o(&self.mem_per_gpu),
            "time" => o(&self.time),
            "output" => o(&self.output),
            "error" => o(&self.error),
            "input" => o(&self.input),
            "array" => o(&self.array),
            _ => None,
        }
    }

    /// Slurm's `slurm_option_set_by_cli`: set, and not last set by the
    /// environment.
    fn by_cli(&self, name: &str) -> bool {
        self.set.contains(name) && !self.by_env.contains(name)
    }

    /// Slurm's `slurm_option_reset` for the options it matters for here.
    fn reset_option(&mut self, name: &'static str) {
        self.set.remove(name);
        match name {
            "mem" => self.mem = None,
            "mem-per-cpu" => self.mem_per_cpu = None,
            "mem-per-gpu" => self.mem_per_gpu = None,
            "hint" => self.hint = None,
            "threads-per-core" => self.threads_per_core = None,
            "extra-node-info" => {
                self.extra_node_info = false;
                self.sockets_per_node = None;
                self.cores_per_socket = None;
                self.threads_per_core = None;
            }
            _ => {}
        }
    }

    /// sbatch's `_validate_memory_options`.
    fn validate_memory(&mut self) -> Result<(), Lines> {
        const MEMORY: [&str; 3] = ["mem", "mem-per-cpu", "mem-per-gpu"];
        let by_cli: Vec<bool> = MEMORY.iter().map(|m| self.by_cli(m)).collect();
        if by_cli.iter().filter(|b| **b).count() > 1 {
            return Err(vec![
                "sbatch: fatal: --mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive."
                    .to_owned(),
            ]);
        }
        if let Some(i) = by_cli.iter().position(|b| *b) {
            for (j, other) in MEMORY.iter().enumerate() {
                if j != i {
                    self.reset_option(other);
                }
            }
        } else if MEMORY.iter().filter(|m| self.by_env.contains(*m)).count() > 1 {
            return Err(vec![
                "sbatch: fatal: SLURM_MEM_PER_CPU, SLURM_MEM_PER_GPU, and SLURM_MEM_PER_NODE are \
                 mutually exclusive."
                    .to_owned(),
            ]);
        }
        Ok(())
    }

    /// `validate_hint_option` and `verify_hint`: --hint gives way to
    /// explicit --threads-per-core, --ntasks-per-core or -B, and otherwise
    /// replaces them with what the hint implies.
    fn apply_hint(&mut self) -> Result<(), Lines> {
        let Some(hint) = self.hint.as_ref().map(|h| h.value.clone()) else {
            return Ok(());
        };
        const OTHERS: [&str; 3] = ["ntasks-per-core", "threads-per-core", "extra-node-info"];
        let others_cli = OTHERS.iter().any(|o| self.by_cli(o));
        let use_hint = if self.by_cli("hint") && others_cli {
            false
        } else if self.by_cli("hint") {
            for other in OTHERS {
                self.reset_option(other);
            }
            true
        } else if others_cli {
            false
        } else {
            !(self.by_env.contains("hint") && OTHERS.iter().any(|o| self.by_env.contains(*o)))
        };
        if !use_hint {
            self.reset_option("hint");
            return Ok(());
        }
        let keep = |v: &Option<Val<i64>>| v.clone();
        let origin = self
            .hint
            .as_ref()
            .map_or(Origin::Default, |h| h.origin.clone());
        let one = Some(Val { value: 1, origin });
        for token in hint.split([',', ';']).filter(|t| !t.is_empty()) {
            match token.to_ascii_lowercase().as_str() {
                "compute_bound" => {
                    self.sockets_per_node = None;
                    self.cores_per_socket = None;
                    self.threads_per_core = keep(&one);
                }
                "memory_bound" => {
                    self.cores_per_socket = keep(&one);
                    self.threads_per_core = keep(&one);
                }
                "multithread" => self.threads_per_core = None,
                "nomultithread" => self.threads_per_core = keep(&one),
                "help" => self.informational = Some("--hint=help"),
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

/// The name Slurm keeps an option's state under: aliases share their
/// main option's state (`--tasks-per-node` is `--ntasks-per-node`).
fn state_name(name: &'static str) -> &'static str {
    match name {
        "tasks-per-node" => "ntasks-per-node",
        other => other,
    }
}

/// `--output=none` means /dev/null.
fn io_name(text: String) -> String {
    if text.eq_ignore_ascii_case("none") {
        "/dev/null".to_owned()
    } else {
        text
    }
}

/// `gres_prepend_tres_type`: `gpu:1,qpu` becomes `gres:gpu:1,gres:qpu`.
fn prepend_gres(text: &str) -> String {
    format!("gres:{text}")
        .replace(',', ",gres:")
        .replace("gres:gres:", "gres:")
}

/// `xfmt_tres`: appends `gres:gpu:<token>` for each comma token.
fn format_tres(dest: &mut Option<String>, src: Option<&str>) {
    let Some(src) = src.filter(|s| !s.is_empty()) else {
        return;
    };
    for token in src.split(',').filter(|t| !t.is_empty()) {
        match dest {
            Some(d) => {
                d.push_str(",gres:gpu:");
                d.push_str(token);
            }
            None => *dest = Some(format!("gres:gpu:{token}")),
        }
    }
}

/// The counts `_opt_verify` settles for one component.
#[derive(Clone, Copy, Debug)]
struct Counts {
    ntasks: i64,
    ntasks_set: bool,
    min_nodes: i64,
    max_nodes: i64,
    nodes_set: bool,
}

/// The name SPANK gives an option's variable (plugstack.c `_opt_env_name`):
/// `_SLURM_SPANK_OPTION_<plugin>_<option>`, non-alphanumerics as `_`.
fn spank_variable(option: &str) -> String {
    let canonical = |text: &str| -> String {
        text.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    };
    format!(
        "SLURM_SPANK__SLURM_SPANK_OPTION_{}_{}",
        canonical("hetpolicy"),
        canonical(option)
    )
}

/// The SPANK plugin's choice among the values its callback received
/// (src/spank/client.rs `own_value`): the last one that differs from the
/// replayed value, else the replayed one.
fn own_value<'v>(
    captured: &'v [(String, Origin)],
    inherited: Option<&str>,
) -> Option<&'v (String, Origin)> {
    captured
        .iter()
        .rev()
        .find(|(value, _)| Some(value.as_str()) != inherited)
        .or_else(|| {
            captured
                .iter()
                .rev()
                .find(|(v, _)| Some(v.as_str()) == inherited)
        })
}

struct Run<'a> {
    inv: &'a Invocation<'a>,
    table: OptionTable,
    sim: Simulation,
    opts: Opts,
    /// Per site option: SPANK's last value (`optarg`) and whether it was
    /// ever given (`found`).
    spank_last: Vec<Option<String>>,
    /// Per site option: the value sbatch replays into the next component.
    replay: Vec<Option<String>>,
}

pub(crate) fn run(inv: &Invocation<'_>) -> Simulation {
    let site: Vec<&str> = inv.site_options.iter().map(|o| o.name()).collect();
    let replay = inv
        .site_options
        .iter()
        .map(|o| inv.env.get(&spank_variable(o.name())).cloned())
        .collect();
    let mut run = Run {
        inv,
        table: OptionTable::new(&site),
        sim: Simulation::default(),
        opts: Opts::default(),
        spank_last: vec![None; site.len()],
        replay,
    };
    // sbatch names the script by its base name, "stdin" when read there.
    let file = match inv.script_name {
        "-" | "" => "stdin",
        name => name.rsplit('/').next().unwrap_or(name),
    };
    let directives = directives::read(inv.script, file);
    if let Err(refusal) = run.passes(&directives) {
        run.sim.refusal = Some(refusal);
    }
    super::findings::after_passes(&mut run.sim, &directives, inv.script);
    run.sim
}

fn refusal(component: Option<usize>, stderr: Lines) -> Refusal {
    Refusal {
        by: RefusedBy::Sbatch,
        component,
        stderr,
    }
}

fn getopt_refusal(component: Option<usize>, GetoptError::Message(line): GetoptError) -> Refusal {
    refusal(
        component,
        vec![
            line,
            "Try \"sbatch --help\" for more information".to_owned(),
        ],
    )
}

impl Run<'_> {
    fn cwd(&self) -> String {
        self.opts
            .chdir
            .as_ref()
            .map_or_else(|| self.inv.cwd.to_owned(), |c| c.value.clone())
    }

    fn passes(&mut self, directives: &Directives) -> Result<(), Refusal> {
        let inv = self.inv;
        let argv: Vec<Word> = std::iter::once("sbatch")
            .chain(inv.args.iter().map(String::as_str))
            .map(|w| Word::new(w, None))
            .collect();
        // The part of the command line each word belongs to.
        let mut part = 0;
        let parts: Vec<usize> = argv
            .iter()
            .map(|w| {
                if w.text == ":" {
                    part += 1;
                }
                part
            })
            .collect();

        // First pass: every option of the command line, `:` removed.
        let (first_words, first_parts): (Vec<Word>, Vec<usize>) = argv
            .iter()
            .zip(&parts)
            .filter(|(w, _)| w.text != ":")
            .map(|(w, p)| (w.clone(), *p))
            .unzip();
        let (found, optind) = getopt(&self.table, &first_words);
        for item in found {
            let found = item.map_err(|e| getopt_refusal(None, e))?;
            if let Which::Sbatch(spec) = found.which {
                let origin = Origin::CommandLine {
                    component: first_parts[found.index],
                };
                let cwd = self.cwd();
                self.opts
                    .apply(
                        spec,
                        found.value.as_deref(),
                        true,
                        &origin,
                        &cwd,
                        &mut self.sim.notes,
                    )
                    .map_err(|lines| refusal(None, lines))?;
            }
        }
        if let Some(word) = first_words.get(optind) {
            return Err(refusal(
                None,
                vec![format!(
                    "hetpolicy: `{}` is not an option: sbatch would take it as the batch script",
                    word.text
                )],
            ));
        }
        if let Some(what) = self.opts.informational {
            return Err(refusal(
                None,
                vec![format!(
                    "hetpolicy: with {what}, sbatch prints information and submits nothing"
                )],
            ));
        }
        if self.opts.wrap {
            return Err(refusal(
                None,
                vec![error_line(
                    "Script arguments not permitted with --wrap option",
                )],
            ));
        }
        if self.opts.test_only {
            self.sim.notes.push(
                "--test-only: sbatch asks slurmctld whether each component could run, as separate \
                 plain jobs, and submits nothing; with the SPANK plugin loaded, hetpolicy refuses \
                 a hetjob's later components there (the rules over a whole hetjob cannot be \
                 applied to them); eval shows what a real submission gets"
                    .to_owned(),
            );
        }

        let script_components = directives.components.len();
        let command_line_components = 1 + inv.args.iter().filter(|a| *a == ":").count();
        self.sim.hetjob = script_components.max(command_line_components) > 1;
        let mut offset = 0;
        let mut cmd_part = 0;
        for k in 0.. {
            self.opts.reset_for_next_component();
            let mut captured: Vec<Vec<(String, Origin)>> = vec![Vec::new(); self.replay.len()];

            // 1. The component's #SBATCH lines.
            if directives.pass_reads_slurm_magic(k) {
                self.sim.stderr.push(error_line(
                    "Change from #SLURM to #SBATCH in your script and verify the options are \
                     valid in sbatch",
                ));
            }
            if let Some(section) = directives.components.get(k) {
                let words = section
                    .as_ref()
                    .map_err(|fatal| refusal(Some(k), vec![format!("sbatch: fatal: {fatal}")]))?;
                let args: Vec<Word> = std::iter::once(Word::new("sbatch", None))
                    .chain(words.iter().cloned())
                    .collect();
                let (found, optind) = getopt(&self.table, &args);
                for item in found {
                    let found = item.map_err(|e| getopt_refusal(Some(k), e))?;
                    let origin = Origin::Script {
                        component: k,
                        line: found.line.unwrap_or(0),
                    };
                    self.take(&found, origin, &mut captured)
                        .map_err(|lines| refusal(Some(k), lines))?;
                }
                if let Some(word) = args.get(optind) {
                    return Err(refusal(
                        Some(k),
                        vec![error_line(&format!(
                            "Invalid directive found in batch script: {}",
                            word.text
                        ))],
                    ));
                }
            }
            let more_in_script = k + 1 < script_components;

            // 2. SBATCH_* variables, then SPANK's replay of site options.
            for (variable, name) in ENV_OPTIONS {
                let Some(value) = inv.env.get(*variable) else {
                    continue;
                };
                let Some(spec) = by_name(name) else {
                    continue;
                };
                let origin = Origin::Environment {
                    variable: (*variable).to_owned(),
                };
                let before = self.opts.origin_of(spec.name).cloned();
                let cwd = self.cwd();
                self.opts
                    .apply(spec, Some(value), true, &origin, &cwd, &mut self.sim.notes)
                    .map_err(|lines| refusal(Some(k), lines))?;
                if let Some(Origin::Script { component, line }) = before {
                    if component == k && self.opts.origin_of(spec.name) == Some(&origin) {
                        self.sim.findings.push(Finding {
                            kind: "environment_overrides_script",
                            severity: Severity::Warning,
                            component: Some(k),
                            line: Some(line),
                            message: format!(
                                "${variable}={value} overrides `#SBATCH --{}` on line {line}: \
                                 sbatch reads SBATCH_* variables after the script's #SBATCH lines",
                                spec.name
                            ),
                            fix: format!(
                                "unset {variable} to use the script's value, or give the option \
                                 on the command line, which sbatch reads last"
                            ),
                        });
                    }
                }
            }
            for (slot, value) in captured.iter_mut().zip(&self.replay) {
                if let Some(value) = value {
                    slot.push((value.clone(), Origin::Replayed));
                }
            }

            // 3. The component's part of the command line.
            let args = &argv[offset..];
            let (found, stop) = getopt(&self.table, args);
            for item in found {
                let found = item.map_err(|e| getopt_refusal(Some(k), e))?;
                let origin = Origin::CommandLine {
                    component: cmd_part,
                };
                self.take(&found, origin, &mut captured)
                    .map_err(|lines| refusal(Some(k), lines))?;
            }
            let last = if args.get(stop).is_some_and(|w| w.text == ":") {
                offset += stop;
                cmd_part += 1;
                false
            } else {
                !more_in_script
            };

            // 4. _opt_verify.
            let counts = self.verify(k)?;

            // 5. The SPANK plugin's check (init_post_opt).
            let (site_values, site_origins) = self.spank_post_opt(k, &captured)?;

            // 6. The job description.
            let mut request = self.request(k, counts, site_values)?;
            request.origins.extend(site_origins);
            self.sim.components.push(request);
            if last {
                break;
            }
        }
        self.sim.hetjob = self.sim.components.len() > 1;
        Ok(())
    }

    /// Applies one option found in a component's own options (#SBATCH
    /// lines or its part of the command line): a site option's value goes
    /// to SPANK's capture, an early option is skipped.
    fn take(
        &mut self,
        found: &Found,
        origin: Origin,
        captured: &mut [Vec<(String, Origin)>],
    ) -> Result<(), Lines> {
        match found.which {
            Which::Site(index) => {
                captured[index].push((found.value.clone().unwrap_or_default(), origin));
                Ok(())
            }
            Which::Sbatch(spec) if spec.early => Ok(()),
            Which::Sbatch(spec) => {
                let cwd = self.cwd();
                self.opts.apply(
                    spec,
                    found.value.as_deref(),
                    false,
                    &origin,
                    &cwd,
                    &mut self.sim.notes,
                )
            }
        }
    }

    /// `_opt_verify`: memory options, default input, absolute paths, node
    /// list, and the task and node counts sbatch derives.
    fn verify(&mut self, k: usize) -> Result<Counts, Refusal> {
        let mem_from = self.opts.mem.as_ref().map(|m| (m.origin.clone(), m.value));
        if let Err(lines) = self.opts.validate_memory() {
            if let Some((origin, mb)) =
                mem_from.filter(|(o, _)| o.component().is_some_and(|c| c < k))
            {
                self.sim.findings.push(Finding {
                    kind: "inherited_memory",
                    severity: Severity::Error,
                    component: Some(k),
                    line: None,
                    message: format!(
                        "component {k} asks for memory per CPU, but sbatch propagates --mem={} \
                         ({origin}) from component {} into it, and refuses both together",
                        Megabytes(mb),
                        origin.component().unwrap_or(0)
                    ),
                    fix: format!(
                        "give component {k} --mem (per node) as well, or use --mem-per-cpu in \
                         every component"
                    ),
                });
            }
            return Err(refusal(Some(k), lines));
        }
        self.opts
            .apply_hint()
            .map_err(|lines| refusal(Some(k), lines))?;
        if self.opts.input.is_none() {
            self.opts.input = Some(Val {
                value: "/dev/null".to_owned(),
                origin: Origin::Default,
            });
        }
        let cwd = self.cwd();
        for slot in [
            &mut self.opts.output,
            &mut self.opts.error,
            &mut self.opts.input,
        ]
        .into_iter()
        .flatten()
        {
            if !slot.value.starts_with('/') {
                slot.value = format!("{cwd}/{}", slot.value);
            }
        }
        let (mut min_nodes, mut max_nodes) = self.opts.nodes.as_ref().map_or((1, 0), |n| n.value);
        let mut nodes_set = self.opts.nodes.is_some();
        if let Some(list) = &self.opts.nodelist {
            if list.value.contains('/') {
                self.sim
                    .notes
                    .push("--nodelist names a file: eval does not read it".to_owned());
            } else if let Some(hosts) = super::slurm_conf::expand_hostlist(&list.value) {
                let count = i64::try_from(hosts.len()).unwrap_or(i64::MAX);
                min_nodes = if nodes_set {
                    count.max(min_nodes)
                } else {
                    count
                };
                nodes_set = true;
            }
        }
        let mut ntasks = self.opts.ntasks.as_ref().map_or(1, |n| n.value);
        let mut ntasks_set = self.opts.ntasks.is_some();
        if let Some(per_node) = &self.opts.ntasks_per_node {
            if !ntasks_set && (max_nodes == 0 || min_nodes == max_nodes) {
                ntasks = min_nodes * per_node.value;
                ntasks_set = true;
            }
        }
        if (nodes_set || self.opts.extra_node_info)
            && (min_nodes == max_nodes || max_nodes == 0)
            && !ntasks_set
        {
            ntasks = min_nodes.max(1);
            for factor in [
                &self.opts.sockets_per_node,
                &self.opts.cores_per_socket,
                &self.opts.threads_per_core,
            ]
            .into_iter()
            .flatten()
            {
                ntasks *= factor.value;
                ntasks_set = true;
            }
        } else if nodes_set && ntasks_set {
            if ntasks < max_nodes {
                max_nodes = ntasks;
            }
            if ntasks < min_nodes {
                self.sim.stderr.push(format!(
                    "sbatch: Warning: can't run {ntasks} processes on {min_nodes} nodes, setting \
                     nnodes to {ntasks}"
                ));
                min_nodes = ntasks;
                max_nodes = ntasks;
            }
        }
        Ok(Counts {
            ntasks,
            ntasks_set,
            min_nodes,
            max_nodes,
            nodes_set,
        })
    }

    /// The SPANK plugin's `init_post_opt` for component `k`: checks each
    /// site option's own value, and returns the values it forwards.
    fn spank_post_opt(
        &mut self,
        k: usize,
        captured: &[Vec<(String, Origin)>],
    ) -> Result<(SiteValues, Vec<(String, Origin)>), Refusal> {
        let mut forwarded = Vec::new();
        let mut origins = Vec::new();
        let position = if k == 0 {
            Position::Plain
        } else {
            Position::Het(u32::try_from(k).unwrap_or(u32::MAX))
        };
        for (index, option) in self.inv.site_options.iter().enumerate() {
            let values = &captured[index];
            let inherited = self.replay[index].clone();
            let own = own_value(values, inherited.as_deref()).filter(|(v, _)| !v.is_empty());
            if let Some((value, _)) = own {
                if let Err(rejection) = check_option_value(option, value, position) {
                    return Err(Refusal {
                        by: RefusedBy::SpankPlugin,
                        component: Some(k),
                        stderr: vec![
                            error_line(&format!("hetpolicy: {}", rejection.message)),
                            error_line(&format!(
                                "spank: required plugin {}: init_post_opt() failed with rc=-1",
                                self.inv.spank_plugin
                            )),
                            error_line("Plugin stack post-option processing failed"),
                        ],
                    });
                }
            }
            if let Some((value, origin)) = own {
                forwarded.push((option.name().to_owned(), value.clone()));
                origins.push((option.name().to_owned(), origin.clone()));
            }
            if let Some((last, _)) = values.last() {
                self.spank_last[index] = Some(last.clone());
            }
            // After the component, sbatch exports SPANK's last value for
            // the next component to replay.
            if let Some(last) = &self.spank_last[index] {
                self.replay[index] = Some(last.clone());
            }
        }
        Ok((SiteValues(forwarded), origins))
    }
}

/// The GRES requests of one name (and type) across a component's
/// tres_per_* fields, as sbatch's `gres_job_state_validate` sees them.
#[derive(Clone, Debug, Default)]
struct GresCounts {
    key: (String, Option<String>),
    per_job: u64,
    per_node: u64,
    per_socket: u64,
    per_task: u64,
    cpus_per_gres: u64,
}

/// The counts of a job description that sbatch's GRES checks may change.
#[derive(Clone, Copy, Debug)]
struct DescCounts {
    tasks: Option<i64>,
    min_nodes: Option<i64>,
    max_nodes: Option<i64>,
    cpus_per_task: Option<i64>,
    ntasks_per_node: Option<i64>,
    sockets_per_node: Option<i64>,
}

/// How C prints an unset (NO_VAL) count.
fn or_no_val(value: Option<i64>) -> i64 {
    value.unwrap_or(0xffff_fffe)
}

/// `_test_gres_cnt` (src/common/gres.c), with its messages.
fn test_gres_counts(g: &GresCounts, d: &mut DescCounts) -> Result<(), String> {
    let n = g.key.0.as_str();
    let (job, node, socket, task) = (g.per_job, g.per_node, g.per_socket, g.per_task);
    if job > 0
        && ((node > 0 && node > job) || (task > 0 && task > job) || (socket > 0 && socket > job))
    {
        return Err(format!(
            "Failed to ensure --{n}s >= --gres={n}/--{n}s-per-node >= --{n}s-per-socket"
        ));
    }
    if node > 0 && ((task > 0 && task > node) || (socket > 0 && socket > node)) {
        return Err(format!("Failed to ensure --{n}s >= --{n}s-per-task"));
    }
    if socket > 0 && d.sockets_per_node.is_none() {
        return Err(format!(
            "--{n}s-per-socket option requires --sockets-per-node specification"
        ));
    }
    if g.cpus_per_gres > 0 && d.cpus_per_task.is_some() {
        return Err(format!(
            "--cpus-per-{n} is mutually exclusive with --cpus-per-task"
        ));
    }
    if job > 0 && node > 0 {
        if job % node != 0 {
            return Err(format!(
                "Failed to validate job spec, --{n}s is not multiple of --gres={n}/--{n}s-per-node"
            ));
        }
        let req = i64::try_from(job / node).unwrap_or(i64::MAX);
        if d.min_nodes.is_some_and(|min| req < min) || d.max_nodes.is_some_and(|max| req > max) {
            return Err(format!(
                "Failed to validate job spec. Based on --{n} and --gres={n}/--{n}s-per-node \
                 required nodes ({req}) doesn't fall between min_nodes ({}) and max_nodes ({}) \
                 boundaries.",
                or_no_val(d.min_nodes),
                or_no_val(d.max_nodes)
            ));
        }
        d.min_nodes = Some(req);
        d.max_nodes = Some(req);
    }
    if node > 0 && socket > 0 {
        if node % socket != 0 {
            return Err(format!(
                "Failed to validate job spec, --gres={n}/--{n}s-per-node not multiple of \
                 --{n}s-per-socket."
            ));
        }
        let req = i64::try_from(node / socket).unwrap_or(i64::MAX);
        match d.sockets_per_node {
            None => d.sockets_per_node = Some(req),
            Some(s) if s != req => {
                return Err(format!(
                    "Failed to validate job spec. Based on --gres={n}/--{n}s-per-node and \
                     --{n}s-per-socket required number of sockets differ from --sockets-per-node."
                ))
            }
            Some(_) => {}
        }
    }
    let mut job_total = job;
    if task > 0 {
        if job > 0 {
            if job % task != 0 {
                return Err(format!(
                    "Failed to validate job spec, --{n}s not multiple of --{n}s-per-task"
                ));
            }
            let req = i64::try_from(job / task).unwrap_or(i64::MAX);
            match d.tasks {
                None => d.tasks = Some(req),
                Some(t) if t != req => {
                    return Err(format!(
                        "Failed to validate job spec. Based on --{n}s and --{n}s-per-task number \
                         of requested tasks differ from -n/--ntasks."
                    ))
                }
                Some(_) => {}
            }
        } else if let Some(tasks) = d.tasks {
            job_total = u64::try_from(tasks).unwrap_or(0).saturating_mul(task);
        } else {
            return Err(format!(
                "Failed to validate job spec. --{n}s-per-task used without either --{n}s or \
                 -n/--ntasks is not allowed."
            ));
        }
    }
    if node > 0 && task > 0 {
        if node % task != 0 {
            return Err(format!(
                "Failed to validate job spec, --gres={n}/--{n}s-per-node not multiple of \
                 --{n}s-per-task."
            ));
        }
        let req = i64::try_from(node / task).unwrap_or(i64::MAX);
        match d.ntasks_per_node {
            None | Some(0) => d.ntasks_per_node = Some(req),
            Some(t) if t != req => {
                return Err(format!(
                    "Failed to validate job spec. Based on --gres={n}/--{n}s-per-node and \
                     --{n}s-per-task requested number of tasks per node differ from \
                     --ntasks-per-node."
                ))
            }
            Some(_) => {}
        }
    }
    if socket > 0 && task > 0 && socket % task != 0 {
        return Err(format!(
            "Failed to validate job spec, --{n}s-per-socket not multiple of --{n}s-per-task."
        ));
    }
    if g.cpus_per_gres > 0 && task > 0 {
        let req = i64::try_from(g.cpus_per_gres.saturating_mul(task)).unwrap_or(i64::MAX);
        if d.cpus_per_task.is_none() {
            d.cpus_per_task = Some(req);
        }
    }
    if job_total > 0 {
        let total = i64::try_from(job_total).unwrap_or(i64::MAX);
        if d.min_nodes.is_some_and(|min| total < min) {
            return Err(format!("Failed to validate job spec, --{n}s < -N"));
        }
        if d.max_nodes.is_some_and(|max| total < max) {
            d.max_nodes = Some(total);
        }
    }
    Ok(())
}

/// sbatch's `gres_job_state_validate`: reads the GRES requests, refuses
/// unknown names and inconsistent counts, and derives task and node
/// counts from them.
fn validate_gres(
    tres: [Option<&str>; 4],
    cpus_per_gpu: Option<i64>,
    mem_per_gpu: Option<u64>,
    gres_types: Option<&[String]>,
    d: &mut DescCounts,
) -> Result<(), Lines> {
    if tres.iter().all(Option::is_none) && cpus_per_gpu.is_none() && mem_per_gpu.is_none() {
        return Ok(());
    }
    let invalid = || vec![error_line("Invalid generic resource (gres) specification")];
    if tres[3].is_some() && d.tasks.is_none() && d.min_nodes.is_some() && d.min_nodes == d.max_nodes
    {
        if let (Some(min), Some(per_node)) = (d.min_nodes, d.ntasks_per_node) {
            d.tasks = Some(min * per_node);
        } else if d.cpus_per_task.is_none() {
            d.tasks = d.min_nodes;
        }
    }
    let mut list: Vec<GresCounts> = Vec::new();
    fn slot(list: &mut Vec<GresCounts>, name: &str, gres_type: Option<&str>) -> usize {
        let key = (name.to_owned(), gres_type.map(str::to_owned));
        match list.iter().position(|g| g.key == key) {
            Some(i) => i,
            None => {
                list.push(GresCounts {
                    key,
                    ..GresCounts::default()
                });
                list.len() - 1
            }
        }
    }
    let mut entries = Vec::new();
    for (scope, field) in tres.iter().enumerate() {
        let Some(field) = field else {
            continue;
        };
        for request in gres::parse(field) {
            let request = request.map_err(|_| invalid())?;
            if gres_types.is_some_and(|known| !known.iter().any(|g| g == request.name)) {
                return Err(invalid());
            }
            entries.push((scope, request.name, request.gres_type, request.count));
        }
    }
    for (scope, name, gres_type, count) in entries {
        let i = slot(&mut list, name, gres_type);
        let g = &mut list[i];
        match scope {
            0 => g.per_job = count,
            1 => g.per_node = count,
            2 => g.per_socket = count,
            _ => g.per_task = count,
        }
    }
    // A zero count (`--gpus=0`) is no request.
    let requested_gpu = list
        .iter()
        .any(|g| g.key.0 == "gpu" && g.per_job + g.per_node + g.per_socket + g.per_task > 0);
    if let Some(cpus) = cpus_per_gpu {
        let i = slot(&mut list, "gpu", None);
        list[i].cpus_per_gres = u64::try_from(cpus).unwrap_or(0);
    }
    if let Some(mb) = mem_per_gpu {
        slot(&mut list, "gpu", None);
        if !requested_gpu {
            return Err(vec![
                error_line(&format!(
                    "Requested mem_per_tres=gres:gpu:{mb} but did not request any GPU."
                )),
                error_line("Invalid generic resource (gres) specification"),
            ]);
        }
    }
    for g in &list {
        test_gres_counts(g, d).map_err(|message| {
            vec![
                error_line(&message),
                error_line("Invalid generic resource (gres) specification"),
            ]
        })?;
    }
    Ok(())
}

fn count32(value: Option<i64>) -> Option<u32> {
    value.map(|v| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

impl Run<'_> {
    /// `slurm_opt_create_job_desc` for component `k`, then sbatch's GRES
    /// checks.
    fn request(
        &mut self,
        k: usize,
        counts: Counts,
        site_values: SiteValues,
    ) -> Result<Request, Refusal> {
        let o = &self.opts;
        let min_cpus = if o.overcommit.is_some() {
            counts.min_nodes.max(1)
        } else if let Some(c) = &o.cpus_per_task {
            counts.ntasks * c.value
        } else if counts.nodes_set && counts.min_nodes == 0 {
            0
        } else {
            counts.ntasks
        };
        let mut tres_per_job = None;
        format_tres(&mut tres_per_job, o.gpus.as_ref().map(|v| v.value.as_str()));
        let mut tres_per_node = None;
        format_tres(
            &mut tres_per_node,
            o.gpus_per_node.as_ref().map(|v| v.value.as_str()),
        );
        if let Some(g) = o
            .gres
            .as_ref()
            .filter(|g| !g.value.eq_ignore_ascii_case("none"))
        {
            match &mut tres_per_node {
                Some(node) => {
                    node.push(',');
                    node.push_str(&g.value);
                }
                None => tres_per_node = Some(g.value.clone()),
            }
        }
        let mut tres_per_socket = None;
        format_tres(
            &mut tres_per_socket,
            o.gpus_per_socket.as_ref().map(|v| v.value.as_str()),
        );
        let mut tres_per_task = None;
        format_tres(
            &mut tres_per_task,
            o.gpus_per_task.as_ref().map(|v| v.value.as_str()),
        );
        let mut d = DescCounts {
            tasks: counts.ntasks_set.then_some(counts.ntasks),
            min_nodes: counts.nodes_set.then_some(counts.min_nodes),
            max_nodes: (counts.nodes_set && counts.max_nodes != 0).then_some(counts.max_nodes),
            cpus_per_task: o.cpus_per_task.as_ref().map(|c| c.value),
            ntasks_per_node: o.ntasks_per_node.as_ref().map(|c| c.value),
            sockets_per_node: o.sockets_per_node.as_ref().map(|c| c.value),
        };
        let gres_types = self
            .inv
            .slurm_conf
            .and_then(|conf| conf.gres_types.as_deref());
        validate_gres(
            [
                tres_per_job.as_deref(),
                tres_per_node.as_deref(),
                tres_per_socket.as_deref(),
                tres_per_task.as_deref(),
            ],
            o.cpus_per_gpu.as_ref().map(|c| c.value),
            o.mem_per_gpu.as_ref().map(|m| m.value),
            gres_types,
            &mut d,
        )
        .map_err(|lines| refusal(Some(k), lines))?;
        let memory = match (&o.mem, &o.mem_per_cpu) {
            (Some(mem), _) => (mem.value > 0).then_some(Memory::PerNode(Megabytes(mem.value))),
            (None, Some(per_cpu)) => {
                (per_cpu.value > 0).then_some(Memory::PerCpu(Megabytes(per_cpu.value)))
            }
            (None, None) => None,
        };
        let mut origins = BTreeMap::new();
        let fields: [(&str, Option<&Origin>); 18] = [
            ("partition", o.partition.as_ref().map(|v| &v.origin)),
            ("qos", o.qos.as_ref().map(|v| &v.origin)),
            ("account", o.account.as_ref().map(|v| &v.origin)),
            ("gres", o.gres.as_ref().map(|v| &v.origin)),
            ("gpus", o.gpus.as_ref().map(|v| &v.origin)),
            ("gpus-per-node", o.gpus_per_node.as_ref().map(|v| &v.origin)),
            (
                "gpus-per-socket",
                o.gpus_per_socket.as_ref().map(|v| &v.origin),
            ),
            ("gpus-per-task", o.gpus_per_task.as_ref().map(|v| &v.origin)),
            ("nodes", o.nodes.as_ref().map(|v| &v.origin)),
            ("ntasks", o.ntasks.as_ref().map(|v| &v.origin)),
            ("cpus-per-task", o.cpus_per_task.as_ref().map(|v| &v.origin)),
            ("mem", o.mem.as_ref().map(|v| &v.origin)),
            ("mem-per-cpu", o.mem_per_cpu.as_ref().map(|v| &v.origin)),
            ("time", o.time.as_ref().map(|v| &v.origin)),
            ("output", o.output.as_ref().map(|v| &v.origin)),
            ("error", o.error.as_ref().map(|v| &v.origin)),
            ("input", o.input.as_ref().map(|v| &v.origin)),
            ("array", o.array.as_ref().map(|v| &v.origin)),
        ];
        for (name, origin) in fields {
            if let Some(origin) = origin {
                origins.insert(name.to_owned(), origin.clone());
            }
        }
        Ok(Request {
            partition: o.partition.as_ref().map(|v| v.value.clone()),
            qos: o.qos.as_ref().map(|v| v.value.clone()),
            account: o.account.as_ref().map(|v| v.value.clone()),
            tres_per_job,
            tres_per_node,
            tres_per_socket,
            tres_per_task,
            nodes: count32(d.min_nodes),
            max_nodes: count32(d.max_nodes),
            sockets_per_node: count32(d.sockets_per_node),
            tasks: count32(d.tasks),
            cpus_per_task: count32(d.cpus_per_task),
            min_cpus: count32(Some(min_cpus)),
            memory,
            time_limit: o.time.as_ref().map(|v| v.value),
            std_out: o.output.as_ref().map(|v| v.value.clone()),
            std_err: o.error.as_ref().map(|v| v.value.clone()),
            std_in: o.input.as_ref().map(|v| v.value.clone()),
            array: o.array.as_ref().map(|v| v.value.clone()),
            site_values,
            origins,
        })
    }
}
