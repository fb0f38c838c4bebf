//! docs/interface.md names everything the plugins take from Slurm or give
//! to it: this reads the sources and fails on any Slurm symbol, job_desc or
//! slurm_conf field, constant, error code or SPANK item the code uses that
//! docs/interface.md does not mention, so a reviewer of a new Slurm release
//! can rely on it.
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// docs/interface.md.
fn interface_md() -> String {
    read(&repo().join("docs").join("interface.md"))
}

/// A plugin's entry point file: `lib.rs` of its crate, or `mod.rs` of its
/// module.
fn entry_file(dir: &Path) -> PathBuf {
    let lib = dir.join("lib.rs");
    if lib.is_file() {
        lib
    } else {
        dir.join("mod.rs")
    }
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifiers right after each `prefix` in `text`, except method calls
/// (an identifier followed by `(`).
fn idents_after(text: &str, prefix: &str) -> Vec<String> {
    words_after(text, prefix, false)
}

/// The identifiers right after each `prefix` in `text`; with `calls`, also
/// those followed by `(`.
fn words_after(text: &str, prefix: &str, calls: bool) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        let rest = &text[at + prefix.len()..];
        let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        let after = rest[ident.len()..].chars().next();
        if !ident.is_empty() && (calls || after != Some('(')) {
            found.push(ident);
        }
    }
    found
}

/// Does `doc` contain `name` as a whole word?
fn mentions(doc: &str, name: &str) -> bool {
    doc.match_indices(name).any(|(at, _)| {
        let before = doc[..at].chars().next_back();
        let after = doc[at + name.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    files
}

/// (what, name) pairs the code uses.
fn used_by_the_code() -> Vec<(&'static str, String)> {
    let src = repo().join("src");
    let mut used = Vec::new();
    // Symbols looked up in the host process (dlsym).
    for file in ["api.rs", "logger.rs", "version.rs"] {
        for name in idents_after(&read(&src.join("slurm").join(file)), "c\"") {
            used.push(("Slurm symbol", name));
        }
    }
    let ffi: Vec<PathBuf> = ["slurm", "submit", "spank"]
        .iter()
        .flat_map(|dir| rust_files(&src.join(dir)))
        .collect();
    for file in &ffi {
        let text = read(file);
        for name in idents_after(&text, "desc.") {
            used.push(("job_desc_msg_t field", name));
        }
        for name in idents_after(&text, "slurm_conf_t)).") {
            used.push(("slurm_conf_t field", name));
        }
        for module in ["slurm_err_t::", "spank_item::", "spank_context::"] {
            for name in idents_after(&text, module) {
                used.push(("Slurm constant", name));
            }
        }
        // Error codes named in a macro's table (`Code => ESLURM_...`).
        for name in idents_after(&text, "ESLURM_") {
            used.push(("Slurm constant", format!("ESLURM_{name}")));
        }
        for name in idents_after(&text, "HETPOLICY_") {
            used.push(("wrapper.h constant", format!("HETPOLICY_{name}")));
        }
    }
    // slurm_conf.<field> through a reference (`let conf = &*(...)`).
    let api = read(&src.join("slurm").join("api.rs"));
    for name in idents_after(&api, "conf.") {
        if name != "parent" {
            used.push(("slurm_conf_t field", name));
        }
    }
    // The plugins' exports (job_modify's is defined by a macro of the
    // bindings crate, whose signature follows the headers' release).
    for file in [
        entry_file(&src.join("submit")),
        entry_file(&src.join("spank")),
        entry_file(&src.join("slurm")),
    ] {
        let text = read(&file);
        for block in text.split("#[no_mangle]").skip(1) {
            let name = idents_after(block, "pub static ")
                .into_iter()
                .chain(words_after(block, "extern \"C\" fn ", true))
                .next()
                .unwrap_or_else(|| panic!("an export without a name in {}", file.display()));
            used.push(("export", name));
        }
    }
    used.sort();
    used.dedup();
    used
}

#[test]
fn interface_md_names_everything_the_plugins_use() {
    let doc = interface_md();
    let used = used_by_the_code();
    // The scan itself works: these are certainly used.
    for (what, name) in [
        ("Slurm symbol", "slurm_xstrcat"),
        ("job_desc_msg_t field", "tres_per_node"),
        ("slurm_conf_t field", "slurm_user_id"),
        ("Slurm constant", "ESLURM_INVALID_PARTITION_NAME"),
        ("export", "job_modify"),
    ] {
        assert!(
            used.iter().any(|(w, n)| *w == what && n == name),
            "the scan misses {what} {name}: {used:?}"
        );
    }
    let missing: Vec<String> = used
        .iter()
        .filter(|(_, name)| !mentions(&doc, name))
        .map(|(what, name)| format!("{what} `{name}`"))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/interface.md does not mention:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_wrapper_h_constant_is_in_interface_md() {
    let doc = interface_md();
    let wrapper = read(&repo().join("wrapper.h"));
    let constants: Vec<String> = idents_after(&wrapper, " HETPOLICY_")
        .into_iter()
        .map(|name| format!("HETPOLICY_{name}"))
        .collect();
    assert!(constants.len() >= 5, "{constants:?}");
    let missing: Vec<&String> = constants.iter().filter(|c| !mentions(&doc, c)).collect();
    assert!(
        missing.is_empty(),
        "docs/interface.md does not mention {missing:?}"
    );
}
