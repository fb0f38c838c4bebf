//! Integration-test access to the private Slurm cluster of `container/cluster`.
//!
//! The cluster runs Debian's real slurmctld, three slurmd's (c1: partition
//! `cpu`, g1: `gpu` with 2 GPUs, q1: `quantum` with 1 QPU) and its own munged,
//! everything under `target/cluster` (or `$HETPOLICY_CLUSTER_DIR`). Tests
//! submit real jobs with real client commands and read slurmctld's log.
//!
//! The Slurm release is `$HETPOLICY_SLURM_RELEASE` (22.05, the host's, by
//! default; 24.11 and 26.05 run in a chroot): `container/cluster --slurm
//! RELEASE test` runs the suite with it set, and with that release's client
//! commands first on PATH.
//!
//! ```ignore
//! mod common;
//! use common::cluster;
//!
//! #[test]
//! fn something() {
//!     let c = cluster::ensure_up();
//!     let (pid, off) = (c.slurmctld_pid(), c.log_len());
//!     let out = c.sbatch(&["-p", "cpu", "--wrap", "true"], None);
//!     assert_eq!(out.code, 0, "{out:?}");
//!     cluster::assert_controller_healthy(c, pid, off);
//! }
//! ```
//!
//! `HETPOLICY_SKIP_BUILD=1` in the environment starts the cluster without
//! the plugin (the script reads it), e.g. before the crate builds.
//!
//! `HETPOLICY_CONFIGLESS=1` (exported by `container/cluster test
//! --configless`) runs it in Slurm's configless mode (see
//! container/lib/configless.sh): only slurmctld reads `$dir/etc`, and the
//! client commands run with the slurm.conf sackd (24.11+) or slurmd c1
//! (22.05) fetched from it ([`Cluster::slurm_conf`], [`Cluster::configless`]).
//!
//! Only std is used: every test binary compiles this file.
#![allow(dead_code)]

use std::fmt;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long one client command may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Job states after which a job no longer changes.
const FINAL_STATES: &[&str] = &[
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "OUT_OF_MEMORY",
];

/// What a command did: exit code (-1 when killed by a signal or the
/// timeout), stdout and stderr.
pub struct CmdOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// The job id of "Submitted batch job N" (sbatch) or "Granted job
    /// allocation N" (salloc), if the output has one.
    pub fn job_id(&self) -> Option<u32> {
        [&self.stdout, &self.stderr].iter().find_map(|text| {
            text.lines().find_map(|line| {
                let rest = line
                    .split_once("Submitted batch job ")
                    .or_else(|| line.split_once("Granted job allocation "))?
                    .1;
                rest.split_whitespace().next()?.parse().ok()
            })
        })
    }

    /// Like `job_id`, but panics with the whole output when there is none.
    pub fn expect_job_id(&self) -> u32 {
        self.job_id()
            .unwrap_or_else(|| panic!("no job id in the command's output:\n{self:?}"))
    }
}

impl fmt::Debug for CmdOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "exit code: {}", self.code)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout.trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr.trim_end())
    }
}

