//! The SPANK plugin's plugstack.conf line.
//!
//! `required spank_hetpolicy.so [ARGUMENT ...]`, each argument `KEY=VALUE`:
//! - `policy=PATH`: the policy file the plugin reads its site options from
//!   (default: hetpolicy.yaml beside the slurm.conf it was loaded with);
//! - `state_dir=PATH`: where job prologs record each component's values;
//! - `options=NAME,...` with `NAME.help=`, `NAME.arg=`, `NAME.values=` and
//!   `NAME.task_env=`: the site options themselves, so that a node without
//!   the policy file (a configless cluster's login and compute nodes, which
//!   get plugstack.conf from slurmctld but never hetpolicy.yaml) still
//!   offers them. With `options=` the plugin reads no policy file.
//!
//! Values are percent-decoded (`%20` is a blank). One parser for the
//! plugin and for `hetpolicy check --plugstack`, and the
//! line `hetpolicy plugstack` writes from a policy. Slurm splits the line
//! at blanks, cuts it at `#` and reads at most 4095 bytes of it
//! (src/common/plugstack.c `_plugin_stack_parse_line` and `_spank_stack_load`
//! in 22.05, src/common/spank.c in 24.11 and 26.05): values are
//! percent-encoded where they would break it, and a line that would be too
//! long is refused.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::policy::{DeclaredOption, SiteOption};

/// The plugin's file name.
pub const PLUGIN_FILE: &str = "spank_hetpolicy.so";

/// Where the per-job records of site option values live by default.
pub const DEFAULT_STATE_DIR: &str = "/run/hetpolicy";

/// The longest line written: Slurm reads lines into a PATH_MAX (4096)
/// buffer, newline and NUL included.
pub const MAX_LINE_BYTES: usize = 4000;

/// The plugin's arguments, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginArgs {
    /// `policy=PATH`; `None` means hetpolicy.yaml beside slurm.conf.
    pub policy: Option<PathBuf>,
    /// `state_dir=PATH`.
    pub state_dir: PathBuf,
    /// The options declared on the line (`options=`), in its order; `None`
    /// when the line declares none and the policy file gives them.
    pub options: Option<Vec<SiteOption>>,
}

impl Default for PluginArgs {
    /// No arguments: the policy beside slurm.conf, the default state dir.
    fn default() -> Self {
        PluginArgs {
            policy: None,
            state_dir: PathBuf::from(DEFAULT_STATE_DIR),
            options: None,
        }
    }
}

const USAGE: &str = "spank_hetpolicy.so takes policy=/path/to/hetpolicy.yaml or the site \
                     options that `hetpolicy plugstack` writes (options=NAME,... and \
                     NAME.help=, NAME.arg=, NAME.values=, NAME.task_env=), and state_dir=/path";

/// One option's fields as the line gives them.
#[derive(Default)]
struct Fields {
    help: Option<String>,
    arg: Option<String>,
    values: Option<Vec<String>>,
    task_env: Option<String>,
}

impl PluginArgs {
    /// Parses the words after the plugin's path. Unknown or repeated keys,
    /// empty values (but `options=`), relative paths, fields of undeclared
    /// options and `policy=` together with `options=` are errors.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<PluginArgs, String> {
        let mut policy = None;
        let mut state_dir = None;
        let mut names: Option<Vec<String>> = None;
        let mut fields: Vec<(String, Fields)> = Vec::new();
        for word in words {
            let (key, raw) = word.split_once('=').ok_or_else(|| {
                format!("plugstack.conf argument '{word}' is not KEY=VALUE; {USAGE}")
            })?;
            if raw.is_empty() && key != "options" {
                return Err(format!("plugstack.conf argument {key}= has no value"));
            }
            let twice = || format!("plugstack.conf argument '{key}' is given twice");
            match key {
                "policy" | "state_dir" => {
                    let slot = if key == "policy" {
                        &mut policy
                    } else {
                        &mut state_dir
                    };
                    if slot.is_some() {
                        return Err(twice());
                    }
                    if !raw.starts_with('/') {
                        return Err(format!(
                            "plugstack.conf argument {key}={raw} must be an absolute path"
                        ));
                    }
                    *slot = Some(PathBuf::from(
                        decode(raw).map_err(|e| format!("{key}: {e}"))?,
                    ));
                }
                "options" => {
                    if names.is_some() {
                        return Err(twice());
                    }
                    let list: Vec<String> = raw
                        .split(',')
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned)
                        .collect();
                    let mut seen = HashSet::new();
                    if let Some(name) = list.iter().find(|n| !seen.insert(n.as_str())) {
                        return Err(format!("options= names '{name}' twice"));
                    }
                    names = Some(list);
                }
                _ => {
                    let Some((name, field)) = key.rsplit_once('.') else {
                        return Err(format!("unknown plugstack.conf argument '{key}'; {USAGE}"));
                    };
                    let value = decode(raw).map_err(|e| format!("{key}: {e}"))?;
                    let index = match fields.iter().position(|(n, _)| n == name) {
                        Some(index) => index,
                        None => {
                            fields.push((name.to_owned(), Fields::default()));
                            fields.len() - 1
                        }
                    };
                    let entry = &mut fields[index].1;
                    let taken = match field {
                        "help" => entry.help.replace(value).is_some(),
                        "arg" => entry.arg.replace(value).is_some(),
                        "task_env" => entry.task_env.replace(value).is_some(),
                        "values" => entry
                            .values
                            .replace(value.split(',').map(str::to_owned).collect())
                            .is_some(),
                        _ => {
                            return Err(format!(
                                "unknown plugstack.conf argument '{key}': an option's fields are \
                                 help, arg, values and task_env"
                            ))
                        }
                    };
                    if taken {
                        return Err(twice());
                    }
                }
            }
        }
        let options = match names {
            None => {
                if let Some((name, _)) = fields.first() {
                    return Err(format!(
                        "plugstack.conf gives fields of option '{name}' but no options= list"
                    ));
                }
                None
            }
            Some(names) => {
                if let Some(path) = &policy {
                    return Err(format!(
                        "plugstack.conf gives both policy={} and options=: the options come \
                         from one of them; give one",
                        path.display()
                    ));
                }
                Some(declared_options(&names, fields)?)
            }
        };
        Ok(PluginArgs {
            policy,
            state_dir: state_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR)),
            options,
        })
    }
}

