//! The `#SBATCH` lines of a batch script, read as sbatch reads them
//! (src/sbatch/opt.c: `_opt_batch_script`, `get_argument`): the header
//! ends at the first line that is not a comment or blank, `#SBATCH hetjob`
//! (or the old `packjob`) starts the next component, words are split on
//! blanks with quotes and backslashes, and an unquoted `#` ends the line.
//! Releases differ in a backslash before a blank (see
//! [`Rules::escaped_blank_in_word`]) and in the words of the `packjob`
//! warning.

use super::getopt::Word;
use super::rules::Rules;

impl Directives {
    /// True when sbatch's pass for component `k` reads a `#SLURM` line
    /// (and prints its complaint once in that pass).
    pub(crate) fn pass_reads_slurm_magic(&self, k: usize) -> bool {
        self.slurm_magic
            .iter()
            .any(|&(component, separator)| component <= k || (separator && component == k + 1))
    }
}

/// The options of one script component, or the fatal error sbatch stops
/// with when it reads them.
pub(crate) type ComponentWords = Result<Vec<Word>, String>;

/// What the script's header holds.
#[derive(Clone, Debug, Default)]
pub(crate) struct Directives {
    /// One entry per component of the script (at least one).
    pub(crate) components: Vec<ComponentWords>,
    /// The line of each `#SBATCH hetjob` separator, in order.
    pub(crate) separators: Vec<usize>,
    /// The first `#SLURM` line (sbatch reads it but complains).
    pub(crate) slurm_magic_line: Option<usize>,
    /// Every `#SLURM` line: the component it belongs to, and whether it is
    /// a `hetjob` separator (sbatch reads those lines while reading the
    /// previous component too).
    pub(crate) slurm_magic: Vec<(usize, bool)>,
    /// The line where the header ends (the first command), if any.
    pub(crate) body_start: Option<usize>,
    /// The component whose pass first reads a `packjob` word: sbatch warns
    /// once that it is deprecated.
    pub(crate) packjob: Option<usize>,
}

impl Directives {
    /// The warning sbatch prints for `packjob` (src/sbatch/opt.c:481 in
    /// 22.05, an `info("Warning: ...")`; src/sbatch/opt.c:488 in 24.11).
    pub(crate) fn packjob_warning(rules: &Rules) -> String {
        if rules.warning_prefix == "Warning: " {
            "sbatch: Warning: the \"packjob\" component separator is being deprecated. Please, \
             use \"hetjob\" instead."
                .to_owned()
        } else {
            "sbatch: warning: The \"packjob\" component separator is deprecated. Please use \
             \"hetjob\" instead."
                .to_owned()
        }
    }
}

const MAGIC: &str = "#SBATCH";
const OLD_MAGIC: &str = "#SLURM";

/// The length of the word `hetjob` or `packjob` (any case) that `text`
/// starts with, and whether it is `packjob`.
fn separator_len(text: &str) -> Option<(usize, bool)> {
    for word in ["hetjob", "packjob"] {
        let n = word.len();
        if text.len() >= n
            && text.is_char_boundary(n)
            && text[..n].eq_ignore_ascii_case(word)
            && text[n..].chars().next().is_none_or(is_c_space)
        {
            return Some((n, word == "packjob"));
        }
    }
    None
}

