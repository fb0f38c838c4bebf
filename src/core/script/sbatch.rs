//! sbatch's passes over its options, one component at a time, and the job
//! description it builds from them, for the release of the invocation.
//!
//! The order is sbatch's (src/sbatch/sbatch.c `main`, src/sbatch/opt.c):
//! 1. first pass: every option of the whole command line (`:` removed),
//!    as if it came from the environment; options Slurm propagates keep
//!    the last value given anywhere on the command line, so a later
//!    component's `--qos` also reaches component 0 when component 0 gives
//!    none;
//! 2. per component: reset the options with `reset_each_pass`, then read
//!    the component's `#SBATCH` lines, the `SBATCH_*` variables (and
//!    SPANK's replay of earlier site option values), and the component's
//!    part of the command line; verify (`_opt_verify`); run the SPANK
//!    plugin's check; build the job description, including the GRES
//!    checks sbatch makes before sending (`gres_job_state_validate`).
//!
//! Which options exist, what they take and whether they propagate comes
//! from the release's generated option table; what the model does with
//! each option's value, from [`super::options`]; where releases behave
//! differently, from [`super::rules`].

use std::collections::BTreeMap;

use super::directives::{self, Directives};
use super::getopt::{getopt, Found, GetoptError, OptionTable, Which, Word};
use super::gres_check::{validate_gres, DescCounts, GresFields};
use super::options;
use super::rules::Rules;
use super::state::{error_line, fatal_line, format_tres, Lines, Opts, Value};
use super::tres_per_task;
use super::{
    Finding, Invocation, Origin, Refusal, RefusedBy, Request, Severity, Simulation, SiteValues,
};
use crate::engine::{check_option_value, Memory, Position};
use crate::spank;
use crate::units::Megabytes;

/// The counts `_opt_verify` settles for one component.
#[derive(Clone, Copy, Debug)]
struct Counts {
    ntasks: i64,
    ntasks_set: bool,
    min_nodes: i64,
    max_nodes: i64,
    nodes_set: bool,
}

struct Run<'a> {
    inv: &'a Invocation<'a>,
    rules: Rules,
    table: OptionTable,
    sim: Simulation,
    opts: Opts,
    /// Per site option: SPANK's last value (`optarg`), once given.
    spank_last: Vec<Option<String>>,
    /// Per site option: the value sbatch replays into the next component.
    replay: Vec<Option<String>>,
}

