//! sbatch's options as Slurm 22.05 defines them (src/common/slurm_opt.c,
//! `common_options`, the entries sbatch accepts): long name, short letter,
//! argument, and whether a later hetjob component starts from the previous
//! component's value (`Keep`, Slurm's options without `reset_each_pass`)
//! or from the default (`Reset`). `early` options are handled only in
//! sbatch's first pass over the command line.
//!
//! getopt accepts any unambiguous prefix of a long name, so the whole table
//! is needed even for options the policy does not look at.

/// Whether an option takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HasArg {
    /// `--hold`.
    No,
    /// `--partition=NAME` or `--partition NAME`.
    Required,
    /// `--exclusive[=user]`: only with `=`.
    Optional,
}

/// What a later hetjob component starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// The previous component's value (Slurm's "propagated" options).
    Keep,
    /// The default: the option is reset for every component.
    Reset,
}

/// One sbatch option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OptSpec {
    /// The long name, without `--`.
    pub(crate) name: &'static str,
    /// The short letter, if any.
    pub(crate) short: Option<char>,
    /// Whether it takes a value.
    pub(crate) has_arg: HasArg,
    /// Propagated to later components or reset.
    pub(crate) pass: Pass,
    /// Only sbatch's first pass reads it (`--help`, `--wrap`, ...).
    pub(crate) early: bool,
}

const fn spec(
    name: &'static str,
    short: Option<char>,
    has_arg: HasArg,
    pass: Pass,
    early: bool,
) -> OptSpec {
    OptSpec {
        name,
        short,
        has_arg,
        pass,
        early,
    }
}

use HasArg::{No, Optional, Required};
use Pass::{Keep, Reset};

/// sbatch 22.05's options, in Slurm's table order (getopt lists
/// ambiguous abbreviations in this order).
pub(crate) const SBATCH_OPTIONS: &[OptSpec] = &[
    spec("account", Some('A'), Required, Keep, false),
    spec("acctg-freq", None, Required, Keep, false),
    spec("array", Some('a'), Required, Keep, false),
    spec("batch", None, Required, Keep, false),
    spec("begin", Some('b'), Required, Keep, false),
    spec("bb", None, Required, Reset, false),
    spec("bbf", None, Required, Keep, false),
    spec("cluster-constraint", None, Required, Keep, false),
    spec("chdir", Some('D'), Required, Keep, false),
    spec("cluster", None, Required, Keep, false),
    spec("clusters", Some('M'), Required, Keep, false),
    spec("comment", None, Required, Keep, false),
    spec("container", None, Required, Keep, false),
    spec("context", None, Required, Keep, false),
    spec("contiguous", None, No, Reset, false),
    spec("constraint", Some('C'), Required, Reset, false),
    spec("core-spec", Some('S'), Required, Reset, false),
    spec("cores-per-socket", None, Required, Reset, false),
    spec("cpu-freq", None, Required, Reset, false),
    spec("cpus-per-gpu", None, Required, Reset, false),
    spec("cpus-per-task", Some('c'), Required, Reset, false),
    spec("deadline", None, Required, Keep, false),
    spec("delay-boot", None, Required, Keep, false),
    spec("dependency", Some('d'), Required, Keep, false),
    spec("distribution", Some('m'), Required, Reset, false),
    spec("error", Some('e'), Required, Keep, false),
    spec("exclude", Some('x'), Required, Keep, false),
    spec("exclusive", None, Optional, Reset, false),
    spec("export", None, Required, Keep, false),
    spec("export-file", None, Required, Keep, false),
    spec("extra-node-info", Some('B'), Required, Reset, false),
    spec("get-user-env", None, Optional, Keep, false),
    spec("gid", None, Required, Keep, false),
    spec("gpu-bind", None, Required, Reset, false),
    spec("gpu-freq", None, Required, Reset, false),
    spec("gpus", Some('G'), Required, Reset, false),
    spec("gpus-per-node", None, Required, Reset, false),
    spec("gpus-per-socket", None, Required, Reset, false),
    spec("gpus-per-task", None, Required, Reset, false),
    spec("gres", None, Required, Reset, false),
    spec("gres-flags", None, Required, Reset, false),
    spec("help", Some('h'), No, Keep, true),
    spec("hint", None, Required, Reset, false),
    spec("hold", Some('H'), No, Keep, false),
    spec("ignore-pbs", None, No, Keep, false),
    spec("input", Some('i'), Required, Keep, false),
    spec("job-name", Some('J'), Required, Keep, false),
    spec("kill-on-invalid-dep", None, Required, Keep, false),
    spec("licenses", Some('L'), Required, Reset, false),
    spec("mail-type", None, Required, Reset, false),
    spec("mail-user", None, Required, Reset, false),
    spec("mcs-label", None, Required, Keep, false),
    spec("mem", None, Required, Keep, false),
    spec("mem-bind", None, Required, Reset, false),
    spec("mem-per-cpu", None, Required, Reset, false),
    spec("mem-per-gpu", None, Required, Reset, false),
    spec("mincpus", None, Required, Reset, false),
    spec("network", None, Required, Reset, false),
    spec("nice", None, Optional, Keep, false),
    spec("no-kill", Some('k'), Optional, Keep, false),
    spec("no-requeue", None, No, Keep, false),
    spec("nodefile", Some('F'), Required, Reset, false),
    spec("nodelist", Some('w'), Required, Reset, false),
    spec("nodes", Some('N'), Required, Reset, false),
    spec("ntasks", Some('n'), Required, Reset, false),
    spec("ntasks-per-core", None, Required, Reset, false),
    spec("ntasks-per-gpu", None, Required, Reset, false),
    spec("ntasks-per-node", None, Required, Reset, false),
    spec("ntasks-per-socket", None, Required, Reset, false),
    spec("ntasks-per-tres", None, Required, Reset, false),
    spec("open-mode", None, Required, Keep, false),
    spec("output", Some('o'), Required, Keep, false),
    spec("overcommit", Some('O'), No, Reset, false),
    spec("oversubscribe", Some('s'), No, Reset, false),
    spec("parsable", None, No, Keep, false),
    spec("partition", Some('p'), Required, Reset, false),
    spec("power", None, Required, Reset, false),
    spec("prefer", None, Required, Keep, false),
    spec("priority", None, Required, Keep, false),
    spec("profile", None, Required, Keep, false),
    spec("propagate", None, Optional, Keep, false),
    spec("qos", Some('q'), Required, Keep, false),
    spec("quiet", Some('Q'), No, Keep, true),
    spec("reboot", None, No, Keep, false),
    spec("requeue", None, No, Keep, false),
    spec("reservation", None, Required, Keep, false),
    spec("signal", None, Required, Keep, false),
    spec("sockets-per-node", None, Required, Reset, false),
    spec("spread-job", None, No, Reset, false),
    spec("switches", None, Required, Reset, false),
    spec("tasks-per-node", None, Required, Reset, false),
    spec("test-only", None, No, Keep, false),
    spec("thread-spec", None, Required, Reset, false),
    spec("threads-per-core", None, Required, Reset, false),
    spec("time", Some('t'), Required, Keep, false),
    spec("time-min", None, Required, Keep, false),
    spec("tmp", None, Required, Reset, false),
    spec("uid", None, Required, Keep, false),
    spec("use-min-nodes", None, No, Reset, false),
    spec("verbose", Some('v'), No, Keep, true),
    spec("version", Some('V'), No, Keep, true),
    spec("usage", None, No, Keep, true),
    spec("wait", Some('W'), No, Keep, false),
    spec("wait-all-nodes", None, Required, Keep, false),
    spec("wckey", None, Required, Keep, false),
    spec("wrap", None, Required, Keep, true),
];

