//! Running Slurm clients as another Unix user, on every release: with
//! runuser on the host's Slurm, and through the chroot wrapper (which
//! switches user inside the chroot, `HETPOLICY_RUN_AS`) on the others.
#![allow(dead_code)] // each test file uses its own part

use std::path::Path;

use super::cluster::{run_command, Cluster, CmdOutput, COMMAND_TIMEOUT};

/// True when `cmd` on PATH is a chroot release's wrapper.
fn is_chroot_wrapper(cmd: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join(cmd).exists())
            .is_some_and(|dir| Path::new(&dir).join(".run-in-chroot").exists())
    })
}

/// Runs `cmd args` against `c` as `user`, from /tmp (which every user may
/// read).
pub fn run_as(c: &Cluster, user: &str, cmd: &str, args: &[&str]) -> CmdOutput {
    let mut command = if is_chroot_wrapper(cmd) {
        let mut command = c.command(cmd, args);
        command.env("HETPOLICY_RUN_AS", user);
        command
    } else {
        let mut all = vec!["-u", user, "--", cmd];
        all.extend_from_slice(args);
        c.command("runuser", &all)
    };
    command.current_dir("/tmp");
    run_command(command, COMMAND_TIMEOUT)
}