pub(crate) fn run(inv: &Invocation<'_>) -> Simulation {
    let rules = Rules::of(inv.release);
    let site: Vec<&str> = inv.site_options.iter().map(|o| o.name()).collect();
    let replay = inv
        .site_options
        .iter()
        .map(|o| inv.env.get(&spank::replay_variable(o.name())).cloned())
        .collect();
    let mut run = Run {
        inv,
        rules,
        table: OptionTable::new(inv.release, &site),
        sim: Simulation {
            release: inv.release,
            ..Simulation::default()
        },
        opts: Opts::new(rules),
        spank_last: vec![None; site.len()],
        replay,
    };
    // sbatch names the script by its base name, "stdin" when read there.
    let file = match inv.script_name {
        "-" | "" => "stdin",
        name => name.rsplit('/').next().unwrap_or(name),
    };
    let directives = directives::read(inv.script, file, &rules);
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

/// sbatch prints something (help, GRES names) and submits nothing.
fn informational_refusal(component: Option<usize>, what: &str) -> Refusal {
    refusal(
        component,
        vec![format!(
            "hetpolicy: with {what}, sbatch prints information and submits nothing"
        )],
    )
}

impl Run<'_> {
    /// The directory relative files are in: `--chdir`, else the working
    /// directory.
    fn cwd(&self) -> String {
        self.opts
            .text("chdir")
            .map_or_else(|| self.inv.cwd.to_owned(), str::to_owned)
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
            if let Which::Sbatch(option) = found.which {
                let origin = Origin::CommandLine {
                    component: first_parts[found.index],
                };
                let cwd = self.cwd();
                self.opts
                    .apply(
                        option,
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
        if let Some(what) = self.opts.informational.clone() {
            return Err(informational_refusal(None, &what));
        }
        if self.opts.flag("wrap") {
            return Err(refusal(
                None,
                vec![error_line(
                    "Script arguments not permitted with --wrap option",
                )],
            ));
        }
        if self.opts.flag("test-only") {
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
            if directives.packjob == Some(k) {
                self.sim
                    .stderr
                    .push(Directives::packjob_warning(&self.rules));
            }
            if let Some(section) = directives.components.get(k) {
                let words = section
                    .as_ref()
                    .map_err(|fatal| refusal(Some(k), vec![fatal_line(fatal)]))?;
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
            self.environment(k)?;
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
            if let Some(what) = self.opts.informational.clone() {
                return Err(informational_refusal(Some(k), &what));
            }

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

    /// `_opt_env` for component `k`: the release's `SBATCH_*` variables, in
    /// its order. A variable that overrides the component's own `#SBATCH`
    /// line is a finding.
    fn environment(&mut self, k: usize) -> Result<(), Refusal> {
        let inv = self.inv;
        let release = inv.release;
        for env in release.sbatch_env() {
            let Some(value) = inv.env.get(env.variable) else {
                continue;
            };
            let Some(option) = env.option.and_then(|name| release.sbatch_option(name)) else {
                continue;
            };
            let state = release.sbatch_state_of(option).name;
            let modelled = options::modelled(state).is_some();
            let origin = Origin::Environment {
                variable: env.variable.to_owned(),
            };
            let before = modelled.then(|| self.opts.origin(state).cloned()).flatten();
            let cwd = self.cwd();
            self.opts
                .apply(
                    option,
                    Some(value),
                    true,
                    &origin,
                    &cwd,
                    &mut self.sim.notes,
                )
                .map_err(|lines| refusal(Some(k), lines))?;
            let after = modelled.then(|| self.opts.origin(state)).flatten();
            if let Some(Origin::Script { component, line }) = before {
                if component == k && after == Some(&origin) {
                    self.sim.findings.push(Finding {
                        kind: "environment_overrides_script",
                        severity: Severity::Warning,
                        component: Some(k),
                        line: Some(line),
                        message: format!(
                            "${}={value} overrides `#SBATCH --{state}` on line {line}: sbatch \
                             reads SBATCH_* variables after the script's #SBATCH lines",
                            env.variable
                        ),
                        fix: format!(
                            "unset {} to use the script's value, or give the option on the \
                             command line, which sbatch reads last",
                            env.variable
                        ),
                    });
                }
            }
        }
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
            Which::Sbatch(option) if option.sbatch_early_pass => Ok(()),
            Which::Sbatch(option) => {
                let cwd = self.cwd();
                self.opts.apply(
                    option,
                    found.value.as_deref(),
                    false,
                    &origin,
                    &cwd,
                    &mut self.sim.notes,
                )
            }
        }
    }

    /// `validate_options_salloc_sbatch_srun`, in its order, for the checks
    /// the model covers.
    fn validate_options(&mut self, k: usize) -> Result<(), Refusal> {
        let rules = self.rules;
        let fatal = |text: &str| refusal(Some(k), vec![fatal_line(text)]);
        if rules.gres_gpu_vs_gpus_per_node {
            let gres = self.opts.text("gres").unwrap_or_default();
            let gpus_per_node =
                self.opts.by_cli("gpus-per-node") || self.opts.by_env("gpus-per-node");
            if !gres.eq_ignore_ascii_case("none") && gres.contains("gres/gpu") && gpus_per_node {
                return Err(fatal(
                    "--gpus-per-node and --gres=gpu are mutually exclusive.",
                ));
            }
        }
        let mem = self
            .opts
            .slot("mem")
            .map(|m| (m.origin.clone(), m.value.clone()));
        if let Err(lines) = self.opts.validate_memory() {
            if let Some((origin, Value::Megabytes(mb))) =
                mem.filter(|(o, _)| o.component().is_some_and(|c| c < k))
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
        if rules.exclusive_vs_oversubscribe
            && self.opts.by_cli("exclusive")
            && self.opts.by_cli("oversubscribe")
        {
            return Err(fatal(
                "--exclusive and --oversubscribe options are mutually exclusive",
            ));
        }
        if rules.tres_per_task {
            tres_per_task::validate(&mut self.opts, &mut self.sim.notes)
                .map_err(|lines| refusal(Some(k), lines))?;
        }
        if rules.cpus_per_gpu_vs_cpus_per_task {
            tres_per_task::validate_cpus_per_gpu(&mut self.opts)
                .map_err(|lines| refusal(Some(k), lines))?;
        }
        Ok(())
    }

    /// `_opt_verify`: the checks of every client, --hint, the default
    /// input, absolute paths, the node list, and the task and node counts
    /// sbatch derives.
    fn verify(&mut self, k: usize) -> Result<Counts, Refusal> {
        self.validate_options(k)?;
        self.opts
            .apply_hint()
            .map_err(|lines| refusal(Some(k), lines))?;
        if let Some(what) = self.opts.informational.clone() {
            return Err(informational_refusal(Some(k), &what));
        }
        if self.opts.slot("input").is_none() {
            let dev_null = Value::Text("/dev/null".to_owned());
            self.opts.put("input", dev_null, Origin::Default);
        }
        if self.opts.slot("job-name").is_none() {
            // src/sbatch/opt.c `_opt_verify`: a --wrap job is named "wrap",
            // another after its script's base name; sbatch.c names a script
            // read from standard input "sbatch".
            let name = if self.opts.flag("wrap") {
                "wrap"
            } else {
                match self.inv.script_name {
                    "-" | "" => "sbatch",
                    path => path.rsplit('/').next().unwrap_or(path),
                }
            };
            self.opts
                .put("job-name", Value::Text(name.to_owned()), Origin::Default);
        }
        let cwd = self.cwd();
        for name in ["output", "error", "input"] {
            if let Some(file) = self.opts.text(name).filter(|f| !f.starts_with('/')) {
                let absolute = format!("{cwd}/{file}");
                self.opts.replace(name, Value::Text(absolute));
            }
        }
        let (mut min_nodes, mut max_nodes) = self.opts.nodes().unwrap_or((1, 0));
        let mut nodes_set = self.opts.nodes().is_some();
        let nodelist = self.opts.text("nodelist").map(str::to_owned);
        if let Some(list) =
            nodelist.filter(|_| !(self.rules.nodelist_only_without_nodes && nodes_set))
        {
            if list.contains('/') {
                self.sim
                    .notes
                    .push("--nodelist names a file: eval does not read it".to_owned());
            } else if let Some(hosts) = super::slurm_conf::expand_hostlist(&list) {
                let count = i64::try_from(hosts.len()).unwrap_or(i64::MAX);
                min_nodes = if nodes_set {
                    count.max(min_nodes)
                } else {
                    count
                };
                nodes_set = true;
            }
        }
        let mut ntasks = self.opts.count("ntasks").unwrap_or(1);
        let mut ntasks_set = self.opts.count("ntasks").is_some();
        let per_node = self.opts.count("ntasks-per-node");
        if let Some(per_node) = per_node.filter(|_| self.rules.ntasks_from_ntasks_per_node) {
            if !ntasks_set && (max_nodes == 0 || min_nodes == max_nodes) {
                ntasks = min_nodes * per_node;
                ntasks_set = true;
            }
        }
        let per_node_keeps_count = !self.rules.ntasks_from_ntasks_per_node && per_node.is_some();
        if (nodes_set || self.opts.flag("extra-node-info"))
            && (min_nodes == max_nodes || max_nodes == 0)
            && !per_node_keeps_count
            && !ntasks_set
        {
            ntasks = min_nodes.max(1);
            for factor in ["sockets-per-node", "cores-per-socket", "threads-per-core"]
                .iter()
                .filter_map(|name| self.opts.count(name))
            {
                ntasks *= factor;
                ntasks_set = true;
            }
        } else if nodes_set && ntasks_set {
            if ntasks < max_nodes {
                max_nodes = ntasks;
            }
            if ntasks < min_nodes {
                self.sim.stderr.push(format!(
                    "sbatch: {}can't run {ntasks} processes on {min_nodes} nodes, setting nnodes \
                     to {ntasks}",
                    self.rules.warning_prefix
                ));
                min_nodes = ntasks;
                max_nodes = ntasks;
            }
        }
        if self.rules.ntasks_per_core_vs_threads {
            if let (Some(per_core), Some(threads)) = (
                self.opts.count("ntasks-per-core"),
                self.opts.count("threads-per-core"),
            ) {
                if threads < per_core {
                    return Err(refusal(
                        Some(k),
                        vec![error_line(&format!(
                            "--ntasks-per-core ({per_core}) can not be bigger than \
                             --threads-per-core ({threads})"
                        ))],
                    ));
                }
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
            let texts: Vec<&str> = values.iter().map(|(v, _)| v.as_str()).collect();
            let inherited = self.replay[index].clone();
            let own = spank::own_value(&texts, inherited.as_deref())
                .map(|i| &values[i])
                .filter(|(v, _)| !v.is_empty());
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

    /// `slurm_opt_create_job_desc` for component `k`, then sbatch's GRES
    /// checks.
    fn request(
        &mut self,
        k: usize,
        counts: Counts,
        site_values: SiteValues,
    ) -> Result<Request, Refusal> {
        let o = &self.opts;
        let prefix = self.rules.gres_prefix;
        // 24.11 and 26.05 estimate the task count from --ntasks-per-node
        // for min_cpus only (src/common/slurm_opt.c:5557 in 24.11).
        let mut estimated_tasks = counts.ntasks;
        if let Some(per_node) = o
            .count("ntasks-per-node")
            .filter(|_| !self.rules.ntasks_from_ntasks_per_node)
        {
            if !counts.ntasks_set && (counts.min_nodes == counts.max_nodes || counts.max_nodes == 0)
            {
                estimated_tasks = counts.min_nodes * per_node;
            }
        }
        let min_cpus = if o.flag("overcommit") {
            counts.min_nodes.max(1)
        } else if let Some(c) = o.count("cpus-per-task") {
            estimated_tasks * c
        } else if counts.nodes_set && counts.min_nodes == 0 {
            0
        } else {
            estimated_tasks
        };
        let mut tres_per_job = None;
        format_tres(&mut tres_per_job, prefix, o.text("gpus"));
        let mut tres_per_node = None;
        format_tres(&mut tres_per_node, prefix, o.text("gpus-per-node"));
        if let Some(gres) = o.text("gres").filter(|g| !g.eq_ignore_ascii_case("none")) {
            match &mut tres_per_node {
                Some(node) => {
                    node.push(',');
                    node.push_str(gres);
                }
                None => tres_per_node = Some(gres.to_owned()),
            }
        }
        let mut tres_per_socket = None;
        format_tres(&mut tres_per_socket, prefix, o.text("gpus-per-socket"));
        let tres_per_task = if self.rules.tres_per_task {
            o.text("tres-per-task").map(str::to_owned)
        } else {
            let mut tres = None;
            format_tres(&mut tres, prefix, o.text("gpus-per-task"));
            tres
        };
        let mut d = DescCounts {
            tasks: counts.ntasks_set.then_some(counts.ntasks),
            min_nodes: counts.nodes_set.then_some(counts.min_nodes),
            max_nodes: (counts.nodes_set && counts.max_nodes != 0).then_some(counts.max_nodes),
            cpus_per_task: o.count("cpus-per-task"),
            ntasks_per_node: o.count("ntasks-per-node"),
            sockets_per_node: o.count("sockets-per-node"),
            min_cpus,
        };
        let fields = GresFields {
            tres: [
                tres_per_job.as_deref(),
                tres_per_node.as_deref(),
                tres_per_socket.as_deref(),
                tres_per_task.as_deref(),
            ],
            cpus_per_gpu: o.count("cpus-per-gpu"),
            mem_per_gpu: o.megabytes("mem-per-gpu"),
            gres_types: self
                .inv
                .slurm_conf
                .and_then(|conf| conf.gres_types.as_deref()),
        };
        validate_gres(&fields, &mut d, &self.rules).map_err(|lines| refusal(Some(k), lines))?;
        let memory = match (o.megabytes("mem"), o.megabytes("mem-per-cpu")) {
            (Some(mem), _) => (mem > 0).then_some(Memory::PerNode(Megabytes(mem))),
            (None, Some(per_cpu)) => (per_cpu > 0).then_some(Memory::PerCpu(Megabytes(per_cpu))),
            (None, None) => None,
        };
        let mut origins = BTreeMap::new();
        let mut values = BTreeMap::new();
        for (name, slot) in o.slots() {
            origins.insert(name.to_owned(), slot.origin.clone());
            values.insert(name.to_owned(), slot.value.shown());
        }
        Ok(Request {
            partition: o.text("partition").map(str::to_owned),
            qos: o.text("qos").map(str::to_owned),
            account: o.text("account").map(str::to_owned),
            tres_per_job,
            tres_per_node,
            tres_per_socket,
            tres_per_task,
            nodes: count32(d.min_nodes),
            max_nodes: count32(d.max_nodes),
            sockets_per_node: count32(d.sockets_per_node),
            tasks: count32(d.tasks),
            cpus_per_task: count32(d.cpus_per_task),
            min_cpus: count32(Some(d.min_cpus)),
            memory,
            time_limit: o.time(),
            std_out: o.text("output").map(str::to_owned),
            std_err: o.text("error").map(str::to_owned),
            std_in: o.text("input").map(str::to_owned),
            array: o.text("array").map(str::to_owned),
            site_values,
            origins,
            values,
        })
    }
}

fn count32(value: Option<i64>) -> Option<u32> {
    value.map(|v| u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}