/// The running cluster. Get it with [`ensure_up`].
#[derive(Debug)]
pub struct Cluster {
    /// The cluster directory (`target/cluster` by default).
    pub dir: PathBuf,
    /// The slurm.conf the client commands read, passed to every command as
    /// SLURM_CONF: `$dir/etc/slurm.conf` (slurmctld's), or on a configless
    /// cluster the copy fetched from slurmctld (what `container/cluster
    /// env` exports).
    pub slurm_conf: PathBuf,
    /// The repository root (holds `container/cluster` and `tests/fixtures`).
    pub repo: PathBuf,
    /// Whether the cluster runs configless (`container/cluster up
    /// --configless`); see [`Cluster::configless`].
    pub configless: bool,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
/// Serialises policy changes between the tests of one binary.
static POLICY_LOCK: Mutex<()> = Mutex::new(());
/// How long a newly installed policy takes to be read by the plugin (see
/// [`Cluster::with_policy_settled`]).
pub const POLICY_SETTLE: Duration = Duration::from_millis(600);
/// Makes temp file names unique within this process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// tests/fixtures/policy.yaml: the policy every cluster test starts from.
fn reference_policy_path(repo: &Path) -> PathBuf {
    repo.join("tests").join("fixtures").join("policy.yaml")
}

/// The release `container/cluster` runs: `$HETPOLICY_SLURM_RELEASE`, or the
/// host's 22.05 (the script's default).
pub fn requested_release() -> String {
    match std::env::var("HETPOLICY_SLURM_RELEASE") {
        Ok(release) if !release.is_empty() => release,
        _ => "22.05".to_owned(),
    }
}

/// The same directory the script picks: `$HETPOLICY_CLUSTER_DIR` (relative
/// to the repository, where the script runs), else `<repo>/target/cluster`
/// for 22.05 and `<repo>/target/cluster-RELEASE` for the other releases.
pub fn cluster_dir(repo: &Path, release: &str) -> PathBuf {
    match std::env::var_os("HETPOLICY_CLUSTER_DIR") {
        Some(dir) if !dir.is_empty() => repo.join(dir),
        _ if release == "22.05" => repo.join("target").join("cluster"),
        _ => repo.join("target").join(format!("cluster-{release}")),
    }
}

/// Makes sure the cluster is up with the reference policy and current
/// plugins, once per test process, and returns it.
///
/// Runs `container/cluster --slurm RELEASE ensure` (see
/// [`requested_release`]) under an exclusive `flock` on `<dir>.lock`, so
/// parallel test binaries do not start it twice. `ensure` is `status ||
/// up`, and also restarts a running cluster whose plugins or configuration
/// are stale (it runs a quick build of the plugins first). Under
/// `container/cluster test --accounting` (HETPOLICY_ACCOUNTING=1) the
/// cluster keeps its accounting. Under `container/cluster test --configless`
/// (HETPOLICY_CONFIGLESS=1, see [`configless_requested`]) it runs
/// configless. Panics with the script's output if that
/// fails, and when slurmctld does not run the release asked for.
pub fn ensure_up() -> &'static Cluster {
    CLUSTER.get_or_init(|| start(&[]))
}

/// Like [`ensure_up`], with Slurm accounting (`ensure --accounting`:
/// MariaDB and slurmdbd, associations, limits and QOS enforced; see
/// container/lib/accounting.sh). Run alone, it restarts a cluster that ran
/// without accounting, and the next plain [`ensure_up`] restarts it
/// without.
pub fn ensure_accounting() -> &'static Cluster {
    static ACCOUNTING: OnceLock<Cluster> = OnceLock::new();
    ACCOUNTING.get_or_init(|| start(&["--accounting"]))
}

/// Is the configless mode asked for (`HETPOLICY_CONFIGLESS=1`, as
/// `container/cluster test --configless` exports)? [`ensure_up`] then
/// starts the cluster configless.
pub fn configless_requested() -> bool {
    std::env::var("HETPOLICY_CONFIGLESS").is_ok_and(|v| v == "1")
}

/// Like [`ensure_up`], configless (`ensure --configless`, see
/// container/lib/configless.sh), whatever `HETPOLICY_CONFIGLESS` says. Run
/// alone, it restarts a cluster that was not configless, and the next plain
/// [`ensure_up`] without `HETPOLICY_CONFIGLESS=1` restarts it as it was.
pub fn ensure_configless() -> &'static Cluster {
    static CONFIGLESS: OnceLock<Cluster> = OnceLock::new();
    CONFIGLESS.get_or_init(|| start(&["--configless"]))
}

