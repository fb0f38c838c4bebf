//! The documentation stays inside the repository and in one piece: every
//! Markdown link in README.md and docs/*.md is a relative link to a file of
//! the repository (and, into a Markdown page, to one of its headings), no
//! link leaves it (no `http://`, `https://` or `mailto:` target, nothing
//! outside the checkout), and README.md stays short.
//!
//! Links are read outside fenced code blocks and code spans: inline links
//! and images (`[text](target)`, `![alt](target)`), reference definitions
//! (`[label]: target`) and autolinks (`<https://...>`). An anchor must be
//! the GitHub-style id of a heading of the target page: its text without
//! backticks, lower-cased, without punctuation other than `-` and `_`,
//! spaces turned into `-`, and `-1`, `-2`, ... after repeats.
use std::fs;
use std::path::{Path, PathBuf};

/// README.md's most lines.
const README_MAX_LINES: usize = 300;

/// The pages docs/ must have.
const PAGES: &[&str] = &[
    "architecture.md",
    "cli.md",
    "install.md",
    "interface.md",
    "performance.md",
    "policy.md",
    "security.md",
    "testing.md",
    "troubleshooting.md",
    "upgrading.md",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// README.md and every docs/*.md, sorted.
fn markdown_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(repo().join("docs"))
        .expect("read docs/")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    files.sort();
    files.insert(0, repo().join("README.md"));
    files
}

/// The lines outside fenced code blocks, with their 1-based numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(marker)) => fence = Some(marker),
            (Some(open), Some(marker)) if open == marker && trimmed.trim_end() == marker => {
                fence = None
            }
            (None, None) => lines.push((index + 1, line)),
            _ => {}
        }
    }
    lines
}

/// `line` without its code spans (each replaced by a space).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        let closing = "`".repeat(ticks);
        match after.find(&closing) {
            Some(end) => {
                out.push(' ');
                rest = &after[end + ticks..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The link targets of one line of prose.
fn targets(line: &str) -> Vec<String> {
    let line = without_code_spans(line);
    let mut found = Vec::new();
    // Inline links and images: `](target)` or `](target "title")`.
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split_whitespace().next().unwrap_or("");
        found.push(target.trim_matches(|c| c == '<' || c == '>').to_owned());
        rest = &after[end..];
    }
    // Reference definitions: `[label]: target`.
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        if let Some(at) = trimmed.find("]:") {
            if let Some(target) = trimmed[at + 2..].split_whitespace().next() {
                found.push(target.to_owned());
            }
        }
    }
    // Autolinks.
    let mut rest = line.as_str();
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        let end = after.find('>').unwrap_or(after.len());
        let inside = &after[..end];
        if inside.contains("://") || inside.starts_with("mailto:") {
            found.push(inside.to_owned());
        }
        rest = &after[end..];
    }
    found
}

/// The anchors of a Markdown page's headings, GitHub style.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut anchors = Vec::new();
    for (_, line) in prose_lines(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let title = line[hashes..].trim().trim_end_matches('#').trim();
        let slug: String = title
            .replace('`', "")
            .to_lowercase()
            .chars()
            .filter(|&c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let repeats = seen.iter().filter(|s| **s == slug).count();
        seen.push(slug.clone());
        anchors.push(if repeats == 0 {
            slug
        } else {
            format!("{slug}-{repeats}")
        });
    }
    anchors
}

/// What is wrong with `target`, linked from `file`, if anything.
fn problem(file: &Path, target: &str) -> Option<String> {
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("http") || lower.starts_with("mailto:") || target.starts_with("//") {
        return Some("leaves the repository".to_owned());
    }
    if target.is_empty() {
        return Some("is empty".to_owned());
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let linked = if path.is_empty() {
        file.to_owned()
    } else if path.starts_with('/') {
        return Some("is absolute; use a path relative to the page".to_owned());
    } else {
        file.parent().expect("a page's directory").join(path)
    };
    let Ok(resolved) = linked.canonicalize() else {
        return Some(format!("names {}, which does not exist", linked.display()));
    };
    let root = repo().canonicalize().expect("the repository");
    if !resolved.starts_with(&root) {
        return Some(format!("leaves the repository ({})", resolved.display()));
    }
    if let Some(anchor) = anchor {
        if resolved.extension().is_some_and(|ext| ext == "md")
            && !anchors(&read(&resolved)).iter().any(|a| a == anchor)
        {
            return Some(format!(
                "names #{anchor}, which no heading of {} has",
                resolved.display()
            ));
        }
    }
    None
}

#[test]
fn every_link_stays_in_the_repository_and_resolves() {
    let mut problems = Vec::new();
    let mut links = 0;
    for file in markdown_files() {
        let text = read(&file);
        let name = file
            .strip_prefix(repo())
            .unwrap_or(&file)
            .display()
            .to_string();
        for (number, line) in prose_lines(&text) {
            for target in targets(line) {
                links += 1;
                if let Some(problem) = problem(&file, &target) {
                    problems.push(format!("{name}:{number}: ({target}) {problem}"));
                }
            }
        }
    }
    assert!(links >= 20, "only {links} links found: the scan is broken");
    assert!(
        problems.is_empty(),
        "broken or outside links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn docs_has_its_pages_and_readme_is_short() {
    for page in PAGES {
        let path = repo().join("docs").join(page);
        assert!(path.is_file(), "{} is missing", path.display());
    }
    let lines = read(&repo().join("README.md")).lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, more than {README_MAX_LINES}: move the detail into docs/"
    );
}

#[test]
fn the_scan_reads_markdown_as_github_does() {
    assert_eq!(
        targets("see [a](docs/a.md#x), `[not](b.md)` and ![i](img.png \"t\") <https://x.org>"),
        ["docs/a.md#x", "img.png", "https://x.org"]
    );
    assert_eq!(targets("[ref]: ../shared/x.md"), ["../shared/x.md"]);
    let page = "# T\n## `scontrol update` (job_modify)\n```\n# not a heading\n```\n## T\n";
    assert_eq!(anchors(page), ["t", "scontrol-update-job_modify", "t-1"]);
    assert_eq!(prose_lines("a\n```\n[x](y)\n```\nb"), [(1, "a"), (5, "b")]);
}
