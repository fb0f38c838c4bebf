//! docs/troubleshooting.md explains every message the plugins and the
//! engine log or show: this reads the sources, extracts every message
//! literal, and fails, listing them, on those the page does not hold.
//!
//! What counts as a message literal (the rule, applied the same way to
//! every file, with no list of exceptions):
//!
//! 1. Files: every `.rs` file under `src/`, at any depth, except those
//!    under `src/cli/` (the command line tool's own output, described in
//!    docs/cli.md), those under a directory named `benches`, and files
//!    named `tests.rs` or `build.rs`.
//! 2. Code left out: comments, attributes (`#[...]`, `#![...]`), and the
//!    item that follows `#[cfg(test)]` (a file's unit tests).
//! 3. Literals: every string literal, `"..."` and raw `r"..."`/`r#"..."#`,
//!    read as Rust reads it: escapes decoded, and a `\` at the end of a
//!    line dropping the newline and the next line's leading whitespace.
//!    Byte strings (`b"..."`) and C strings (`c"..."`) are data for Slurm's
//!    ABI, not text anyone reads.
//! 4. Not messages: literals inside the arguments of `panic!`, `assert!`,
//!    `assert_eq!`, `assert_ne!`, `debug_assert!`, `debug_assert_eq!`,
//!    `debug_assert_ne!`, `unreachable!`, `todo!`, `unimplemented!` and
//!    `.expect(...)` (invariants; should one fail, the plugins log it
//!    through the `internal error: {}` line, which the page explains), and
//!    literals given as patterns to string methods (`.find(`, `.rfind(`,
//!    `.contains(`, `.starts_with(`, `.ends_with(`, `.strip_prefix(`,
//!    `.strip_suffix(`, `.split(`, `.rsplit(`, `.splitn(`, `.split_once(`,
//!    `.rsplit_once(`, `.replace(`, `.replacen(`, `.matches(`,
//!    `.trim_matches(`, `.trim_start_matches(`, `.trim_end_matches(`,
//!    `.eq_ignore_ascii_case(`).
//! 5. A literal left is a message when, outside its `{...}` format
//!    placeholders, it has at least two whitespace-separated words that
//!    hold a letter: a sentence or a piece of one (the first string
//!    literal of a `format!`, `write!` or log macro, of a `reject(...)`,
//!    and the texts that fill their placeholders). Single words, paths,
//!    option names and formats made of placeholders (`{}:{}`) are not.
//!
//! A message is documented when one line of docs/troubleshooting.md holds
//! it, runs of whitespace counting as one space and each placeholder of
//! the message (`{}`, `{name}`, `{0:?}`; `{{` and `}}` are literal braces,
//! as in format strings) standing for any text: the page's own `{field}`,
//! or an example value.
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The source files of rule 1, sorted.
fn source_files(dir: &Path, src: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if path == src.join("cli") || name == "benches" {
                continue;
            }
            source_files(&path, src, found);
        } else if name.ends_with(".rs") && name != "tests.rs" && name != "build.rs" {
            found.push(path);
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Punct(char),
    /// A string literal's value; `text` is false for byte and C strings.
    Str {
        value: String,
        text: bool,
        line: usize,
    },
}

/// Decodes the escape after a backslash at `chars[*at]` (the backslash
/// already consumed), as Rust does in a string literal.
fn unescape(chars: &[char], at: &mut usize, out: &mut String, line: &mut usize) {
    let c = chars[*at];
    *at += 1;
    match c {
        'n' => out.push('\n'),
        'r' => out.push('\r'),
        't' => out.push('\t'),
        '0' => out.push('\0'),
        '\\' | '\'' | '"' => out.push(c),
        'x' => {
            let hex: String = chars[*at..*at + 2].iter().collect();
            *at += 2;
            out.push(char::from(u8::from_str_radix(&hex, 16).unwrap_or(b'?')));
        }
        'u' => {
            // \u{...}
            let close = chars[*at..]
                .iter()
                .position(|&c| c == '}')
                .expect("\\u{...} is closed");
            let hex: String = chars[*at + 1..*at + close].iter().collect();
            *at += close + 1;
            out.push(
                u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('?'),
            );
        }
        '\n' => {
            // A line continuation: the newline and the next line's leading
            // whitespace go.
            *line += 1;
            while *at < chars.len() && chars[*at].is_whitespace() {
                if chars[*at] == '\n' {
                    *line += 1;
                }
                *at += 1;
            }
        }
        other => {
            out.push('\\');
            out.push(other);
        }
    }
}