/// `container/cluster ensure` with the reference policy and `options`.
fn start(options: &[&str]) -> Cluster {
    let repo = repo_root();
    let release = requested_release();
    let dir = cluster_dir(&repo, &release);
    let lock = dir.with_extension("lock");
    if let Some(parent) = lock.parent() {
        fs::create_dir_all(parent).expect("create the cluster lock's directory");
    }
    let script = repo.join("container").join("cluster");
    let mut cmd = Command::new("flock");
    // --close: the daemons `ensure` starts must not inherit the lock.
    cmd.arg("--exclusive")
        .arg("--close")
        .arg("--timeout=1200")
        .arg(&lock)
        .arg(&script)
        .arg("--slurm")
        .arg(&release)
        .arg("ensure")
        .args(options)
        .arg("--policy")
        .arg(reference_policy_path(&repo))
        .current_dir(&repo);
    let out = run_command(cmd, Duration::from_secs(1800));
    assert!(
        out.success(),
        "`{} --slurm {release} ensure {}` failed; the cluster is not usable:\n{out:?}",
        script.display(),
        options.join(" ")
    );
    // The clients' SLURM_CONF and the mode, as the script gives them to a
    // shell (`container/cluster env`).
    let mut env = Command::new(&script);
    env.arg("--slurm")
        .arg(&release)
        .arg("env")
        .current_dir(&repo);
    let env = run_command(env, COMMAND_TIMEOUT);
    assert!(
        env.success(),
        "`{} --slurm {release} env` failed:\n{env:?}",
        script.display()
    );
    let exported = |name: &str| {
        env.stdout.lines().find_map(|line| {
            let value = line.strip_prefix("export ")?.strip_prefix(name)?;
            value.strip_prefix('=').map(str::to_owned)
        })
    };
    let slurm_conf = PathBuf::from(
        exported("SLURM_CONF").unwrap_or_else(|| panic!("no SLURM_CONF in:\n{env:?}")),
    );
    let configless = exported("HETPOLICY_CONFIGLESS").is_some_and(|v| v == "1");
    let wanted = options.contains(&"--configless") || configless_requested();
    assert_eq!(
        configless,
        wanted,
        "the cluster in {} should {}run configless:\n{env:?}",
        dir.display(),
        if wanted { "" } else { "not " }
    );
    assert!(
        slurm_conf.is_file(),
        "the clients' slurm.conf {} is missing",
        slurm_conf.display()
    );
    let cluster = Cluster {
        slurm_conf,
        dir,
        repo,
        configless,
    };
    fs::create_dir_all(cluster.tmp_dir()).expect("create the cluster's tmp directory");
    // The client commands on PATH must be the release's too (a chroot
    // release's come from `container/cluster --slurm RELEASE env`).
    let (major, minor, _) = cluster.slurm_release();
    assert!(
        format!("{major}.{minor:02}") == release,
        "HETPOLICY_SLURM_RELEASE is {release}, but scontrol reports Slurm {major}.{minor:02}: \
         run the tests with `container/cluster --slurm {release} test`, or in a shell set up \
         with `eval \"$(container/cluster --slurm {release} env)\"`"
    );
    cluster
}

