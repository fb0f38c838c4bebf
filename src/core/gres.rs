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
//! Counts take Slurm's suffixes as its `suffix_mult` reads them (`k`, `kib`
//! 1024; `kb` 1000; up to `p`/`pib`/`pb`), so `gpu:1kb` is 1000 GPUs, as
//! slurmctld will allocate, never a GPU of type `1kb`. Parsing borrows from
//! the input and never allocates.

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
///
/// A field after the name is a count when Slurm reads it as one, else a
/// type: slurmctld's `_is_valid_number` (src/common/gres.c in 22.05,
/// src/common/slurm_protocol_defs.c in 24.11+) takes `strtoull` digits
/// followed by one of `suffix_mult`'s suffixes. A field the releases read
/// differently (see [`Count::Ambiguous`]) is an error, so that the job is
/// refused rather than judged on a count slurmctld will not use.
fn parse_entry(body: &str) -> Option<GresRequest<'_>> {
    let (spec, explicit_count) = match body.split_once('=') {
        Some((spec, count)) => match read_count(count) {
            Count::Number(count) => (spec, Some(count)),
            _ => return None,
        },
        None => (body, None),
    };
    let mut fields = spec.split(':');
    let name = fields.next().filter(|n| is_word(n))?;
    let rest: [Option<&str>; 3] = [fields.next(), fields.next(), fields.next()];
    let (gres_type, count) = match (rest, explicit_count) {
        ([None, _, _], Some(count)) => (None, count),
        ([Some(t), None, _], Some(count)) if is_word(t) => (Some(t), count),
        ([None, _, _], None) => (None, 1),
        ([Some(one), None, _], None) => match read_count(one) {
            Count::Number(count) => (None, count),
            Count::NotANumber if is_word(one) => (Some(one), 1),
            _ => return None,
        },
        ([Some(t), Some(count), None], None) if is_word(t) => match read_count(count) {
            Count::Number(count) => (Some(t), count),
            _ => return None,
        },
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

/// How Slurm reads the field after a GRES name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Count {
    /// A count every release reads the same way.
    Number(u64),
    /// Not a count in any release: a GRES type such as `a100` or
    /// `3g.20gb` (digits followed by something that is not a suffix).
    NotANumber,
    /// Read differently by the releases or by C's arithmetic, so not
    /// judged: a bare suffix (`k`: 22.05 reads a count of 0, 24.11+ a
    /// type), a sign or blank before the digits (`strtoull` takes them in
    /// 22.05), more digits than 64 bits hold (`strtoull` saturates) or a
    /// product that overflows (C's multiplication wraps around).
    Ambiguous,
}

/// Slurm's `suffix_mult` (src/common/slurm_protocol_defs.c): `k`/`kib`
/// 1024, `kb` 1000, and so on to `p`/`pib`/`pb`, in any case; `None` for
/// anything else.
fn suffix_multiplier(suffix: &str) -> Option<u64> {
    const UNITS: [&str; 5] = ["k", "m", "g", "t", "p"];
    if suffix.is_empty() {
        return Some(1);
    }
    let bytes = suffix.as_bytes();
    let unit = UNITS
        .iter()
        .position(|u| bytes[0].eq_ignore_ascii_case(&u.as_bytes()[0]))?;
    let power = u32::try_from(unit).ok()? + 1;
    match &bytes[1..] {
        [] => Some(1024u64.pow(power)),
        [b] if b.eq_ignore_ascii_case(&b'b') => Some(1000u64.pow(power)),
        [i, b] if i.eq_ignore_ascii_case(&b'i') && b.eq_ignore_ascii_case(&b'b') => {
            Some(1024u64.pow(power))
        }
        _ => None,
    }
}

/// Reads a count field as slurmctld does (see [`Count`]).
fn read_count(text: &str) -> Count {
    let digits_end = text
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    if digits.is_empty() {
        let starts_like_strtoull = text
            .bytes()
            .next()
            .is_some_and(|b| matches!(b, b'+' | b'-') || b.is_ascii_whitespace());
        return if starts_like_strtoull || suffix_multiplier(text).is_some() {
            Count::Ambiguous
        } else {
            Count::NotANumber
        };
    }
    let Some(multiplier) = suffix_multiplier(suffix) else {
        return Count::NotANumber;
    };
    match digits.parse::<u64>() {
        Ok(value) if value < u64::MAX => match value.checked_mul(multiplier) {
            Some(count) => Count::Number(count),
            None => Count::Ambiguous,
        },
        _ => Count::Ambiguous,
    }
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
    fn every_suffix_of_slurms_suffix_mult() {
        for (suffix, multiplier) in [
            ("k", 1u64 << 10),
            ("kib", 1 << 10),
            ("kb", 1_000),
            ("m", 1 << 20),
            ("MiB", 1 << 20),
            ("mb", 1_000_000),
            ("G", 1 << 30),
            ("gib", 1 << 30),
            ("gB", 1_000_000_000),
            ("t", 1 << 40),
            ("tib", 1 << 40),
            ("TB", 1_000_000_000_000),
            ("p", 1 << 50),
            ("pib", 1 << 50),
            ("pb", 1_000_000_000_000_000),
        ] {
            for field in ["gres:gpu:1", "gres/gpu:1", "gres/gpu=1", "gres:gpu:a100:1"] {
                let tres = format!("{field}{suffix}");
                let request = parse(&tres).next().unwrap().unwrap();
                assert_eq!(request.count, multiplier, "{tres}");
                assert_ne!(request.gres_type, Some("1kb"), "{tres}");
            }
        }
        // 22.05's test case from the field: gpu:1kb is 1000 GPUs.
        assert_eq!(all("gres:gpu:1kb"), vec![one("gpu", None, 1000)]);
    }

    #[test]
    fn types_that_start_like_numbers_or_suffixes_stay_types() {
        assert_eq!(all("gres:gpu:k80:1"), vec![one("gpu", Some("k80"), 1)]);
        assert_eq!(all("gres:gpu:k80"), vec![one("gpu", Some("k80"), 1)]);
        assert_eq!(all("gres:gpu:p100"), vec![one("gpu", Some("p100"), 1)]);
        assert_eq!(all("gres:gpu:tesla"), vec![one("gpu", Some("tesla"), 1)]);
        assert_eq!(all("gres:gpu:1x"), vec![one("gpu", Some("1x"), 1)]);
        assert_eq!(all("gres:gpu:1kbx"), vec![one("gpu", Some("1kbx"), 1)]);
    }

    #[test]
    fn fields_the_releases_read_differently_are_errors() {
        // A bare suffix: 22.05's strtoull reads 0 digits and `kb` as a
        // count of 0, 24.11+ reads a type. A sign: 22.05's strtoull takes
        // it. Overflow: C wraps `17179869184g` around to 0.
        for bad in [
            "gres:gpu:k",
            "gres:gpu:kb",
            "gres:gpu:MIB",
            "gres:gpu:a100:pb",
            "gres:gpu:+2",
            "gres:gpu:-2",
            "gres/gpu=+1",
            "gres:gpu:16777216t",
            "gres:gpu:18446744073709551615",
        ] {
            let results: Vec<_> = parse(bad).collect();
            assert!(
                results.iter().any(Result::is_err),
                "{bad:?} should be an error, got {results:?}"
            );
        }
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
