use super::*;
use crate::policy::Policy;

const POLICY: &str = "\
partitions:
  quantum: {}
options:
  qpu:
    help: quantum backend (QPU) this component uses
    arg: NAME
    values: [ibm_fez, ibm_torino]
    required_on:
      partitions: [quantum]
    task_env: QPU_BACKEND
  tag:
    help: \"a free-form tag, 100% yours #1\"
";

fn policy(text: &str) -> Policy {
    Policy::from_yaml(text, "test.yaml").expect("the policy loads")
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().skip(2).collect()
}

#[test]
fn the_written_line_reads_back_as_the_policys_options() {
    let policy = policy(POLICY);
    let settings = LineSettings {
        state_dir: Some(PathBuf::from("/run/site state")),
        ..LineSettings::default()
    };
    let line = line_for(policy.options(), &settings).unwrap();
    assert!(line.starts_with("required spank_hetpolicy.so state_dir=/run/site%20state options="));
    assert!(!line.contains('#'), "{line}");
    assert!(line.contains("qpu.values=ibm_fez,ibm_torino"), "{line}");
    assert!(line.contains("qpu.task_env=QPU_BACKEND"), "{line}");
    assert!(
        line.contains(".help=a%20free-form%20tag,%20100%25%20yours%20%231"),
        "{line}"
    );
    let args = PluginArgs::parse(words(&line)).unwrap();
    assert_eq!(args.state_dir, PathBuf::from("/run/site state"));
    assert_eq!(args.policy, None);
    let declared = args.options.expect("options on the line");
    assert!(differences(&declared, policy.options()).is_empty());
    let qpu = declared.iter().find(|o| o.name() == "qpu").unwrap();
    assert_eq!(qpu.arg(), "NAME");
    assert!(qpu.allows("ibm_fez") && !qpu.allows("ibm_kyiv"));
    assert_eq!(qpu.job_env(), "HETPOLICY_QPU");
    assert!(
        qpu.required_partitions().is_empty(),
        "slurmctld's rule only"
    );
}

#[test]
fn a_policy_without_options_gives_an_empty_list() {
    let line = line_for(
        policy("partitions:\n  cpu: {}\n").options(),
        &LineSettings::default(),
    )
    .unwrap();
    assert_eq!(line, "required spank_hetpolicy.so options=");
    let args = PluginArgs::parse(words(&line)).unwrap();
    assert_eq!(args.options, Some(Vec::new()));
}

#[test]
fn defaults_and_the_classic_keys() {
    let args = PluginArgs::parse([]).unwrap();
    assert_eq!(args, PluginArgs::default());
    assert_eq!(args.state_dir, PathBuf::from(DEFAULT_STATE_DIR));
    let args = PluginArgs::parse(["policy=/etc/slurm/p.yaml", "state_dir=/var/run/h"]).unwrap();
    assert_eq!(args.policy, Some(PathBuf::from("/etc/slurm/p.yaml")));
    assert_eq!(args.state_dir, PathBuf::from("/var/run/h"));
    assert_eq!(args.options, None);
}