impl Cluster {
    /// `$dir/tmp`: scratch space for scripts and job output; commands run there.
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }

    /// Does the cluster run configless? Then slurmctld alone reads
    /// [`Cluster::controller_conf`]'s directory (with the policy); the
    /// slurmd's read their conf-cache ([`Cluster::node_conf_cache`]) and the
    /// clients [`Cluster::slurm_conf`], both fetched from slurmctld.
    pub fn configless(&self) -> bool {
        self.configless
    }

    /// slurmctld's slurm.conf, `$dir/etc/slurm.conf`, beside the policy
    /// and plugstack.conf. The same as [`Cluster::slurm_conf`] unless the
    /// cluster runs configless.
    pub fn controller_conf(&self) -> PathBuf {
        self.dir.join("etc").join("slurm.conf")
    }

    /// The directory where slurmd `node` (c1, g1, q1) keeps the files it
    /// fetched from slurmctld on a configless cluster (SlurmdSpoolDir/
    /// conf-cache).
    pub fn node_conf_cache(&self, node: &str) -> PathBuf {
        self.dir.join("spool").join(node).join("conf-cache")
    }

    /// slurmctld's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("log").join("slurmctld.log")
    }

    /// The installed policy file slurmctld's plugin reads.
    pub fn policy_path(&self) -> PathBuf {
        self.dir.join("etc").join("hetpolicy.yaml")
    }

    /// Writes `contents` to a new file under `$dir/tmp` (mode 0644) and
    /// returns its path. `suffix` is appended to a unique name.
    pub fn write_tmp(&self, suffix: &str, contents: &str) -> PathBuf {
        let path = self.tmp_dir().join(format!("{}{suffix}", unique_name()));
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod temp file");
        path
    }

    /// Runs the real `sbatch` with `args`; with `script`, the script is
    /// written to a temp file whose path is the last argument.
    pub fn sbatch(&self, args: &[&str], script: Option<&str>) -> CmdOutput {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if let Some(body) = script {
            let path = self.write_tmp(".sh", body);
            all.push(path.to_string_lossy().into_owned());
        }
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        self.run("sbatch", &refs)
    }

    /// Runs a Slurm client (scontrol, salloc, srun, squeue, sdiag, ...) or
    /// any command against this cluster.
    pub fn run(&self, cmd: &str, args: &[&str]) -> CmdOutput {
        self.run_env(cmd, args, &[])
    }

    /// Like [`Cluster::run`], with extra environment variables (for example
    /// `SBATCH_PARTITION`). The caller's SLURM_*/SBATCH_*/SALLOC_*/SRUN_*
    /// variables are removed first, so a test behaves the same inside a job;
    /// SLURM_CONF is set to this cluster's. The command runs in `$dir/tmp`
    /// with stdin from /dev/null and is killed after [`COMMAND_TIMEOUT`].
    pub fn run_env(&self, cmd: &str, args: &[&str], env: &[(&str, &str)]) -> CmdOutput {
        let mut command = self.command(cmd, args);
        command.envs(env.iter().copied());
        run_command(command, COMMAND_TIMEOUT)
    }

    /// `cmd args` set up to talk to this cluster, not yet started: in
    /// `$dir/tmp`, without the caller's SLURM_*/SBATCH_*/SALLOC_*/SRUN_*
    /// variables, with this cluster's SLURM_CONF and stdin from /dev/null.
    pub fn command(&self, cmd: &str, args: &[&str]) -> Command {
        let mut command = Command::new(cmd);
        command
            .args(args)
            .current_dir(self.tmp_dir())
            .stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if ["SLURM_", "SBATCH_", "SALLOC_", "SRUN_"]
                .iter()
                .any(|prefix| key.starts_with(prefix))
            {
                command.env_remove(key.as_ref());
            }
        }
        command.env("SLURM_CONF", &self.slurm_conf);
        command
    }

    /// Polls `scontrol show job` until every component of the job reaches a
    /// final state, and returns it: the first component state that is not
    /// COMPLETED, else "COMPLETED". Panics on timeout or an unknown job.
    pub fn wait_job(&self, job_id: u32, timeout: Duration) -> String {
        let id = job_id.to_string();
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.run("scontrol", &["show", "job", "-o", &id]);
            assert!(out.success(), "scontrol show job {id} failed:\n{out:?}");
            let states: Vec<&str> = out
                .stdout
                .lines()
                .filter_map(|line| {
                    line.split_whitespace()
                        .find_map(|field| field.strip_prefix("JobState="))
                })
                .collect();
            assert!(!states.is_empty(), "no JobState for job {id}:\n{out:?}");
            if states.iter().all(|s| FINAL_STATES.contains(s)) {
                let state = states
                    .iter()
                    .find(|s| **s != "COMPLETED")
                    .unwrap_or(&"COMPLETED");
                return state.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "job {id} did not finish within {timeout:?}; states {states:?}\n{out:?}\n{:?}",
                self.run("squeue", &["-j", &id, "-o", "%i %P %T %r %N"])
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// The running slurmctld's pid, from its pid file.
    pub fn slurmctld_pid(&self) -> u32 {
        let path = self.dir.join("run").join("slurmctld.pid");
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("bad pid {text:?} in {}: {e}", path.display()))
    }

    /// The Slurm release slurmctld reports (`SLURM_VERSION` of `scontrol
    /// show config`), as (major, minor, micro): (22, 5, 8) on Debian 12,
    /// (24, 11, 5) on Debian 13 and (26, 5, 5) on Debian forky
    /// (`container/cluster --slurm 24.11` and `--slurm 26.05`). For
    /// expectations that really differ between releases.
    pub fn slurm_release(&self) -> (u32, u32, u32) {
        static RELEASE: OnceLock<(u32, u32, u32)> = OnceLock::new();
        *RELEASE.get_or_init(|| {
            let out = self.run("scontrol", &["show", "config"]);
            assert!(out.success(), "scontrol show config failed:\n{out:?}");
            out.stdout
                .lines()
                .find_map(|line| {
                    let (key, value) = line.split_once('=')?;
                    (key.trim() == "SLURM_VERSION").then(|| parse_release(value.trim()))?
                })
                .unwrap_or_else(|| panic!("no SLURM_VERSION in scontrol show config:\n{out:?}"))
        })
    }

    /// slurmctld's pid after an `scontrol reconfigure` that `before` had
    /// answered, checking what the release does: up to 23.02 the same
    /// process reads its configuration again; since 23.11 it starts a new
    /// slurmctld that takes over (a new pid, written to the pid file).
    pub fn slurmctld_pid_after_reconfigure(&self, before: u32) -> u32 {
        if self.slurm_release() < (23, 11, 0) {
            let now = self.slurmctld_pid();
            assert_eq!(
                now, before,
                "slurmctld before 23.11 keeps its pid on reconfigure"
            );
            return now;
        }
        let path = self.dir.join("run").join("slurmctld.pid");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // The new process rewrites the pid file: it may be empty a moment.
            let now = fs::read_to_string(&path)
                .ok()
                .and_then(|text| text.trim().parse::<u32>().ok());
            if let Some(now) = now.filter(|now| *now != before) {
                if self.run("scontrol", &["ping"]).stdout.contains("is UP") {
                    return now;
                }
            }
            if Instant::now() >= deadline {
                let log = self.log_since(0);
                let tail: Vec<&str> = log.lines().rev().take(60).collect();
                panic!(
                    "slurmctld 23.11+ should hand over to a new process on reconfigure; the pid \
                     file holds {now:?} (before: {before}), and scontrol ping says:\n{:?}\n\
                     slurmctld's log ends with:\n{}",
                    self.run("scontrol", &["ping"]),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The current size of slurmctld's log: an offset for [`Cluster::log_since`].
    pub fn log_len(&self) -> u64 {
        fs::metadata(self.log_path()).map(|m| m.len()).unwrap_or(0)
    }

    /// What slurmctld logged since `offset` (from [`Cluster::log_len`]).
    /// If the log is shorter than `offset` (the cluster was restarted), the
    /// whole log is returned.
    pub fn log_since(&self, offset: u64) -> String {
        let path = self.log_path();
        let Ok(mut file) = fs::File::open(&path) else {
            return String::new();
        };
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = if offset <= len { offset } else { 0 };
        file.seek(SeekFrom::Start(start))
            .expect("seek slurmctld.log");
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).expect("read slurmctld.log");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Atomically replaces the installed policy (`$dir/etc/hetpolicy.yaml`)
    /// with `yaml`: a temp file with mode 0644 renamed over it, so the plugin
    /// never reads a half-written file. Tests of one binary run in parallel:
    /// prefer [`Cluster::with_policy`], which also serialises them.
    pub fn set_policy(&self, yaml: &str) {
        let target = self.policy_path();
        let tmp = self
            .dir
            .join("etc")
            .join(format!(".hetpolicy.yaml.{}", unique_name()));
        fs::write(&tmp, yaml).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).expect("chmod policy");
        fs::rename(&tmp, &target)
            .unwrap_or_else(|e| panic!("rename {} -> {}: {e}", tmp.display(), target.display()));
    }

    /// The tests' reference policy, tests/fixtures/policy.yaml (not the
    /// shipped example policy.yaml, which admins may edit freely).
    pub fn reference_policy_path(&self) -> PathBuf {
        reference_policy_path(&self.repo)
    }

    /// The text of [`Cluster::reference_policy_path`].
    pub fn reference_policy(&self) -> String {
        let path = self.reference_policy_path();
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// The reference policy with `before` replaced by `after` once; panics
    /// when `before` is not there (the reference policy changed shape).
    pub fn reference_policy_with(&self, before: &str, after: &str) -> String {
        let reference = self.reference_policy();
        assert!(
            reference.contains(before),
            "tests/fixtures/policy.yaml changed shape: it lacks\n{before}"
        );
        reference.replacen(before, after, 1)
    }

    /// Installs `text` as the policy until the guard is dropped, and waits
    /// until the plugin reads it at the next submission: longer than its
    /// change-check interval (250 ms) plus the time a new file must have
    /// settled (100 ms), as in tests/cluster_reload.rs.
    pub fn with_policy_settled(&self, text: &str) -> PolicyGuard<'_> {
        let guard = self.with_policy(text);
        std::thread::sleep(POLICY_SETTLE);
        guard
    }

    /// The text of the shipped example policy, policy.yaml (what the
    /// package installs and the demo enforces).
    pub fn shipped_policy(&self) -> String {
        let path = self.repo.join("policy.yaml");
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Puts the reference policy back.
    pub fn restore_policy(&self) {
        self.set_policy(&self.reference_policy());
    }

    /// Installs `yaml` as the policy until the returned guard is dropped,
    /// which restores the repository's policy. Holds a process-wide lock
    /// meanwhile, so tests that change the policy do not overlap.
    pub fn with_policy(&self, yaml: &str) -> PolicyGuard<'_> {
        let lock = POLICY_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.set_policy(yaml);
        PolicyGuard {
            cluster: self,
            _lock: lock,
        }
    }
}

/// Restores the repository's policy when dropped (also on panic).
pub struct PolicyGuard<'a> {
    cluster: &'a Cluster,
    _lock: MutexGuard<'static, ()>,
}

impl Drop for PolicyGuard<'_> {
    fn drop(&mut self) {
        self.cluster.restore_policy();
    }
}

