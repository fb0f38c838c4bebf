//! The `hetpolicy` command as the workspace builds it. It is another
//! package's binary (src/cli), so cargo gives these tests no
//! `CARGO_BIN_EXE_hetpolicy`: [`hetpolicy`] builds it with the profile and
//! target directory of the running test, once per test process, and
//! returns its path, so a test never runs a stale binary.
#![allow(dead_code)] // each test file uses its own part

use std::process::Command;
use std::sync::OnceLock;

static BUILT: OnceLock<String> = OnceLock::new();

/// Path of the freshly built `hetpolicy` binary.
pub fn hetpolicy() -> &'static str {
    BUILT.get_or_init(|| {
        // The test runs as <target>/<profile>/deps/<test>-<hash>.
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("the test runs from <target>/<profile>/deps");
        let target_dir = profile_dir.parent().expect("<target>/<profile>");
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .args(["build", "--quiet", "-p", "hetpolicy", "--target-dir"])
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build -p hetpolicy");
        assert!(status.success(), "cargo build -p hetpolicy failed");
        let bin = profile_dir.join("hetpolicy");
        assert!(bin.is_file(), "cargo built no {}", bin.display());
        bin.into_os_string()
            .into_string()
            .expect("a UTF-8 target directory")
    })
}
