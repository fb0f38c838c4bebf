//! Generates the Slurm bindings from the installed headers and tells the code
//! which Slurm release it is built for.
//!
//! Header search order:
//! 1. `HETPOLICY_SLURM_INCLUDE`: a directory that holds `slurm/slurm.h`;
//! 2. `pkg-config --cflags slurm`, where the installation ships a .pc file;
//! 3. `/usr/include` (Debian's libslurm-dev).
//!
//! Emitted for the code:
//! - `HETPOLICY_SLURM_VERSION` (env, e.g. "22.05.8");
//! - cfg `slurm_job_modify_err_msg` for Slurm >= 23.02, whose `job_modify`
//!   takes a fourth `char **err_msg` argument.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// First release whose job_modify() has the `err_msg` argument (23.02.0).
const JOB_MODIFY_ERR_MSG_SINCE: u32 = 0x17_02_00;

fn main() {
    println!("cargo::rerun-if-env-changed=HETPOLICY_SLURM_INCLUDE");
    println!("cargo::rerun-if-changed=wrapper.h");
    println!("cargo::rustc-check-cfg=cfg(slurm_job_modify_err_msg)");

    let include_dir = find_slurm_include();
    let version_header = include_dir.join("slurm/slurm_version.h");
    println!("cargo::rerun-if-changed={}", version_header.display());
    println!(
        "cargo::rerun-if-changed={}",
        include_dir.join("slurm/slurm.h").display()
    );

    let version = read_version_number(&version_header);
    println!(
        "cargo::rustc-env=HETPOLICY_SLURM_VERSION={}.{:02}.{}",
        version >> 16,
        (version >> 8) & 0xff,
        version & 0xff
    );
    if version >= JOB_MODIFY_ERR_MSG_SINCE {
        println!("cargo::rustc-cfg=slurm_job_modify_err_msg");
    }

    let bindings = bindgen::Builder::default()
        .header("wrapper.h")
        .clang_arg(format!("-I{}", include_dir.display()))
        .allowlist_type("job_desc_msg_t")
        .allowlist_type("slurm_err_t")
        .allowlist_type("slurm_conf_t")
        .allowlist_type("slurmdb_user_rec_t")
        .allowlist_type("spank_t")
        .allowlist_type("spank_option")
        .allowlist_type("spank_item_t")
        .allowlist_type("spank_context_t")
        .allowlist_type("spank_err_t")
        .constified_enum_module("spank_item")
        .constified_enum_module("spank_context")
        .allowlist_var("HETPOLICY_.*")
        .constified_enum_module("slurm_err_t")
        .derive_default(false)
        .derive_debug(false)
        .layout_tests(false)
        .generate_comments(false)
        .generate()
        .unwrap_or_else(|err| {
            panic!(
                "bindgen failed on wrapper.h with Slurm headers from {}: {err}\n\
                 (bindgen needs libclang: apt-get install libclang-dev)",
                include_dir.display()
            )
        });

    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindings
        .write_to_file(out.join("slurm_bindings.rs"))
        .expect("writing slurm_bindings.rs into OUT_DIR");
}

/// Returns the directory that contains `slurm/slurm.h`.
fn find_slurm_include() -> PathBuf {
    if let Ok(dir) = env::var("HETPOLICY_SLURM_INCLUDE") {
        let dir = PathBuf::from(dir);
        if has_slurm_header(&dir) {
            return dir;
        }
        panic!(
            "HETPOLICY_SLURM_INCLUDE={} has no slurm/slurm.h",
            dir.display()
        );
    }
    if let Some(dir) = pkg_config_include() {
        return dir;
    }
    let system = PathBuf::from("/usr/include");
    if has_slurm_header(&system) {
        return system;
    }
    panic!(
        "Slurm headers not found: install libslurm-dev (Debian), or set \
         HETPOLICY_SLURM_INCLUDE to the directory that holds slurm/slurm.h"
    );
}

fn has_slurm_header(dir: &Path) -> bool {
    dir.join("slurm/slurm.h").is_file() && dir.join("slurm/slurm_version.h").is_file()
}

/// Asks pkg-config for the include directory of a `slurm.pc`, if there is one.
fn pkg_config_include() -> Option<PathBuf> {
    let output = Command::new("pkg-config")
        .args(["--cflags-only-I", "slurm"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let flags = String::from_utf8(output.stdout).ok()?;
    flags
        .split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-I"))
        .map(PathBuf::from)
        .find(|dir| has_slurm_header(dir))
}

/// Reads `#define SLURM_VERSION_NUMBER 0x160508` from slurm_version.h.
fn read_version_number(header: &Path) -> u32 {
    let text = fs::read_to_string(header)
        .unwrap_or_else(|err| panic!("reading {}: {err}", header.display()));
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("#define"))
        .filter_map(|rest| rest.trim().strip_prefix("SLURM_VERSION_NUMBER"))
        .find_map(|value| {
            let value = value.trim();
            let hex = value
                .strip_prefix("0x")
                .or_else(|| value.strip_prefix("0X"))?;
            u32::from_str_radix(hex, 16).ok()
        })
        .unwrap_or_else(|| panic!("no SLURM_VERSION_NUMBER in {}", header.display()))
}
