//! One test (or more) per rule and message, against the reference policy.

use super::*;
use crate::policy::Policy;
use crate::units::{Day, TimeLimit};

const REFERENCE: &str = include_str!("../../../tests/fixtures/policy.yaml");

fn policy() -> Policy {
    Policy::from_yaml(REFERENCE, "policy.yaml").expect("the reference policy loads")
}

fn het(index: u32) -> Component<'static> {
    Component {
        position: Position::Het(index),
        ..Component::default()
    }
}

fn on(partition: &'static str) -> Component<'static> {
    Component {
        partition: Some(partition),
        ..Component::default()
    }
}

/// Evaluates a whole hetjob in order, returning each verdict.
fn hetjob<'p>(policy: &'p Policy, components: &[Component<'_>]) -> Vec<Verdict<'p>> {
    let mut state = HetjobState::new();
    components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = Component {
                position: Position::Het(i as u32),
                ..c.clone()
            };
            evaluate(policy, &mut state, &c)
        })
        .collect()
}

fn plain<'p>(policy: &'p Policy, c: &Component<'_>) -> Verdict<'p> {
    evaluate(policy, &mut HetjobState::new(), c)
}

fn rejection(verdict: &Verdict<'_>) -> Rejection {
    match verdict {
        Verdict::Reject(r) => r.clone(),
        Verdict::Accept(changes) => panic!("expected a rejection, got accept {changes:?}"),
    }
}

fn changes<'p>(verdict: &Verdict<'p>) -> Changes<'p> {
    match verdict {
        Verdict::Accept(accepted) => accepted.changes,
        Verdict::Reject(r) => panic!("expected accept, got: {}", r.message),
    }
}

#[test]
fn seed_000_cpu_plus_gpu_hetjob_is_accepted() {
    let p = policy();
    let cpu = Component {
        partition: Some("cpu"),
        tasks: Some(2),
        cpus_per_task: Some(4),
        memory: Some(Memory::PerNode(crate::units::Megabytes(8192))),
        ..Component::default()
    };
    let gpu = Component {
        partition: Some("gpu"),
        tres_per_node: Some("gres:gpu:1"),
        tasks: Some(1),
        cpus_per_task: Some(2),
        ..Component::default()
    };
    let verdicts = hetjob(&p, &[cpu, gpu]);
    assert_eq!(changes(&verdicts[0]).qos, Some("normal"));
    assert_eq!(changes(&verdicts[1]).qos, Some("gpu"));
    assert_eq!(
        changes(&verdicts[1]).time_limit,
        Some(TimeLimit::Minutes(2 * 1440))
    );
}

#[test]
fn gpu_on_cpu_partition_names_component_value_rule_and_fix() {
    let p = policy();
    let gpu_on_cpu = Component {
        tres_per_node: Some("gres:gpu:1"),
        ..on("cpu")
    };
    let verdicts = hetjob(&p, &[on("cpu"), gpu_on_cpu]);
    let r = rejection(&verdicts[1]);
    assert_eq!(r.code, RejectCode::InvalidPartitionName);
    assert_eq!(
        r.message,
        "hetjob component 1 requests gpu:1 on partition cpu; gpu components must use \
         --partition=gpu (policy: accelerators.gpu)"
    );
}

#[test]
fn every_gres_form_is_caught_on_the_wrong_partition() {
    let p = policy();
    // (tres_per_* field, string as some Slurm release writes it)
    let forms = [
        ("node", "gres:gpu:1"),
        ("job", "gres/gpu:2"),
        ("task", "gres/gpu:1"),
        ("socket", "gres:gpu:1"),
        ("node", "gres:mps:10,gres/gpu:1"),
        ("node", "gres/gpu:a100:1"),
        ("node", "gres/gpu"),
        ("task", "cpu=4,gres/gpu=1"),
    ];
    for (field, tres) in forms {
        let mut c = on("cpu");
        match field {
            "job" => c.tres_per_job = Some(tres),
            "node" => c.tres_per_node = Some(tres),
            "socket" => c.tres_per_socket = Some(tres),
            _ => c.tres_per_task = Some(tres),
        }
        let r = rejection(&plain(&p, &c));
        assert_eq!(r.code, RejectCode::InvalidPartitionName, "{field}: {tres}");
        assert!(
            r.message.starts_with("job requests gpu:"),
            "{field}: {}",
            r.message
        );
    }
}

