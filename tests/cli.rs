//! End-to-end tests of the `hetpolicy` command line tool, offline: the
//! built binary on real files, checking exit codes and what it prints.
//! (tests/cluster_eval_corpus.rs compares `eval` with the live cluster.)

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// The test cluster's slurm.conf (tests/fixtures/slurm.conf).
const SLURM_CONF: &str = include_str!("fixtures/slurm.conf");

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh directory holding slurm.conf and the reference policy as
/// hetpolicy.yaml, as on a login node.
fn site() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hetpolicy-cli-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    fs::create_dir_all(&dir).expect("create a temp dir");
    fs::write(dir.join("slurm.conf"), SLURM_CONF).expect("write slurm.conf");
    fs::copy(reference_policy(), dir.join("hetpolicy.yaml")).expect("copy the reference policy");
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the tool in `dir` with SLURM_CONF pointing there and no SBATCH_*
/// variables but `env`.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(common::bin::hetpolicy());
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("SBATCH_") || key.starts_with("SLURM_") {
            command.env_remove(key.as_ref());
        }
    }
    command.env("SLURM_CONF", dir.join("slurm.conf"));
    command.envs(env.iter().copied());
    let out = command.output().expect("run hetpolicy");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{run:?}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).expect("write a file");
    path.display().to_string()
}

// ------------------------------------------------------------------ check

/// The tests' policy, tests/fixtures/policy.yaml.
fn reference_policy() -> PathBuf {
    Path::new(REPO).join("tests/fixtures/policy.yaml")
}

#[test]
fn the_shipped_example_policy_is_valid_without_warnings() {
    let dir = site();
    let policy = Path::new(REPO).join("policy.yaml").display().to_string();
    let out = run(&dir, &["check", "--deny-warnings", &policy], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("policy.yaml: valid ("), "{out:?}");
}

#[test]
fn check_passes_the_reference_policy() {
    let dir = site();
    let policy = reference_policy().display().to_string();
    let out = run(&dir, &["check", &policy], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("policy.yaml: valid (3 partitions, 3 QOS"),
        "{out:?}"
    );
    assert!(out.stdout.contains("0 warnings"), "{out:?}");
    // Without an argument: hetpolicy.yaml beside $SLURM_CONF.
    let out = run(&dir, &["check"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("{}/hetpolicy.yaml: valid", dir.display())),
        "{out:?}"
    );
}

#[test]
fn check_reports_an_invalid_key_at_its_line_and_column() {
    let dir = site();
    let text = fs::read_to_string(reference_policy())
        .unwrap()
        .replace("    max_gres: {gpu: 1}\n", "    max_gpus: {gpu: 1}\n");
    let line = text.lines().position(|l| l.contains("max_gpus")).unwrap() + 1;
    let file = write(&dir, "bad-key.yaml", &text);
    let out = run(&dir, &["check", &file], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let expected = format!("{file}:{line}:5: error: unknown field `max_gpus`");
    assert!(out.stdout.contains(&expected), "want {expected}\n{out:?}");
    assert!(
        out.stdout.contains("hint: did you mean `max_gres`?"),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!(" {line} |     max_gpus: {{gpu: 1}}")),
        "{out:?}"
    );
    assert!(out.stdout.contains("invalid: 1 error"), "{out:?}");
}

#[test]
fn check_reports_a_wrong_type_at_its_line_and_column() {
    let dir = site();
    let file = write(
        &dir,
        "bad-type.yaml",
        "partitions:\n  cpu:\n    default: true\nqos:\n  long:\n    max_nodes: two\n",
    );
    let out = run(&dir, &["check", &file], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains(&format!("{file}:6:16: error: invalid u32")),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains("hint: `max_nodes` takes a whole number"),
        "{out:?}"
    );
}