/// The environment variables sbatch reads as options, in the order it
/// reads them (src/sbatch/opt.c, `env_vars`), with the option each sets.
pub(crate) const ENV_OPTIONS: &[(&str, &str)] = &[
    ("SBATCH_ACCOUNT", "account"),
    ("SBATCH_ARRAY_INX", "array"),
    ("SBATCH_ACCTG_FREQ", "acctg-freq"),
    ("SBATCH_BATCH", "batch"),
    ("SBATCH_BURST_BUFFER", "bb"),
    ("SBATCH_CLUSTER_CONSTRAINT", "cluster-constraint"),
    ("SBATCH_CLUSTERS", "clusters"),
    ("SLURM_CLUSTERS", "clusters"),
    ("SBATCH_CONTAINER", "container"),
    ("SBATCH_CONSTRAINT", "constraint"),
    ("SBATCH_CORE_SPEC", "core-spec"),
    ("SBATCH_CPU_FREQ_REQ", "cpu-freq"),
    ("SBATCH_CPUS_PER_GPU", "cpus-per-gpu"),
    ("SBATCH_DEBUG", "verbose"),
    ("SBATCH_DELAY_BOOT", "delay-boot"),
    ("SBATCH_DISTRIBUTION", "distribution"),
    ("SBATCH_EXCLUSIVE", "exclusive"),
    ("SBATCH_EXPORT", "export"),
    ("SBATCH_GET_USER_ENV", "get-user-env"),
    ("SBATCH_GRES", "gres"),
    ("SBATCH_GRES_FLAGS", "gres-flags"),
    ("SBATCH_GPUS", "gpus"),
    ("SBATCH_GPU_BIND", "gpu-bind"),
    ("SBATCH_GPU_FREQ", "gpu-freq"),
    ("SBATCH_GPUS_PER_NODE", "gpus-per-node"),
    ("SBATCH_GPUS_PER_SOCKET", "gpus-per-socket"),
    ("SBATCH_GPUS_PER_TASK", "gpus-per-task"),
    ("SLURM_HINT", "hint"),
    ("SBATCH_HINT", "hint"),
    ("SBATCH_JOB_NAME", "job-name"),
    ("SBATCH_MEM_BIND", "mem-bind"),
    ("SBATCH_MEM_PER_CPU", "mem-per-cpu"),
    ("SBATCH_MEM_PER_GPU", "mem-per-gpu"),
    ("SBATCH_MEM_PER_NODE", "mem"),
    ("SBATCH_NETWORK", "network"),
    ("SBATCH_NO_KILL", "no-kill"),
    ("SBATCH_NO_REQUEUE", "no-requeue"),
    ("SBATCH_OPEN_MODE", "open-mode"),
    ("SBATCH_OVERCOMMIT", "overcommit"),
    ("SBATCH_PARTITION", "partition"),
    ("SBATCH_POWER", "power"),
    ("SBATCH_PROFILE", "profile"),
    ("SBATCH_QOS", "qos"),
    ("SBATCH_REQUEUE", "requeue"),
    ("SBATCH_RESERVATION", "reservation"),
    ("SBATCH_SIGNAL", "signal"),
    ("SBATCH_SPREAD_JOB", "spread-job"),
    ("SBATCH_THREAD_SPEC", "thread-spec"),
    ("SBATCH_THREADS_PER_CORE", "threads-per-core"),
    ("SBATCH_TIMELIMIT", "time"),
    ("SBATCH_USE_MIN_NODES", "use-min-nodes"),
    ("SBATCH_WAIT", "wait"),
    ("SBATCH_WAIT_ALL_NODES", "wait-all-nodes"),
    ("SBATCH_WCKEY", "wckey"),
    ("SBATCH_ERROR", "error"),
    ("SBATCH_INPUT", "input"),
    ("SBATCH_OUTPUT", "output"),
];