/// C's isspace in the C locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Reads the header of `script` (named `file` in messages, as sbatch names
/// it: its base name) as the release of `rules` does.
pub(crate) fn read(script: &str, file: &str, rules: &Rules) -> Directives {
    let mut directives = Directives {
        components: vec![Ok(Vec::new())],
        ..Directives::default()
    };
    for (index, line) in script.split('\n').enumerate() {
        let lineno = index + 1;
        let rest = if let Some(rest) = line.strip_prefix(MAGIC) {
            rest
        } else if let Some(rest) = line.strip_prefix(OLD_MAGIC) {
            directives.slurm_magic_line.get_or_insert(lineno);
            rest
        } else {
            let first = line.chars().find(|c| !is_c_space(*c));
            if first.is_some_and(|c| c != '#') {
                directives.body_start = Some(lineno);
                break;
            }
            continue;
        };
        let rest = rest.trim_start_matches(is_c_space);
        let separator = separator_len(rest).is_some();
        if separator {
            directives.separators.push(lineno);
            directives.components.push(Ok(Vec::new()));
        }
        if !line.starts_with(MAGIC) {
            directives
                .slurm_magic
                .push((directives.components.len() - 1, separator));
        }
        let component = directives.components.len() - 1;
        let Some(Ok(words)) = directives.components.last_mut() else {
            continue;
        };
        let split = Split {
            file,
            line,
            lineno,
            escaped_blank_in_word: rules.escaped_blank_in_word,
        };
        match split.words(rest, words) {
            Ok(true) => {
                directives.packjob.get_or_insert(component);
            }
            Ok(false) => {}
            Err(fatal) => directives.components[component] = Err(fatal),
        }
    }
    directives
}

/// One directive line being split into words (`get_argument` in a loop).
struct Split<'a> {
    file: &'a str,
    line: &'a str,
    lineno: usize,
    escaped_blank_in_word: bool,
}

impl Split<'_> {
    /// Appends the words of the line after the magic word; true when a
    /// `packjob` word was blanked (sbatch warns about it).
    fn words(&self, mut rest: &str, words: &mut Vec<Word>) -> Result<bool, String> {
        let (file, line, lineno) = (self.file, self.line, self.lineno);
        let mut packjob = false;
        loop {
            rest = rest.trim_start_matches(is_c_space);
            // sbatch blanks a leading hetjob/packjob word wherever a word
            // starts.
            if let Some((n, is_packjob)) = separator_len(rest) {
                packjob |= is_packjob;
                rest = rest[n..].trim_start_matches(is_c_space);
            }
            if rest.starts_with(':') {
                return Err(format!("{file}: line {lineno}: Unexpected `:` in [{line}]"));
            }
            if rest.is_empty() {
                return Ok(packjob);
            }
            let mut word = String::new();
            let mut quote: Option<char> = None;
            let mut escape = false;
            let mut chars = rest.char_indices().peekable();
            let mut end = rest.len();
            let mut comment = false;
            while let Some((at, c)) = chars.next() {
                if quote.is_none() && is_c_space(c) {
                    end = at;
                    break;
                }
                if escape {
                    escape = false;
                    word.push(c);
                    continue;
                }
                match (c, quote) {
                    // 24.11 and 26.05 keep a blank after a backslash.
                    ('\\', _)
                        if self.escaped_blank_in_word
                            && chars.peek().is_some_and(|(_, next)| *next == ' ') =>
                    {
                        chars.next();
                        word.push(' ');
                    }
                    ('\\', _) => escape = true,
                    (q, Some(open)) if q == open => quote = None,
                    (_, Some(_)) => word.push(c),
                    ('"' | '\'', None) => quote = Some(c),
                    ('#', None) => {
                        end = at;
                        comment = true;
                        break;
                    }
                    _ => word.push(c),
                }
            }
            if let Some(q) = quote {
                return Err(format!(
                    "{file}: line {lineno}: Unmatched `{q}` in [{line}]"
                ));
            }
            if !word.is_empty() {
                words.push(Word::new(word, Some(lineno)));
            }
            if comment {
                return Ok(packjob);
            }
            rest = &rest[end..];
        }
    }
}