/// Rust source to tokens: identifiers (and numbers), punctuation and
/// string literals; comments, char literals and lifetimes dropped.
fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    let mut line = 1;
    while at < chars.len() {
        let c = chars[at];
        let next = chars.get(at + 1).copied();
        if c == '\n' {
            line += 1;
            at += 1;
        } else if c.is_whitespace() {
            at += 1;
        } else if c == '/' && next == Some('/') {
            while at < chars.len() && chars[at] != '\n' {
                at += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while at < chars.len() {
                if chars[at] == '/' && chars.get(at + 1) == Some(&'*') {
                    depth += 1;
                    at += 2;
                } else if chars[at] == '*' && chars.get(at + 1) == Some(&'/') {
                    depth -= 1;
                    at += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[at] == '\n' {
                        line += 1;
                    }
                    at += 1;
                }
            }
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{1b}') or a lifetime ('a).
            if next == Some('\\') {
                at += 2;
                while at < chars.len() && chars[at] != '\'' {
                    at += 1;
                }
                at += 1;
            } else if chars.get(at + 2) == Some(&'\'') {
                at += 3;
            } else {
                at += 1;
            }
        } else if c == '"' {
            let start_line = line;
            at += 1;
            let mut value = String::new();
            while chars[at] != '"' {
                if chars[at] == '\\' {
                    at += 1;
                    unescape(&chars, &mut at, &mut value, &mut line);
                } else {
                    if chars[at] == '\n' {
                        line += 1;
                    }
                    value.push(chars[at]);
                    at += 1;
                }
            }
            at += 1;
            out.push(Token::Str {
                value,
                text: true,
                line: start_line,
            });
        } else if c.is_alphanumeric() || c == '_' {
            let start = at;
            while at < chars.len() && (chars[at].is_alphanumeric() || chars[at] == '_') {
                at += 1;
            }
            let word: String = chars[start..at].iter().collect();
            let prefix = matches!(word.as_str(), "r" | "b" | "br" | "c" | "cr");
            let raw = word.ends_with('r');
            let quote = chars.get(at).copied();
            if prefix && (quote == Some('"') || (raw && quote == Some('#'))) {
                let text = !word.starts_with('b') && !word.starts_with('c');
                let start_line = line;
                if raw {
                    let hashes = chars[at..].iter().take_while(|&&c| c == '#').count();
                    at += hashes + 1;
                    let mut value = String::new();
                    loop {
                        if chars[at] == '"'
                            && chars[at + 1..].iter().take(hashes).all(|&c| c == '#')
                            && chars[at + 1..].len() >= hashes
                        {
                            at += 1 + hashes;
                            break;
                        }
                        if chars[at] == '\n' {
                            line += 1;
                        }
                        value.push(chars[at]);
                        at += 1;
                    }
                    out.push(Token::Str {
                        value,
                        text,
                        line: start_line,
                    });
                } else {
                    // b"..." or c"...": the escapes matter only to find the
                    // end.
                    at += 1;
                    let mut value = String::new();
                    while chars[at] != '"' {
                        if chars[at] == '\\' {
                            at += 1;
                            unescape(&chars, &mut at, &mut value, &mut line);
                        } else {
                            value.push(chars[at]);
                            at += 1;
                        }
                    }
                    at += 1;
                    out.push(Token::Str {
                        value,
                        text,
                        line: start_line,
                    });
                }
            } else {
                out.push(Token::Ident(word));
            }
        } else {
            out.push(Token::Punct(c));
            at += 1;
        }
    }
    out
}

const INVARIANT_MACROS: &[&str] = &[
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "unreachable",
    "todo",
    "unimplemented",
];

const NOT_MESSAGE_METHODS: &[&str] = &[
    "expect",
    "find",
    "rfind",
    "contains",
    "starts_with",
    "ends_with",
    "strip_prefix",
    "strip_suffix",
    "split",
    "rsplit",
    "splitn",
    "split_once",
    "rsplit_once",
    "replace",
    "replacen",
    "matches",
    "trim_matches",
    "trim_start_matches",
    "trim_end_matches",
    "eq_ignore_ascii_case",
];

fn is_open(token: &Token) -> bool {
    matches!(token, Token::Punct('(' | '[' | '{'))
}

