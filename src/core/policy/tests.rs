//! The loader's errors: every problem, at its line and column.

use super::*;

fn errors(text: &str) -> Vec<String> {
    match Policy::from_yaml(text, "p.yaml") {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(error) => error.to_string().lines().map(str::to_owned).collect(),
    }
}

fn one_error(text: &str) -> String {
    let all = errors(text);
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

#[test]
fn the_reference_policy_loads() {
    let policy = Policy::from_yaml(
        include_str!("../../../tests/fixtures/policy.yaml"),
        "policy.yaml",
    )
    .unwrap();
    assert_eq!(policy.partition_names(), ["cpu", "gpu", "quantum"]);
    assert_eq!(policy.qos_names(), ["gpu", "long", "normal"]);
    assert_eq!(policy.accelerator_names(), ["gpu", "qpu"]);
    assert_eq!(policy.options().len(), 1);
}

#[test]
fn unknown_key_at_its_position() {
    let e = one_error("qos:\n  normal:\n    max_gpus: 1\n");
    assert!(e.starts_with("p.yaml:3:5: unknown field `max_gpus`"), "{e}");
    assert!(e.contains("expected one of max_gres"), "{e}");
    let e = one_error("partitons:\n  cpu: {}\n");
    assert!(
        e.starts_with("p.yaml:1:1: unknown field `partitons`"),
        "{e}"
    );
}

#[test]
fn wrong_types_at_their_position() {
    let e = one_error("qos:\n  normal:\n    max_nodes: lots\n");
    assert!(e.starts_with("p.yaml:3:16: "), "{e}");
    let e = one_error("qos:\n  normal:\n    max_time: 1-99x\n");
    assert!(
        e.starts_with("p.yaml:3:15: '1-99x' is not a Slurm time"),
        "{e}"
    );
    let e = one_error("io_files:\n  first_component_only: maybe\n");
    assert!(e.starts_with("p.yaml:2:"), "{e}");
    let e = one_error("accelerators:\n  gpu: {partitions: [gpu], action: teleport}\n");
    assert!(e.starts_with("p.yaml:2:"), "{e}");
    assert!(e.contains("teleport"), "{e}");
}

#[test]
fn dangling_qos_name_at_its_position() {
    let text = "partitions:\n  gpu:\n    qos:\n      allowed: [normal, gpux]\nqos:\n  normal: {}\n";
    let e = one_error(text);
    assert_eq!(
        e,
        "p.yaml:4:25: partition 'gpu' allows QOS 'gpux', which is not defined under qos: \
         (defined: normal); add qos.gpux (it may be empty: {}) or fix the name"
    );
}

#[test]
fn every_semantic_problem_is_reported_in_file_order() {
    let text = "\
partitions:
  cpu:
    default: true
    qos: {allowed: [normal], default: long}
  gpu:
    default: true
    reserved_for: [gpu]
accelerators:
  gpu: {partitions: [other]}
  qpu: {partitions: []}
qos:
  normal: {}
  long: {}
hetjob:
  max_components: 0
options:
  Qpu: {help: ' ', task_env: 1BAD}
";
    let all = errors(text);
    assert_eq!(all.len(), 8, "{all:#?}");
    assert!(
        all[0].starts_with("p.yaml: hetjob.max_components is 0"),
        "{}",
        all[0]
    );
    assert!(
        all[1].starts_with("p.yaml:4:39: the default QOS 'long' of partition 'cpu'"),
        "{}",
        all[1]
    );
    assert!(
        all[2]
            .starts_with("p.yaml:5:3: partition 'gpu' is marked default, but so is 'cpu' (line 2)"),
        "{}",
        all[2]
    );
    assert!(all[3].starts_with("p.yaml:7:20: partition 'gpu' is reserved for gpu, but accelerators.gpu.partitions does not list 'gpu'"), "{}", all[3]);
    assert!(
        all[4].starts_with("p.yaml:10:3: accelerators.qpu.partitions is empty"),
        "{}",
        all[4]
    );
    assert!(
        all[5].starts_with("p.yaml:17:3: option name 'Qpu'"),
        "{}",
        all[5]
    );
    assert!(
        all[6].starts_with("p.yaml:17:3: options.Qpu.help is empty"),
        "{}",
        all[6]
    );
    assert!(
        all[7].starts_with("p.yaml:17:30: options.Qpu.task_env '1BAD'"),
        "{}",
        all[7]
    );
}

#[test]
fn syntax_errors_and_empty_files() {
    let e = one_error("partitions: [\n");
    assert!(e.starts_with("p.yaml:"), "{e}");
    let e = one_error("   \n");
    assert_eq!(
        e,
        "p.yaml: the policy file is empty: it must define at least one rule (see policy.yaml \
         shipped with hetpolicy)"
    );
    let e = one_error("qos:\n  normal: {}\n  normal: {}\n");
    assert!(
        e.starts_with("p.yaml:3:"),
        "duplicate keys are refused: {e}"
    );
}

#[test]
fn missing_file_is_an_error_without_position() {
    let error = Policy::load(Path::new("/nonexistent/hetpolicy.yaml")).unwrap_err();
    assert_eq!(error.errors[0].position, None);
    assert!(error
        .to_string()
        .starts_with("/nonexistent/hetpolicy.yaml: cannot read the policy file"));
}
