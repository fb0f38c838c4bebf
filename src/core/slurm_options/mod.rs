//! The options of Slurm's client commands (sbatch, salloc, srun) in every
//! release hetpolicy supports, as each release's src/common/slurm_opt.c
//! defines them, and the `SBATCH_*` variables sbatch reads as options
//! (src/sbatch/opt.c).
//!
//! The tables (`slurm_22_05.rs`, ...) are generated from Slurm's sources by
//! scripts/gen-sbatch-options; nothing here is a hand-made copy. Two users:
//! - the sbatch model behind `hetpolicy eval` ([`crate::script`]), which
//!   parses options with the table of the release it models;
//! - the policy lint ([`crate::policy::lint`]): the SPANK plugin cannot add
//!   a site option whose name a client command already uses.

use std::fmt;

mod slurm_22_05;
mod slurm_24_11;
mod slurm_26_05;

/// A Slurm release whose client options hetpolicy knows. The default is
/// the newest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Release {
    /// Slurm 22.05 (Debian 12).
    Slurm22_05,
    /// Slurm 24.11 (Debian 13).
    Slurm24_11,
    /// Slurm 26.05 (Debian forky).
    #[default]
    Slurm26_05,
}

impl Release {
    /// Every supported release, oldest first.
    pub const ALL: [Release; 3] = [
        Release::Slurm22_05,
        Release::Slurm24_11,
        Release::Slurm26_05,
    ];

    /// The newest supported release.
    pub const NEWEST: Release = Release::Slurm26_05;

