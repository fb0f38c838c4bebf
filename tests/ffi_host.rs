//! The job_submit plugin's C entry points under hostile input, loaded by a
//! small C host (tests/ffi/host.c) that links Slurm's real libslurmfull, so
//! that every string crosses Slurm's own allocator, all under valgrind's
//! memcheck: any invalid read or write, use of uninitialised memory, or
//! definite or indirect leak fails the test.
//!
//! The plugin is built here into `target/fault` (never touching the normal
//! build): once as shipped, once with the test-only `fault-injection`
//! feature, whose partition `hetpolicy-test-panic` panics inside the
//! judging path. Both are built with LLVM's x86 cmov-to-branch conversion
//! off: that pass turns selects over the unused half of a niche-optimised
//! `Option` into branches, which memcheck reports as uses of uninitialised
//! memory although the result never depends on them.
//!
//! Needs cc, Slurm's headers (libslurm-dev), libslurmfull and valgrind.

use std::fs;
use std::os::unix::fs::{chown, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

const SLURM_LIB_DIR: &str = "/usr/lib/x86_64-linux-gnu/slurm-wlm";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Scratch space whose ancestors are the build tree's (trusted owners and
/// modes), unlike the world-writable temp directory.
fn work_dir() -> PathBuf {
    let dir = repo().join("target").join("ffi-host");
    fs::create_dir_all(&dir).expect("create target/ffi-host");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod target/ffi-host");
    dir
}

struct Built {
    host: PathBuf,
    plugin: PathBuf,
    fault_plugin: PathBuf,
}

fn run_checked(mut cmd: Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds both plugins and the host once per test process.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let work = work_dir();
        let target = repo().join("target").join("fault");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut plugins = Vec::new();
        for (features, name) in [
            (None, "job_submit_hetpolicy.so"),
            (Some("fault-injection"), "job_submit_hetpolicy-fault.so"),
        ] {
            let mut cmd = Command::new(&cargo);
            cmd.current_dir(repo())
                .args(["build", "--release", "-p", "hetpolicy-job-submit"])
                .env("CARGO_TARGET_DIR", &target)
                .env("RUSTFLAGS", "-C llvm-args=-x86-cmov-converter=false");
            if let Some(features) = features {
                cmd.args(["--features", features]);
            }
            run_checked(cmd, &format!("cargo build ({name})"));
            let dest = work.join(name);
            fs::copy(
                target.join("release").join("libjob_submit_hetpolicy.so"),
                &dest,
            )
            .unwrap_or_else(|e| panic!("copy the plugin to {}: {e}", dest.display()));
            plugins.push(dest);
        }
        let host = work.join("host");
        let mut cc = Command::new("cc");
        cc.args([
            "-std=gnu11",
            "-O1",
            "-g",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
        ])
        .arg(&host)
        .arg(repo().join("tests").join("ffi").join("host.c"))
        .arg(format!("-L{SLURM_LIB_DIR}"))
        .arg("-lslurmfull")
        .arg(format!("-Wl,-rpath,{SLURM_LIB_DIR}"))
        .args(["-ldl", "-lpthread"]);
        run_checked(cc, "cc tests/ffi/host.c");
        let fault_plugin = plugins.pop().expect("two plugins");
        let plugin = plugins.pop().expect("two plugins");
        Built {
            host,
            plugin,
            fault_plugin,
        }
    })
}

/// How the test's policy file is laid out.
enum PolicyFile<'a> {
    /// No hetpolicy.yaml at all.
    Missing,
    /// hetpolicy.yaml with this text, mode 0644, owned by root.
    Text(&'a str),
    /// hetpolicy.yaml with this text and mode.
    WithMode(&'a str, u32),
    /// hetpolicy.yaml with this text, owned by this uid.
    OwnedBy(&'a str, u32),
}

fn valgrind() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("valgrind"))
            .find(|p| p.is_file())
    });
    found.expect("valgrind is needed for this test: apt-get install valgrind")
}

/// Runs the host in `mode` under valgrind with the given policy, in its own
/// directory; asserts that it and valgrind found nothing, and returns its
/// output.
fn run_host(name: &str, plugin: &Path, mode: &str, policy: PolicyFile<'_>) -> Output {
    run_host_beside(name, plugin, mode, policy, None)
}