/// Asserts that a submission was refused with exit code 1, that its
/// stderr has each of `lines`, and that no job was created.
pub fn assert_refused(out: &CmdOutput, what: &str, lines: &[&str]) {
    assert_eq!(out.code, 1, "{what} should be refused:\n{out:?}");
    for line in lines {
        assert!(
            out.stderr.lines().any(|l| l == *line),
            "{what}: stderr lacks the line\n  {line}\n{out:?}"
        );
    }
    assert!(
        out.job_id().is_none(),
        "{what}: nothing may be submitted:\n{out:?}"
    );
}

/// Asserts that a (held) submission was accepted, and cancels its job.
pub fn assert_accepted(c: &Cluster, out: &CmdOutput, what: &str) {
    assert_eq!(out.code, 0, "{what} should be accepted:\n{out:?}");
    let job = out.expect_job_id();
    let cancel = c.run("scancel", &[&job.to_string()]);
    assert!(cancel.success(), "scancel {job}:\n{cancel:?}");
}

/// The message of an `scontrol update` hetpolicy cannot judge (a change
/// of `field`), as job_modify refuses it.
pub fn unjudged_update_reason(field: &str) -> String {
    format!(
        "job update changes {field}, which hetpolicy cannot check against the rest of the job; \
         cancel the job and submit it again with the new {field} (scancel, then sbatch), or ask \
         an administrator to make the change (policy: job_updates.unjudged_allowed_for)"
    )
}

