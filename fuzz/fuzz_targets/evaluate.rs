//! Fuzz target: a whole submission through the engine, as the job_submit
//! plugin drives it: components built from arbitrary bytes (hostile text in
//! every string field, any count, sentinel-like numbers), judged in order
//! with one `HetjobState`, then the same fields as a `scontrol update`
//! through `evaluate_modify`. The C side of this path (job_desc_msg_t to
//! `Component`) runs under valgrind in tests/ffi_host.rs.
//!
//! Each component also carries site option values (`--qpu=NAME`), as the
//! job_submit plugin reads them from spank_job_env.
//!
//! Besides "never panics" (debug assertions are on, so arithmetic overflow
//! panics too): a rejection carries a message that names the component
//! and stays short whatever the input (user values are cut), and changes
//! only fill what the component left unset.
#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use hetpolicy_core::engine::{
    evaluate, evaluate_modify, Component, HetjobState, JobKind, Memory, NamedValues, OptionValues,
    Position, Submitter, Verdict,
};
use hetpolicy_core::policy::Policy;
use hetpolicy_core::units::{Megabytes, TimeLimit};
use libfuzzer_sys::fuzz_target;

/// The policies a submission is judged against.
fn policies() -> &'static [Policy] {
    static POLICIES: OnceLock<Vec<Policy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        [
            ("policy.yaml", include_str!("../../policy.yaml")),
            (
                "tests/fixtures/ffi-policy.yaml",
                include_str!("../../tests/fixtures/ffi-policy.yaml"),
            ),
            (
                "fuzz/policies/strict.yaml",
                include_str!("../policies/strict.yaml"),
            ),
            (
                "fuzz/policies/who.yaml",
                include_str!("../policies/who.yaml"),
            ),
            (
                "fuzz/policies/warn.yaml",
                include_str!("../policies/warn.yaml"),
            ),
        ]
        .into_iter()
        .map(|(name, text)| {
            Policy::from_yaml(text, name).unwrap_or_else(|e| panic!("{name} must load: {e}"))
        })
        .collect()
    })
}

/// Words Slurm and the policies use, so that short inputs reach deep rules.
const WORDS: &[&str] = &[
    "gres",
    ":",
    "/",
    "=",
    ",",
    ";",
    " ",
    "gpu",
    "qpu",
    "fpga",
    "mps",
    "a100",
    "cpu",
    "gpu",
    "batch",
    "big",
    "physics",
    "closed",
    "mallory",
    "eve",
    "backup",
    "hpcadmin",
    "students",
    "gpu-users",
    "sys-",
    "quantum",
    "normal",
    "long",
    "short",
    "0",
    "1",
    "2",
    "3",
    "9",
    "1k",
    "2m",
    "4g",
    "18446744073709551615",
    "99999999999999999999",
    "-1",
    "tres",
    "mem=1G",
    "cpu=4",
    "license/x=1",
    "/o",
    "/e",
    "/dev/null",
    "\u{fffd}",
    "\0",
    "hetpolicy-test-panic",
    "ibm_fez",
    "ibm_torino",
    "\u{1b}[31m",
];

/// The longest message a rejection may carry.
const MAX_MESSAGE_BYTES: usize = 2048;

/// A string field: absent, raw bytes (lossily decoded, as the plugin reads
/// C strings), or a sequence of the words above.
#[derive(Debug)]
struct Text(Option<String>);

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Text(match u.int_in_range(0..=3u8)? {
            0 => None,
            1 => Some(String::from_utf8_lossy(<&[u8]>::arbitrary(u)?).into_owned()),
            _ => {
                let count = u.int_in_range(1..=12usize)?;
                let mut text = String::new();
                for _ in 0..count {
                    text.push_str(u.choose(WORDS)?);
                }
                Some(text)
            }
        }))
    }
}

/// A count as the plugin hands it over: unset, or any number (Slurm's
/// NO_VAL and INFINITE already mapped to unset).
#[derive(Debug, Arbitrary)]
enum Count {
    Unset,
    Small(u8),
    Any(u32),
}