#[test]
fn check_reports_every_dangling_name_with_a_suggestion() {
    let dir = site();
    let file = write(
        &dir,
        "dangling.yaml",
        "partitions:\n  cpu:\n    qos:\n      allowed: [normal, lnog]\n  gpu:\n    qos:\n      allowed: [gpuu]\nqos:\n  normal: {}\n  long: {}\n  gpu: {}\n",
    );
    let out = run(&dir, &["check", "--format", "json", &file], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let report = json(&out);
    assert_eq!(report["valid"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{report:#}");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(4), Some(25))
    );
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("allows QOS 'lnog'"));
    assert!(
        errors[0]["hint"]
            .as_str()
            .unwrap()
            .starts_with("did you mean 'long'?"),
        "{report:#}"
    );
    assert_eq!(
        (errors[1]["line"].as_u64(), errors[1]["column"].as_u64()),
        (Some(7), Some(17))
    );
    assert!(
        errors[1]["hint"]
            .as_str()
            .unwrap()
            .starts_with("did you mean 'gpu'?"),
        "{report:#}"
    );
}

#[test]
fn check_warns_about_policies_that_load_but_are_surely_wrong() {
    let dir = site();
    let file = write(
        &dir,
        "lint.yaml",
        "partitions:\n  gpu:\n    reserved_for: [gpu]\n    qos:\n      allowed: [gpu, long]\n      default: gpu\naccelerators:\n  gpu:\n    partitions: [gpu, gpu2]\nqos:\n  gpu: {}\n  long:\n    max_gres: {gpu: 0}\noptions:\n  time:\n    help: clashes with sbatch --time\n    required_on:\n      partitions: [gpu]\n",
    );
    let out = run(&dir, &["check", &file], &[]);
    assert_eq!(out.code, 0, "legal, so valid: {out:?}");
    for expected in [
        format!("{file}:5:22: warning: partition 'gpu' allows QOS 'long'"),
        format!("{file}:9:23: warning: accelerators.gpu.partitions names partition 'gpu2'"),
        format!("{file}:15:3: warning: option 'time' is already an option of sbatch"),
    ] {
        assert!(out.stdout.contains(&expected), "want {expected}\n{out:?}");
    }
    assert!(
        out.stdout
            .contains("valid (1 partition, 2 QOS, 1 accelerator, 1 site option); 3 warnings"),
        "{out:?}"
    );
    let strict = run(&dir, &["check", "--deny-warnings", &file], &[]);
    assert_eq!(strict.code, 1, "{strict:?}");
    let report = json(&run(&dir, &["check", "--format=json", &file], &[]));
    assert_eq!(report["valid"], true);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 3);
}

#[test]
fn check_unreadable_and_usage_errors() {
    let dir = site();
    let out = run(&dir, &["check", "/nonexistent/policy.yaml"], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("cannot read the policy file"),
        "{out:?}"
    );
    for args in [
        &[][..],
        &["frobnicate"][..],
        &["check", "--colour"][..],
        &["check", "a.yaml", "b.yaml"][..],
        &["check", "--format", "xml", "a.yaml"][..],
        &["eval"][..],
        &["eval", "--policy"][..],
    ] {
        let out = run(&dir, args, &[]);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains("usage: hetpolicy check"), "{out:?}");
    }
    let help = run(&dir, &["--help"], &[]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("hetpolicy eval"));
}

// ------------------------------------------------------------------- eval

const SEED_000: &str = "#!/bin/bash
#SBATCH --job-name=hetero_example
#SBATCH --partition=cpu
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH hetjob
#SBATCH --partition=gpu
#SBATCH --gres=gpu:1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --mem=16G

echo \"This is component $SLURM_HET_GROUP_ID of the heterogeneous job\"
if [ \"$SLURM_HET_GROUP_ID\" -eq 0 ]; then
    echo \"Running CPU-only component\"
else
    echo \"Running GPU component\"
fi
";

fn finding<'v>(report: &'v Value, kind: &str) -> &'v Value {
    report["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["kind"] == kind))
        .unwrap_or_else(|| panic!("no {kind} finding in {report:#}"))
}