/// Asserts that `update` (an `scontrol update` of `job`) was refused by
/// job_modify: exit 1, Slurm's line `{slurm_text} for job {job}`, and from
/// 23.02, whose job_modify has `err_msg`, `scontrol: error: {reason}`.
pub fn assert_update_refused(
    c: &Cluster,
    update: &CmdOutput,
    job: &str,
    slurm_text: &str,
    reason: &str,
) {
    assert_eq!(update.code, 1, "the update should be refused:\n{update:?}");
    let slurm_line = format!("{slurm_text} for job {job}");
    assert!(
        update.stderr.lines().any(|l| l == slurm_line),
        "scontrol's stderr lacks\n  {slurm_line}\n{update:?}"
    );
    if c.slurm_release() >= (23, 2, 0) {
        let line = format!("scontrol: error: {reason}");
        assert!(
            update.stderr.lines().any(|l| l == line),
            "scontrol's stderr lacks\n  {line}\n{update:?}"
        );
    }
}

/// Asserts that slurmctld survived the test: the same pid still runs (not
/// a zombie) and answers `scontrol ping`, and its log since `log_offset`
/// has no line with both "job_submit/hetpolicy" and "error", and no
/// "fatal:" (all case-insensitive), and that no node is drained.
pub fn assert_controller_healthy(c: &Cluster, pid_before: u32, log_offset: u64) {
    assert_controller_healthy_allowing(c, pid_before, log_offset, &[]);
}