fn is_close(token: &Token) -> bool {
    matches!(token, Token::Punct(')' | ']' | '}'))
}

/// The index after the group that opens at `tokens[open]`.
fn after_group(tokens: &[Token], open: usize) -> usize {
    let mut depth = 0usize;
    for (at, token) in tokens.iter().enumerate().skip(open) {
        if is_open(token) {
            depth += 1;
        } else if is_close(token) {
            depth -= 1;
            if depth == 0 {
                return at + 1;
            }
        }
    }
    tokens.len()
}

/// The index after the item that starts at `tokens[start]`: its `;` or
/// its `{...}` body, whichever comes first outside brackets.
fn after_item(tokens: &[Token], start: usize) -> usize {
    let mut at = start;
    while at < tokens.len() {
        match &tokens[at] {
            Token::Punct('{') => return after_group(tokens, at),
            Token::Punct(';') => return at + 1,
            token if is_open(token) => at = after_group(tokens, at),
            _ => at += 1,
        }
    }
    tokens.len()
}

/// (line, literal) for every literal of rules 2 to 4 in `source`.
fn literals(source: &str) -> Vec<(usize, String)> {
    let tokens = tokens(source);
    let mut found = Vec::new();
    // One flag per open group: inside a non-message context.
    let mut groups: Vec<bool> = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        let token = &tokens[at];
        // Attributes, and the item after #[cfg(test)].
        if *token == Token::Punct('#') {
            let open = match tokens.get(at + 1) {
                Some(Token::Punct('[')) => Some(at + 1),
                Some(Token::Punct('!')) if tokens.get(at + 2) == Some(&Token::Punct('[')) => {
                    Some(at + 2)
                }
                _ => None,
            };
            if let Some(open) = open {
                let end = after_group(&tokens, open);
                let cfg_test = tokens[open + 1..end - 1]
                    == [
                        Token::Ident("cfg".into()),
                        Token::Punct('('),
                        Token::Ident("test".into()),
                        Token::Punct(')'),
                    ];
                at = if cfg_test {
                    after_item(&tokens, end)
                } else {
                    end
                };
                continue;
            }
        }
        if is_open(token) {
            let before = |back: usize| at.checked_sub(back).map(|i| &tokens[i]);
            let invariant = matches!(
                (before(2), before(1)),
                (Some(Token::Ident(name)), Some(Token::Punct('!')))
                    if INVARIANT_MACROS.contains(&name.as_str())
            );
            let pattern = *token == Token::Punct('(')
                && matches!(
                    (before(2), before(1)),
                    (Some(Token::Punct('.')), Some(Token::Ident(name)))
                        if NOT_MESSAGE_METHODS.contains(&name.as_str())
                );
            let inherited = groups.last().copied().unwrap_or(false);
            groups.push(inherited || invariant || pattern);
        } else if is_close(token) {
            groups.pop();
        } else if let Token::Str { value, text, line } = token {
            if *text && !groups.last().copied().unwrap_or(false) {
                found.push((*line, value.clone()));
            }
        }
        at += 1;
    }
    found
}

/// A literal cut at its format placeholders: the fixed parts, with `{{`
/// and `}}` read as braces.
fn fixed_parts(literal: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                parts.last_mut().expect("a part").push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                parts.last_mut().expect("a part").push('}');
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                parts.push(String::new());
            }
            _ => parts.last_mut().expect("a part").push(c),
        }
    }
    parts
}

/// Runs of whitespace as one space.
fn one_space(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space && !out.is_empty() {
        out.push(' ');
    }
    out
}

/// Rule 5: two words with a letter outside placeholders.
fn is_message(literal: &str) -> bool {
    let words = fixed_parts(literal)
        .join(" ")
        .split_whitespace()
        .filter(|word| word.chars().any(|c| c.is_ascii_alphabetic()))
        .count();
    words >= 2
}

/// The literal as the page shows it: whitespace runs as one space, no
/// leading or trailing space.
fn shown(literal: &str) -> String {
    one_space(literal).trim().to_owned()
}

/// One message to find: its fixed parts, whitespace normalised.
fn pattern(message: &str) -> Vec<String> {
    fixed_parts(message.trim())
        .iter()
        .map(|part| one_space(part))
        .filter(|part| !part.is_empty())
        .collect()
}

