//! Parser for the GRES requests in Slurm's `tres_per_job`, `tres_per_node`,
//! `tres_per_socket` and `tres_per_task` strings.
//!
//! Every form Slurm has written there is understood:
//! - 22.05: `gres:gpu:2`, `gres:gpu` (count 1), `gres:gpu:a100:2`;
//! - 23.11+: `gres/gpu:2`, `gres/gpu`, `gres/gpu:a100:2`;
//! - 24.05+ `tres_per_task`: `cpu=4,gres/gpu=1`, `gres/gpu:a100=1`;
//! - comma (or semicolon) separated lists of any of these.
//!
//! Entries that are not GRES (`cpu=4`, `mem=1G`, `license/x=1`) are skipped.
//! Counts accept Slurm's `k`/`m`/`g` multipliers (powers of 1024). Parsing
//! borrows from the input and never allocates.

use std::fmt;

use crate::shown::shown;

/// One GRES request, borrowed from the TRES string it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GresRequest<'a> {
    /// The GRES name: `gpu`, `qpu`, ...
    pub name: &'a str,
    /// The GRES type, as in `gpu:a100:2`.
    pub gres_type: Option<&'a str>,
    /// How many were asked for (per job, node, socket or task, depending on
    /// the field the string came from). Zero means "none".
    pub count: u64,
}

impl fmt::Display for GresRequest<'_> {
    /// Formats the request the way a user writes it: `gpu:a100:2` (long
    /// names and types cut, see [`crate::shown`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.gres_type {
            Some(gres_type) => write!(
                f,
                "{}:{}:{}",
                shown(self.name),
                shown(gres_type),
                self.count
            ),
            None => write!(f, "{}:{}", shown(self.name), self.count),
        }
    }
}

/// A GRES entry that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GresParseError {
    /// The entry as it appeared in the TRES string, as messages show it
    /// (cut when long, see [`crate::shown`]).
    pub entry: String,
}

impl fmt::Display for GresParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read the GRES request '{}': expected NAME, NAME:COUNT or NAME:TYPE:COUNT",
            self.entry
        )
    }
}

/// Iterates over the GRES requests of one TRES string.
pub fn parse(tres: &str) -> GresIter<'_> {
    GresIter {
        entries: tres.split([',', ';']),
    }
}

/// The iterator returned by [`parse`].
#[derive(Clone)]
pub struct GresIter<'a> {
    entries: std::str::Split<'a, [char; 2]>,
}

impl<'a> Iterator for GresIter<'a> {
    type Item = Result<GresRequest<'a>, GresParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        for entry in self.entries.by_ref() {
            let entry = entry.trim();
            let Some(body) = entry
                .strip_prefix("gres:")
                .or_else(|| entry.strip_prefix("gres/"))
            else {
                continue;
            };
            return Some(parse_entry(body).ok_or_else(|| GresParseError {
                entry: shown(entry).to_string(),
            }));
        }
        None
    }
}

/// Parses `NAME[:TYPE][:COUNT]` or `NAME[:TYPE]=COUNT` (the part after
/// `gres:`/`gres/`).
fn parse_entry(body: &str) -> Option<GresRequest<'_>> {
    let (spec, explicit_count) = match body.split_once('=') {
        Some((spec, count)) => (spec, Some(parse_count(count)?)),
        None => (body, None),
    };
    let mut fields = spec.split(':');
    let name = fields.next().filter(|n| is_word(n))?;
    let rest: [Option<&str>; 3] = [fields.next(), fields.next(), fields.next()];
    let (gres_type, count) = match (rest, explicit_count) {
        ([None, _, _], Some(count)) => (None, count),
        ([Some(t), None, _], Some(count)) if is_word(t) => (Some(t), count),
        ([None, _, _], None) => (None, 1),
        ([Some(one), None, _], None) => match parse_count(one) {
            Some(count) => (None, count),
            // `17179869184g` is a count too big to hold, not a type.
            None if is_word(one) && !looks_like_count(one) => (Some(one), 1),
            None => return None,
        },
        ([Some(t), Some(count), None], None) if is_word(t) => (Some(t), parse_count(count)?),
        _ => return None,
    };
    Some(GresRequest {
        name,
        gres_type,
        count,
    })
}

fn is_word(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && !text.starts_with('-')
        && !text.bytes().all(|b| b.is_ascii_digit())
}