    /// `major.minor`, as Slurm numbers its releases: `24.11`.
    pub fn name(self) -> &'static str {
        match self {
            Release::Slurm22_05 => "22.05",
            Release::Slurm24_11 => "24.11",
            Release::Slurm26_05 => "26.05",
        }
    }

    /// The release of a Slurm version: `24.11`, `24.11.5` or `24.11.5-1`
    /// (what `sbatch --version` prints after `slurm `). `None` for a
    /// release hetpolicy does not know.
    pub fn from_version(version: &str) -> Option<Release> {
        let mut parts = version.trim().split(['.', '-']);
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        Release::ALL
            .into_iter()
            .find(|r| r.name() == format!("{major}.{minor:02}"))
    }

    /// The Slurm tag the option tables were generated from
    /// (`slurm-24-11-5-1`).
    pub fn source_tag(self) -> &'static str {
        match self {
            Release::Slurm22_05 => slurm_22_05::SOURCE,
            Release::Slurm24_11 => slurm_24_11::SOURCE,
            Release::Slurm26_05 => slurm_26_05::SOURCE,
        }
    }

    /// Every named option of `common_options`, in Slurm's order (the order
    /// getopt lists ambiguous abbreviations in).
    pub fn options(self) -> &'static [ClientOption] {
        match self {
            Release::Slurm22_05 => slurm_22_05::OPTIONS,
            Release::Slurm24_11 => slurm_24_11::OPTIONS,
            Release::Slurm26_05 => slurm_26_05::OPTIONS,
        }
    }

    /// sbatch's `env_vars`: the variables it reads as options, in order.
    pub fn sbatch_env(self) -> &'static [EnvOption] {
        match self {
            Release::Slurm22_05 => slurm_22_05::ENV,
            Release::Slurm24_11 => slurm_24_11::ENV,
            Release::Slurm26_05 => slurm_26_05::ENV,
        }
    }

    /// sbatch's options, in getopt's order.
    pub fn sbatch_options(self) -> impl Iterator<Item = &'static ClientOption> {
        self.options().iter().filter(|o| o.sbatch)
    }

    /// sbatch's option named `name` (a whole long name).
    pub fn sbatch_option(self, name: &str) -> Option<&'static ClientOption> {
        self.sbatch_options().find(|o| o.name == name)
    }

    /// The option whose state sbatch's `slurm_process_option` sets for
    /// `option`: the first of sbatch's options with the same `val`
    /// (`--tasks-per-node` sets `--ntasks-per-node`).
    pub fn sbatch_state_of(self, option: &'static ClientOption) -> &'static ClientOption {
        self.sbatch_options()
            .find(|o| o.val == option.val)
            .unwrap_or(option)
    }

    /// True when `name` is a long option of sbatch, salloc or srun in this
    /// release: SPANK cannot add an option under that name.
    pub fn is_client_option(self, name: &str) -> bool {
        self.options()
            .iter()
            .any(|o| o.name == name && (o.sbatch || o.salloc || o.srun))
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The releases in which `name` is a long option of sbatch, salloc or
/// srun, oldest first.
pub fn client_option_releases(name: &str) -> Vec<Release> {
    Release::ALL
        .into_iter()
        .filter(|r| r.is_client_option(name))
        .collect()
}

/// Whether an option takes a value (`struct option`'s `has_arg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HasArg {
    /// `no_argument`: `--hold`.
    No,
    /// `required_argument`: `--partition=NAME` or `--partition NAME`.
    Required,
    /// `optional_argument`: `--exclusive[=user]`, a value only with `=`.
    Optional,
}

/// An option's `val`: its short letter, or the `LONG_OPT_*` constant that
/// identifies an option without one. Options with the same `val` are one
/// option to getopt and Slurm (`--tasks-per-node`, `--ntasks-per-node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// A short option letter: `-p`.
    Short(char),
    /// `LONG_OPT_<name>`, without the prefix.
    Long(&'static str),
}

/// One named entry of slurm_opt.c's `common_options`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientOption {
    /// The long name, without `--`.
    pub name: &'static str,
    /// The short letter or `LONG_OPT_*` constant.
    pub val: Val,
    /// Whether it takes a value.
    pub has_arg: HasArg,
    /// sbatch accepts it (`set_func` or `set_func_sbatch`).
    pub sbatch: bool,
    /// salloc accepts it (`set_func` or `set_func_salloc`).
    pub salloc: bool,
    /// srun accepts it (`set_func` or `set_func_srun`).
    pub srun: bool,
    /// `reset_each_pass`: a later hetjob component starts from the default,
    /// not from the previous component's value.
    pub reset_each_pass: bool,
    /// `sbatch_early_pass`: only sbatch's first pass over the command line
    /// reads it (`--help`, `--wrap`, ...).
    pub sbatch_early_pass: bool,
    /// `srun_early_pass`.
    pub srun_early_pass: bool,
    /// The line of its `slurm_cli_opt_t` in the release's slurm_opt.c.
    pub line: u32,
}

impl ClientOption {
    /// The short letter, if it has one.
    pub fn short(&self) -> Option<char> {
        match self.val {
            Val::Short(c) => Some(c),
            Val::Long(_) => None,
        }
    }
}

/// One entry of sbatch's `env_vars` (src/sbatch/opt.c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvOption {
    /// The variable: `SBATCH_PARTITION`.
    pub variable: &'static str,
    /// The long option it sets; `None` for an option without a long name
    /// (or none at all, a variable the release still lists).
    pub option: Option<&'static str>,
    /// Its line in the release's src/sbatch/opt.c.
    pub line: u32,
}

// The flags of the generated rows.
const SBATCH: u8 = 1;
const SALLOC: u8 = 1 << 1;
const SRUN: u8 = 1 << 2;
const RESET_EACH_PASS: u8 = 1 << 3;
const SBATCH_EARLY_PASS: u8 = 1 << 4;
const SRUN_EARLY_PASS: u8 = 1 << 5;

/// One generated row of `OPTIONS`.
const fn opt(name: &'static str, val: Val, has_arg: HasArg, flags: u8, line: u32) -> ClientOption {
    ClientOption {
        name,
        val,
        has_arg,
        sbatch: flags & SBATCH != 0,
        salloc: flags & SALLOC != 0,
        srun: flags & SRUN != 0,
        reset_each_pass: flags & RESET_EACH_PASS != 0,
        sbatch_early_pass: flags & SBATCH_EARLY_PASS != 0,
        srun_early_pass: flags & SRUN_EARLY_PASS != 0,
        line,
    }
}

