//! sbatch's propagation rules and the job descriptions it builds, as
//! observed on Slurm 22.05.8 unless a test names another release
//! (tests/cluster_eval_corpus.rs runs the corpus against the real sbatch of
//! each release), and the hetjob mistakes eval reports.

use std::collections::BTreeMap;

use super::*;
use crate::engine::Memory;
use crate::policy::Policy;
use crate::units::{Megabytes, TimeLimit};

const REFERENCE: &str = include_str!("../../../tests/fixtures/policy.yaml");

/// The test cluster's slurm.conf.
const SLURM_CONF: &str = include_str!("../../../tests/fixtures/slurm.conf");

fn policy() -> Policy {
    Policy::from_yaml(REFERENCE, "policy.yaml").expect("the reference policy loads")
}

struct Case {
    release: Release,
    script: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

fn case(script: &str) -> Case {
    Case {
        release: Release::Slurm22_05,
        script: script.to_owned(),
        args: Vec::new(),
        env: BTreeMap::new(),
    }
}

impl Case {
    fn on(mut self, release: Release) -> Case {
        self.release = release;
        self
    }

    fn args(mut self, args: &str) -> Case {
        self.args = args.split_whitespace().map(str::to_owned).collect();
        self
    }

    fn env(mut self, name: &str, value: &str) -> Case {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    fn simulate(&self, policy: &Policy) -> Simulation {
        let conf = SlurmConf::parse(SLURM_CONF);
        simulate(&Invocation {
            release: self.release,
            script: &self.script,
            script_name: "/home/u/job.sh",
            args: &self.args,
            env: &self.env,
            cwd: "/home/u",
            site_options: policy.options(),
            slurm_conf: Some(&conf),
            spank_plugin: "spank_hetpolicy.so",
        })
    }

    fn run(&self) -> Simulation {
        let sim = self.simulate(&policy());
        assert_eq!(sim.refusal, None, "sbatch should accept the options");
        sim
    }

    /// sbatch's stderr when the whole submission goes through slurmctld.
    fn stderr(&self) -> Vec<String> {
        let policy = policy();
        let sim = self.simulate(&policy);
        if let Some(refusal) = &sim.refusal {
            return refusal.stderr.clone();
        }
        let outcome = submit(&policy, &sim, Some(&SlurmConf::parse(SLURM_CONF)));
        sim.stderr.iter().chain(&outcome.stderr).cloned().collect()
    }
}

fn kinds(sim: &Simulation) -> Vec<&'static str> {
    sim.findings.iter().map(|f| f.kind).collect()
}

const PLAIN: &str = "#!/bin/sh\ntrue\n";

#[test]
fn every_gres_form_as_sbatch_writes_it() {
    let r = &case(PLAIN)
        .args("--gres=gpu:1,qpu --gpus=2")
        .run()
        .components[0];
    assert_eq!(r.tres_per_node.as_deref(), Some("gres:gpu:1,gres:qpu"));
    assert_eq!(r.tres_per_job.as_deref(), Some("gres:gpu:2"));
    let r = &case(PLAIN)
        .args("--gpus-per-socket=1 --sockets-per-node=2")
        .run()
        .components[0];
    assert_eq!(r.tres_per_socket.as_deref(), Some("gres:gpu:1"));
    let r = &case(PLAIN)
        .args("--gpus-per-task=a100:1 -n 2")
        .run()
        .components[0];
    assert_eq!(r.tres_per_task.as_deref(), Some("gres:gpu:a100:1"));
    // --gres=gpu:1 with --gpus-per-socket=1 needs one socket per node.
    let sim = case(PLAIN)
        .args("--gres=gpu:1 --gpus-per-socket=1 --sockets-per-node=2")
        .simulate(&policy());
    assert!(sim.refusal.expect("refused").stderr[0].contains("required number of sockets differ"));
    let r = &case(PLAIN)
        .args("--gpus-per-node=2 --gres=gres:qpu:1")
        .run()
        .components[0];
    assert_eq!(r.tres_per_node.as_deref(), Some("gres:gpu:2,gres:qpu:1"));
    let r = &case(PLAIN).args("--gres=none").run().components[0];
    assert_eq!(r.tres_per_node, None, "--gres=none sends nothing");
    let r = &case(PLAIN).args("--gres=gpu").run().components[0];
    assert_eq!(
        r.component(Position::Plain).gres_total("gpu"),
        1,
        "a bare gpu is one"
    );
}

#[test]
fn sbatch_derives_counts_from_gres_options() {
    // --gpus with --gpus-per-node fixes the node count.
    let r = &case(PLAIN)
        .args("--gpus=4 --gpus-per-node=2")
        .run()
        .components[0];
    assert_eq!((r.nodes, r.max_nodes), (Some(2), Some(2)));
    assert_eq!(
        r.component(Position::Plain).gres_total("gpu"),
        4,
        "one allocation: 2 per node on 2 nodes, 4 in all"
    );
    // --gpus-per-task with -N: one task per node.
    let r = &case(PLAIN).args("--gpus-per-task=1 -N 2").run().components[0];
    assert_eq!(r.tasks, Some(2));
    // --gpus with --gpus-per-task: the task count.
    let r = &case(PLAIN)
        .args("--gpus=4 --gpus-per-task=2")
        .run()
        .components[0];
    assert_eq!(r.tasks, Some(2));
    // --cpus-per-gpu with --gpus-per-task: CPUs per task.
    let r = &case(PLAIN)
        .args("--cpus-per-gpu=3 --gpus-per-task=1 -n 2")
        .run()
        .components[0];
    assert_eq!(r.cpus_per_task, Some(3));
}

#[test]
fn gres_mistakes_sbatch_refuses_itself() {
    let p = policy();
    for (args, first) in [
        (
            "--gpus-per-socket=1",
            "sbatch: error: --gpus-per-socket option requires --sockets-per-node specification",
        ),
        (
            "--gpus-per-task=1",
            "sbatch: error: Failed to validate job spec. --gpus-per-task used without either --gpus or -n/--ntasks is not allowed.",
        ),
        (
            "--gpus=2 --gpus-per-node=1 -N 1",
            "sbatch: error: Failed to validate job spec. Based on --gpu and --gres=gpu/--gpus-per-node required nodes (2) doesn't fall between min_nodes (1) and max_nodes (1) boundaries.",
        ),
        ("--gres=fpga:1", "sbatch: error: Invalid generic resource (gres) specification"),
    ] {
        let sim = case(PLAIN).args(args).simulate(&p);
        let refusal = sim.refusal.unwrap_or_else(|| panic!("{args} should be refused"));
        assert_eq!(refusal.by, RefusedBy::Sbatch);
        assert_eq!(refusal.stderr[0], first, "{args}");
        assert_eq!(
            refusal.stderr.last().map(String::as_str),
            Some("sbatch: error: Invalid generic resource (gres) specification")
        );
    }
}

#[test]
fn task_node_and_cpu_counts() {
    let r = &case(PLAIN).args("-N 3").run().components[0];
    assert_eq!((r.nodes, r.tasks, r.min_cpus), (Some(3), None, Some(3)));
    let r = &case(PLAIN).args("-N 2 -c 4").run().components[0];
    assert_eq!(
        (r.tasks, r.cpus_per_task, r.min_cpus),
        (None, Some(4), Some(8))
    );
    let r = &case(PLAIN)
        .args("--ntasks-per-node=3 -N 2")
        .run()
        .components[0];
    assert_eq!(r.tasks, Some(6));
    let sim = case(PLAIN).args("-N 3 -n 2").run();
    assert_eq!(sim.components[0].nodes, Some(2));
    assert_eq!(
        sim.stderr,
        ["sbatch: Warning: can't run 2 processes on 3 nodes, setting nnodes to 2"]
    );
    let r = &case(PLAIN).args("-N 2-4").run().components[0];
    assert_eq!((r.nodes, r.max_nodes), (Some(2), Some(4)));
}

#[test]
fn time_and_memory_forms() {
    for (text, expected) in [
        ("90", TimeLimit::Minutes(90)),
        ("90:30", TimeLimit::Minutes(91)),
        ("2:00:00", TimeLimit::Minutes(120)),
        ("1-", TimeLimit::Minutes(1440)),
        ("1-12", TimeLimit::Minutes(2160)),
        ("1-12:30", TimeLimit::Minutes(2190)),
        ("1-12:30:10", TimeLimit::Minutes(2191)),
        ("0", TimeLimit::Unlimited),
        ("UNLIMITED", TimeLimit::Unlimited),
    ] {
        let r = &case(PLAIN).args(&format!("--time={text}")).run().components[0];
        assert_eq!(r.time_limit, Some(expected), "--time={text}");
    }
    let r = &case(PLAIN).args("--mem=16GB").run().components[0];
    assert_eq!(r.memory, Some(Memory::PerNode(Megabytes(16384))));
    let r = &case(PLAIN).args("--mem-per-cpu=1500K").run().components[0];
    assert_eq!(r.memory, Some(Memory::PerCpu(Megabytes(2))));
    let r = &case(PLAIN).args("--mem=0").run().components[0];
    assert_eq!(r.memory, None, "--mem=0 is all of a node's memory");
    let sim = case(PLAIN).args("--time=soon").simulate(&policy());
    assert_eq!(
        sim.refusal.map(|r| r.stderr),
        Some(vec![
            "sbatch: error: Invalid --time specification".to_owned()
        ])
    );
}

#[test]
fn script_components_and_command_line_components() {
    let script = "#!/bin/bash\n#SBATCH -p cpu -n 2\n#SBATCH hetjob\n#SBATCH -p gpu --gres=gpu:1\nsrun true\n";
    let sim = case(script).run();
    assert!(sim.hetjob);
    assert_eq!(sim.components.len(), 2);
    assert_eq!(sim.components[0].tasks, Some(2));
    assert_eq!(sim.components[1].tasks, None, "--ntasks is reset");
    assert_eq!(sim.components[1].partition.as_deref(), Some("gpu"));
    assert_eq!(
        sim.components[1].origin("partition"),
        Some(&Origin::Script {
            component: 1,
            line: 4
        })
    );
    // With `:` on the command line as well, each part goes to its component.
    let sim = case(script).args("-q normal : -q gpu").run();
    assert_eq!(sim.components[0].qos.as_deref(), Some("normal"));
    assert_eq!(sim.components[1].qos.as_deref(), Some("gpu"));
    // More script components than command line parts: the last part is
    // read again for the remaining components.
    let three =
        "#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p cpu\ntrue\n";
    let sim = case(three).args("-n 1 : -n 3").run();
    let tasks: Vec<_> = sim.components.iter().map(|r| r.tasks).collect();
    assert_eq!(tasks, [Some(1), Some(3), Some(3)]);
    // A plain script with `:` parts.
    let sim = case(PLAIN)
        .args("-p cpu : -p gpu --gres=gpu:1 : -p cpu")
        .run();
    assert_eq!(sim.components.len(), 3);
}

#[test]
fn propagated_options_and_the_first_pass() {
    // --qos given for component 1 reaches component 0 (first pass).
    let sim = case(PLAIN)
        .args("-p cpu --mem=3G : -p cpu --qos=long")
        .run();
    assert_eq!(sim.components[0].qos.as_deref(), Some("long"));
    assert_eq!(
        sim.components[0].origin("qos"),
        Some(&Origin::CommandLine { component: 1 })
    );
    assert!(
        kinds(&sim).contains(&"applies_to_earlier_component"),
        "{:?}",
        sim.findings
    );
    // --mem propagates, --mem-per-cpu does not.
    let sim = case("#SBATCH --mem=8G\n#SBATCH hetjob\n#SBATCH -p cpu\ntrue\n").run();
    assert_eq!(
        sim.components[1].memory,
        Some(Memory::PerNode(Megabytes(8192)))
    );
    assert!(kinds(&sim).contains(&"inherited_memory"));
    let sim = case("#SBATCH --mem-per-cpu=1G\n#SBATCH hetjob\n#SBATCH -p cpu\ntrue\n").run();
    assert_eq!(sim.components[1].memory, None);
    // --mem then --mem-per-cpu in a later component: sbatch gives up.
    let sim = case("#SBATCH --mem=8G\n#SBATCH hetjob\n#SBATCH --mem-per-cpu=1G\ntrue\n")
        .simulate(&policy());
    assert_eq!(
        sim.refusal.as_ref().map(|r| r.stderr.clone()),
        Some(vec![
            "sbatch: fatal: --mem, --mem-per-cpu, and --mem-per-gpu are mutually exclusive."
                .to_owned()
        ])
    );
    assert!(kinds(&sim).contains(&"inherited_memory"));
    // --time and --output propagate; --partition does not.
    let sim = case("#SBATCH -t 30 -o out.txt -p gpu\n#SBATCH hetjob\n#SBATCH -n 1\ntrue\n").run();
    let second = &sim.components[1];
    assert_eq!(second.time_limit, Some(TimeLimit::Minutes(30)));
    assert_eq!(second.std_out.as_deref(), Some("/home/u/out.txt"));
    assert_eq!(second.partition, None);
}

#[test]
fn environment_comes_after_the_script_and_before_the_command_line() {
    let script = "#SBATCH -p gpu --gres=gpu:1\ntrue\n";
    let sim = case(script).env("SBATCH_PARTITION", "cpu").run();
    assert_eq!(sim.components[0].partition.as_deref(), Some("cpu"));
    assert!(kinds(&sim).contains(&"environment_overrides_script"));
    let sim = case(script)
        .env("SBATCH_PARTITION", "cpu")
        .args("-p quantum")
        .run();
    assert_eq!(sim.components[0].partition.as_deref(), Some("quantum"));
    // Every component gets the variables.
    let sim = case(PLAIN)
        .env("SBATCH_QOS", "long")
        .env("SBATCH_TIMELIMIT", "2-0")
        .env("SBATCH_GPUS_PER_NODE", "1")
        .args("-p cpu : -p gpu")
        .run();
    for r in &sim.components {
        assert_eq!(r.qos.as_deref(), Some("long"));
        assert_eq!(r.time_limit, Some(TimeLimit::Minutes(2880)));
        assert_eq!(r.tres_per_node.as_deref(), Some("gres:gpu:1"));
    }
    let sim = case(PLAIN)
        .env("SBATCH_MEM_PER_NODE", "1G")
        .env("SBATCH_MEM_PER_CPU", "1G")
        .simulate(&policy());
    assert!(
        sim.refusal.is_some(),
        "both memory variables: sbatch gives up"
    );
}

#[test]
fn output_paths_are_absolute_and_input_defaults_to_dev_null() {
    let r = &case(PLAIN)
        .args("-o logs/%j.out -e /abs/err -D /work")
        .run()
        .components[0];
    assert_eq!(r.std_out.as_deref(), Some("/work/logs/%j.out"));
    assert_eq!(r.std_err.as_deref(), Some("/abs/err"));
    assert_eq!(r.std_in.as_deref(), Some("/dev/null"));
    let r = &case(PLAIN).args("--output=none").run().components[0];
    assert_eq!(r.std_out.as_deref(), Some("/dev/null"));
}

#[test]
fn site_options_are_replayed_into_later_components() {
    let p = policy();
    // Component 0's value reaches component 1, which names none.
    let sim = case(
        "#SBATCH -p cpu --qpu=ibm_fez\n#SBATCH hetjob\n#SBATCH -p quantum --gres=qpu:1\ntrue\n",
    )
    .run();
    assert_eq!(
        sim.components[1].site_values.0,
        [("qpu".to_owned(), "ibm_fez".to_owned())]
    );
    assert_eq!(sim.components[1].origin("qpu"), Some(&Origin::Replayed));
    // A component's own value wins, in #SBATCH lines and on the command line.
    let sim = case("#SBATCH --qpu=ibm_fez\n#SBATCH hetjob\n#SBATCH --qpu=ibm_torino\ntrue\n").run();
    assert_eq!(sim.components[1].site_values.0[0].1, "ibm_torino");
    let sim = case(PLAIN).args("--qpu=ibm_fez : --qpu=ibm_torino").run();
    assert_eq!(sim.components[1].site_values.0[0].1, "ibm_torino");
    // A value the policy does not allow stops sbatch, naming component 0
    // as `job` (the SPANK plugin cannot tell a hetjob yet).
    let sim = case(PLAIN).args("--qpu=bad").simulate(&p);
    let refusal = sim.refusal.expect("refused");
    assert_eq!(refusal.by, RefusedBy::SpankPlugin);
    assert_eq!(
        refusal.stderr,
        [
            "sbatch: error: hetpolicy: job sets --qpu=bad, which is not allowed; use one of: ibm_fez, ibm_torino (policy: options.qpu.values)",
            "sbatch: error: spank: required plugin spank_hetpolicy.so: init_post_opt() failed with rc=-1",
            "sbatch: error: Plugin stack post-option processing failed",
        ]
    );
    let sim = case(PLAIN).args("-p cpu : --qpu=bad").simulate(&p);
    assert!(sim.refusal.expect("refused").stderr[0].contains("hetjob component 1 sets --qpu=bad"));
}

#[test]
fn slurmctld_messages_as_sbatch_prints_them() {
    assert_eq!(
        case(PLAIN).args("-p cpu --gres=gpu:1").stderr(),
        [
            "sbatch: error: job requests gpu:1 on partition cpu; gpu components must use --partition=gpu (policy: accelerators.gpu)",
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ]
    );
    // Component 0's notices were gathered before component 1 was refused:
    // slurmctld sends them in the error message, first.
    let het = case("#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p cpu --gres=gpu:1\ntrue\n").stderr();
    assert_eq!(
        het[..2],
        [
            "sbatch: error: 0: hetjob component 0 gets QOS normal, the default on partition cpu (policy: partitions.cpu.qos)",
            "sbatch: error: 0: hetjob component 0 gets time limit 1-00:00:00, the most QOS normal allows; give --time for less (policy: qos.normal.max_time)",
        ],
        "{het:?}"
    );
    assert!(
        het[2].starts_with("sbatch: error: 1: hetjob component 1 requests gpu:1 on partition cpu"),
        "{het:?}"
    );
    assert_eq!(
        case(PLAIN).args("-p nosuch").stderr(),
        [
            "sbatch: error: invalid partition specified: nosuch",
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
        ]
    );
    assert_eq!(
        case(PLAIN).args("--array=1-3 -p cpu : -p cpu").stderr(),
        [
            "sbatch: error: 0: hetjob component 0 gets QOS normal, the default on partition cpu (policy: partitions.cpu.qos)",
            "sbatch: error: 0: hetjob component 0 gets time limit 1-00:00:00, the most QOS normal allows; give --time for less (policy: qos.normal.max_time)",
            "sbatch: error: 1: hetjob component 1 gets QOS normal, the default on partition cpu (policy: partitions.cpu.qos)",
            "sbatch: error: 1: hetjob component 1 gets time limit 1-00:00:00, the most QOS normal allows; give --time for less (policy: qos.normal.max_time)",
            "sbatch: error: Batch job submission failed: Invalid job array specification",
        ]
    );
    // An accepted job's notices are info lines.
    assert_eq!(
        case("#SBATCH -p gpu --gres=gpu:1\ntrue\n").stderr(),
        [
            "sbatch: job gets QOS gpu, the default on partition gpu (policy: partitions.gpu.qos)",
            "sbatch: job gets time limit 2-00:00:00, the most QOS gpu allows; give --time for less (policy: qos.gpu.max_time)",
        ]
    );
    assert!(case("#SBATCH -p gpu --gres=gpu:1 --qos=gpu -t 10\ntrue\n")
        .stderr()
        .is_empty());
}

#[test]
fn policy_changes_and_verdicts() {
    let p = policy();
    let sim = case(PLAIN).args("--gres=gpu:1").run();
    let outcome = submit(&p, &sim, None);
    assert!(outcome.accepted);
    let ComponentVerdict::Accepted(crate::engine::Accepted { changes, .. }) = &outcome.verdicts[0]
    else {
        panic!("accepted expected");
    };
    assert_eq!(changes.partition, Some("gpu"), "routed");
    assert_eq!(changes.qos, Some("gpu"));
}

#[test]
fn getopt_rules() {
    let p = policy();
    // Unambiguous prefixes work; ambiguous ones do not.
    let r = &case(PLAIN)
        .args("--part=gpu --gres gpu:1 --ntasks=2")
        .run()
        .components[0];
    assert_eq!(r.partition.as_deref(), Some("gpu"));
    let sim = case(PLAIN).args("--mem-per=1G").simulate(&p);
    assert!(sim.refusal.expect("refused").stderr[0].contains("is ambiguous"));
    // A word that is not an option would be taken as the script.
    let sim = case(PLAIN).args("-p cpu extra").simulate(&p);
    assert!(sim.refusal.is_some());
    // In #SBATCH lines, a non-option is an invalid directive.
    let sim = case("#SBATCH -p cpu oops\ntrue\n").simulate(&p);
    assert_eq!(
        sim.refusal.map(|r| r.stderr),
        Some(vec![
            "sbatch: error: Invalid directive found in batch script: oops".to_owned()
        ])
    );
}

#[test]
fn het_group_in_sbatch_lines_is_refused_with_the_header_meant() {
    let seed_004 = "#SBATCH hetjob\n#SBATCH --het-group=1 --nodes=1 --cpus-per-task=8 --gpus=0\n#SBATCH --het-group=2 --nodes=4 --gpus-per-node=4\n\nsrun --het-group=1 prep-data.sh\nsrun --het-group=2 train-model.sh\n";
    let sim = case(seed_004).simulate(&policy());
    assert_eq!(
        sim.refusal.as_ref().expect("refused").stderr,
        [
            "sbatch: unrecognized option '--het-group=1'",
            "Try \"sbatch --help\" for more information",
        ]
    );
    let finding = sim
        .findings
        .iter()
        .find(|f| f.kind == "het_group_in_script")
        .expect("reported");
    assert_eq!(finding.line, Some(2));
    assert!(finding.fix.contains("#SBATCH --nodes=1 --cpus-per-task=8 --gpus=0\n  #SBATCH hetjob\n  #SBATCH --nodes=4 --gpus-per-node=4"), "{}", finding.fix);
    assert!(
        finding.fix.contains("--het-group=1 becomes 0"),
        "{}",
        finding.fix
    );
    assert!(finding.fix.contains("empty component 0"), "{}", finding.fix);
    assert!(kinds(&sim).contains(&"het_group_out_of_range"));
}

#[test]
fn array_with_hetjob_and_output_on_a_later_component() {
    let sim =
        case("#SBATCH --array=0-3 -p cpu\n#SBATCH hetjob\n#SBATCH -p cpu -o two.out\ntrue\n").run();
    let found = kinds(&sim);
    assert!(found.contains(&"array_with_hetjob"), "{found:?}");
    assert!(found.contains(&"output_on_later_component"), "{found:?}");
    let f = sim
        .findings
        .iter()
        .find(|f| f.kind == "output_on_later_component")
        .unwrap();
    assert_eq!((f.component, f.line), (Some(1), Some(3)));
    // Inherited output is fine.
    let sim = case("#SBATCH -o one.out\n#SBATCH hetjob\n#SBATCH -p cpu\ntrue\n").run();
    assert!(!kinds(&sim).contains(&"output_on_later_component"));
    // On the command line, sbatch copies it into component 0 as well.
    let sim = case(PLAIN).args("-p cpu : -p cpu -o b.txt").run();
    assert_eq!(sim.components[0].std_out.as_deref(), Some("/home/u/b.txt"));
    let f = sim
        .findings
        .iter()
        .find(|f| f.kind == "output_on_later_component")
        .unwrap();
    assert!(f.message.contains("by accident"), "{}", f.message);
}

#[test]
fn het_group_id_in_the_batch_script() {
    let seed_000_body = "#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p gpu --gres=gpu:1\necho \"component $SLURM_HET_GROUP_ID\"\nif [ \"$SLURM_HET_GROUP_ID\" -eq 0 ]; then\n  echo cpu\nfi\n";
    let sim = case(seed_000_body).run();
    let f = sim
        .findings
        .iter()
        .find(|f| f.kind == "het_group_id_in_batch_script")
        .expect("found");
    assert_eq!(f.severity, Severity::Error);
    assert_eq!(f.line, Some(4));
    assert!(f.fix.contains("srun --het-group=1"), "{}", f.fix);
    let good = "#SBATCH -p cpu\n#SBATCH hetjob\n#SBATCH -p gpu --gres=gpu:1\nsrun --het-group=1 sh -c 'echo $SLURM_HET_GROUP_ID'\n";
    assert!(!kinds(&case(good).run()).contains(&"het_group_id_in_batch_script"));
}

#[test]
fn nodes_beyond_the_partition() {
    let p = policy();
    let conf = SlurmConf::parse(SLURM_CONF);
    let sim = case(PLAIN).args("-p cpu : -p gpu --gres=gpu:1 -N 2").run();
    let outcome = submit(&p, &sim, Some(&conf));
    assert!(outcome.accepted, "Slurm accepts it");
    let f = &outcome.findings[0];
    assert_eq!((f.kind, f.component), ("nodes_exceed_partition", Some(1)));
    assert!(
        f.message.contains("partition gpu can give a job at most 1"),
        "{}",
        f.message
    );
    let sim = case(PLAIN).args("-p cpu -N 1").run();
    assert!(submit(&p, &sim, Some(&conf)).findings.is_empty());
}

#[test]
fn policy_default_partition_differs_from_slurm_conf() {
    let p = policy();
    let conf = SlurmConf::parse(&SLURM_CONF.replace(" Default=YES", "").replace(
        "PartitionName=gpu Nodes=g1",
        "PartitionName=gpu Nodes=g1 Default=YES",
    ));
    let sim = case(PLAIN).args("-n 1").run();
    let outcome = submit(&p, &sim, Some(&conf));
    assert!(outcome.accepted);
    let f = &outcome.findings[0];
    assert_eq!(f.kind, "default_partition_mismatch");
    assert!(
        f.message.contains("judged it as partition cpu"),
        "{}",
        f.message
    );
    assert!(
        f.message.contains("Default=YES partition is gpu"),
        "{}",
        f.message
    );
    let sim = case(PLAIN).args("-p cpu").run();
    assert!(submit(&p, &sim, Some(&conf)).findings.is_empty());
}

/// The lines sbatch prints when it refuses the case; none when it submits.
fn refused(case: &Case) -> Vec<String> {
    case.simulate(&policy())
        .refusal
        .map(|r| r.stderr)
        .unwrap_or_default()
}

#[test]
fn gres_strings_and_their_prefix_by_release() {
    let args = "--gpus=2 --gres=qpu:1 -p gpu";
    let r = &case(PLAIN).args(args).run().components[0];
    assert_eq!(r.tres_per_job.as_deref(), Some("gres:gpu:2"));
    assert_eq!(r.tres_per_node.as_deref(), Some("gres:qpu:1"));
    let r = &case(PLAIN)
        .args(args)
        .on(Release::Slurm24_11)
        .run()
        .components[0];
    assert_eq!(r.tres_per_job.as_deref(), Some("gres/gpu:2"));
    assert_eq!(r.tres_per_node.as_deref(), Some("gres/qpu:1"));
    // `gres:` written by the user: a prefix in 22.05, a GRES name in 24.11.
    assert!(refused(&case(PLAIN).args("--gres=gres:gpu:1")).is_empty());
    for release in [Release::Slurm24_11, Release::Slurm26_05] {
        assert_eq!(
            refused(&case(PLAIN).args("--gres=gres:gpu:1").on(release)),
            ["sbatch: error: Invalid generic resource (gres) specification"]
        );
    }
    assert_eq!(
        refused(&case(PLAIN).args("--mem-per-gpu=1G").on(Release::Slurm24_11))[0],
        "sbatch: error: Requested mem_per_tres=gres/gpu:1024 but did not request any GPU."
    );
    // --cpus-per-gpu without GPUs: refused since 24.11.
    assert!(refused(&case(PLAIN).args("--cpus-per-gpu=2")).is_empty());
    assert_eq!(
        refused(&case(PLAIN).args("--cpus-per-gpu=2").on(Release::Slurm24_11))[0],
        "sbatch: error: Requested cpus_per_tres=gres/gpu:2 but did not request any GPU."
    );
}

#[test]
fn tres_per_task_merges_cpus_and_gpus_from_24_11() {
    let args = "-p gpu --gpus-per-task=1 -n 2 -c 3";
    let r = &case(PLAIN).args(args).run().components[0];
    assert_eq!(r.tres_per_task.as_deref(), Some("gres:gpu:1"));
    for release in [Release::Slurm24_11, Release::Slurm26_05] {
        let r = &case(PLAIN).args(args).on(release).run().components[0];
        assert_eq!(
            r.tres_per_task.as_deref(),
            Some("cpu=3,gres/gpu=1"),
            "{release}"
        );
        assert_eq!(r.component(Position::Plain).gres_total("gpu"), 2);
        let r = &case(PLAIN).args("-c 2").on(release).run().components[0];
        assert_eq!(r.tres_per_task.as_deref(), Some("cpu=2"));
        let r = &case(PLAIN)
            .args("--tres-per-task=gres:gpu=2,cpu=4 -n 1 -p gpu")
            .on(release)
            .run()
            .components[0];
        assert_eq!(r.tres_per_task.as_deref(), Some("gres/gpu=2,cpu=4"));
        assert_eq!(r.cpus_per_task, Some(4), "--tres-per-task's cpu sets it");
        assert_eq!(
            refused(&case(PLAIN).args("--tres-per-task=mem=1G").on(release)),
            ["sbatch: fatal: Invalid TRES for --tres-per-task: mem"]
        );
        assert_eq!(
            refused(&case(PLAIN).args("--tres-per-task=cpu=2 -c 2").on(release)),
            ["sbatch: fatal: You can not have --tres-per-task=cpu= and --cpus-per-task please use one or the other"]
        );
    }
    assert_eq!(
        refused(&case(PLAIN).args("--tres-per-task=cpu=2")),
        [
            "sbatch: unrecognized option '--tres-per-task=cpu=2'",
            "Try \"sbatch --help\" for more information"
        ],
        "22.05 has no --tres-per-task"
    );
}

#[test]
fn cpus_per_task_against_cpus_per_gpu_by_release() {
    let args = "-p gpu --gpus=1 -c 2 --cpus-per-gpu=2";
    assert_eq!(
        refused(&case(PLAIN).args(args)),
        [
            "sbatch: error: --cpus-per-gpu is mutually exclusive with --cpus-per-task",
            "sbatch: error: Invalid generic resource (gres) specification"
        ]
    );
    assert_eq!(
        refused(&case(PLAIN).args(args).on(Release::Slurm24_11)),
        ["sbatch: fatal: --cpus-per-task, --tres-per-task=cpu:#, and --cpus-per-gpu are mutually exclusive"]
    );
    // The command line's --cpus-per-task wins over $SBATCH_CPUS_PER_GPU.
    let c = case(PLAIN)
        .args("-p gpu --gpus=1 -c 2")
        .env("SBATCH_CPUS_PER_GPU", "4")
        .on(Release::Slurm24_11);
    assert_eq!(c.run().components[0].cpus_per_task, Some(2));
}

#[test]
fn fatal_combinations_a_release_added() {
    let share = "--exclusive --oversubscribe";
    assert!(refused(&case(PLAIN).args(share)).is_empty());
    assert_eq!(
        refused(&case(PLAIN).args(share).on(Release::Slurm24_11)),
        ["sbatch: fatal: --exclusive and --oversubscribe options are mutually exclusive"]
    );
    let both = "-p gpu --gpus-per-node=1 --gres=gpu:1";
    assert!(refused(&case(PLAIN).args(both).on(Release::Slurm24_11)).is_empty());
    assert_eq!(
        refused(&case(PLAIN).args(both).on(Release::Slurm26_05)),
        ["sbatch: fatal: --gpus-per-node and --gres=gpu are mutually exclusive."]
    );
    let cores = "--ntasks-per-core=2 --threads-per-core=1";
    assert!(refused(&case(PLAIN).args(cores)).is_empty());
    assert_eq!(
        refused(&case(PLAIN).args(cores).on(Release::Slurm24_11)),
        ["sbatch: error: --ntasks-per-core (2) can not be bigger than --threads-per-core (1)"]
    );
}

#[test]
fn task_and_node_counts_by_release() {
    // 22.05 sets the task count from --ntasks-per-node; later releases
    // leave it to slurmctld and use it for min_cpus only.
    let r = &case(PLAIN)
        .args("--ntasks-per-node=3 -N 2")
        .run()
        .components[0];
    assert_eq!((r.tasks, r.min_cpus), (Some(6), Some(6)));
    let r = &case(PLAIN)
        .args("--ntasks-per-node=3 -N 2")
        .on(Release::Slurm24_11)
        .run()
        .components[0];
    assert_eq!((r.tasks, r.min_cpus, r.nodes), (None, Some(6), Some(2)));
    // The warning's words.
    let sim = case(PLAIN).args("-N 3 -n 2").on(Release::Slurm26_05).run();
    assert_eq!(
        sim.stderr,
        ["sbatch: warning: can't run 2 processes on 3 nodes, setting nnodes to 2"]
    );
    // --nodelist counts only without --nodes since 24.11.
    let args = "-N 1 -w c1,g1 -p cpu,gpu";
    assert_eq!(case(PLAIN).args(args).run().components[0].nodes, Some(2));
    let r = &case(PLAIN)
        .args(args)
        .on(Release::Slurm24_11)
        .run()
        .components[0];
    assert_eq!(r.nodes, Some(1));
    // Node count lists.
    assert_eq!(
        refused(&case(PLAIN).args("-N 1,3")),
        ["sbatch: error: \"1,3\" is not a valid node count"]
    );
    let r = &case(PLAIN)
        .args("-N 1,3")
        .on(Release::Slurm24_11)
        .run()
        .components[0];
    assert_eq!((r.nodes, r.max_nodes), (Some(1), Some(3)));
    // parse_int's limit.
    assert_eq!(
        refused(&case(PLAIN).args("-n 2147483647").on(Release::Slurm24_11)),
        ["sbatch: error: Numeric argument (2147483647) too large for --ntasks."]
    );
}

#[test]
fn hint_gives_way_to_more_options_in_26_05() {
    let args = "-N 1 --hint=compute_bound --cores-per-socket=2";
    // compute_bound drops --cores-per-socket: one task per node.
    assert_eq!(case(PLAIN).args(args).run().components[0].tasks, Some(1));
    // 26.05 ignores --hint instead: two tasks.
    let r = &case(PLAIN)
        .args(args)
        .on(Release::Slurm26_05)
        .run()
        .components[0];
    assert_eq!(r.tasks, Some(2));
}

#[test]
fn script_words_and_warnings_by_release() {
    let script = "#SBATCH -p cpu -o out\\ file.txt\n#SBATCH packjob\n#SBATCH -p cpu\ntrue\n";
    let sim = case(&script.replace("\\ ", "_")).run();
    assert_eq!(
        sim.stderr,
        ["sbatch: Warning: the \"packjob\" component separator is being deprecated. Please, use \"hetjob\" instead."]
    );
    assert_eq!(sim.components.len(), 2);
    // 22.05 splits at the escaped blank: `file.txt` is a word that is not
    // an option, an invalid directive.
    let sim = case("#SBATCH -o out\\ file.txt\ntrue\n").simulate(&policy());
    assert_eq!(
        sim.refusal.map(|r| r.stderr),
        Some(vec![
            "sbatch: error: Invalid directive found in batch script: file.txt".to_owned()
        ])
    );
    let sim = case(script).on(Release::Slurm24_11).run();
    assert_eq!(
        sim.stderr,
        ["sbatch: warning: The \"packjob\" component separator is deprecated. Please use \"hetjob\" instead."]
    );
    assert_eq!(
        sim.components[0].std_out.as_deref(),
        Some("/home/u/out file.txt")
    );
}

#[test]
fn every_release_reads_the_reference_cases_alike() {
    // What the releases share: propagation, the first pass, replay.
    for release in Release::ALL {
        let sim = case(
            "#SBATCH --mem=8G -t 30 -p cpu\n#SBATCH hetjob\n#SBATCH -p gpu --gres=gpu:1\ntrue\n",
        )
        .args("-q normal : -q gpu --qpu=ibm_fez")
        .on(release)
        .run();
        assert_eq!(sim.release, release);
        let second = &sim.components[1];
        assert_eq!(
            second.memory,
            Some(Memory::PerNode(Megabytes(8192))),
            "{release}"
        );
        assert_eq!(second.time_limit, Some(TimeLimit::Minutes(30)));
        assert_eq!(second.qos.as_deref(), Some("gpu"));
        assert_eq!(second.partition.as_deref(), Some("gpu"));
        assert_eq!(sim.components[0].site_values.0, []);
        assert_eq!(second.site_values.0[0].1, "ibm_fez");
        assert_eq!(second.values["mem"], "8G");
    }
}

#[test]
fn rules_about_who_are_judged_for_the_submitter_given() {
    let p = Policy::from_yaml(
        &format!(
            "{REFERENCE}\nexempt:\n  - groups: [hpcadmin]\n\
             deny:\n  - users: [mallory]\n    message: suspended\n"
        )
        .replace(
            "    reserved_for: [gpu]\n",
            "    reserved_for: [gpu]\n    allow: {accounts: [physics]}\n",
        ),
        "who.yaml",
    )
    .expect("the policy loads");
    assert!(p.has_rules_about_who());
    assert!(!policy().has_rules_about_who());
    let who = |user: &str, groups: &[&str], default_account: Option<&str>| Submitting {
        submitter: crate::engine::Submitter {
            uid: 1000,
            user: Some(user.to_owned()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            groups_known: true,
        },
        default_account: default_account.map(str::to_owned),
    };
    let gpu = case("#SBATCH -p gpu --gres=gpu:1\ntrue\n").run();
    let bob = who("bob", &["bob"], Some("chem"));
    let outcome = submit_as(&p, &gpu, None, Some(&bob));
    assert!(!outcome.accepted);
    assert!(
        outcome.stderr[0].contains("as user bob with account chem"),
        "{:?}",
        outcome.stderr
    );
    // -A as slurmctld reads it: lower-cased.
    let charged = case("#SBATCH -p gpu --gres=gpu:1 -A Physics\ntrue\n").run();
    assert!(submit_as(&p, &charged, None, Some(&bob)).accepted);
    let alice = who("alice", &["alice"], Some("physics"));
    assert!(submit_as(&p, &gpu, None, Some(&alice)).accepted);
    // An exempt group, a denied user, and nobody known.
    let carol = who("carol", &["carol", "hpcadmin"], Some("chem"));
    assert!(submit_as(&p, &gpu, None, Some(&carol)).accepted);
    let mallory = who("mallory", &["mallory"], Some("physics"));
    let outcome = submit_as(&p, &gpu, None, Some(&mallory));
    assert_eq!(
        outcome.stderr[0],
        "sbatch: error: job refused for user mallory: suspended (policy: deny)"
    );
    assert!(submit(&p, &gpu, None).accepted);
}