#[test]
fn strict() {
    for (bad, says) in [
        (vec!["polcy=/x"], "unknown plugstack.conf argument 'polcy'"),
        (vec!["policy"], "is not KEY=VALUE"),
        (vec!["policy=relative.yaml"], "must be an absolute path"),
        (vec!["policy="], "has no value"),
        (vec!["policy=/a", "policy=/b"], "given twice"),
        (vec!["debug"], "is not KEY=VALUE"),
        (
            vec!["policy=/a", "options=qpu", "qpu.help=x"],
            "both policy=/a and options=",
        ),
        (vec!["options=qpu"], "lacks qpu.help="),
        (vec!["options=qpu,qpu", "qpu.help=x"], "names 'qpu' twice"),
        (vec!["qpu.help=x"], "but no options= list"),
        (
            vec!["options=qpu", "qpu.help=x", "gpu.help=y"],
            "which options= does not name",
        ),
        (
            vec!["options=qpu", "qpu.help=x", "qpu.colour=red"],
            "an option's fields are",
        ),
        (
            vec!["options=qpu", "qpu.help=x", "qpu.help=y"],
            "given twice",
        ),
        (
            vec!["options=Qpu", "Qpu.help=x"],
            "cannot be a command line option",
        ),
        (
            vec!["options=qpu", "qpu.help=x", "qpu.task_env=1X"],
            "not an environment variable",
        ),
        (
            vec!["options=qpu", "qpu.help=x", "qpu.values=a,,b"],
            "cannot be given on a command line",
        ),
        (
            vec!["options=qpu", "qpu.help=50%"],
            "not followed by two hex digits",
        ),
        (vec!["options=qpu", "qpu.help=%FF"], "not UTF-8"),
    ] {
        let err = PluginArgs::parse(bad.iter().copied()).unwrap_err();
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}

#[test]
fn differences_name_each_field() {
    let policy = policy(POLICY);
    let older = self::policy(
        &POLICY
            .replace("ibm_fez, ibm_torino", "ibm_fez")
            .replace("QPU_BACKEND", "QPU"),
    );
    let found = differences(older.options(), policy.options());
    assert_eq!(
        found,
        [
            "--qpu allows ibm_fez on the line but ibm_fez,ibm_torino in the policy",
            "--qpu gives its tasks QPU on the line but QPU_BACKEND in the policy",
        ]
    );
    let fewer = self::policy(&POLICY[..POLICY.find("  tag:").unwrap()]);
    assert_eq!(
        differences(fewer.options(), policy.options()),
        ["--tag is in the policy but not on the line"]
    );
    assert_eq!(
        differences(policy.options(), fewer.options()),
        ["--tag is on the line but not in the policy"]
    );
}

#[test]
fn a_line_slurm_cannot_read_whole_is_refused() {
    let long = format!(
        "options:\n  qpu:\n    help: {}\n",
        "very long help ".repeat(300)
    );
    let err = line_for(policy(&long).options(), &LineSettings::default()).unwrap_err();
    assert!(err.contains("Slurm reads at most 4000"), "{err}");
}

#[test]
fn encoding_round_trips() {
    for text in [
        "plain",
        "two words",
        "100%",
        "#tag",
        "tab\there",
        "grüße",
        "",
    ] {
        let encoded = encode(text);
        assert!(!encoded.contains([' ', '#', '\t']), "{encoded}");
        assert_eq!(decode(&encoded).unwrap(), text);
    }
}

#[test]
fn plugin_lines_follow_includes() {
    let dir = std::env::temp_dir().join(format!("plugstack-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("plugstack.conf.d")).unwrap();
    std::fs::write(
        dir.join("plugstack.conf"),
        "# site plugins\noptional /usr/lib/other.so a=b\ninclude plugstack.conf.d/*.conf\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("plugstack.conf.d/hetpolicy.conf"),
        "\n# required spank_hetpolicy.so policy=/commented\nrequired spank_hetpolicy.so options= # the end\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("plugstack.conf.d/notes.txt"),
        "required spank_hetpolicy.so x\n",
    )
    .unwrap();
    let lines = plugin_lines(&dir.join("plugstack.conf")).unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].file, dir.join("plugstack.conf.d/hetpolicy.conf"));
    assert_eq!(lines[0].number, 3);
    assert_eq!(lines[0].words, ["options="]);
    assert!(plugin_lines(&dir.join("missing.conf")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wildcards() {
    assert!(wildcard_match(b"*.conf", b"hetpolicy.conf"));
    assert!(!wildcard_match(b"*.conf", b"hetpolicy.conf.bak"));
    assert!(wildcard_match(b"a?c", b"abc"));
    assert!(wildcard_match(b"*", b""));
}