impl Count {
    fn get(&self) -> Option<u32> {
        match *self {
            Count::Unset => None,
            Count::Small(n) => Some(u32::from(n)),
            Count::Any(n) => Some(n),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Part {
    offset: Option<u8>,
    far_offset: bool,
    partition: Text,
    qos: Text,
    tres: [Text; 4],
    nodes: Count,
    max_nodes: Count,
    sockets_per_node: Count,
    tasks: Count,
    cpus_per_task: Count,
    min_cpus: Count,
    memory: Option<(bool, u64)>,
    time: Option<Option<u32>>,
    io: [Text; 3],
    options: Vec<(Text, Text)>,
    client_component: Option<u8>,
    /// Who submits: name, groups, whether the groups are known.
    who: Option<(Text, Vec<Text>, bool)>,
    account: Text,
    /// Batch (true), interactive (false).
    kind: Option<bool>,
    nodelist: Text,
    exclude: Text,
    job_name: Text,
    whole_node_memory: bool,
    exclusive: Option<bool>,
}

#[derive(Debug, Arbitrary)]
struct Input {
    policy: u8,
    parts: Vec<Part>,
}

fn s(text: &Text) -> Option<&str> {
    text.0.as_deref()
}

/// The part's site option values, `(name, value)`.
fn option_values(part: &Part) -> Vec<(&str, &str)> {
    part.options
        .iter()
        .take(4)
        .filter_map(|(name, value)| Some((s(name)?, s(value).unwrap_or(""))))
        .collect()
}

/// The part's submitter, as the job_submit plugin builds it.
fn submitter(part: &Part) -> Option<Submitter> {
    let (user, groups, groups_known) = part.who.as_ref()?;
    Some(Submitter {
        uid: 1000,
        user: user.0.clone(),
        groups: groups.iter().take(8).filter_map(|g| g.0.clone()).collect(),
        groups_known: *groups_known,
    })
}

fn component<'a>(
    part: &'a Part,
    options: &'a dyn OptionValues,
    submitter: Option<&'a Submitter>,
) -> Component<'a> {
    Component {
        position: match part.offset {
            None => Position::Plain,
            Some(k) if part.far_offset => Position::Het(u32::MAX - u32::from(k)),
            Some(k) => Position::Het(u32::from(k % 8)),
        },
        partition: s(&part.partition).filter(|p| !p.is_empty()),
        qos: s(&part.qos).filter(|q| !q.is_empty()),
        tres_per_job: s(&part.tres[0]),
        tres_per_node: s(&part.tres[1]),
        tres_per_socket: s(&part.tres[2]),
        tres_per_task: s(&part.tres[3]),
        nodes: part.nodes.get(),
        max_nodes: part.max_nodes.get(),
        sockets_per_node: part.sockets_per_node.get(),
        tasks: part.tasks.get(),
        cpus_per_task: part.cpus_per_task.get(),
        min_cpus: part.min_cpus.get(),
        memory: part.memory.and_then(|(per_cpu, mb)| {
            (mb != 0).then_some(if per_cpu {
                Memory::PerCpu(Megabytes(mb))
            } else {
                Memory::PerNode(Megabytes(mb))
            })
        }),
        time_limit: part
            .time
            .map(|t| t.map_or(TimeLimit::Unlimited, TimeLimit::Minutes)),
        std_out: s(&part.io[0]),
        std_err: s(&part.io[1]),
        std_in: s(&part.io[2]),
        options: Some(options),
        client_component: part.client_component.map(u32::from),
        submitter,
        account: s(&part.account),
        kind: part.kind.map(|batch| {
            if batch {
                JobKind::Batch
            } else {
                JobKind::Interactive
            }
        }),
        nodelist: s(&part.nodelist),
        exclude: s(&part.exclude),
        job_name: s(&part.job_name),
        whole_node_memory: part.whole_node_memory,
        exclusive: part.exclusive,
    }
}

fuzz_target!(|input: Input| {
    let policies = policies();
    let policy = &policies[usize::from(input.policy) % policies.len()];
    let mut state = HetjobState::default();
    for part in input.parts.iter().take(8) {
        let values = option_values(part);
        let named = NamedValues(&values);
        let who = submitter(part);
        let c = component(part, &named, who.as_ref());
        match evaluate(policy, &mut state, &c) {
            Verdict::Accept(accepted) => {
                let changes = accepted.changes;
                // Notices are formatted on every accept that has some.
                let _ = hetpolicy_core::engine::Notices::new(policy, &c, &accepted).to_string();
                if changes.partition.is_some() {
                    assert!(c.partition.is_none(), "routed a component that named one");
                }
                if changes.qos.is_some() {
                    assert!(c.qos.is_none(), "set a QOS on a component that named one");
                }
                if changes.time_limit.is_some() {
                    assert!(c.time_limit.is_none(), "set a time on one that gave one");
                }
            }
            Verdict::Reject(rejection) => {
                // A plain job that the SPANK plugin saw as a later
                // component (a --test-only hetjob) is named as that.
                let who = match (c.position, c.client_component) {
                    (Position::Plain, Some(k)) if k > 0 => format!("hetjob component {k}"),
                    (position, _) => position.to_string(),
                };
                assert!(
                    rejection.message.starts_with(&who),
                    "{who}: {}",
                    rejection.message
                );
                assert!(
                    rejection.message.len() < MAX_MESSAGE_BYTES,
                    "{} bytes: {}",
                    rejection.message.len(),
                    rejection.message
                );
            }
        }
        if let Err(rejection) = evaluate_modify(policy, &c) {
            assert!(
                rejection.message.starts_with("job"),
                "{}",
                rejection.message
            );
            assert!(rejection.message.len() < MAX_MESSAGE_BYTES);
        }
    }
});