/// Builds the options named in `options=` from their fields.
fn declared_options(
    names: &[String],
    mut fields: Vec<(String, Fields)>,
) -> Result<Vec<SiteOption>, String> {
    if let Some((name, _)) = fields.iter().find(|(n, _)| !names.contains(n)) {
        return Err(format!(
            "plugstack.conf gives fields of option '{name}', which options= does not name"
        ));
    }
    names
        .iter()
        .map(|name| {
            let own = fields
                .iter()
                .position(|(n, _)| n == name)
                .map(|i| fields.swap_remove(i).1)
                .unwrap_or_default();
            let help = own
                .help
                .ok_or_else(|| format!("plugstack.conf lacks {name}.help= (the --help text)"))?;
            SiteOption::declared(DeclaredOption {
                name: name.clone(),
                help,
                arg: own.arg,
                values: own.values.unwrap_or_default(),
                task_env: own.task_env,
            })
            .map_err(|e| format!("plugstack.conf: {e}"))
        })
        .collect()
}

/// How `hetpolicy plugstack` writes the line.
#[derive(Clone, Debug)]
pub struct LineSettings {
    /// `required` (the default) or `optional`.
    pub required: bool,
    /// The plugin: its file name (found in PluginDir) or an absolute path.
    pub plugin: String,
    /// `state_dir=`, when not the default.
    pub state_dir: Option<PathBuf>,
}

impl Default for LineSettings {
    fn default() -> Self {
        LineSettings {
            required: true,
            plugin: PLUGIN_FILE.to_owned(),
            state_dir: None,
        }
    }
}

/// The plugstack.conf line that loads the plugin with `options` declared
/// (without a newline). Fails when Slurm could not read it whole.
pub fn line_for(options: &[SiteOption], settings: &LineSettings) -> Result<String, String> {
    let mut words = vec![
        if settings.required {
            "required"
        } else {
            "optional"
        }
        .to_owned(),
        encode(&settings.plugin),
    ];
    if let Some(dir) = &settings.state_dir {
        words.push(format!("state_dir={}", encode(&dir.display().to_string())));
    }
    let names: Vec<&str> = options.iter().map(SiteOption::name).collect();
    words.push(format!("options={}", names.join(",")));
    for option in options {
        let declared = option.declaration();
        let name = &declared.name;
        words.push(format!("{name}.help={}", encode(&declared.help)));
        if let Some(arg) = &declared.arg {
            words.push(format!("{name}.arg={}", encode(arg)));
        }
        if !declared.values.is_empty() {
            words.push(format!(
                "{name}.values={}",
                encode(&declared.values.join(","))
            ));
        }
        if let Some(task_env) = &declared.task_env {
            words.push(format!("{name}.task_env={task_env}"));
        }
    }
    let line = words.join(" ");
    if line.len() > MAX_LINE_BYTES {
        return Err(format!(
            "the plugstack.conf line would be {} bytes, and Slurm reads at most {MAX_LINE_BYTES} \
             of a line safely: shorten the options' help texts or values",
            line.len()
        ));
    }
    Ok(line)
}