/// True when `line` holds the parts in order.
fn line_holds(line: &str, parts: &[String]) -> bool {
    let mut from = 0;
    for part in parts {
        match line[from..].find(part.as_str()) {
            Some(at) => from += at + part.len(),
            None => return false,
        }
    }
    true
}

struct Message {
    text: String,
    places: Vec<String>,
}

/// Every message of the sources, once each, in the order first found.
fn messages() -> Vec<Message> {
    let src = repo().join("src");
    let mut files = Vec::new();
    source_files(&src, &src, &mut files);
    assert!(!files.is_empty(), "no sources under {}", src.display());
    let mut found: Vec<Message> = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(repo())
            .unwrap_or(file)
            .display()
            .to_string();
        for (line, literal) in literals(&read(file)) {
            if !is_message(&literal) {
                continue;
            }
            let text = shown(&literal);
            let place = format!("{relative}:{line}");
            match found.iter_mut().find(|m| m.text == text) {
                Some(message) => message.places.push(place),
                None => found.push(Message {
                    text,
                    places: vec![place],
                }),
            }
        }
    }
    found
}

fn page() -> Vec<String> {
    read(&repo().join("docs").join("troubleshooting.md"))
        .lines()
        .map(one_space)
        .collect()
}

#[test]
fn troubleshooting_md_explains_every_message() {
    let messages = messages();
    // The scan itself works: these are certainly messages.
    for known in [
        "kept last good policy",
        "uid {uid}: rejected: {}",
        "job update changes {field}, which hetpolicy cannot check against the rest of the job; \
         cancel the job and submit it again with the new {field} (scancel, then sbatch), or ask \
         an administrator to make the change (policy: job_updates.unjudged_allowed_for)",
        "hetpolicy: this cluster's job policy could not be loaded, so no job can be accepted \
         now; please contact your administrator",
        "plugstack.conf argument '{key}' is given twice",
    ] {
        assert!(
            messages.iter().any(|m| m.text == known),
            "the scan misses the message {known:?}"
        );
    }
    assert!(
        messages.len() >= 150,
        "the scan finds only {} messages",
        messages.len()
    );
    let page = page();
    let missing: Vec<String> = messages
        .iter()
        .filter(|m| {
            let parts = pattern(&m.text);
            !page.iter().any(|line| line_holds(line, &parts))
        })
        .map(|m| format!("{}\n    ({})", m.text, m.places.join(", ")))
        .collect();
    println!(
        "{} messages checked, {} missing from docs/troubleshooting.md",
        messages.len(),
        missing.len()
    );
    assert!(
        missing.is_empty(),
        "docs/troubleshooting.md does not explain these {} messages (add each, with its \
         placeholders, to the section where it appears):\n{}",
        missing.len(),
        missing.join("\n")
    );
}

#[test]
fn the_rule_reads_rust_as_rust_does() {
    let source = r##"
        //! "a doc comment is no message"
        fn f() {
            log::error!("one two \
                         three {x} four");
            let s = "kept as is".to_owned();
            let p = text.rfind(" at line ");
            let e = x.expect("an invariant here");
            panic!("an invariant {x}");
            let b = b"plugin name bytes";
            let r = r#"a "raw" string"#;
            let c = '"';
            let l: &'static str = "after a lifetime";
        }
        #[cfg_attr(feature = "x y", allow(dead_code))]
        const A: &str = "a constant text";
        #[cfg(test)]
        mod tests {
            fn g() { let t = "a test text"; }
        }
        fn h() { let after = "after the tests"; }
    "##;
    let found: Vec<String> = literals(source).into_iter().map(|(_, l)| l).collect();
    assert_eq!(
        found,
        [
            "one two three {x} four",
            "kept as is",
            "a \"raw\" string",
            "after a lifetime",
            "a constant text",
            "after the tests",
        ]
    );
    assert!(is_message("uid {uid}: rejected: {}"));
    assert!(!is_message("{}:{}:{}"));
    assert!(!is_message("/dev/null"));
    assert!(!is_message("line {line}"));
    let parts = pattern("partition '{}' allows QOS '{}', but {{}} stays");
    assert_eq!(parts, ["partition '", "' allows QOS '", "', but {} stays"]);
    assert!(line_holds(
        "x partition '{p}' allows QOS 'gpus', but {} stays",
        &parts
    ));
    assert!(!line_holds("partition 'a' allows QOS", &parts));
}