/// [`run_host`], with `slurm_plugin` loaded first, as slurmctld has its own
/// plugins loaded before any job_submit plugin.
fn run_host_beside(
    name: &str,
    plugin: &Path,
    mode: &str,
    policy: PolicyFile<'_>,
    slurm_plugin: Option<&Path>,
) -> Output {
    // Tests run in parallel; valgrind runs are heavy on 2 cores.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let built = built();
    let dir = work_dir().join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.join("hetpolicy.yaml");
    let write = |text: &str, mode: u32| {
        fs::write(&path, text).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    };
    match policy {
        PolicyFile::Missing => {}
        PolicyFile::Text(text) => write(text, 0o644),
        PolicyFile::WithMode(text, mode) => write(text, mode),
        PolicyFile::OwnedBy(text, uid) => {
            write(text, 0o644);
            chown(&path, Some(uid), None).expect("chown the test policy (needs root)");
        }
    }
    // Let the store see the file as settled (written more than 100 ms ago).
    std::thread::sleep(std::time::Duration::from_millis(150));

    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut host = Command::new(valgrind());
    if let Some(slurm_plugin) = slurm_plugin {
        host.env("HETPOLICY_HOST_SLURM_PLUGIN", slurm_plugin);
    }
    let out = host
        .args([
            "--error-exitcode=99",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
        ])
        .arg(&built.host)
        .arg(plugin)
        .arg(mode)
        .env("SLURM_CONF", dir.join("slurm.conf"))
        .output()
        .expect("run the host under valgrind");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("summary:"))
        .unwrap_or("no summary");
    let valgrind_summary: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains("ERROR SUMMARY")
                || l.contains("definitely lost")
                || l.contains("indirectly lost")
                || l.contains("possibly lost")
                || l.contains("still reachable")
        })
        .collect();
    println!(
        "{name}: {summary}\n{}",
        valgrind_summary.join("\n").trim_end()
    );
    assert!(
        out.status.success(),
        "{name}: the host or valgrind found a problem ({}):\nfailed checks:\n{}\n--- stdout ---\n{stdout}\n--- stderr (valgrind and the plugin's log) ---\n{}",
        out.status,
        failed.join("\n"),
        stderr
            .lines()
            .filter(|l| !l.contains(": rejected: "))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        valgrind_summary
            .iter()
            .any(|l| l.contains("ERROR SUMMARY: 0 errors")),
        "{name}: valgrind did not report a clean run:\n{stderr}"
    );
    assert!(
        failed.is_empty() && summary.ends_with(" 0 failures"),
        "{stdout}"
    );
    out
}

fn log_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn host_policy() -> String {
    fs::read_to_string(
        repo()
            .join("tests")
            .join("fixtures")
            .join("ffi-policy.yaml"),
    )
    .expect("read tests/fixtures/ffi-policy.yaml")
}

#[test]
fn hostile_job_descs_get_sensible_verdicts_without_memory_errors() {
    let built = built();
    let out = run_host(
        "hostile",
        &built.plugin,
        "hostile",
        PolicyFile::Text(&host_policy()),
    );
    let log = log_of(&out);
    assert!(log.contains("job_submit/hetpolicy: loaded policy"), "{log}");
    assert!(
        !log.contains("internal error"),
        "no hostile input may reach a panic:\n{log}"
    );
}

#[test]
fn a_panic_inside_the_plugin_is_caught_rejected_and_logged() {
    let built = built();
    let out = run_host(
        "fault",
        &built.fault_plugin,
        "fault",
        PolicyFile::Text(&host_policy()),
    );
    let log = log_of(&out);
    assert!(
        log.contains(
            "error: job_submit/hetpolicy: internal error: panicked at src/submit/fault.rs"
        ),
        "the panic and where it happened are logged:\n{log}"
    );
    assert!(
        log.contains(
            "error: job_submit/hetpolicy: job_submit: internal error (panic caught); the job \
             was rejected to be safe"
        ),
        "{log}"
    );
    assert!(
        log.contains("job_modify: internal error (panic caught)"),
        "{log}"
    );
}

#[test]
fn a_panic_in_init_does_not_stop_slurmctld() {
    let built = built();
    let policy = format!("# hetpolicy-test-panic-in-init\n{}", host_policy());
    // The host checks that init() returns SLURM_SUCCESS, then that jobs
    // are judged by the policy, read when the first job arrives.
    let out = run_host(
        "init-panic",
        &built.fault_plugin,
        "fault",
        PolicyFile::Text(&policy),
    );
    let log = log_of(&out);
    assert!(
        log.contains(
            "error: job_submit/hetpolicy: internal error while starting (panic caught); \
             slurmctld starts, and the policy is read again when the first job arrives"
        ),
        "{log}"
    );
    assert!(log.contains("job_submit/hetpolicy: loaded policy"), "{log}");
}