/// How the options a line declares differ from the policy's: one sentence
/// per difference, none when they agree.
pub fn differences(line: &[SiteOption], policy: &[SiteOption]) -> Vec<String> {
    let mut found = Vec::new();
    for wanted in policy {
        let Some(given) = line.iter().find(|o| o.name() == wanted.name()) else {
            found.push(format!(
                "--{} is in the policy but not on the line",
                wanted.name()
            ));
            continue;
        };
        let (given, wanted) = (given.declaration(), wanted.declaration());
        let name = &wanted.name;
        if given.values != wanted.values {
            found.push(format!(
                "--{name} allows {} on the line but {} in the policy",
                shown_values(&given.values),
                shown_values(&wanted.values)
            ));
        }
        if given.task_env != wanted.task_env {
            found.push(format!(
                "--{name} gives its tasks {} on the line but {} in the policy",
                shown_env(&given.task_env),
                shown_env(&wanted.task_env)
            ));
        }
        if given.help != wanted.help || given.arg != wanted.arg {
            found.push(format!(
                "--{name} has another help text or placeholder on the line"
            ));
        }
    }
    for extra in line {
        if !policy.iter().any(|o| o.name() == extra.name()) {
            found.push(format!(
                "--{} is on the line but not in the policy",
                extra.name()
            ));
        }
    }
    found
}

fn shown_values(values: &[String]) -> String {
    if values.is_empty() {
        "any value".to_owned()
    } else {
        values.join(",")
    }
}

fn shown_env(task_env: &Option<String>) -> String {
    task_env
        .as_deref()
        .map_or_else(|| "no variable".to_owned(), |t| t.to_owned())
}

/// One line of a plugstack.conf (or of a file it includes) that loads the
/// plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginLine {
    /// The file the line is in.
    pub file: PathBuf,
    /// Its line number (from 1).
    pub number: usize,
    /// `required` or `optional`.
    pub kind: String,
    /// The plugin's path as written.
    pub plugin: String,
    /// The arguments.
    pub words: Vec<String>,
}

/// The lines of the plugstack.conf at `path`, and of the files it includes
/// (`include PATTERN`, relative to the including file, `*` and `?` in the
/// last component), that load spank_hetpolicy.so.
pub fn plugin_lines(path: &Path) -> Result<Vec<PluginLine>, String> {
    let mut found = Vec::new();
    read_stack(path, 0, &mut found)?;
    Ok(found)
}

fn read_stack(path: &Path, depth: usize, found: &mut Vec<PluginLine>) -> Result<(), String> {
    if depth > 8 {
        return Err(format!("{}: includes nest too deep", path.display()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default();
        let mut words = line.split_whitespace();
        let (Some(kind), Some(target)) = (words.next(), words.next()) else {
            continue;
        };
        match kind {
            "include" => {
                for included in expand(path, target)? {
                    read_stack(&included, depth + 1, found)?;
                }
            }
            "required" | "optional"
                if Path::new(target).file_name() == Some(PLUGIN_FILE.as_ref()) =>
            {
                found.push(PluginLine {
                    file: path.to_path_buf(),
                    number: index + 1,
                    kind: kind.to_owned(),
                    plugin: target.to_owned(),
                    words: words.map(str::to_owned).collect(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The files an include pattern names, in order.
fn expand(including: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let pattern = match including.parent() {
        Some(dir) if !pattern.starts_with('/') => dir.join(pattern),
        _ => PathBuf::from(pattern),
    };
    let (Some(dir), Some(last)) = (pattern.parent(), pattern.file_name()) else {
        return Ok(Vec::new());
    };
    let last = last.to_string_lossy();
    if dir.to_string_lossy().contains(['*', '?', '[']) {
        return Err(format!(
            "{}: cannot follow an include with wildcards in its directories",
            pattern.display()
        ));
    }
    if !last.contains(['*', '?']) {
        return Ok(if pattern.exists() {
            vec![pattern]
        } else {
            Vec::new()
        });
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut matched: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && wildcard_match(last.as_bytes(), name.as_bytes())
        })
        .map(|e| e.path())
        .collect();
    matched.sort();
    Ok(matched)
}

/// glob(3)'s `*` and `?` on one file name.
fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard_match(&pattern[1..], name)
                || (!name.is_empty() && wildcard_match(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard_match(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard_match(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// Percent-encodes what Slurm would split or cut the line at (blanks,
/// control characters, `#`), `%` itself, and non-ASCII bytes.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte <= b' ' || byte >= 0x7f || byte == b'%' || byte == b'#' {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

/// Undoes [`encode`]; a `%` not followed by two hex digits, or bytes that
/// are not UTF-8, are errors.
pub fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("'{text}' has a % not followed by two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("'{text}' is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests;
