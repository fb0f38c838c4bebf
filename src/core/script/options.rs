//! What the model knows about each sbatch option beyond Slurm's own option
//! table: how sbatch reads the option's value and which field of the job
//! description it sets, with the Slurm function that does it. One row per
//! option, keyed by its long name.
//!
//! Everything else about an option comes from the generated table of the
//! modelled release ([`crate::slurm_options`]): its letter and argument,
//! whether a later hetjob component starts from the previous component's
//! value or from the default (`reset_each_pass`), whether only sbatch's
//! first pass reads it, and the `SBATCH_*` variables that set it
//! (src/sbatch/opt.c `env_vars`). Options without a row here are parsed
//! (getopt needs every name) and otherwise ignored.

use crate::slurm_options::Release;

/// How sbatch reads an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string kept as written (`--partition`).
    Text,
    /// A GRES list (`--gres`): `help` and `list` print the GRES names and
    /// exit, `none` asks for none, anything else gets the release's TRES
    /// type prefix (`gres_prepend_tres_type`).
    Gres,
    /// A GPU count, optionally with a type (`--gpus=a100:2`), formatted into
    /// a TRES field when the job description is built (`xfmt_tres`).
    Gpus,
    /// A positive whole number (`parse_int(..., true)`).
    Count,
    /// A node count or range (`verify_node_count`).
    NodeCount,
    /// An amount of memory (`str_to_mbytes`).
    Megabytes,
    /// A time limit (`time_str2mins`).
    Time,
    /// A file name, `none` meaning /dev/null, made absolute against
    /// `--chdir` by `_opt_verify` (`_fullpath`).
    File,
    /// A directory, made absolute against the working directory.
    Directory,
    /// A flag (the option takes no value, or its value is not modelled).
    Flag,
    /// `S[:C[:T]]` (`--extra-node-info`), which sets the three counts of
    /// [`GEOMETRY`].
    Geometry,
    /// `--no-kill[=set|off|no]`.
    NoKill,
    /// sbatch prints something and submits nothing (`--help`).
    Informational,
    /// Changes the task, node or GPU counts slurmctld sees in ways eval
    /// does not model: eval says so.
    NotModelled,
}

/// The options `--extra-node-info` sets at once (`arg_set_extra_node_info`).
pub(crate) const GEOMETRY: [&str; 3] = ["sockets-per-node", "cores-per-socket", "threads-per-core"];

/// One option the model reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Modelled {
    /// The long name (an alias such as `--tasks-per-node` shares its main
    /// option's row: Slurm keeps both in one state).
    pub(crate) name: &'static str,
    /// How sbatch reads its value.
    pub(crate) kind: Kind,
    /// The fields of the job description (job_desc_msg_t) it sets; none
    /// for an option that only changes what sbatch does.
    pub(crate) sets: &'static [&'static str],
    /// The Slurm function that reads it: src/common/slurm_opt.c's, but for
    /// `verify_hint` (src/common/proc_args.c) and `_opt_verify`
    /// (src/sbatch/opt.c).
    pub(crate) origin: &'static str,
    /// The first supported release that has the option, when not all do.
    pub(crate) since: Option<Release>,
}

const fn row(
    name: &'static str,
    kind: Kind,
    sets: &'static [&'static str],
    origin: &'static str,
) -> Modelled {
    Modelled {
        name,
        kind,
        sets,
        origin,
        since: None,
    }
}

const fn since(release: Release, modelled: Modelled) -> Modelled {
    Modelled {
        since: Some(release),
        ..modelled
    }
}

use Kind::*;

