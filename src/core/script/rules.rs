//! Where sbatch's releases differ in what the model covers: one switch per
//! difference, each citing the source it follows. Everything else the
//! releases do alike; their option tables come from
//! [`crate::slurm_options`].
//!
//! Citations are `file:line` at the tags the option tables come from
//! (slurm-22-05-8-1, slurm-24-11-5-1, slurm-26-05-3-1).

use crate::slurm_options::Release;

/// How the modelled release's sbatch behaves where releases differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rules {
    /// The release.
    pub(crate) release: Release,
    /// The type prefix sbatch writes before a GRES name in `tres_per_*`,
    /// `cpus_per_tres` and `mem_per_tres`: `gres:` in 22.05
    /// (src/common/gres.c:10120 `gres_prepend_tres_type`,
    /// src/common/slurm_opt.c:6130 `xfmt_tres(..., "gres:gpu", ...)`),
    /// `gres/` in 24.11 and 26.05 (src/interfaces/gres.c:11103 and
    /// src/common/slurm_opt.c:5665 in 24.11). `--gres=gres:gpu:1` is a valid
    /// request in 22.05 and names a GRES called `gres` in 24.11.
    pub(crate) gres_prefix: &'static str,
    /// `get_argument` keeps a blank after a backslash in the word
    /// (`out\ file` is one word) in 24.11 and 26.05 (src/sbatch/opt.c:512
    /// in 24.11); 22.05 drops the backslash and splits there
    /// (src/sbatch/opt.c:504).
    pub(crate) escaped_blank_in_word: bool,
    /// `parse_int` refuses counts from `INT_MAX` up with "Numeric argument
    /// (N) too large for --OPTION." in 24.11 and 26.05
    /// (src/common/proc_args.c:1402 in 24.11);
    /// 22.05 only refuses `LONG_MAX` (src/common/proc_args.c:1357).
    pub(crate) int_max_too_large: bool,
    /// `verify_node_count` reads node count lists (`--nodes=1,4` or
    /// `--nodes=2:4`, a job size bitmap) in 24.11 and 26.05
    /// (src/common/proc_args.c:511 in 24.11).
    pub(crate) node_count_lists: bool,
    /// `_opt_verify` sets the task count from `--ntasks-per-node` times the
    /// node count (22.05, src/sbatch/opt.c:768). In 24.11 and 26.05 only
    /// `slurm_opt_create_job_desc` uses that product, for `min_cpus`
    /// (src/common/slurm_opt.c:5561 in 24.11), and `--ntasks-per-node`
    /// keeps `--nodes` from implying one task per node
    /// (src/sbatch/opt.c:817 in 24.11).
    pub(crate) ntasks_from_ntasks_per_node: bool,
    /// `--nodelist` sets the node count only without `--nodes` in 24.11 and
    /// 26.05 (src/sbatch/opt.c:738 in 24.11); 22.05 takes the larger of the
    /// two (src/sbatch/opt.c:762).
    pub(crate) nodelist_only_without_nodes: bool,
    /// How sbatch prefixes "can't run N processes on M nodes": `info("Warning:
    /// ...")` in 22.05 (src/sbatch/opt.c:878), `warning(...)` in 24.11 and
    /// 26.05 (src/sbatch/opt.c:850 in 24.11; src/common/log.c:1354 prints
    /// `warning: `).
    pub(crate) warning_prefix: &'static str,
    /// `--cpus-per-task` and `--gpus-per-task` become `tres_per_task`
    /// (`cpu=2,gres/gpu=1`), with `--tres-per-task` itself, in 24.11 and
    /// 26.05 (src/common/slurm_opt.c:5193 `_validate_tres_per_task` and
    /// 5679 in 24.11); in 22.05 `tres_per_task` is `--gpus-per-task` alone
    /// (src/common/slurm_opt.c:6143).
    pub(crate) tres_per_task: bool,
    /// `--cpus-per-task` (or `--tres-per-task=cpu=N`) and `--cpus-per-gpu`
    /// from the same source are fatal, and one from the command line wins
    /// over the other from the environment, in 24.11 and 26.05
    /// (src/common/slurm_opt.c:5229 `_validate_cpus_per_tres` in 24.11); in
    /// 22.05 only the GRES check refuses them together
    /// (src/common/gres.c:5024).
    pub(crate) cpus_per_gpu_vs_cpus_per_task: bool,
    /// `--exclusive` with `--oversubscribe` on the command line is fatal in
    /// 24.11 and 26.05 (src/common/slurm_opt.c:4912 `_validate_share_options`
    /// in 24.11).
    pub(crate) exclusive_vs_oversubscribe: bool,
    /// `--gpus-per-node` (command line or environment) with `--gres=gpu...`
    /// is fatal in 26.05 (src/common/slurm_opt.c:5157
    /// `_validate_gres_vs_gpus_per_node`).
    pub(crate) gres_gpu_vs_gpus_per_node: bool,
    /// `--cores-per-socket` and `--sockets-per-node` on the command line
    /// also make sbatch ignore `--hint` in 26.05
    /// (src/common/slurm_opt.c:5090 `validate_hint_option`).
    pub(crate) hint_yields_to_sockets_and_cores: bool,
    /// `--ntasks-per-core` above `--threads-per-core` is refused in 24.11
    /// and 26.05 (src/sbatch/opt.c:885 in 24.11).
    pub(crate) ntasks_per_core_vs_threads: bool,
    /// The GRES check refuses `--cpus-per-gpu` without a GPU request
    /// ("Requested cpus_per_tres=... but did not request any GPU.") in 24.11
    /// and 26.05 (src/interfaces/gres.c:6941 in 24.11).
    pub(crate) cpus_per_gpu_needs_gpus: bool,
    /// The GRES check raises `min_cpus` to `cpus_per_gres` times the GPUs in
    /// 24.11 and 26.05 (src/interfaces/gres.c:6956 in 24.11), and to
    /// `cpus_per_task` times the task count in 26.05
    /// (src/interfaces/gres.c:7230 in 26.05).
    pub(crate) gres_min_cpus: GresMinCpus,
    /// The words of "--gpus-per-task used without either --gpus or
    /// -n/--ntasks": 24.11 adds "or --tres-per-task"
    /// (src/interfaces/gres.c:6240 in 24.11, src/common/gres.c:5128 in 22.05).
    pub(crate) per_task_without_tasks: &'static str,
}

