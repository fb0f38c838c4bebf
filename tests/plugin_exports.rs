//! Each plugin exports exactly its Slurm ABI and nothing else (a global
//! named like one of the host's binds to it: see slurm-facts), and neither
//! needs a Slurm symbol at load time (Slurm's functions are looked up with
//! dlsym, so loading never fails on a symbol only one host exports).
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds both plugins (fast when up to date) into a directory of this test.
fn plugins() -> PathBuf {
    let out = repo().join("target/plugins-exports");
    let status = Command::new(repo().join("scripts/build-plugins"))
        .arg(&out)
        .status()
        .expect("run scripts/build-plugins");
    assert!(status.success(), "scripts/build-plugins failed");
    out
}

fn symbols(plugin: &Path, which: &str) -> Vec<String> {
    let out = Command::new("nm")
        .args(["-D", which])
        .arg(plugin)
        .output()
        .expect("run nm (binutils)");
    assert!(out.status.success(), "nm failed on {}", plugin.display());
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().last().map(str::to_owned))
        .filter(|name| !name.starts_with('_'))
        .collect();
    names.sort();
    names
}

#[test]
fn each_plugin_exports_only_its_abi_and_imports_no_slurm_symbol() {
    let dir = plugins();
    let expected = [
        (
            "job_submit_hetpolicy.so",
            vec![
                "fini",
                "init",
                "job_modify",
                "job_submit",
                "plugin_name",
                "plugin_type",
                "plugin_version",
            ],
        ),
        (
            "spank_hetpolicy.so",
            vec![
                "plugin_name",
                "plugin_type",
                "plugin_version",
                "slurm_spank_init",
                "slurm_spank_init_post_opt",
                "slurm_spank_job_epilog",
                "slurm_spank_job_prolog",
                "slurm_spank_user_init",
            ],
        ),
    ];
    for (file, abi) in expected {
        let plugin = dir.join(file);
        assert_eq!(symbols(&plugin, "--defined-only"), abi, "{file}'s exports");
        let slurm_imports: Vec<String> = symbols(&plugin, "--undefined-only")
            .into_iter()
            .filter(|name| name.starts_with("slurm") || name.starts_with("spank"))
            .collect();
        assert!(slurm_imports.is_empty(), "{file} imports {slurm_imports:?}");
    }
}