#[test]
fn without_a_valid_policy_every_job_is_refused() {
    let built = built();
    let broken = host_policy().replacen("max_gres: {gpu: 1}", "max_gpus: 1", 1);
    let good = host_policy();
    let cases: [(&str, PolicyFile<'_>, &str); 5] = [
        (
            "closed-missing",
            PolicyFile::Missing,
            "cannot read the policy file",
        ),
        (
            "closed-broken",
            PolicyFile::Text(&broken),
            "unknown field `max_gpus`",
        ),
        (
            "closed-group-writable",
            PolicyFile::WithMode(&good, 0o664),
            "refusing the policy file",
        ),
        (
            "closed-world-writable",
            PolicyFile::WithMode(&good, 0o646),
            "writable by others (mode 0646)",
        ),
        (
            "closed-foreign-owner",
            PolicyFile::OwnedBy(&good, 65534),
            "owned by uid 65534",
        ),
    ];
    for (name, policy, reason) in cases {
        let out = run_host(name, &built.plugin, "closed", policy);
        let log = log_of(&out);
        assert!(
            log.contains(reason),
            "{name}: the log should say {reason:?}:\n{log}"
        );
        assert!(
            log.contains("no valid policy is loaded, so every job is rejected until it is fixed"),
            "{name}:\n{log}"
        );
    }
}

#[test]
fn on_error_accept_in_a_broken_policy_accepts_jobs_unchecked() {
    let built = built();
    let broken = format!(
        "on_error: accept\n{}",
        host_policy().replacen("max_gres: {gpu: 1}", "max_gpus: 1", 1)
    );
    let out = run_host("open", &built.plugin, "open", PolicyFile::Text(&broken));
    let log = log_of(&out);
    assert!(
        log.contains(
            "no valid policy is loaded, so every job is accepted unchecked until it is fixed"
        ),
        "{log}"
    );
    // The same file, writable by others, is not believed: fail closed.
    let out = run_host(
        "open-but-untrusted",
        &built.plugin,
        "closed",
        PolicyFile::WithMode(&broken, 0o666),
    );
    assert!(log_of(&out).contains("refusing the policy file"));
}

/// A stand-in for one of Slurm's own plugins: `plugin_type` and
/// `plugin_version` (0xMMmmuu) are all the version check reads.
fn fake_slurm_plugin(version: u32) -> PathBuf {
    let dir = work_dir();
    let source = dir.join(format!("fake-{version:06x}.c"));
    let object = dir.join(format!("fake-{version:06x}.so"));
    fs::write(
        &source,
        format!(
            "#include <stdint.h>\n\
             const char plugin_name[] = \"fake\";\n\
             const char plugin_type[] = \"auth/fake\";\n\
             const uint32_t plugin_version = {version:#x};\n"
        ),
    )
    .unwrap();
    let mut cc = Command::new("cc");
    cc.args(["-shared", "-fPIC", "-o"])
        .arg(&object)
        .arg(&source);
    run_checked(cc, "cc the fake Slurm plugin");
    object
}

/// The release the plugin was built for, from the host's own headers
/// (`SLURM_VERSION_NUMBER` in slurm/slurm_version.h).
fn built_for() -> u32 {
    let header = fs::read_to_string("/usr/include/slurm/slurm_version.h")
        .expect("Slurm's headers (libslurm-dev)");
    let line = header
        .lines()
        .find_map(|l| l.strip_prefix("#define SLURM_VERSION_NUMBER"))
        .expect("SLURM_VERSION_NUMBER");
    let hex = line.trim().trim_start_matches("0x");
    u32::from_str_radix(hex, 16).expect("a hex SLURM_VERSION_NUMBER")
}

fn release(number: u32) -> String {
    format!(
        "{}.{:02}.{}",
        number >> 16,
        (number >> 8) & 0xff,
        number & 0xff
    )
}

#[test]
fn init_logs_the_running_release_and_a_mismatch() {
    let built = built();
    let ours = built_for();
    let policy = host_policy();

    let same = fake_slurm_plugin(ours);
    let out = run_host_beside(
        "version-same",
        &built.plugin,
        "version",
        PolicyFile::Text(&policy),
        Some(&same),
    );
    let log = log_of(&out);
    let expected = format!(
        "job_submit/hetpolicy: version {} built for Slurm {}, running in Slurm {}",
        env!("CARGO_PKG_VERSION"),
        release(ours),
        release(ours)
    );
    assert!(log.contains(&expected), "expected {expected:?} in:\n{log}");
    assert!(!log.contains("rebuild hetpolicy"), "{log}");

    // The next minor release, as after an upgrade without a rebuild.
    let newer = ours + 0x100;
    let other = fake_slurm_plugin(newer);
    let out = run_host_beside(
        "version-differs",
        &built.plugin,
        "version",
        PolicyFile::Text(&policy),
        Some(&other),
    );
    let log = log_of(&out);
    let expected = format!(
        "error: job_submit/hetpolicy: version {} was built for Slurm {}, but this slurmctld \
         runs Slurm {} (plugin_version of {}): rebuild hetpolicy against Slurm {}'s headers \
         and install that build",
        env!("CARGO_PKG_VERSION"),
        release(ours),
        release(newer),
        other.display(),
        release(newer)
    );
    assert!(log.contains(&expected), "expected {expected:?} in:\n{log}");
}