/// What the GRES check does to `min_cpus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GresMinCpus {
    /// Nothing (22.05).
    Unchanged,
    /// At least `--cpus-per-gpu` times the GPUs (24.11).
    CpusPerGpu,
    /// That, and at least `--cpus-per-task` times the tasks (26.05).
    CpusPerGpuAndTask,
}

impl Rules {
    /// The rules of `release`.
    pub(crate) fn of(release: Release) -> Rules {
        let since_24_11 = release >= Release::Slurm24_11;
        let since_26_05 = release >= Release::Slurm26_05;
        Rules {
            release,
            gres_prefix: if since_24_11 { "gres/" } else { "gres:" },
            escaped_blank_in_word: since_24_11,
            int_max_too_large: since_24_11,
            node_count_lists: since_24_11,
            ntasks_from_ntasks_per_node: !since_24_11,
            nodelist_only_without_nodes: since_24_11,
            warning_prefix: if since_24_11 {
                "warning: "
            } else {
                "Warning: "
            },
            tres_per_task: since_24_11,
            cpus_per_gpu_vs_cpus_per_task: since_24_11,
            exclusive_vs_oversubscribe: since_24_11,
            gres_gpu_vs_gpus_per_node: since_26_05,
            hint_yields_to_sockets_and_cores: since_26_05,
            ntasks_per_core_vs_threads: since_24_11,
            cpus_per_gpu_needs_gpus: since_24_11,
            gres_min_cpus: if since_26_05 {
                GresMinCpus::CpusPerGpuAndTask
            } else if since_24_11 {
                GresMinCpus::CpusPerGpu
            } else {
                GresMinCpus::Unchanged
            },
            per_task_without_tasks: if since_24_11 {
                "--{n}s-per-task or --tres-per-task used without either --{n}s or -n/--ntasks is \
                 not allowed."
            } else {
                "--{n}s-per-task used without either --{n}s or -n/--ntasks is not allowed."
            },
        }
    }
}