/// Where the batch script itself (not a step) reads `SLURM_HET_GROUP_ID`:
/// it runs once, in component 0, where that variable is unset. Lines that
/// start an `srun` step are skipped (a step's shell may read it).
pub(crate) fn het_group_id_reads(script: &str, body_start: Option<usize>) -> Vec<usize> {
    let Some(start) = body_start else {
        return Vec::new();
    };
    script
        .split('\n')
        .enumerate()
        .skip(start - 1)
        .filter(|(_, line)| {
            let code = line.trim_start();
            !code.starts_with('#')
                && code.contains("SLURM_HET_GROUP_ID")
                && !code
                    .split_whitespace()
                    .next()
                    .is_some_and(|w| w.ends_with("srun"))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slurm_options::Release;

    fn read(script: &str, file: &str) -> Directives {
        super::read(script, file, &Rules::of(Release::Slurm22_05))
    }

    fn texts(words: &ComponentWords) -> Vec<&str> {
        words
            .as_ref()
            .expect("no fatal error")
            .iter()
            .map(|w| w.text.as_str())
            .collect()
    }

    #[test]
    fn components_separators_and_header_end() {
        let script = "#!/bin/bash\n#SBATCH -p cpu --ntasks=2\n\n# comment\n  #SBATCH --not-read\n#SBATCH hetjob\n#SBATCH --partition gpu # trailing comment\n#SBATCH  hetjob -N 2\necho hi\n#SBATCH --qos=never\n";
        let d = read(script, "job.sh");
        assert_eq!(d.components.len(), 3);
        assert_eq!(texts(&d.components[0]), ["-p", "cpu", "--ntasks=2"]);
        assert_eq!(texts(&d.components[1]), ["--partition", "gpu"]);
        assert_eq!(texts(&d.components[2]), ["-N", "2"]);
        assert_eq!(d.separators, [6, 8]);
        assert_eq!(d.body_start, Some(9));
        let lines: Vec<_> = d.components[1]
            .as_ref()
            .unwrap()
            .iter()
            .map(|w| w.line)
            .collect();
        assert_eq!(lines, [Some(7), Some(7)]);
    }

    #[test]
    fn quotes_escapes_and_comments() {
        // As in sbatch 22.05, a backslash does not protect a blank.
        let d = read(
            "#SBATCH -J \"my job\" --comment='a # b' -o out\\ file\\#x#y\n",
            "s",
        );
        assert_eq!(
            texts(&d.components[0]),
            ["-J", "my job", "--comment=a # b", "-o", "out", "file#x"]
        );
        let d = read("#SBATCH --job-name=\"open\n", "s.sh");
        assert_eq!(
            d.components[0].as_ref().unwrap_err(),
            "s.sh: line 1: Unmatched `\"` in [#SBATCH --job-name=\"open]"
        );
        let d = read("#SBATCH :\n", "s.sh");
        assert!(d.components[0]
            .as_ref()
            .unwrap_err()
            .contains("Unexpected `:`"));
    }

    #[test]
    fn a_backslash_before_a_blank_by_release() {
        let line = "#SBATCH -o out\\ file -J a\\b\n";
        assert_eq!(
            texts(&read(line, "s").components[0]),
            ["-o", "out", "file", "-J", "ab"]
        );
        let d = super::read(line, "s", &Rules::of(Release::Slurm24_11));
        assert_eq!(texts(&d.components[0]), ["-o", "out file", "-J", "ab"]);
    }

    #[test]
    fn packjob_and_slurm_magic() {
        let d = read("#SLURM -p a\n#SBATCH PACKJOB\n#SBATCH -p b\n", "s");
        assert_eq!(d.components.len(), 2);
        assert_eq!(d.slurm_magic_line, Some(1));
        assert_eq!(texts(&d.components[0]), ["-p", "a"]);
        assert_eq!(d.packjob, Some(1), "read in component 1's pass");
        assert_eq!(read("#SBATCH hetjob\n", "s").packjob, None);
    }

    #[test]
    fn het_group_id_in_the_batch_script_not_in_steps() {
        let script = "#!/bin/bash\n#SBATCH hetjob\necho $SLURM_HET_GROUP_ID\nif [ \"$SLURM_HET_GROUP_ID\" -eq 0 ]; then\n  srun --het-group=1 sh -c 'echo $SLURM_HET_GROUP_ID'\nfi\n# $SLURM_HET_GROUP_ID in a comment\n";
        let d = read(script, "s");
        assert_eq!(het_group_id_reads(script, d.body_start), [3, 4]);
    }
}
