//! Site options (`options.<name>` in the policy): options such as
//! `--qpu=NAME` that the SPANK plugin adds to sbatch/salloc/srun and that
//! the job_submit plugin checks again in slurmctld.

use super::file::{Name, OptionFile};
use super::Problems;

/// Prefix of the job-control variable that carries a component's value
/// from sbatch/salloc/srun to slurmctld (and to the component's prolog).
pub const JOB_ENV_PREFIX: &str = "HETPOLICY_";

/// The job-control variable in which the SPANK plugin tells slurmctld which
/// component of the command line a job is (0, 1, ...). No site option can
/// be named like it: option names start with a letter or digit.
pub const COMPONENT_ENV: &str = "HETPOLICY__COMPONENT";

/// One compiled site option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteOption {
    name: Box<str>,
    help: Box<str>,
    arg: Box<str>,
    values: Vec<Box<str>>,
    required_partitions: Vec<Box<str>>,
    required_gres: Vec<Box<str>>,
    task_env: Option<Box<str>>,
    job_env: Box<str>,
}

impl SiteOption {
    /// The option's name, as in `--qpu`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The help text for `--help`.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// The value's placeholder for `--help` (`NAME`).
    pub fn arg(&self) -> &str {
        &self.arg
    }

    /// The allowed values; empty means any non-empty value.
    pub fn values(&self) -> &[Box<str>] {
        &self.values
    }

    /// True when `value` is allowed.
    pub fn allows(&self, value: &str) -> bool {
        self.values.is_empty() || self.values.iter().any(|v| v.as_ref() == value)
    }

    /// Partitions whose components must give the option.
    pub fn required_partitions(&self) -> &[Box<str>] {
        &self.required_partitions
    }

    /// GRES whose requesters must give the option.
    pub fn required_gres(&self) -> &[Box<str>] {
        &self.required_gres
    }

    /// The variable that carries the value to the component's tasks.
    pub fn task_env(&self) -> Option<&str> {
        self.task_env.as_deref()
    }

    /// The job-control variable (`HETPOLICY_QPU`) that carries the value
    /// from the client to slurmctld, in the job's spank_job_env.
    pub fn job_env(&self) -> &str {
        &self.job_env
    }

    /// The value of this option in one `NAME=value` job environment entry,
    /// if the entry is this option's job-control variable.
    pub fn value_in_env_entry<'e>(&self, entry: &'e str) -> Option<&'e str> {
        entry
            .strip_prefix(self.job_env())
            .and_then(|rest| rest.strip_prefix('='))
    }
}

/// An option as a SPANK plugstack.conf line declares it
/// ([`crate::plugstack`]): what the client and the nodes need, without the
/// rules only slurmctld applies (`required_on`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeclaredOption {
    /// `--NAME`.
    pub name: String,
    /// The `--help` text.
    pub help: String,
    /// The value's placeholder (`VALUE` when `None`).
    pub arg: Option<String>,
    /// The allowed values; empty means any non-empty value.
    pub values: Vec<String>,
    /// The variable that carries the value to the tasks.
    pub task_env: Option<String>,
}

impl SiteOption {
    /// Builds an option from a declaration, with the checks a policy's
    /// `options.<name>` gets.
    pub fn declared(option: DeclaredOption) -> Result<SiteOption, String> {
        let name = option.name;
        if !is_option_name(&name) {
            return Err(format!(
                "option name '{name}' cannot be a command line option: use lower-case letters, \
                 digits, '-' and '_', starting with a letter or digit"
            ));
        }
        if option.help.trim().is_empty() {
            return Err(format!("option {name} has no help text"));
        }
        if let Some(task_env) = option.task_env.as_deref().filter(|t| !is_env_name(t)) {
            return Err(format!(
                "option {name}: task_env '{task_env}' is not an environment variable name"
            ));
        }
        if let Some(value) = option
            .values
            .iter()
            .find(|v| v.is_empty() || v.contains(['=', ',', '\n']))
        {
            return Err(format!(
                "option {name}: value '{value}' cannot be given on a command line"
            ));
        }
        Ok(SiteOption {
            job_env: job_env(&name).into(),
            help: option.help.trim().into(),
            arg: option.arg.as_deref().unwrap_or(DEFAULT_ARG).into(),
            values: option.values.iter().map(|v| v.as_str().into()).collect(),
            required_partitions: Vec::new(),
            required_gres: Vec::new(),
            task_env: option.task_env.map(Into::into),
            name: name.into(),
        })
    }

    /// What a plugstack.conf line must declare for this option.
    pub fn declaration(&self) -> DeclaredOption {
        DeclaredOption {
            name: self.name.to_string(),
            help: self.help.to_string(),
            arg: (&*self.arg != DEFAULT_ARG).then(|| self.arg.to_string()),
            values: self.values.iter().map(|v| v.to_string()).collect(),
            task_env: self.task_env.as_ref().map(|t| t.to_string()),
        }
    }
}

/// The value placeholder of an option that names none.
const DEFAULT_ARG: &str = "VALUE";

/// The job-control variable of option `name`: `HETPOLICY_` and the name in
/// capitals, '-' as '_'.
fn job_env(name: &str) -> String {
    format!(
        "{JOB_ENV_PREFIX}{}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// `[a-z0-9]` then `[a-z0-9_-]*`: what getopt_long and SPANK accept.
fn is_option_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A POSIX environment variable name.
fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Compiles `options.<name>`, reporting bad names.
pub(super) fn compile(name: &Name, option: &OptionFile, problems: &mut Problems) -> SiteOption {
    if !is_option_name(&name.value) {
        problems.at(
            name,
            format!(
                "option name '{}' cannot be a command line option: use lower-case letters, \
                 digits, '-' and '_', starting with a letter or digit",
                name.value
            ),
        );
    }
    if option.help.trim().is_empty() {
        problems.at(
            name,
            format!(
                "options.{}.help is empty: sbatch --help shows it to users",
                name.value
            ),
        );
    }
    if let Some(task_env) = &option.task_env {
        if !is_env_name(&task_env.value) {
            problems.at(
                task_env,
                format!(
                    "options.{}.task_env '{}' is not an environment variable name: use \
                     letters, digits and '_', not starting with a digit",
                    name.value, task_env.value
                ),
            );
        }
    }
    for value in &option.values {
        if value.value.is_empty() || value.value.contains(['=', ',', '\n']) {
            problems.at(
                value,
                format!(
                    "options.{} value '{}' cannot be given on a command line: it must be \
                     non-empty without '=', ',' or newlines",
                    name.value, value.value
                ),
            );
        }
    }
    let job_env = job_env(&name.value);
    SiteOption {
        name: name.value.as_str().into(),
        help: option.help.trim().into(),
        arg: option.arg.as_deref().unwrap_or(DEFAULT_ARG).into(),
        values: option.values.iter().map(super::boxed).collect(),
        required_partitions: option
            .required_on
            .partitions
            .iter()
            .map(super::boxed)
            .collect(),
        required_gres: option.required_on.gres.iter().map(super::boxed).collect(),
        task_env: option.task_env.as_ref().map(super::boxed),
        job_env: job_env.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_option_name("qpu"));
        assert!(is_option_name("qpu-backend_2"));
        assert!(!is_option_name("Qpu"));
        assert!(!is_option_name("-qpu"));
        assert!(!is_option_name(""));
        assert!(is_env_name("SLURM_QPU"));
        assert!(!is_env_name("1QPU"));
        assert!(!is_env_name("QPU-NAME"));
    }
}