/// Digits with an optional k/m/g multiplier, whatever their value.
fn looks_like_count(text: &str) -> bool {
    let digits = text.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    text.len() - digits.len() <= 1
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A count with Slurm's optional k/m/g multiplier (1024-based).
fn parse_count(text: &str) -> Option<u64> {
    let (digits, multiplier) = match text.as_bytes().last()? {
        b'k' | b'K' => (&text[..text.len() - 1], 1u64 << 10),
        b'm' | b'M' => (&text[..text.len() - 1], 1u64 << 20),
        b'g' | b'G' => (&text[..text.len() - 1], 1u64 << 30),
        _ => (text, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(tres: &str) -> Vec<(String, Option<String>, u64)> {
        parse(tres)
            .map(|r| {
                let r = r.unwrap_or_else(|e| panic!("{tres}: {e}"));
                (r.name.to_owned(), r.gres_type.map(str::to_owned), r.count)
            })
            .collect()
    }

    fn one(name: &str, gres_type: Option<&str>, count: u64) -> (String, Option<String>, u64) {
        (name.to_owned(), gres_type.map(str::to_owned), count)
    }

    #[test]
    fn slurm_22_05_colon_form() {
        assert_eq!(all("gres:gpu:2"), vec![one("gpu", None, 2)]);
        assert_eq!(all("gres:gpu"), vec![one("gpu", None, 1)]);
        assert_eq!(all("gres:gpu:a100:2"), vec![one("gpu", Some("a100"), 2)]);
        assert_eq!(all("gres:gpu:a100"), vec![one("gpu", Some("a100"), 1)]);
        assert_eq!(
            all("gres:gpu:3g.20gb:1"),
            vec![one("gpu", Some("3g.20gb"), 1)]
        );
        assert_eq!(all("gres:qpu:1"), vec![one("qpu", None, 1)]);
    }

    #[test]
    fn slurm_23_11_slash_form() {
        assert_eq!(all("gres/gpu:2"), vec![one("gpu", None, 2)]);
        assert_eq!(all("gres/gpu"), vec![one("gpu", None, 1)]);
        assert_eq!(all("gres/gpu:a100:2"), vec![one("gpu", Some("a100"), 2)]);
    }

    #[test]
    fn slurm_24_05_equals_form_in_lists() {
        assert_eq!(all("cpu=4,gres/gpu=1"), vec![one("gpu", None, 1)]);
        assert_eq!(
            all("cpu=4,gres/gpu:a100=2,mem=1G"),
            vec![one("gpu", Some("a100"), 2)]
        );
    }

    #[test]
    fn comma_and_semicolon_lists() {
        assert_eq!(
            all("gres:gpu:2,gres:qpu:1"),
            vec![one("gpu", None, 2), one("qpu", None, 1)]
        );
        assert_eq!(
            all("gres/gpu:1;gres/qpu"),
            vec![one("gpu", None, 1), one("qpu", None, 1)]
        );
        assert_eq!(
            all(" gres:gpu:1 , license/foo=1 "),
            vec![one("gpu", None, 1)]
        );
    }

    #[test]
    fn counts_with_multipliers_and_zero() {
        assert_eq!(all("gres:gpu:0"), vec![one("gpu", None, 0)]);
        assert_eq!(all("gres:mps:2k"), vec![one("mps", None, 2048)]);
        assert_eq!(all("gres/bw=1G"), vec![one("bw", None, 1 << 30)]);
    }

    #[test]
    fn non_gres_strings_yield_nothing() {
        assert!(all("").is_empty());
        assert!(all("cpu=4").is_empty());
        assert!(all(",,,").is_empty());
    }

    #[test]
    fn malformed_entries_are_errors_not_panics() {
        for bad in [
            "gres:",
            "gres/",
            "gres::2",
            "gres:gpu:a100:2:3",
            "gres:gpu:-1",
            "gres:gpu:99999999999999999999",
            "gres:gpu:17179869184g",
            "gres/gpu:a100:17179869184g",
            "gres/gpu=17179869184g",
            "gres:gpu=",
            "gres:gpu:x:y",
            "gres:2",
            "gres:gpu:a100:b=1",
        ] {
            let results: Vec<_> = parse(bad).collect();
            assert!(
                results.iter().any(Result::is_err),
                "{bad:?} should be an error, got {results:?}"
            );
        }
    }

    #[test]
    fn long_entries_are_cut_in_errors_and_display() {
        let long_type = format!("gres/gpu:{}:1", "t".repeat(100_000));
        let request = parse(&long_type).next().unwrap().unwrap();
        assert!(request.to_string().ends_with("...[100000 bytes]:1"));
        let long_bad = format!("gres/gpu:{}", "-".repeat(100_000));
        let error = parse(&long_bad).next().unwrap().unwrap_err();
        assert!(error.entry.len() < 100, "{}", error.entry);
    }

    #[test]
    fn display_is_user_notation() {
        let r = parse("gres/gpu:a100:2").next().unwrap().unwrap();
        assert_eq!(r.to_string(), "gpu:a100:2");
        let r = parse("gres:gpu").next().unwrap().unwrap();
        assert_eq!(r.to_string(), "gpu:1");
    }
}
