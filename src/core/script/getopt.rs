//! glibc's `getopt_long` as sbatch calls it: option string starting with
//! `+` (stop at the first non-option), long options by any unambiguous
//! prefix, short options in clusters. Error lines are glibc's own words,
//! which sbatch prints before giving up.

use crate::slurm_options::{ClientOption, HasArg, Release, Val};

/// One word of an argument vector, with the script line it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    /// The word.
    pub(crate) text: String,
    /// 1-based line in the batch script; `None` for the command line.
    pub(crate) line: Option<usize>,
}

impl Word {
    pub(crate) fn new(text: impl Into<String>, line: Option<usize>) -> Word {
        Word {
            text: text.into(),
            line,
        }
    }
}

/// Which option getopt found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    /// One of sbatch's own options.
    Sbatch(&'static ClientOption),
    /// A site option (SPANK), by its index in the policy's options.
    Site(usize),
}

/// One option found, with its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) which: Which,
    pub(crate) value: Option<String>,
    /// The line of the option's word.
    pub(crate) line: Option<usize>,
    /// The option as written (`--het-group=1`, `-N`).
    pub(crate) written: String,
    /// The index of the option's word in the argument vector.
    pub(crate) index: usize,
}

/// An option's `val` as getopt compares them: options with the same one
/// are not ambiguous with each other (`--tasks-per-node` and
/// `--ntasks-per-node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LongVal {
    /// One of sbatch's options.
    Sbatch(Val),
    /// A site option (SPANK gives each its own).
    Site(usize),
}

/// A long option getopt knows.
#[derive(Clone, Debug)]
struct LongOpt {
    name: String,
    has_arg: HasArg,
    which: Which,
    val: LongVal,
}

/// sbatch's option table plus the site options SPANK adds.
#[derive(Clone, Debug)]
pub(crate) struct OptionTable {
    release: Release,
    long: Vec<LongOpt>,
}

impl OptionTable {
    /// The options of `release`'s sbatch (`slurm_option_table_create`),
    /// then `site` (`--qpu`, ...), each taking a value.
    pub(crate) fn new(release: Release, site: &[&str]) -> OptionTable {
        let mut long: Vec<LongOpt> = release
            .sbatch_options()
            .map(|option| LongOpt {
                name: option.name.to_owned(),
                has_arg: option.has_arg,
                which: Which::Sbatch(option),
                val: LongVal::Sbatch(option.val),
            })
            .collect();
        for (index, name) in site.iter().enumerate() {
            long.push(LongOpt {
                name: (*name).to_owned(),
                has_arg: HasArg::Required,
                which: Which::Site(index),
                val: LongVal::Site(index),
            });
        }
        OptionTable { release, long }
    }

    fn short(&self, c: char) -> Option<&'static ClientOption> {
        self.release
            .sbatch_options()
            .find(|option| option.short() == Some(c))
    }
}

/// What stops getopt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GetoptError {
    /// The lines getopt prints (without the trailing newline).
    Message(String),
}

/// Parses `args[1..]` (`args[0]` is the program name getopt prints) until
/// the first non-option. Returns the options found (or the first error)
/// and the index of the first word not parsed (getopt's `optind`).
pub(crate) fn getopt(
    table: &OptionTable,
    args: &[Word],
) -> (Vec<Result<Found, GetoptError>>, usize) {
    let argv0 = args.first().map_or("sbatch", |w| w.text.as_str());
    let mut out = Vec::new();
    let mut index = 1;
    while index < args.len() {
        let word = &args[index];
        let text = word.text.as_str();
        if text == "--" {
            index += 1;
            break;
        }
        if let Some(body) = text.strip_prefix("--") {
            let at = index;
            index += 1;
            let result = long_option(table, argv0, body, word, args, &mut index)
                .map(|found| Found { index: at, ..found });
            let stop = result.is_err();
            out.push(result);
            if stop {
                return (out, index);
            }
            continue;
        }
        if text.len() < 2 || !text.starts_with('-') {
            break;
        }
        let word_index = index;
        index += 1;
        let letters: Vec<char> = text[1..].chars().collect();
        let mut at = 0;
        while at < letters.len() {
            let c = letters[at];
            at += 1;
            let Some(spec) = table.short(c) else {
                out.push(Err(GetoptError::Message(format!(
                    "{argv0}: invalid option -- '{c}'"
                ))));
                return (out, index);
            };
            let rest: String = letters[at..].iter().collect();
            let value = match spec.has_arg {
                HasArg::No => None,
                HasArg::Optional => {
                    at = letters.len();
                    (!rest.is_empty()).then_some(rest)
                }
                HasArg::Required => {
                    at = letters.len();
                    if !rest.is_empty() {
                        Some(rest)
                    } else if index < args.len() {
                        index += 1;
                        Some(args[index - 1].text.clone())
                    } else {
                        out.push(Err(GetoptError::Message(format!(
                            "{argv0}: option requires an argument -- '{c}'"
                        ))));
                        return (out, index);
                    }
                }
            };
            out.push(Ok(Found {
                which: Which::Sbatch(spec),
                value,
                line: word.line,
                written: format!("-{c}"),
                index: word_index,
            }));
        }
    }
    (out, index)
}

