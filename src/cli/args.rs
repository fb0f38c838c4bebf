//! A small argument reader: long options with `=` or a separate value,
//! positional words, and `--` ending the options. The tool has a handful
//! of options, so std is enough.

/// A command line the tool cannot use; main prints it with the usage.
#[derive(Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

/// One item of the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    /// `--name` or `--name=value`.
    Flag(String, Option<String>),
    /// A word that is not an option.
    Word(String),
    /// `--`: everything after it.
    Rest(Vec<String>),
}

/// The words after the command name.
pub struct Args<'a> {
    words: &'a [String],
    at: usize,
}

impl<'a> Args<'a> {
    pub fn new(words: &'a [String]) -> Args<'a> {
        Args { words, at: 0 }
    }

    /// The next word as is (the command name).
    pub fn next_word(&mut self) -> Option<String> {
        let word = self.words.get(self.at)?.clone();
        self.at += 1;
        Some(word)
    }

    /// The next item.
    pub fn next_item(&mut self) -> Option<Item> {
        let word = self.next_word()?;
        if word == "--" {
            let rest = self.words[self.at..].to_vec();
            self.at = self.words.len();
            return Some(Item::Rest(rest));
        }
        if let Some(flag) = word.strip_prefix("--") {
            return Some(match flag.split_once('=') {
                Some((name, value)) => Item::Flag(name.to_owned(), Some(value.to_owned())),
                None => Item::Flag(flag.to_owned(), None),
            });
        }
        if word.len() > 1 && word.starts_with('-') {
            return Some(Item::Flag(word[1..].to_owned(), None));
        }
        Some(Item::Word(word))
    }

    /// The value of flag `name`: its `=value`, or the next word.
    pub fn value(&mut self, name: &str, inline: Option<String>) -> Result<String, UsageError> {
        if let Some(value) = inline {
            return Ok(value);
        }
        self.next_word()
            .filter(|w| w != "--")
            .ok_or_else(|| UsageError(format!("--{name} needs a value")))
    }
}

/// Refuses a value given to a flag that takes none.
pub fn no_value(name: &str, inline: Option<String>) -> Result<(), UsageError> {
    match inline {
        Some(_) => Err(UsageError(format!("--{name} takes no value"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn items() {
        let w = words(&[
            "--format=json",
            "--policy",
            "p.yaml",
            "job.sh",
            "--",
            "-p",
            "cpu",
            ":",
        ]);
        let mut args = Args::new(&w);
        assert_eq!(
            args.next_item(),
            Some(Item::Flag("format".into(), Some("json".into())))
        );
        let Some(Item::Flag(name, inline)) = args.next_item() else {
            panic!("flag expected");
        };
        assert_eq!(args.value(&name, inline), Ok("p.yaml".to_owned()));
        assert_eq!(args.next_item(), Some(Item::Word("job.sh".into())));
        assert_eq!(
            args.next_item(),
            Some(Item::Rest(words(&["-p", "cpu", ":"])))
        );
        assert_eq!(args.next_item(), None);
    }

    #[test]
    fn missing_values() {
        let w = words(&["--policy"]);
        let mut args = Args::new(&w);
        let Some(Item::Flag(name, inline)) = args.next_item() else {
            panic!("flag expected");
        };
        assert!(args.value(&name, inline).is_err());
        assert!(no_value("strict", Some("1".into())).is_err());
    }
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Text for people (the default).
    Text,
    /// JSON for scripts and CI.
    Json,
}

impl Format {
    /// Reads `--format`'s value.
    pub fn parse(value: &str) -> Result<Format, UsageError> {
        match value {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => Err(UsageError(format!(
                "--format takes text or json, not '{other}'"
            ))),
        }
    }
}