#[test]
fn gpu_component_without_partition_is_routed() {
    let p = policy();
    let c = Component {
        tres_per_node: Some("gres/gpu:1"),
        ..Component::default()
    };
    let ch = changes(&plain(&p, &c));
    assert_eq!(ch.partition, Some("gpu"));
    assert_eq!(ch.qos, Some("gpu"), "the routed partition's default QOS");
}

#[test]
fn qpu_without_partition_is_rejected_with_the_fix() {
    let p = policy();
    let c = Component {
        tres_per_node: Some("gres:qpu:1"),
        ..Component::default()
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(
        r.message,
        "job requests qpu:1 but names no partition; qpu components must use \
         --partition=quantum (policy: accelerators.qpu)"
    );
}

#[test]
fn reserved_partitions_need_their_gres() {
    let p = policy();
    let r = rejection(&hetjob(&p, &[on("cpu"), on("gpu")])[1]);
    assert_eq!(r.code, RejectCode::InvalidGres);
    assert!(
        r.message.starts_with(
            "hetjob component 1 runs on partition gpu without requesting gpu; partition gpu \
             is reserved for gpu components: add --gres=gpu:1"
        ),
        "{}",
        r.message
    );
    let r = rejection(&plain(&p, &on("quantum")));
    assert!(
        r.message
            .contains("(policy: partitions.quantum.reserved_for)"),
        "{}",
        r.message
    );
    let quantum = qpu_component(&NamedValues(&[("qpu", "ibm_fez")]));
    assert_eq!(changes(&plain(&p, &quantum)).qos, Some("normal"));
}

#[test]
fn partition_lists_are_checked_name_by_name() {
    let p = policy();
    let c = Component {
        tres_per_node: Some("gres:gpu:1"),
        ..on("gpu,cpu")
    };
    let r = rejection(&plain(&p, &c));
    assert!(r.message.contains("on partition cpu;"), "{}", r.message);
}

#[test]
fn qos_not_allowed_on_partition() {
    let p = policy();
    let c = Component {
        qos: Some("long"),
        tres_per_node: Some("gres:gpu:1"),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::InvalidQos);
    assert_eq!(
        r.message,
        "job uses QOS long on partition gpu; partition gpu allows QOS normal, gpu: use \
         --qos=normal (policy: partitions.gpu.qos.allowed)"
    );
}

#[test]
fn qos_suggestion_skips_qos_that_would_not_fit() {
    let p = policy();
    let c = Component {
        qos: Some("long"),
        tres_per_node: Some("gres:gpu:2"),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert!(r.message.contains("use --qos=gpu "), "{}", r.message);
}

#[test]
fn per_component_gpu_cap_of_the_qos() {
    let p = policy();
    let c = Component {
        qos: Some("normal"),
        tres_per_node: Some("gres:gpu:2"),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::AccountingPolicy);
    assert_eq!(
        r.message,
        "job requests 2 gpu with QOS normal; QOS normal allows at most 1 gpu per component: \
         request at most 1, or use --qos=gpu (policy: qos.normal.max_gres.gpu)"
    );
    let c = Component {
        qos: Some("gpu"),
        tres_per_node: Some("gres:gpu:2"),
        ..on("gpu")
    };
    assert!(plain(&p, &c).is_accept());
    let c = Component {
        qos: Some("gpu"),
        tres_per_node: Some("gres:gpu:2"),
        nodes: Some(2),
        ..on("gpu")
    };
    assert!(rejection(&plain(&p, &c))
        .message
        .starts_with("job requests 4 gpu with QOS gpu"));
}

#[test]
fn long_qos_limits_nodes_and_time() {
    let p = policy();
    let c = Component {
        qos: Some("long"),
        nodes: Some(3),
        ..on("cpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::AccountingPolicy);
    assert!(
        r.message.contains("use --nodes=2 or fewer"),
        "{}",
        r.message
    );

    let c = Component {
        qos: Some("normal"),
        time_limit: Some(TimeLimit::Minutes(2 * 1440)),
        ..on("cpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::InvalidTimeLimit);
    assert_eq!(
        r.message,
        "job requests time limit 2-00:00:00 with QOS normal; QOS normal allows at most \
         1-00:00:00: use --time=1-00:00:00 or less, or use --qos=long \
         (policy: qos.normal.max_time)"
    );
    let c = Component {
        qos: Some("long"),
        time_limit: Some(TimeLimit::Unlimited),
        ..on("cpu")
    };
    assert_eq!(rejection(&plain(&p, &c)).code, RejectCode::InvalidTimeLimit);
}

#[test]
fn default_qos_and_time_are_set_only_when_missing() {
    let p = policy();
    let c = Component {
        time_limit: Some(TimeLimit::Minutes(60)),
        ..Component::default()
    };
    let ch = changes(&plain(&p, &c));
    assert_eq!(
        ch.partition, None,
        "the default partition is Slurm's to set"
    );
    assert_eq!(ch.qos, Some("normal"));
    assert_eq!(ch.time_limit, None);
    let c = Component {
        qos: Some("long"),
        ..on("cpu")
    };
    let ch = changes(&plain(&p, &c));
    assert_eq!(ch.qos, None);
    assert_eq!(ch.time_limit, Some(TimeLimit::Minutes(7 * 1440)));
}

#[test]
fn output_on_a_later_component_only_is_rejected() {
    let p = policy();
    let later = Component {
        std_out: Some("b.txt"),
        ..on("cpu")
    };
    let r = rejection(&hetjob(&p, &[on("cpu"), later])[1]);
    assert_eq!(r.code, RejectCode::NotSupported);
    assert_eq!(
        r.message,
        "hetjob component 1 sets --output=b.txt, but Slurm uses only the first component's \
         output file (here Slurm's default) and silently ignores this one; give --output on \
         the first component only (policy: io_files.first_component_only)"
    );
}

#[test]
fn output_copied_from_component_zero_passes() {
    let p = policy();
    let with_out = Component {
        std_out: Some("a.txt"),
        std_in: Some("/dev/null"),
        ..on("cpu")
    };
    let verdicts = hetjob(&p, &[with_out.clone(), with_out.clone(), on("cpu")]);
    assert!(verdicts.iter().all(Verdict::is_accept), "{verdicts:?}");
    let differs = Component {
        std_err: Some("err.txt"),
        ..with_out.clone()
    };
    let r = rejection(&hetjob(&p, &[with_out.clone(), differs])[1]);
    assert!(r.message.contains("sets --error=err.txt"), "{}", r.message);
    let input = Component {
        std_in: Some("in.txt"),
        ..with_out.clone()
    };
    let r = rejection(&hetjob(&p, &[with_out, input])[1]);
    assert!(
        r.message.contains("(here --input=/dev/null)"),
        "{}",
        r.message
    );
}

#[test]
fn state_resets_between_submissions() {
    let p = policy();
    let mut state = HetjobState::new();
    let first = Component {
        std_out: Some("a.txt"),
        ..het(0)
    };
    assert!(evaluate(&p, &mut state, &first).is_accept());
    // A new submission: its component 0 has no output, so component 1's
    // b.txt differs from it and not from the previous submission's a.txt.
    assert!(evaluate(&p, &mut state, &het(0)).is_accept());
    let second = Component {
        std_out: Some("a.txt"),
        ..het(1)
    };
    assert!(!evaluate(&p, &mut state, &second).is_accept());
}

#[test]
fn out_of_order_components_skip_cross_component_rules() {
    let p = policy();
    let mut state = HetjobState::new();
    let lone = Component {
        std_out: Some("b.txt"),
        ..het(3)
    };
    assert!(evaluate(&p, &mut state, &lone).is_accept());
}

#[test]
fn hetjob_limits_components_and_total_gpus() {
    let p = policy();
    let five = vec![on("cpu"); 5];
    let verdicts = hetjob(&p, &five);
    assert!(verdicts[..4].iter().all(Verdict::is_accept));
    let r = rejection(&verdicts[4]);
    assert_eq!(r.code, RejectCode::AccountingPolicy);
    assert!(
        r.message.starts_with("hetjob component 4 is one too many"),
        "{}",
        r.message
    );

    let gpu = Component {
        tres_per_node: Some("gres:gpu:1"),
        ..on("gpu")
    };
    let verdicts = hetjob(&p, &[gpu.clone(), gpu.clone(), gpu]);
    assert!(verdicts[1].is_accept());
    let r = rejection(&verdicts[2]);
    assert_eq!(
        r.message,
        "hetjob component 2 brings the hetjob's gpu to 3 (2 in earlier components); a hetjob \
         may request at most 2 gpu in total: request fewer (policy: hetjob.max_total_gres.gpu)"
    );
}

#[test]
fn plain_jobs_follow_the_same_rules() {
    let p = policy();
    assert!(plain(&p, &on("cpu")).is_accept());
    let gpu_on_cpu = Component {
        tres_per_job: Some("gres:gpu:1"),
        ..on("cpu")
    };
    assert!(rejection(&plain(&p, &gpu_on_cpu))
        .message
        .starts_with("job requests gpu:1"));
}

#[test]
fn unreadable_gres_is_rejected_not_ignored() {
    let p = policy();
    let c = Component {
        tres_per_node: Some("gres:gpu:lots:of:them"),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::InvalidGres);
    assert!(r.message.contains("gres:gpu:lots:of:them"), "{}", r.message);
}

#[test]
fn unknown_partitions_and_gres_are_left_to_slurm() {
    let p = policy();
    let c = Component {
        tres_per_node: Some("gres:fpga:1"),
        qos: Some("whatever"),
        ..on("debug")
    };
    assert!(plain(&p, &c).is_accept());
}

#[test]
fn modify_checks_what_the_update_shows() {
    let p = policy();
    let update = Component {
        qos: Some("long"),
        ..on("gpu")
    };
    assert_eq!(
        evaluate_modify(&p, &update).unwrap_err().code,
        RejectCode::InvalidQos
    );
    let update = Component {
        tres_per_node: Some("gres:gpu:1"),
        ..on("cpu")
    };
    assert_eq!(
        evaluate_modify(&p, &update).unwrap_err().code,
        RejectCode::InvalidPartitionName
    );
    let update = Component {
        qos: Some("normal"),
        time_limit: Some(TimeLimit::Minutes(3000)),
        ..Component::default()
    };
    assert_eq!(
        evaluate_modify(&p, &update).unwrap_err().code,
        RejectCode::InvalidTimeLimit
    );
    // A partition change alone cannot be judged: the job's GRES are unseen.
    assert!(evaluate_modify(&p, &on("gpu")).is_ok());
    assert!(evaluate_modify(&p, &Component::default()).is_ok());
}

fn qpu_component(values: &'static NamedValues<'static>) -> Component<'static> {
    Component {
        tres_per_node: Some("gres:qpu:1"),
        options: Some(values),
        ..on("quantum")
    }
}

#[test]
fn quantum_components_need_an_allowed_qpu() {
    let p = policy();
    let verdicts = hetjob(&p, &[on("cpu"), qpu_component(&NamedValues(&[]))]);
    let r = rejection(&verdicts[1]);
    assert_eq!(r.code, RejectCode::AccessDenied);
    assert_eq!(
        r.message,
        "hetjob component 1 runs on partition quantum without --qpu; add --qpu=NAME with one \
         of: ibm_fez, ibm_torino to this component (policy: options.qpu.required_on)"
    );
    let r = rejection(&plain(
        &p,
        &qpu_component(&NamedValues(&[("qpu", "ibm_nowhere")])),
    ));
    assert_eq!(
        r.message,
        "job sets --qpu=ibm_nowhere, which is not allowed; use one of: ibm_fez, ibm_torino \
         (policy: options.qpu.values)"
    );
    assert!(plain(&p, &qpu_component(&NamedValues(&[("qpu", "ibm_torino")]))).is_accept());
    // An empty value (the SPANK plugin's "unset") is no value.
    assert!(!plain(&p, &qpu_component(&NamedValues(&[("qpu", "")]))).is_accept());
    // A value elsewhere must still be allowed; none is needed there.
    let cpu = Component {
        options: Some(&NamedValues(&[("qpu", "ibm_nowhere")])),
        ..on("cpu")
    };
    assert!(!plain(&p, &cpu).is_accept());
    assert!(plain(&p, &on("cpu")).is_accept());
}

#[test]
fn option_job_env_names_and_entries() {
    let p = policy();
    let qpu = &p.options()[0];
    assert_eq!(qpu.job_env(), "HETPOLICY_QPU");
    assert_eq!(
        qpu.value_in_env_entry("HETPOLICY_QPU=ibm_fez"),
        Some("ibm_fez")
    );
    assert_eq!(qpu.value_in_env_entry("HETPOLICY_QPU="), Some(""));
    assert_eq!(qpu.value_in_env_entry("HETPOLICY_QPUX=1"), None);
    assert_eq!(qpu.task_env(), Some("QPU_BACKEND"));
    assert_eq!(qpu.arg(), "NAME");
}

#[test]
fn oversized_lists_are_refused_before_any_rule() {
    let policy = policy();
    let partitions = vec!["gpu"; MAX_PARTITIONS + 1].join(",");
    let gres = vec!["gres:gpu:1"; MAX_GRES_ENTRIES + 1].join(",");
    let long_partitions = Component {
        partition: Some(&partitions),
        tres_per_node: Some("gres:gpu:1"),
        ..Component::default()
    };
    let r = rejection(&plain(&policy, &long_partitions));
    assert_eq!(r.code, RejectCode::InvalidPartitionName);
    assert_eq!(
        r.message,
        "job names 1025 partitions; hetpolicy reads at most 1024 per component: list the \
         partitions the job can use"
    );
    let long_gres = Component {
        partition: Some("gpu"),
        tres_per_node: Some(&gres),
        ..Component::default()
    };
    let r = rejection(&plain(&policy, &long_gres));
    assert_eq!(r.code, RejectCode::InvalidGres);
    assert!(
        r.message
            .starts_with("job carries 65 GRES requests; hetpolicy reads at most 64"),
        "{}",
        r.message
    );
    let r = evaluate_modify(&policy, &long_gres).unwrap_err();
    assert!(
        r.message.starts_with("job update carries 65 GRES requests"),
        "{}",
        r.message
    );
    // At the bounds, the rules run as usual.
    let at_bound = vec!["cpu"; MAX_PARTITIONS].join(",");
    let gpu_on_cpus = Component {
        partition: Some(&at_bound),
        tres_per_node: Some("gres:gpu:1"),
        ..Component::default()
    };
    let r = rejection(&plain(&policy, &gpu_on_cpus));
    assert!(
        r.message
            .starts_with("job requests gpu:1 on partition cpu;"),
        "{}",
        r.message
    );
}

#[test]
fn user_values_in_messages_are_cut_and_escaped() {
    let policy = policy();
    let long_partition = "p".repeat(100_000);
    let c = Component {
        partition: Some(&long_partition),
        tres_per_node: Some("gres:gpu:1"),
        ..Component::default()
    };
    let r = rejection(&plain(&policy, &c));
    assert!(
        r.message.starts_with(&format!(
            "job requests gpu:1 on partition {}...[100000 bytes]; gpu components must use",
            "p".repeat(60)
        )),
        "{}",
        &r.message[..r.message.len().min(300)]
    );
    assert!(r.message.len() < 300);
    let c = Component {
        partition: Some("cpu"),
        qos: Some("evil\n\u{1b}[2J"),
        ..Component::default()
    };
    let r = rejection(&plain(&policy, &c));
    assert!(
        r.message
            .starts_with("job uses QOS evil\\n\\u{1b}[2J on partition cpu;"),
        "{}",
        r.message
    );
}

#[test]
fn a_partition_list_that_names_none_is_refused_with_the_fix() {
    let p = policy();
    for list in [",", ",,", " , "] {
        let r = rejection(&plain(&p, &on(list)));
        assert_eq!(r.code, RejectCode::InvalidPartitionName);
        assert_eq!(
            r.message,
            format!(
                "job gives --partition={list} but names no partition in it: name one, e.g. \
                 --partition=cpu, or leave it out to use the default partition"
            )
        );
    }
    // Empty names beside real ones are dropped, as slurmctld's list
    // parsing does: the GPU rule still applies to partition cpu.
    let c = Component {
        tres_per_node: Some("gres:gpu:1"),
        ..on("cpu,,")
    };
    assert_eq!(
        rejection(&plain(&p, &c)).code,
        RejectCode::InvalidPartitionName
    );
    let update = on(",");
    assert_eq!(
        evaluate_modify(&p, &update).unwrap_err().message,
        "job update gives partition=, but names no partition in it: name one, e.g. \
         partition=cpu, or leave it out to use the default partition"
    );
}

#[test]
fn gres_counts_with_suffixes_count_as_slurm_reads_them() {
    let p = policy();
    for gres in [
        "gres:gpu:1kb",
        "gres/gpu:1kib",
        "gres:gpu:1t",
        "gres/gpu=1M",
    ] {
        let c = Component {
            tres_per_node: Some(gres),
            ..on("gpu")
        };
        let r = rejection(&plain(&p, &c));
        assert_eq!(
            r.code,
            RejectCode::AccountingPolicy,
            "{gres}: {}",
            r.message
        );
    }
    let c = Component {
        tres_per_job: Some("gres:gpu:kb"),
        ..on("gpu")
    };
    assert_eq!(rejection(&plain(&p, &c)).code, RejectCode::InvalidGres);
}

#[test]
fn every_qos_of_a_list_must_be_allowed_and_within_its_limits() {
    let p = policy();
    // gpu allows normal and gpu; long is not allowed there.
    let c = Component {
        qos: Some("gpu,long"),
        tres_per_node: Some("gres:gpu:1"),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::InvalidQos);
    assert!(
        r.message.contains("uses QOS long on partition gpu"),
        "{}",
        r.message
    );
    // 2 GPUs fit gpu but not normal (max 1).
    let c = Component {
        qos: Some("gpu,normal"),
        tres_per_node: Some("gres:gpu:2"),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::AccountingPolicy);
    assert!(r.message.contains("with QOS normal"), "{}", r.message);
    // 1 GPU fits both; the time limit given is the smaller max_time.
    let c = Component {
        qos: Some("gpu,normal"),
        tres_per_node: Some("gres:gpu:1"),
        ..on("gpu")
    };
    let accepted = changes(&plain(&p, &c));
    assert_eq!(accepted.qos, None);
    assert_eq!(accepted.time_limit, Some(TimeLimit::Minutes(1440)));
    let c = Component {
        qos: Some("gpu,normal"),
        time_limit: Some(TimeLimit::Minutes(2000)),
        tres_per_node: Some("gres:gpu:1"),
        ..on("gpu")
    };
    assert_eq!(rejection(&plain(&p, &c)).code, RejectCode::InvalidTimeLimit);
    let c = Component {
        qos: Some(","),
        ..on("cpu")
    };
    assert_eq!(rejection(&plain(&p, &c)).code, RejectCode::InvalidQos);
}

#[test]
fn a_later_component_sent_as_a_plain_job_is_refused() {
    let p = policy();
    let c = Component {
        client_component: Some(1),
        ..on("cpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(r.code, RejectCode::NotSupported);
    assert!(r
        .message
        .starts_with("hetjob component 1 reached slurmctld as a separate job"));
    // Component 0, a plain job, and real hetjob components pass.
    for c in [
        Component {
            client_component: Some(0),
            ..on("cpu")
        },
        Component {
            client_component: Some(1),
            position: Position::Het(1),
            ..on("cpu")
        },
    ] {
        let verdicts = match c.position {
            Position::Plain => vec![plain(&p, &c)],
            Position::Het(_) => hetjob(&p, &[on("cpu"), c.clone()]),
        };
        assert!(verdicts.iter().all(Verdict::is_accept), "{verdicts:?}");
    }
}

#[test]
fn updates_that_need_the_rest_of_the_job_are_named() {
    let p = policy();
    let unjudged_update_field = |c: &Component<'_>| super::unjudged_update_field(&p, c);
    assert_eq!(unjudged_update_field(&on("gpu")), Some("partition"));
    let qos = Component {
        qos: Some("gpu"),
        ..Component::default()
    };
    assert_eq!(unjudged_update_field(&qos), Some("qos"));
    let gres = Component {
        tres_per_node: Some("gres:gpu:1"),
        ..Component::default()
    };
    assert_eq!(unjudged_update_field(&gres), Some("gres"));
    let time = Component {
        time_limit: Some(TimeLimit::Minutes(60)),
        ..Component::default()
    };
    assert_eq!(unjudged_update_field(&time), None);
    assert_eq!(unjudged_update_field(&Component::default()), None);
    // Without rules that read them, these are judged enough as they are.
    let other = Component {
        account: Some("chem"),
        nodelist: Some("c1"),
        exclude: Some("c1"),
        job_name: Some("x"),
        exclusive: Some(false),
        ..Component::default()
    };
    assert_eq!(unjudged_update_field(&other), None);
    assert!(refuse_unjudged_update("partition")
        .message
        .starts_with("job update changes partition, which hetpolicy cannot check"));
}

#[test]
fn a_node_range_counts_with_its_top() {
    let p = policy();
    // Up to 2 nodes with 1 GPU each is 2 GPUs: more than QOS normal's 1.
    let c = Component {
        qos: Some("normal"),
        tres_per_node: Some("gres:gpu:1"),
        nodes: Some(1),
        max_nodes: Some(2),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert!(
        r.message.starts_with("job requests 2 gpu with QOS normal"),
        "{}",
        r.message
    );
    // QOS long allows 2 nodes: 1-3 is refused.
    let c = Component {
        qos: Some("long"),
        nodes: Some(1),
        max_nodes: Some(3),
        ..on("cpu")
    };
    let r = rejection(&plain(&p, &c));
    assert!(
        r.message.starts_with("job requests 3 nodes with QOS long"),
        "{}",
        r.message
    );
}

#[test]
fn per_node_gres_without_nodes_counts_every_node_the_tasks_may_get() {
    let p = policy();
    let c = Component {
        qos: Some("normal"),
        tres_per_node: Some("gres:gpu:1"),
        tasks: Some(4),
        ..on("gpu")
    };
    let r = rejection(&plain(&p, &c));
    assert_eq!(
        r.message,
        "job requests 4 gpu with QOS normal (per-node requests count on every node, and \
         without --nodes its 4 tasks may run on 4 nodes: add --nodes=1 to keep them on one); \
         QOS normal allows at most 1 gpu per component: request at most 1 (policy: \
         qos.normal.max_gres.gpu)"
    );
    // With --nodes=1 (sbatch sets both ends) it is one GPU.
    let c = Component {
        nodes: Some(1),
        max_nodes: Some(1),
        ..c
    };
    assert!(plain(&p, &c).is_accept());
}

#[test]
fn a_qos_list_that_names_none_is_refused_with_the_fix() {
    let p = policy();
    for list in [",", ",,"] {
        let c = Component {
            qos: Some(list),
            ..on("cpu")
        };
        let r = rejection(&plain(&p, &c));
        assert_eq!(r.code, RejectCode::InvalidQos);
        assert_eq!(
            r.message,
            format!(
                "job gives --qos={list} but names no QOS in it: name one, e.g. --qos=normal, \
                 or leave --qos out"
            )
        );
    }
}

#[test]
fn qos_by_time_picks_the_first_qos_whose_max_time_holds_the_time() {
    let text = REFERENCE.replacen(
        "      default: normal\n",
        "      default: normal\n      by_time: [normal, long]\n",
        1,
    );
    assert!(
        text.contains("by_time"),
        "the reference policy changed shape"
    );
    let p = Policy::from_yaml(&text, "policy.yaml").expect("loads");
    let timed = |minutes: u32| Component {
        time_limit: Some(TimeLimit::Minutes(minutes)),
        ..on("cpu")
    };
    assert_eq!(changes(&plain(&p, &timed(60))).qos, Some("normal"));
    assert_eq!(changes(&plain(&p, &timed(2 * 1440))).qos, Some("long"));
    // Nothing holds 8 days: the default QOS applies, and its limit refuses.
    let r = rejection(&plain(&p, &timed(8 * 1440)));
    assert_eq!(r.code, RejectCode::InvalidTimeLimit);
    assert!(
        r.message.contains("(policy: qos.normal.max_time)"),
        "{}",
        r.message
    );
    // Without --time: the default, with its time limit.
    let untimed = changes(&plain(&p, &on("cpu")));
    assert_eq!(untimed.qos, Some("normal"));
    assert_eq!(untimed.time_limit, Some(TimeLimit::Minutes(1440)));
    // A QOS the user names is theirs.
    let named = Component {
        qos: Some("normal"),
        ..timed(2 * 1440)
    };
    assert_eq!(
        rejection(&plain(&p, &named)).code,
        RejectCode::InvalidTimeLimit
    );

    let wrong = REFERENCE.replacen(
        "      default: normal\n",
        "      default: normal\n      by_time: [gpu]\n",
        1,
    );
    let error = Policy::from_yaml(&wrong, "policy.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("partitions.cpu.qos.by_time names QOS 'gpu', which is not in its allowed list (long, normal)"),
        "{error}"
    );
}

#[test]
fn updates_that_may_break_rules_by_account_forbid_or_whole_nodes_are_named() {
    let p = Policy::from_yaml(
        "partitions:\n  cpu:\n    default: true\n    forbid: {nodelist: true, exclude: true, \
         job_names: [\"sys-*\"]}\n  gpu:\n    allow: {accounts: [physics]}\n    \
         whole_nodes: true\n",
        "update.yaml",
    )
    .expect("policy loads");
    let field = |c: Component<'_>| unjudged_update_field(&p, &c);
    assert_eq!(
        field(Component {
            account: Some("chem"),
            ..Component::default()
        }),
        Some("account")
    );
    assert_eq!(
        field(Component {
            nodelist: Some("c1"),
            ..Component::default()
        }),
        Some("nodelist")
    );
    assert_eq!(
        field(Component {
            exclude: Some("c1"),
            ..Component::default()
        }),
        Some("excnodelist")
    );
    assert_eq!(
        field(Component {
            job_name: Some("sys-backup"),
            ..Component::default()
        }),
        Some("name")
    );
    assert_eq!(
        field(Component {
            exclusive: Some(false),
            ..Component::default()
        }),
        Some("oversubscribe")
    );
    assert_eq!(
        field(Component {
            time_limit: Some(TimeLimit::Minutes(5)),
            ..Component::default()
        }),
        None
    );
}

// ------------------------------------------------ enforcement: warn mode

fn policy_with(extra: &str) -> Policy {
    let text = REFERENCE.replacen(
        "    action: route\n",
        &format!("    action: route\n{extra}"),
        1,
    );
    assert_ne!(text, REFERENCE, "the reference policy changed shape");
    Policy::from_yaml(&text, "warn.yaml").expect("the policy loads")
}

fn day(text: &str) -> Day {
    Day::parse(text).expect("a date")
}

fn requesting(partition: Option<&'static str>, gres: &'static str) -> Component<'static> {
    Component {
        partition,
        tres_per_node: Some(gres),
        ..Component::default()
    }
}

fn accepted<'p>(verdict: Verdict<'p>) -> Accepted<'p> {
    match verdict {
        Verdict::Accept(accepted) => accepted,
        Verdict::Reject(r) => panic!("expected accept, got: {}", r.message),
    }
}

#[test]
fn a_rule_in_warn_mode_accepts_and_says_what_it_would_refuse() {
    // accelerators.gpu (routes gpu components) in warn mode.
    let p = policy_with("    enforcement: warn\n");
    let today = day("2026-12-01");
    let verdict = evaluate_on(
        &p,
        &mut HetjobState::new(),
        &requesting(Some("cpu"), "gres:gpu:1"),
        today,
    );
    let accepted = accepted(verdict);
    assert_eq!(accepted.changes.partition, None);
    assert_eq!(accepted.warnings.len(), 1, "{accepted:?}");
    let warning = &accepted.warnings[0];
    assert_eq!(
        warning.message,
        "job requests gpu:1 on partition cpu; gpu components must use --partition=gpu \
         (policy: accelerators.gpu)"
    );
    assert_eq!(warning.rule(), "accelerators.gpu");
    assert_eq!(
        warning.to_string(),
        format!("{}; this rule only warns for now", warning.message)
    );
}

#[test]
fn a_rule_in_warn_mode_changes_nothing() {
    let p = policy_with("    enforcement: warn\n");
    let verdict = evaluate_on(
        &p,
        &mut HetjobState::new(),
        &requesting(None, "gres:gpu:1"),
        day("2026-12-01"),
    );
    let accepted = accepted(verdict);
    // Not routed to gpu: the default partition (cpu) applies, with its
    // default QOS; the routing is a warning.
    assert_eq!(accepted.changes.partition, None);
    assert_eq!(accepted.changes.qos, Some("normal"));
    assert_eq!(
        accepted.warnings[0].message,
        "job would get --partition=gpu, which is not set yet (policy: accelerators.gpu)"
    );
}

#[test]
fn warn_until_a_day_then_enforce() {
    let text = REFERENCE.replacen(
        "  normal:\n",
        "  normal:\n    enforcement: {warn_until: 2027-01-15}\n",
        1,
    );
    assert_ne!(text, REFERENCE);
    let p = Policy::from_yaml(&text, "until.yaml").expect("loads");
    let long = Component {
        partition: Some("cpu"),
        qos: Some("normal"),
        time_limit: Some(TimeLimit::Minutes(3 * 24 * 60)),
        ..Component::default()
    };
    let before = evaluate_on(&p, &mut HetjobState::new(), &long, day("2027-01-14"));
    let accepted = accepted(before);
    assert_eq!(accepted.warnings.len(), 1);
    assert_eq!(accepted.warnings[0].until, Some(day("2027-01-15")));
    assert!(accepted.warnings[0]
        .to_string()
        .ends_with("(policy: qos.normal.max_time); this is refused from 2027-01-15"));
    let from = evaluate_on(&p, &mut HetjobState::new(), &long, day("2027-01-15"));
    assert!(!from.is_accept(), "{from:?}");
}

#[test]
fn enforced_policies_give_no_warnings() {
    let p = Policy::from_yaml(REFERENCE, "policy.yaml").expect("loads");
    let verdict = evaluate(&p, &mut HetjobState::new(), &requesting(None, "gres:gpu:1"));
    let accepted = accepted(verdict);
    assert_eq!(accepted.changes.partition, Some("gpu"));
    assert!(accepted.warnings.is_empty());
    assert_eq!(accepted.warnings.capacity(), 0, "no allocation");
}

#[test]
fn refusals_of_what_cannot_be_judged_stay_enforced() {
    let p = Policy::from_yaml(
        &format!("{REFERENCE}\nenforcement: warn\n"),
        "all-warn.yaml",
    )
    .expect("loads");
    let unreadable = requesting(Some("cpu"), "gres:gpu:lots:of:them");
    let verdict = evaluate_on(&p, &mut HetjobState::new(), &unreadable, day("2026-12-01"));
    let Verdict::Reject(rejection) = verdict else {
        panic!("an unreadable GRES must be refused: {verdict:?}");
    };
    assert_eq!(rejection.rule(), "");
}