fn long_option(
    table: &OptionTable,
    argv0: &str,
    body: &str,
    word: &Word,
    args: &[Word],
    index: &mut usize,
) -> Result<Found, GetoptError> {
    let (name, inline) = match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    };
    let found = match table.long.iter().find(|o| o.name == name) {
        Some(exact) => exact,
        None => {
            let matches: Vec<&LongOpt> = table
                .long
                .iter()
                .filter(|o| o.name.starts_with(name))
                .collect();
            let Some(&first) = matches.first() else {
                return Err(GetoptError::Message(format!(
                    "{argv0}: unrecognized option '--{body}'"
                )));
            };
            if matches
                .iter()
                .any(|o| o.has_arg != first.has_arg || o.val != first.val)
            {
                let list: String = matches.iter().map(|o| format!(" '--{}'", o.name)).collect();
                return Err(GetoptError::Message(format!(
                    "{argv0}: option '--{body}' is ambiguous; possibilities:{list}"
                )));
            }
            first
        }
    };
    let value = match (found.has_arg, inline) {
        (HasArg::No, Some(_)) => {
            return Err(GetoptError::Message(format!(
                "{argv0}: option '--{}' doesn't allow an argument",
                found.name
            )))
        }
        (HasArg::No, None) | (HasArg::Optional, None) => None,
        (_, Some(value)) => Some(value.to_owned()),
        (HasArg::Required, None) => {
            if *index < args.len() {
                *index += 1;
                Some(args[*index - 1].text.clone())
            } else {
                return Err(GetoptError::Message(format!(
                    "{argv0}: option '--{}' requires an argument",
                    found.name
                )));
            }
        }
    };
    Ok(Found {
        which: found.which,
        value,
        line: word.line,
        written: format!("--{body}"),
        index: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<Word> {
        std::iter::once("sbatch")
            .chain(list.iter().copied())
            .map(|w| Word::new(w, None))
            .collect()
    }

    type Options = Vec<(String, Option<String>)>;

    fn parse(list: &[&str]) -> (Options, usize, Option<String>) {
        parse_in(Release::Slurm22_05, list)
    }

    fn parse_in(release: Release, list: &[&str]) -> (Options, usize, Option<String>) {
        let table = OptionTable::new(release, &["qpu"]);
        let (found, index) = getopt(&table, &words(list));
        let mut ok = Vec::new();
        let mut error = None;
        for f in found {
            match f {
                Ok(f) => ok.push((
                    match f.which {
                        Which::Sbatch(spec) => spec.name.to_owned(),
                        Which::Site(_) => "site".to_owned(),
                    },
                    f.value,
                )),
                Err(GetoptError::Message(m)) => error = Some(m),
            }
        }
        (ok, index, error)
    }

    fn pairs(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn long_short_clusters_and_stop() {
        let (ok, index, error) = parse(&[
            "-N2",
            "-n",
            "4",
            "--part=gpu",
            "-vH",
            "--qpu",
            "ibm_fez",
            ":",
            "-p",
            "x",
        ]);
        assert_eq!(error, None);
        assert_eq!(
            ok,
            pairs(&[
                ("nodes", Some("2")),
                ("ntasks", Some("4")),
                ("partition", Some("gpu")),
                ("verbose", None),
                ("hold", None),
                ("site", Some("ibm_fez")),
            ])
        );
        assert_eq!(index, 8, "stops at ':'");
    }

    #[test]
    fn exact_match_beats_prefix() {
        let (ok, _, _) = parse(&["--mem=1G", "--gres", "gpu:1", "--exclusive", "--time=5"]);
        assert_eq!(
            ok,
            pairs(&[
                ("mem", Some("1G")),
                ("gres", Some("gpu:1")),
                ("exclusive", None),
                ("time", Some("5")),
            ])
        );
    }

    #[test]
    fn glibc_error_lines() {
        let (_, _, error) = parse(&["--het-group=1"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: unrecognized option '--het-group=1'")
        );
        let (_, _, error) = parse(&["--mem-per=1"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: option '--mem-per=1' is ambiguous; possibilities: '--mem-per-cpu' '--mem-per-gpu'")
        );
        let (_, _, error) = parse(&["--hold=yes"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: option '--hold' doesn't allow an argument")
        );
        let (_, _, error) = parse(&["--partition"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: option '--partition' requires an argument")
        );
        let (_, _, error) = parse(&["-y"]);
        assert_eq!(error.as_deref(), Some("sbatch: invalid option -- 'y'"));
        let (_, _, error) = parse(&["-p"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: option requires an argument -- 'p'")
        );
    }

    #[test]
    fn abbreviations_follow_the_release_s_table() {
        // 26.05 adds --mem-update: --mem-u is ambiguous only before it.
        let (ok, _, error) = parse_in(Release::Slurm24_11, &["--ext=a"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: option '--ext=a' is ambiguous; possibilities: '--extra' '--extra-node-info'"),
            "{ok:?}"
        );
        let (ok, _, error) = parse(&["--ext=2"]);
        assert_eq!(error, None);
        assert_eq!(ok, pairs(&[("extra-node-info", Some("2"))]));
        let (_, _, error) = parse_in(Release::Slurm26_05, &["--mem-u=1"]);
        assert_eq!(error, None);
        let (_, _, error) = parse_in(Release::Slurm24_11, &["--mem-u=1"]);
        assert_eq!(
            error.as_deref(),
            Some("sbatch: unrecognized option '--mem-u=1'")
        );
    }

    #[test]
    fn aliases_are_not_ambiguous() {
        let (ok, _, error) = parse(&["--tasks-per=2"]);
        assert_eq!(error, None);
        assert_eq!(ok, pairs(&[("tasks-per-node", Some("2"))]));
    }
}