/// Like [`assert_controller_healthy`], but log lines that contain one of
/// `expected` (errors the test provoked on purpose) are not counted.
pub fn assert_controller_healthy_allowing(
    c: &Cluster,
    pid_before: u32,
    log_offset: u64,
    expected: &[&str],
) {
    let log = c.log_since(log_offset);
    let pid_now = c.slurmctld_pid();
    assert_eq!(
        pid_now, pid_before,
        "slurmctld was restarted (pid {pid_before} -> {pid_now}); its log:\n{log}"
    );
    let stat = fs::read_to_string(format!("/proc/{pid_before}/stat")).unwrap_or_default();
    // The state is the field after "(comm)".
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    assert!(
        matches!(state, Some(s) if s != "Z" && s != "X"),
        "slurmctld (pid {pid_before}) is gone (state {state:?}); its log:\n{log}"
    );
    let nodes = c.run("sinfo", &["-h", "-N", "-o", "%N %T"]);
    assert!(
        !nodes.stdout.is_empty() && !nodes.stdout.contains("drain"),
        "a node is drained (a plugin failure on a node drains it):\n{nodes:?}"
    );
    let ping = c.run("scontrol", &["ping"]);
    assert!(
        ping.stdout.contains("is UP"),
        "slurmctld does not answer a ping:\n{ping:?}"
    );
    let bad: Vec<&str> = log
        .lines()
        .filter(|line| {
            let l = line.to_ascii_lowercase();
            ((l.contains("job_submit/hetpolicy") && l.contains("error")) || l.contains("fatal:"))
                && !expected.iter().any(|e| line.contains(e))
        })
        .collect();
    assert!(
        bad.is_empty(),
        "slurmctld logged errors during the test:\n{}",
        bad.join("\n")
    );
}

/// "24.11.5" (or "22.05.8", "26.05.5") as (24, 11, 5).
fn parse_release(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.split('.').map(|part| part.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// A name unique across processes and threads: pid, time and a counter.
fn unique_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("t{}-{nanos}-{n}", std::process::id())
}

/// Runs `cmd` with stdin from /dev/null, capturing stdout and stderr; kills
/// it after `timeout` (the output then ends with a note, code -1).
pub fn run_command(mut cmd: Command, timeout: Duration) -> CmdOutput {
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {desc}: {e}"));
    // Read both pipes on their own threads so a full pipe never blocks it.
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait for child") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait for killed child");
            }
            None => thread::sleep(Duration::from_millis(10)),
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let mut stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    if timed_out {
        stderr.push_str(&format!("\n[{desc} killed after {timeout:?}]\n"));
    }
    CmdOutput {
        code: if timed_out {
            -1
        } else {
            status.code().unwrap_or(-1)
        },
        stdout,
        stderr,
    }
}