/// The option named `name` (a full long name).
pub(crate) fn by_name(name: &str) -> Option<&'static OptSpec> {
    SBATCH_OPTIONS.iter().find(|o| o.name == name)
}

/// Long option names of sbatch, salloc and srun that a site option may
/// not reuse: SPANK refuses to register a name the command already has.
pub(crate) fn is_builtin(name: &str) -> bool {
    by_name(name).is_some() || OTHER_CLIENT_OPTIONS.contains(&name)
}

/// salloc's and srun's long options that sbatch lacks (22.05).
const OTHER_CLIENT_OPTIONS: &[&str] = &[
    "accel-bind",
    "bcast",
    "bcast-exclude",
    "bell",
    "compress",
    "cpu-bind",
    "cpu_bind",
    "debugger-test",
    "disable-status",
    "epilog",
    "exact",
    "het-group",
    "immediate",
    "interactive",
    "jobid",
    "kill-command",
    "kill-on-bad-exit",
    "label",
    "mpi",
    "msg-timeout",
    "multi-prog",
    "no-allocate",
    "no-bell",
    "no-shell",
    "overlap",
    "pack-group",
    "preserve-env",
    "prolog",
    "pty",
    "quit-on-interrupt",
    "relative",
    "resv-ports",
    "send-libs",
    "slurmd-debug",
    "task-epilog",
    "task-prolog",
    "threads",
    "unbuffered",
    "whole",
    "x11",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_letters_are_unique() {
        for (i, a) in SBATCH_OPTIONS.iter().enumerate() {
            for b in &SBATCH_OPTIONS[i + 1..] {
                assert_ne!(a.name, b.name);
                if let (Some(x), Some(y)) = (a.short, b.short) {
                    assert_ne!(x, y, "{} and {}", a.name, b.name);
                }
            }
        }
    }

    #[test]
    fn every_environment_variable_names_an_option() {
        for (var, name) in ENV_OPTIONS {
            assert!(by_name(name).is_some(), "{var} -> {name}");
        }
    }

    #[test]
    fn propagation_follows_slurm() {
        for name in [
            "qos", "account", "time", "output", "error", "input", "mem", "array",
        ] {
            assert_eq!(by_name(name).unwrap().pass, Pass::Keep, "{name}");
        }
        for name in [
            "partition",
            "nodes",
            "ntasks",
            "cpus-per-task",
            "gres",
            "gpus",
            "mem-per-cpu",
        ] {
            assert_eq!(by_name(name).unwrap().pass, Pass::Reset, "{name}");
        }
        assert!(is_builtin("het-group"));
        assert!(is_builtin("partition"));
        assert!(!is_builtin("qpu"));
    }
}