/// The options the model reads, by name.
#[rustfmt::skip]
pub(crate) const MODELLED: &[Modelled] = &[
    row("partition",        Text,          &["partition"],                                         "arg_set_partition"),
    row("qos",              Text,          &["qos"],                                               "arg_set_qos"),
    row("account",          Text,          &["account"],                                           "arg_set_account"),
    row("gres",             Gres,          &["tres_per_node"],                                     "arg_set_gres"),
    row("gpus",             Gpus,          &["tres_per_job"],                                      "arg_set_gpus"),
    row("gpus-per-node",    Gpus,          &["tres_per_node"],                                     "arg_set_gpus_per_node"),
    row("gpus-per-socket",  Gpus,          &["tres_per_socket"],                                   "arg_set_gpus_per_socket"),
    row("gpus-per-task",    Gpus,          &["tres_per_task"],                                     "arg_set_gpus_per_task"),
    since(Release::Slurm24_11,
    row("tres-per-task",    Text,          &["tres_per_task"],                                     "_validate_tres_per_task")),
    row("cpus-per-gpu",     Count,         &["cpus_per_tres"],                                     "arg_set_cpus_per_gpu"),
    row("mem-per-gpu",      Megabytes,     &["mem_per_tres"],                                      "arg_set_mem_per_gpu"),
    row("nodes",            NodeCount,     &["min_nodes", "max_nodes"],                            "arg_set_nodes"),
    row("ntasks",           Count,         &["num_tasks"],                                         "arg_set_ntasks"),
    row("cpus-per-task",    Count,         &["cpus_per_task"],                                     "arg_set_cpus_per_task"),
    row("ntasks-per-node",  Count,         &["ntasks_per_node"],                                   "arg_set_ntasks_per_node"),
    row("ntasks-per-core",  Count,         &["ntasks_per_core"],                                   "arg_set_ntasks_per_core"),
    row("sockets-per-node", Count,         &["sockets_per_node"],                                  "arg_set_sockets_per_node"),
    row("cores-per-socket", Count,         &["cores_per_socket"],                                  "arg_set_cores_per_socket"),
    row("threads-per-core", Count,         &["threads_per_core"],                                  "arg_set_threads_per_core"),
    row("extra-node-info",  Geometry,      &["sockets_per_node", "cores_per_socket", "threads_per_core"], "arg_set_extra_node_info"),
    row("overcommit",       Flag,          &["overcommit", "min_cpus"],                            "arg_set_overcommit"),
    row("exclusive",        Flag,          &["shared"],                                            "arg_set_exclusive"),
    row("oversubscribe",    Flag,          &["shared"],                                            "arg_set_oversubscribe"),
    row("hint",             Text,          &["sockets_per_node", "cores_per_socket", "threads_per_core"], "verify_hint"),
    row("no-kill",          NoKill,        &["kill_on_node_fail"],                                 "arg_set_no_kill"),
    row("nodelist",         Text,          &["req_nodes", "min_nodes"],                            "_opt_verify"),
    row("exclude",          Text,          &["exc_nodes"],                                         "arg_set_exclude"),
    row("job-name",         Text,          &["name"],                                              "arg_set_job_name"),
    row("mem",              Megabytes,     &["pn_min_memory"],                                     "arg_set_mem"),
    row("mem-per-cpu",      Megabytes,     &["pn_min_memory"],                                     "arg_set_mem_per_cpu"),
    row("time",             Time,          &["time_limit"],                                        "arg_set_time_limit"),
    row("output",           File,          &["std_out"],                                           "arg_set_output"),
    row("error",            File,          &["std_err"],                                           "arg_set_error"),
    row("input",            File,          &["std_in"],                                            "arg_set_input"),
    row("chdir",            Directory,     &["work_dir"],                                          "arg_set_chdir"),
    row("array",            Text,          &["array_inx"],                                         "arg_set_array"),
    row("help",             Informational, &[],                                                    "arg_set_help"),
    row("usage",            Informational, &[],                                                    "arg_set_usage"),
    row("version",          Informational, &[],                                                    "arg_set_version"),
    row("wrap",             Flag,          &[],                                                    "arg_set_wrap"),
    row("test-only",        Flag,          &[],                                                    "arg_set_test_only"),
    row("ntasks-per-gpu",   NotModelled,   &["ntasks_per_tres"],                                   "arg_set_ntasks_per_gpu"),
    row("ntasks-per-tres",  NotModelled,   &["ntasks_per_tres"],                                   "arg_set_ntasks_per_tres"),
    row("nodefile",         NotModelled,   &["req_nodes"],                                         "arg_set_nodefile"),
    row("distribution",     NotModelled,   &["task_dist"],                                         "arg_set_distribution"),
];

/// The row of option `name` (a main option's name, see
/// [`crate::slurm_options::Release::sbatch_state_of`]).
pub(crate) fn modelled(name: &str) -> Option<&'static Modelled> {
    MODELLED.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_modelled_option_is_one_of_sbatch_s_in_the_releases_that_have_it() {
        for (i, m) in MODELLED.iter().enumerate() {
            assert!(
                MODELLED[i + 1..].iter().all(|other| other.name != m.name),
                "{} twice",
                m.name
            );
            for release in Release::ALL {
                let option = release.sbatch_option(m.name);
                let expected = m.since.is_none_or(|first| release >= first);
                assert_eq!(
                    option.is_some(),
                    expected,
                    "--{} in sbatch {release}: mark it `since` the release that added it",
                    m.name
                );
                if let Some(option) = option {
                    assert_eq!(
                        release.sbatch_state_of(option).name,
                        m.name,
                        "{release}: a row names a main option, not an alias"
                    );
                }
            }
        }
        for name in GEOMETRY {
            assert_eq!(modelled(name).map(|m| m.kind), Some(Count), "{name}");
        }
    }

    #[test]
    fn environment_variables_of_modelled_options_come_from_the_release() {
        for release in Release::ALL {
            let variables = |name: &str| -> Vec<&str> {
                release
                    .sbatch_env()
                    .iter()
                    .filter(|e| e.option == Some(name))
                    .map(|e| e.variable)
                    .collect()
            };
            assert_eq!(variables("partition"), ["SBATCH_PARTITION"]);
            assert_eq!(variables("mem"), ["SBATCH_MEM_PER_NODE"]);
            assert_eq!(variables("time"), ["SBATCH_TIMELIMIT"]);
            assert_eq!(variables("hint"), ["SLURM_HINT", "SBATCH_HINT"]);
        }
    }
}