/// One generated row of `ENV`.
const fn env(variable: &'static str, option: Option<&'static str>, line: u32) -> EnvOption {
    EnvOption {
        variable,
        option,
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_by_version() {
        assert_eq!(Release::from_version("22.05.8"), Some(Release::Slurm22_05));
        assert_eq!(Release::from_version("24.11"), Some(Release::Slurm24_11));
        assert_eq!(
            Release::from_version("26.05.5-1"),
            Some(Release::Slurm26_05)
        );
        assert_eq!(Release::from_version("23.02.7"), None);
        assert_eq!(Release::from_version("24.1"), None);
        assert_eq!(Release::from_version("slurm"), None);
        assert_eq!(Release::NEWEST, *Release::ALL.last().unwrap());
        for release in Release::ALL {
            assert_eq!(Release::from_version(release.name()), Some(release));
            assert!(release
                .source_tag()
                .starts_with(&format!("slurm-{}-", release.name().replace('.', "-"))));
        }
    }

    #[test]
    fn sbatch_names_and_letters_are_unique_in_every_release() {
        for release in Release::ALL {
            let sbatch: Vec<_> = release.sbatch_options().collect();
            for (i, a) in sbatch.iter().enumerate() {
                for b in &sbatch[i + 1..] {
                    assert_ne!(a.name, b.name, "{release}");
                    if let (Some(x), Some(y)) = (a.short(), b.short()) {
                        assert_ne!(x, y, "{release}: {} and {}", a.name, b.name);
                    }
                }
            }
        }
    }

    #[test]
    fn every_environment_variable_names_one_of_sbatch_s_options() {
        for release in Release::ALL {
            assert!(release.sbatch_env().len() > 40, "{release}");
            for env in release.sbatch_env() {
                assert!(env.variable.starts_with("SBATCH_") || env.variable.starts_with("SLURM_"));
                if let Some(name) = env.option {
                    assert!(
                        release.sbatch_option(name).is_some(),
                        "{release}: {} -> {name}",
                        env.variable
                    );
                }
            }
        }
    }

    #[test]
    fn what_the_tables_say_about_well_known_options() {
        for release in Release::ALL {
            let o = |name| release.sbatch_option(name).unwrap();
            assert_eq!(o("partition").short(), Some('p'));
            assert_eq!(o("exclusive").has_arg, HasArg::Optional);
            assert_eq!(o("hold").has_arg, HasArg::No);
            // Propagated to later hetjob components, or reset for each.
            for name in [
                "qos", "account", "time", "output", "error", "input", "mem", "array",
            ] {
                assert!(!o(name).reset_each_pass, "{release}: {name}");
            }
            for name in [
                "partition",
                "nodes",
                "ntasks",
                "cpus-per-task",
                "gres",
                "gpus",
            ] {
                assert!(o(name).reset_each_pass, "{release}: {name}");
            }
            assert!(o("wrap").sbatch_early_pass);
            let tasks = o("tasks-per-node");
            assert_eq!(release.sbatch_state_of(tasks).name, "ntasks-per-node");
            // srun's options are client options, sbatch lacks them.
            assert!(release.is_client_option("het-group"));
            assert!(release.sbatch_option("het-group").is_none());
            assert!(!release.is_client_option("qpu"));
        }
        // Options a release added.
        assert!(Release::Slurm22_05.sbatch_option("tres-per-task").is_none());
        assert!(Release::Slurm24_11.sbatch_option("tres-per-task").is_some());
        assert!(Release::Slurm24_11.sbatch_option("external").is_none());
        assert!(Release::Slurm26_05.sbatch_option("external").is_some());
        assert_eq!(
            client_option_releases("tres-bind"),
            [Release::Slurm24_11, Release::Slurm26_05]
        );
        assert_eq!(client_option_releases("mem").len(), 3);
    }
}