#[test]
fn eval_accepts_seed_000_and_reports_the_het_group_id_branch_with_its_fix() {
    let dir = site();
    let script = write(&dir, "seed000.sh", SEED_000);
    let out = run(&dir, &["eval", &script], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    for expected in [
        "a hetjob of 2 components",
        "hetjob component 1",
        "partition  gpu  (line 8)",
        "qos        gpu  (the partition's default, set by the policy)",
        "time       2-00:00:00  (the QOS's max_time, set by the policy)",
        "Submitted batch job <id>",
        "seed000.sh:14: error: the batch script branches on SLURM_HET_GROUP_ID",
        "fix: start each component's work as a step on that component instead: srun --het-group=0",
        "verdict: ACCEPTED",
    ] {
        assert!(out.stdout.contains(expected), "want {expected}\n{out:?}");
    }
    let strict = run(&dir, &["eval", "--strict", &script], &[]);
    assert_eq!(
        strict.code, 1,
        "--strict fails on an error finding: {strict:?}"
    );
}

#[test]
fn eval_prints_the_lines_sbatch_would_print_and_fails_on_a_rejection() {
    let dir = site();
    let script = write(
        &dir,
        "cpu-gpu.sh",
        "#!/bin/bash\n#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p cpu --gres=gpu:1\nsrun true\n",
    );
    let out = run(&dir, &["eval", &script], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains(
        "  sbatch: error: 1: hetjob component 1 requests gpu:1 on partition cpu; gpu components must use --partition=gpu (policy: accelerators.gpu)\n  sbatch: error: Batch job submission failed: Invalid partition name specified\n"
    ), "{out:?}");
    assert!(
        out.stdout.contains(
            "verdict: REJECTED (ESLURM_INVALID_PARTITION_NAME: Invalid partition name specified)"
        ),
        "{out:?}"
    );
    let report = json(&run(&dir, &["eval", "--format", "json", &script], &[]));
    assert_eq!(report["verdict"], "rejected");
    assert_eq!(report["error"]["name"], "ESLURM_INVALID_PARTITION_NAME");
    assert_eq!(report["components"][0]["verdict"], "accepted");
    assert_eq!(report["components"][1]["verdict"], "rejected");
}

#[test]
fn eval_judges_job_names_and_excluded_nodes_as_slurmctld_sees_them() {
    let dir = site();
    let policy = fs::read_to_string(reference_policy()).expect("read the reference policy");
    let forbid = "    default: true\n    forbid: {exclude: true, job_names: [sys-*]}\n";
    let policy = policy.replacen("    default: true\n", forbid, 1);
    assert!(
        policy.contains(forbid),
        "the reference policy changed shape"
    );
    fs::write(dir.join("hetpolicy.yaml"), policy).expect("write the policy");
    let verdict = |name: &str, script: &str, args: &[&str]| {
        let path = write(&dir, name, script);
        let mut all = vec!["eval", path.as_str(), "--"];
        all.extend_from_slice(args);
        let out = run(&dir, &all, &[]);
        (out.code, out.stdout)
    };
    // -J in the script, and on the command line.
    let (code, out) = verdict(
        "a.sh",
        "#!/bin/bash\n#SBATCH -p cpu -J sys-check\ntrue\n",
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("policy: partitions.cpu.forbid.job_names"),
        "{out}"
    );
    let (code, out) = verdict(
        "b.sh",
        "#!/bin/bash\n#SBATCH -p cpu\ntrue\n",
        &["-J", "sys-x"],
    );
    assert_eq!(code, 1, "{out}");
    // Without -J, sbatch names the job after the script.
    let (code, out) = verdict("sys-backup.sh", "#!/bin/bash\n#SBATCH -p cpu\ntrue\n", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("sys-backup.sh"), "{out}");
    // -x, as --exclude.
    let (code, out) = verdict("c.sh", "#!/bin/bash\n#SBATCH -p cpu -x c1\ntrue\n", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("policy: partitions.cpu.forbid"), "{out}");
    // Allowed: another name, and the same options on partition gpu.
    let (code, out) = verdict("d.sh", "#!/bin/bash\n#SBATCH -p cpu -J my-sys\ntrue\n", &[]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = verdict(
        "e.sh",
        "#!/bin/bash\n#SBATCH -p gpu --gres=gpu:1 -J sys-x -x g1\ntrue\n",
        &[],
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn eval_judges_the_rules_about_who_submits_for_the_user_given() {
    let dir = site();
    let policy = fs::read_to_string(reference_policy()).expect("read the reference policy");
    let gpu = "    reserved_for: [gpu]\n";
    assert!(policy.contains(gpu), "the reference policy changed shape");
    let policy = policy.replacen(gpu, &format!("{gpu}    allow: {{users: [root]}}\n"), 1)
        + "\ndeny:\n  - users: [nobody]\n    message: nobody may submit here\n";
    fs::write(dir.join("hetpolicy.yaml"), &policy).expect("write the policy");
    let script = write(
        &dir,
        "gpu.sh",
        "#!/bin/bash\n#SBATCH -p gpu --gres=gpu:1\ntrue\n",
    );
    let eval = |args: &[&str]| {
        let mut all = vec!["eval"];
        all.extend_from_slice(args);
        all.push(&script);
        run(&dir, &all, &[])
    };
    let out = eval(&["--user", "root"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("  as user root (uid 0; groups root")),
        "{out:?}"
    );
    let out = eval(&["--user", "nobody"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(
            "  sbatch: error: job refused for user nobody: nobody may submit here (policy: deny)\n"
        ),
        "{out:?}"
    );
    let report = json(&eval(&["--user", "nobody", "--format", "json"]));
    assert_eq!(report["submitter"]["user"], "nobody");
    assert_eq!(report["submitter"]["judged"], true);
    assert_eq!(report["verdict"], "rejected");
    // --no-user leaves the rules out, and says so.
    let out = eval(&["--no-user"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("  the rules naming users, groups or accounts are not judged (--no-user)\n"),
        "{out:?}"
    );
    // Without --user: whoever runs it.
    let me = Command::new("id").arg("-un").output().expect("run id -un");
    let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
    let out = eval(&[]);
    assert!(
        out.stdout.contains(&format!("  as user {me} (uid ")),
        "{out:?}"
    );
    let out = eval(&["--user", "no-such-user-hetpolicy"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("hetpolicy: eval: no user no-such-user-hetpolicy in the user database"),
        "{out:?}"
    );
    // A rule by account: the default account is asked of slurmdbd, which
    // this site (no accounting) cannot answer: a note says how it judged.
    let by_account = policy.replacen("allow: {users: [root]}", "allow: {accounts: [physics]}", 1);
    fs::write(dir.join("hetpolicy.yaml"), by_account).expect("write the policy");
    let out = eval(&["--user", "root"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("note: the default account of user root is unknown ("),
        "{out:?}"
    );
    let out = run(
        &dir,
        &["eval", "--user", "root", &script, "--", "-A", "Physics"],
        &[],
    );
    assert_eq!(
        out.code, 0,
        "-A Physics is account physics to slurmctld: {out:?}"
    );
}

#[test]
fn eval_reads_colon_components_and_sbatch_variables() {
    let dir = site();
    let script = write(&dir, "plain.sh", "#!/bin/bash\nsrun true\n");
    let out = run(
        &dir,
        &[
            "eval",
            "--format",
            "json",
            &script,
            "--",
            "-n",
            "2",
            ":",
            "-p",
            "gpu",
            "--gpus-per-task=1",
            "-n",
            "2",
            ":",
            "--gres=qpu:1",
            "-p",
            "quantum",
        ],
        &[
            ("SBATCH_QOS", "normal"),
            ("SBATCH_TIMELIMIT", "1:30:00"),
            ("SBATCH_OUTPUT", "job.out"),
        ],
    );
    let report = json(&out);
    let components = report["components"].as_array().unwrap();
    assert_eq!(components.len(), 3, "{report:#}");
    for c in components {
        assert_eq!(c["request"]["qos"], "normal");
        assert_eq!(c["request"]["time_limit"], "01:30:00");
        assert_eq!(
            c["request"]["std_out"],
            format!("{}/job.out", dir.canonicalize().unwrap().display())
        );
    }
    assert_eq!(components[1]["request"]["tres_per_task"], "gres:gpu:1");
    assert_eq!(
        components[0]["request"]["origins"]["qos"]["variable"],
        "SBATCH_QOS"
    );
    // The gpu component asks for 2 GPUs with QOS normal (1 allowed).
    assert_eq!(report["verdict"], "rejected");
    assert_eq!(
        report["stderr"][0],
        "sbatch: error: 1: hetjob component 1 requests 2 gpu with QOS normal; QOS normal allows at most 1 gpu per component: request at most 1, or use --qos=gpu (policy: qos.normal.max_gres.gpu)"
    );
    assert_eq!(out.code, 1);
}

#[test]
fn eval_reports_het_group_in_sbatch_lines_with_the_header_meant() {
    let dir = site();
    let script = write(
        &dir,
        "seed004.sh",
        "#!/bin/bash\n#SBATCH hetjob\n#SBATCH --het-group=1 --nodes=1 --cpus-per-task=8 --gpus=0\n#SBATCH --het-group=2 --nodes=4 --gpus-per-node=4\n\nsrun --het-group=1 prep-data.sh\nsrun --het-group=2 train-model.sh\n",
    );
    let out = run(&dir, &["eval", &script], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    for expected in [
        "  sbatch: unrecognized option '--het-group=1'\n  Try \"sbatch --help\" for more information\n",
        "seed004.sh:3: error: --het-group in #SBATCH (lines 3, 4)",
        "      #SBATCH --nodes=1 --cpus-per-task=8 --gpus=0\n      #SBATCH hetjob\n      #SBATCH --nodes=4 --gpus-per-node=4\n",
        "--het-group=1 becomes 0 and --het-group=2 becomes 1",
        "verdict: REFUSED by sbatch before submitting",
    ] {
        assert!(out.stdout.contains(expected), "want {expected}\n{out:?}");
    }
}

#[test]
fn eval_reports_array_hetjobs_output_on_later_components_and_oversized_components() {
    let dir = site();
    let array = write(
        &dir,
        "array.sh",
        "#!/bin/bash\n#SBATCH --array=1-4 -p cpu\n#SBATCH hetjob\n#SBATCH -p cpu\nsrun true\n",
    );
    let report = json(&run(&dir, &["eval", "--format", "json", &array], &[]));
    // The components' notices come first: job_submit accepted them before
    // slurmctld refused the array.
    let stderr = report["stderr"].as_array().expect("lines");
    assert_eq!(
        stderr.last().expect("a line"),
        "sbatch: error: Batch job submission failed: Invalid job array specification"
    );
    assert_eq!(
        stderr[0],
        "sbatch: error: 0: hetjob component 0 gets QOS normal, the default on partition cpu (policy: partitions.cpu.qos)"
    );
    let f = finding(&report, "array_with_hetjob");
    assert_eq!(f["line"], 2);
    assert!(f["fix"].as_str().unwrap().contains("drop --array"), "{f:#}");

    let output = write(&dir, "output.sh", "#!/bin/bash\n#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p gpu --gres=gpu:1 -o gpu.out\nsrun true\n");
    let report = json(&run(&dir, &["eval", "--format", "json", &output], &[]));
    assert_eq!(report["verdict"], "rejected");
    let f = finding(&report, "output_on_later_component");
    assert_eq!(
        (f["component"].as_u64(), f["line"].as_u64()),
        (Some(1), Some(4))
    );
    assert!(
        f["fix"]
            .as_str()
            .unwrap()
            .starts_with("give --output on the first component only"),
        "{f:#}"
    );

    let nodes = write(
        &dir,
        "nodes.sh",
        "#!/bin/bash\n#SBATCH -p cpu -N 2\nsrun true\n",
    );
    let out = run(&dir, &["eval", &nodes], &[]);
    assert_eq!(out.code, 0, "Slurm accepts it: {out:?}");
    assert!(
        out.stdout.contains(
            "error: component 0 asks for 2 nodes, but partition cpu can give a job at most 1"
        ),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("fix: use --nodes=1 or fewer on cpu"),
        "{out:?}"
    );
    // Without slurm.conf eval cannot know the partition's size.
    let out = run(&dir, &["eval", "--no-slurm-conf", &nodes], &[]);
    assert!(!out.stdout.contains("asks for 2 nodes"), "{out:?}");
}

#[test]
fn eval_reports_site_option_refusals_as_the_spank_plugin_prints_them() {
    let dir = site();
    let fs = fs::read_to_string(dir.join("slurm.conf")).unwrap();
    fs::write(
        dir.join("slurm.conf"),
        format!("{fs}PlugStackConfig={}/plugstack.conf\n", dir.display()),
    )
    .unwrap();
    fs::write(
        dir.join("plugstack.conf"),
        "required /usr/lib/slurm/spank_hetpolicy.so policy=/etc/x.yaml\n",
    )
    .unwrap();
    let script = write(
        &dir,
        "qpu.sh",
        "#!/bin/bash\n#SBATCH -p quantum --gres=qpu:1 --qpu=ibm_nowhere\nsrun true\n",
    );
    let out = run(&dir, &["eval", "--format", "json", &script], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let report = json(&out);
    assert_eq!(report["verdict"], "refused");
    assert_eq!(report["refused_by"], "spank_plugin");
    assert_eq!(
        report["stderr"],
        serde_json::json!([
            "sbatch: error: hetpolicy: job sets --qpu=ibm_nowhere, which is not allowed; use one of: ibm_fez, ibm_torino (policy: options.qpu.values)",
            "sbatch: error: spank: required plugin /usr/lib/slurm/spank_hetpolicy.so: init_post_opt() failed with rc=-1",
            "sbatch: error: Plugin stack post-option processing failed",
        ])
    );
}

#[test]
fn eval_cannot_judge_without_a_loadable_policy_or_a_script() {
    let dir = site();
    let script = write(&dir, "plain.sh", "#!/bin/bash\nsrun true\n");
    let broken = write(&dir, "broken.yaml", "partitions: [\n");
    let out = run(&dir, &["eval", "--policy", &broken, &script], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("the policy does not load"), "{out:?}");
    let out = run(&dir, &["eval", "/nonexistent/job.sh"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("cannot read the script"), "{out:?}");
}

/// tests/fixtures/sacct-RELEASE.json: the jobs tests/cluster_replay.rs's
/// first sample ran, as each release's sacct --json prints them.
fn sacct_fixture(release: &str) -> String {
    format!("{REPO}/tests/fixtures/sacct-{release}.json")
}

/// The reference policy with partition gpu only for account chem.
fn gpu_for_chem(dir: &Path) -> String {
    let reference = fs::read_to_string(reference_policy()).expect("reference policy");
    let gpu = "    reserved_for: [gpu]\n";
    assert_eq!(reference.matches(gpu).count(), 1);
    write(
        dir,
        "strict.yaml",
        &reference.replace(gpu, &format!("{gpu}    allow: {{accounts: [chem]}}\n")),
    )
}

#[test]
fn replay_counts_a_saved_sacct_file_against_two_policies() {
    let dir = site();
    let strict = gpu_for_chem(&dir);
    for release in ["22.05", "24.11", "26.05"] {
        let file = sacct_fixture(release);
        let out = run(
            &dir,
            &[
                "replay",
                "--on",
                "2027-01-01",
                "--sacct-json",
                &file,
                "--against",
                "hetpolicy.yaml",
                &strict,
            ],
            &[],
        );
        assert_eq!(out.code, 0, "{release}: {out:?}");
        assert!(
            out.stdout.starts_with("replayed ")
                && out.stdout.contains(&format!("(Slurm {release}.")),
            "{release}: {out:?}"
        );
        assert!(out.stdout.contains("judged on 2027-01-01"), "{out:?}");
        // alice's GPU job, bob's with -A physics and the hetjob's GPU
        // component are all physics'.
        let line = out
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("partitions.gpu.allow"))
            .unwrap_or_else(|| panic!("{release}: no row for the rule: {out:?}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[1..4], ["0", "3", "+3"], "{release}: {line}");
        assert!(
            out.stdout.contains(
                "what the edit does, in components: 3 newly refused, 0 no longer refused"
            ),
            "{release}: {out:?}"
        );
        let report = json(&run(
            &dir,
            &[
                "replay",
                "--format",
                "json",
                "--sacct-json",
                &file,
                "--against",
                "hetpolicy.yaml",
                &strict,
            ],
            &[],
        ));
        assert_eq!(
            report["policy"]["accounts"]["physics"]["refused"], 3,
            "{report:#}"
        );
        assert_eq!(
            report["policy"]["accounts"]["chem"]["refused"], 0,
            "{report:#}"
        );
        assert_eq!(report["against"]["components"]["refused"], 0, "{report:#}");
        assert_eq!(
            report["difference"]["users"]["alice"]["newly_refused"], 2,
            "{report:#}"
        );
        assert_eq!(
            report["difference"]["users"]["bob"]["newly_refused"], 1,
            "{report:#}"
        );
    }
}

#[test]
fn replay_reads_standard_input_and_reports_malformed_json_where_it_is() {
    let dir = site();
    let mut command = Command::new(common::bin::hetpolicy());
    command
        .args(["replay", "--sacct-json", "-", "hetpolicy.yaml"])
        .current_dir(&dir)
        .stdin(fs::File::open(sacct_fixture("26.05")).expect("fixture"));
    let out = command.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("replayed 7 components of 6 jobs from standard input (Slurm 26.05.5)"),
        "{stdout}"
    );

    let broken = write(
        &dir,
        "broken.json",
        "{\"jobs\": [\n  {\"job_id\": 1, \"partition\": cpu}\n]}\n",
    );
    let out = run(
        &dir,
        &["replay", "--sacct-json", &broken, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "hetpolicy: replay: {broken}: not sacct's JSON: expected value at line 2 column 30"
        )
    );
    let missing = run(
        &dir,
        &["replay", "--sacct-json", "nothing.json", "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing
            .stderr
            .starts_with("hetpolicy: replay: nothing.json: "),
        "{missing:?}"
    );
    let usage = run(
        &dir,
        &["replay", "--sacct-json", &broken, "--start", "now-1days"],
        &[],
    );
    assert_eq!(usage.code, 2, "{usage:?}");
    assert!(
        usage
            .stderr
            .contains("a --sacct-json file is replayed whole"),
        "{usage:?}"
    );
    let two = run(&dir, &["replay", "a.yaml", "b.yaml"], &[]);
    assert_eq!(two.code, 2, "{two:?}");
}

// -------------------------------------------------------------- plugstack

#[test]
fn plugstack_writes_the_line_that_check_agrees_with() {
    let dir = site();
    let out = run(
        &dir,
        &[
            "plugstack",
            "--state-dir",
            "/run/site state",
            "hetpolicy.yaml",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "required spank_hetpolicy.so state_dir=/run/site%20state options=qpu \
         qpu.help=quantum%20backend%20(QPU)%20this%20component%20uses qpu.arg=NAME \
         qpu.values=ibm_fez,ibm_torino qpu.task_env=QPU_BACKEND\n"
    );
    let stack = write(&dir, "plugstack.conf", "include plugstack.conf.d/*.conf\n");
    fs::create_dir_all(dir.join("plugstack.conf.d")).unwrap();
    write(&dir, "plugstack.conf.d/hetpolicy.conf", &out.stdout);
    let agrees = run(
        &dir,
        &["check", "--plugstack", &stack, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(agrees.code, 0, "{agrees:?}");
    assert!(
        agrees.stdout.contains(&format!(
            "{stack}: the spank_hetpolicy.so line agrees with the policy\n"
        )),
        "{agrees:?}"
    );
    // Without a policy argument, the one beside $SLURM_CONF.
    let default = run(&dir, &["plugstack"], &[]);
    assert_eq!(default.code, 0, "{default:?}");
    assert!(
        default
            .stdout
            .starts_with("required spank_hetpolicy.so options=qpu "),
        "{default:?}"
    );
}

#[test]
fn check_plugstack_flags_a_line_that_disagrees_with_the_policy() {
    let dir = site();
    let line = run(&dir, &["plugstack", "hetpolicy.yaml"], &[]).stdout;
    // An older policy allowed one backend only, and named the variable QPU.
    let stale = line
        .replace("ibm_fez,ibm_torino", "ibm_fez")
        .replace("QPU_BACKEND", "QPU");
    let stack = write(&dir, "plugstack.conf", &format!("# site\n{stale}"));
    let out = run(
        &dir,
        &["check", "--plugstack", &stack, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let hint = "  hint: write the line with `hetpolicy plugstack hetpolicy.yaml` (add --state-dir \
                if yours is not the default)";
    assert_eq!(
        out.stdout.lines().take(5).collect::<Vec<_>>(),
        [
            format!("{stack}:2: error: the line disagrees with the policy: --qpu allows ibm_fez on the line but ibm_fez,ibm_torino in the policy").as_str(),
            hint,
            format!("{stack}:2: error: the line disagrees with the policy: --qpu gives its tasks QPU on the line but QPU_BACKEND in the policy").as_str(),
            hint,
            format!("{stack}: 2 errors, 0 warnings").as_str(),
        ]
    );
    let report = json(&run(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--plugstack",
            &stack,
            "hetpolicy.yaml",
        ],
        &[],
    ));
    assert_eq!(report["plugstack"][0]["severity"], "error");
    assert_eq!(report["plugstack"][0]["place"], format!("{stack}:2"));

    // A classic line (the policy file on every node): a warning only.
    let classic = write(
        &dir,
        "classic.conf",
        "required spank_hetpolicy.so policy=/etc/slurm/hetpolicy.yaml\n",
    );
    let out = run(
        &dir,
        &["check", "--plugstack", &classic, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!("{classic}:1: warning: the line carries no site options: each node reads them from /etc/slurm/hetpolicy.yaml, and a node without that file (a configless cluster's nodes) offers none")), "{out:?}");
    let out = run(
        &dir,
        &[
            "check",
            "--deny-warnings",
            "--plugstack",
            &classic,
            "hetpolicy.yaml",
        ],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");

    // No line at all, a broken line, two lines.
    let none = write(&dir, "none.conf", "optional /usr/lib/other.so\n");
    let out = run(
        &dir,
        &["check", "--plugstack", &none, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "{none}: error: no line loads spank_hetpolicy.so, so users cannot give --qpu"
        )),
        "{out:?}"
    );
    let broken = write(
        &dir,
        "broken.conf",
        "required spank_hetpolicy.so options=qpu\n",
    );
    let out = run(
        &dir,
        &["check", "--plugstack", &broken, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "{broken}:1: error: plugstack.conf lacks qpu.help= (the --help text)"
        )),
        "{out:?}"
    );
    let twice = write(&dir, "twice.conf", &format!("{line}{line}"));
    let out = run(
        &dir,
        &["check", "--plugstack", &twice, "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains(&format!("{twice}:2: error: spank_hetpolicy.so is loaded again (first at {twice}:1); Slurm refuses the second line")), "{out:?}");
}

#[test]
fn plugstack_refuses_a_policy_that_does_not_load_and_a_line_too_long() {
    let dir = site();
    let broken = write(&dir, "broken.yaml", "options:\n  qpu: {helpp: x}\n");
    let out = run(&dir, &["plugstack", &broken], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "hetpolicy: `hetpolicy check {broken}` says what to fix"
        )),
        "{out:?}"
    );
    let long = write(
        &dir,
        "long.yaml",
        &format!("options:\n  qpu:\n    help: {}\n", "so long ".repeat(600)),
    );
    let out = run(&dir, &["plugstack", &long], &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("Slurm reads at most 4000 of a line safely"),
        "{out:?}"
    );
    let out = run(
        &dir,
        &["plugstack", "--state-dir", "relative", "hetpolicy.yaml"],
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
}
