//! The site examples stay valid and documented: every `examples/*.yaml`
//! passes `hetpolicy check --deny-warnings`, names the script it is derived
//! from, and has its coverage table in docs/examples.md; there are at least
//! five of them.
mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fewest site examples the repository keeps.
const MIN_EXAMPLES: usize = 5;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every examples/*.yaml, sorted.
fn examples() -> Vec<PathBuf> {
    let dir = repo().join("examples");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    files
}

/// `examples/<file name>`, as docs/examples.md names it.
fn shown(path: &Path) -> String {
    let name = path.file_name().expect("a file name").to_string_lossy();
    format!("examples/{name}")
}

#[test]
fn there_are_enough_examples() {
    let found = examples();
    assert!(
        found.len() >= MIN_EXAMPLES,
        "examples/ holds {} policies ({:?}), fewer than {MIN_EXAMPLES}",
        found.len(),
        found.iter().map(|p| shown(p)).collect::<Vec<_>>()
    );
}

#[test]
fn every_example_passes_check_with_warnings_denied() {
    let bin = common::bin::hetpolicy();
    let mut failures = Vec::new();
    for example in examples() {
        let out = Command::new(bin)
            .args(["check", "--deny-warnings"])
            .arg(&example)
            .env_remove("SLURM_CONF")
            .output()
            .unwrap_or_else(|e| panic!("run {bin}: {e}"));
        if !out.status.success() {
            failures.push(format!(
                "{} (exit {:?}):\n{}{}",
                shown(&example),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "hetpolicy check --deny-warnings failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_example_names_its_source_and_is_documented() {
    let doc_path = repo().join("docs/examples.md");
    let doc = fs::read_to_string(&doc_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", doc_path.display()));
    let mut problems = Vec::new();
    for example in examples() {
        let name = shown(&example);
        if !doc.contains(&name) {
            problems.push(format!("docs/examples.md does not mention {name}"));
        }
        let text = fs::read_to_string(&example).expect("read the example");
        let header: String = text
            .lines()
            .take_while(|line| line.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        if !header.contains("Derived from:") {
            problems.push(format!(
                "{name} does not start with a comment saying which script it is \
                 `Derived from:` (repository and path)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
