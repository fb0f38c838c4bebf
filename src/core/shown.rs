//! How values that users typed appear in messages: a job field can hold
//! 100 KB or a terminal escape sequence, and the message that quotes it
//! goes to the user's terminal and to slurmctld's log.

use std::fmt;

/// Values longer than this many bytes are cut.
pub const SHOWN_MAX_BYTES: usize = 80;

/// How much of a cut value is kept.
const KEPT_BYTES: usize = 60;

/// A user value as messages show it: control characters escaped
/// (`\n`, `\u{1b}`), and cut after [`KEPT_BYTES`] with its length when it
/// is longer than [`SHOWN_MAX_BYTES`].
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.0;
        let (kept, cut) = if value.len() > SHOWN_MAX_BYTES {
            let mut end = KEPT_BYTES;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            (&value[..end], true)
        } else {
            (value, false)
        };
        for c in kept.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        if cut {
            write!(f, "...[{} bytes]", value.len())?;
        }
        Ok(())
    }
}

/// Shorthand for [`Shown`].
pub fn shown(value: &str) -> Shown<'_> {
    Shown(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_unchanged() {
        assert_eq!(shown("gpu").to_string(), "gpu");
        assert_eq!(shown("").to_string(), "");
        let edge = "x".repeat(SHOWN_MAX_BYTES);
        assert_eq!(shown(&edge).to_string(), edge);
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        let long = "p".repeat(100_000);
        assert_eq!(
            shown(&long).to_string(),
            format!("{}...[100000 bytes]", "p".repeat(KEPT_BYTES))
        );
        // Never inside a character.
        let wide = "é".repeat(100);
        let text = shown(&wide).to_string();
        assert!(text.starts_with(&"é".repeat(KEPT_BYTES / 2)), "{text}");
        assert!(text.ends_with("...[200 bytes]"), "{text}");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(shown("a\nb\u{1b}[31m").to_string(), "a\\nb\\u{1b}[31m");
    }
}
