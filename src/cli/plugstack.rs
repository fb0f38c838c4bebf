//! `hetpolicy plugstack [POLICY]`: the plugstack.conf line that loads the
//! SPANK plugin with the policy's site options on it, for nodes that have
//! no policy file (configless clusters); and what `hetpolicy check
//! --plugstack FILE` finds wrong with the line a plugstack.conf has.

use std::io::Write;
use std::path::{Path, PathBuf};

use hetpolicy_core::paths::default_policy_path;
use hetpolicy_core::plugstack::{differences, line_for, plugin_lines, LineSettings, PluginArgs};
use hetpolicy_core::policy::Policy;

use crate::args::{no_value, Args, Item, UsageError};

/// `plugstack`'s options.
#[derive(Debug)]
pub struct Options {
    policy: Option<PathBuf>,
    settings: LineSettings,
}

impl Options {
    pub fn parse(args: &mut Args<'_>) -> Result<Options, UsageError> {
        let mut options = Options {
            policy: None,
            settings: LineSettings::default(),
        };
        while let Some(item) = args.next_item() {
            match item {
                Item::Flag(name, inline) => match name.as_str() {
                    "optional" => {
                        no_value(&name, inline)?;
                        options.settings.required = false;
                    }
                    "plugin" => options.settings.plugin = args.value(&name, inline)?,
                    "state-dir" => {
                        let dir = args.value(&name, inline)?;
                        if !dir.starts_with('/') {
                            return Err(UsageError(format!(
                                "--state-dir must be an absolute path, not '{dir}'"
                            )));
                        }
                        options.settings.state_dir = Some(dir.into());
                    }
                    _ => return Err(UsageError(format!("plugstack: unknown option --{name}"))),
                },
                Item::Word(word) if options.policy.is_none() => options.policy = Some(word.into()),
                Item::Word(_) | Item::Rest(_) => {
                    return Err(UsageError("plugstack takes one policy file".to_owned()))
                }
            }
        }
        Ok(options)
    }
}

/// Prints the line; 1 when the policy does not load or the line would be
/// too long for Slurm.
pub fn run(options: Options) -> Result<u8, UsageError> {
    let path = options.policy.unwrap_or_else(|| default_policy_path(None));
    let policy = match Policy::load(&path) {
        Ok(policy) => policy,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "hetpolicy: {error}\nhetpolicy: `hetpolicy check {}` says what to fix",
                path.display()
            );
            return Ok(1);
        }
    };
    match line_for(policy.options(), &options.settings) {
        Ok(line) => {
            let _ = writeln!(std::io::stdout(), "{line}");
            Ok(0)
        }
        Err(message) => {
            let _ = writeln!(std::io::stderr(), "hetpolicy: {message}");
            Ok(1)
        }
    }
}

/// One finding about a plugstack.conf.
#[derive(Debug)]
pub struct Finding {
    /// `file:line`, or the file.
    pub place: String,
    /// An error (the line is wrong), else a warning.
    pub error: bool,
    pub message: String,
    pub hint: String,
}

/// Holds the plugstack.conf at `stack` (and what it includes) against
/// `policy`, read from `policy_path`.
pub fn check_stack(stack: &Path, policy: &Policy, policy_path: &Path) -> Vec<Finding> {
    let regenerate = format!(
        "write the line with `hetpolicy plugstack {}` (add --state-dir if yours is not the \
         default)",
        policy_path.display()
    );
    let lines = match plugin_lines(stack) {
        Ok(lines) => lines,
        Err(message) => {
            return vec![Finding {
                place: stack.display().to_string(),
                error: true,
                message,
                hint: "give the plugstack.conf that sbatch and slurmd read (PlugStackConfig, \
                       default plugstack.conf beside slurm.conf)"
                    .to_owned(),
            }]
        }
    };
    let options = policy.options();
    let Some(first) = lines.first() else {
        if options.is_empty() {
            return Vec::new();
        }
        return vec![Finding {
            place: stack.display().to_string(),
            error: true,
            message: format!(
                "no line loads spank_hetpolicy.so, so users cannot give --{}",
                options[0].name()
            ),
            hint: format!("add the plugin's line: {regenerate}"),
        }];
    };
    let place = |line: &hetpolicy_core::plugstack::PluginLine| {
        format!("{}:{}", line.file.display(), line.number)
    };
    let mut found = Vec::new();
    if let Some(second) = lines.get(1) {
        found.push(Finding {
            place: place(second),
            error: true,
            message: format!(
                "spank_hetpolicy.so is loaded again (first at {}); Slurm refuses the second \
                 line",
                place(first)
            ),
            hint: "keep one line".to_owned(),
        });
    }
    let args = match PluginArgs::parse(first.words.iter().map(String::as_str)) {
        Ok(args) => args,
        Err(message) => {
            found.push(Finding {
                place: place(first),
                error: true,
                message,
                hint: regenerate,
            });
            return found;
        }
    };
    match &args.options {
        Some(declared) => {
            for difference in differences(declared, options) {
                found.push(Finding {
                    place: place(first),
                    error: true,
                    message: format!("the line disagrees with the policy: {difference}"),
                    hint: regenerate.clone(),
                });
            }
        }
        None if !options.is_empty() => {
            let reads = args.policy.as_ref().map_or_else(
                || "the hetpolicy.yaml beside slurm.conf".to_owned(),
                |p| p.display().to_string(),
            );
            found.push(Finding {
                place: place(first),
                error: false,
                message: format!(
                    "the line carries no site options: each node reads them from {reads}, and \
                     a node without that file (a configless cluster's nodes) offers none"
                ),
                hint: format!("for configless clusters, {regenerate}"),
            });
        }
        None => {}
    }
    found
}
