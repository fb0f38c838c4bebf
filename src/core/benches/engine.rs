//! The engine alone: how long `engine::evaluate` takes for one component
//! and for a 4-component hetjob, with the reference policy.yaml and with
//! generated policies of 10, 100 and 1,000 partitions and QOS, and how many
//! heap allocations one evaluation makes.
//!
//! `cargo bench --bench engine` (add `-- --test` to run each case once).
//!
//! A counting global allocator wraps the system allocator. Before the
//! timings, each case is evaluated once to warm up (the hetjob state keeps
//! its buffers), then 1,000 more times while allocations are counted; the
//! allocations per evaluation are printed. The accept path is meant to
//! make none.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use hetpolicy_core::engine::{
    evaluate, Component, HetjobState, Memory, Position, Verdict, MAX_GRES_ENTRIES, MAX_PARTITIONS,
};
use hetpolicy_core::policy::Policy;
use hetpolicy_core::units::{Megabytes, TimeLimit};

/// The system allocator, counting every allocation and reallocation.
struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter has no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is System's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// The policy sizes of the generated policies.
const SIZES: [usize; 3] = [10, 100, 1000];

/// Every tenth generated partition is a GPU partition.
fn is_gpu_partition(i: usize) -> bool {
    i % 10 == 9
}

/// A policy shaped like the reference one, with `n` partitions and `n`
/// QOS: partition `pNNNN` allows QOS `qNNNN` (its default) and the next
/// one; every tenth partition is reserved for GPUs, and `gpu` is routed to
/// the GPU partitions; every QOS has every kind of limit.
fn generated_policy(n: usize) -> String {
    let mut yaml = String::from("partitions:\n");
    for i in 0..n {
        let next = (i + 1) % n;
        let _ = writeln!(yaml, "  p{i:04}:");
        if i == 0 {
            yaml.push_str("    default: true\n");
        }
        if is_gpu_partition(i) {
            yaml.push_str("    reserved_for: [gpu]\n");
        }
        let _ = writeln!(
            yaml,
            "    qos: {{allowed: [q{i:04}, q{next:04}], default: q{i:04}}}"
        );
    }
    let gpu_partitions: Vec<String> = (0..n)
        .filter(|i| is_gpu_partition(*i))
        .map(|i| format!("p{i:04}"))
        .collect();
    let _ = write!(
        yaml,
        "accelerators:\n  gpu:\n    partitions: [{}]\n    action: route\n",
        gpu_partitions.join(", ")
    );
    yaml.push_str("io_files:\n  first_component_only: true\nqos:\n");
    for i in 0..n {
        let _ = writeln!(
            yaml,
            "  q{i:04}: {{max_gres: {{gpu: 2}}, max_nodes: 4, max_cpus: 256, \
             max_memory: 512G, max_time: 2-00:00:00}}"
        );
    }
    yaml.push_str("hetjob:\n  max_components: 4\n  max_total_gres: {gpu: 4}\n");
    yaml
}

/// The partition names a generated policy's components use.
struct Names {
    /// The default (CPU) partition.
    cpu: String,
    /// The last GPU partition: last in `accelerators.gpu.partitions`.
    gpu: String,
    /// A CPU partition in the middle.
    middle: String,
}

impl Names {
    fn reference() -> Names {
        Names {
            cpu: "cpu".into(),
            gpu: "gpu".into(),
            middle: "cpu".into(),
        }
    }

    fn generated(n: usize) -> Names {
        let last_gpu = (0..n).rev().find(|i| is_gpu_partition(*i)).unwrap_or(0);
        let middle = (n / 2..n).find(|i| !is_gpu_partition(*i)).unwrap_or(0);
        Names {
            cpu: "p0000".into(),
            gpu: format!("p{last_gpu:04}"),
            middle: format!("p{middle:04}"),
        }
    }
}

/// What sbatch sends for `-p CPU -n 2 -c 4 --mem=8G -o ...`: the default QOS
/// and its time limit are set by the policy.
fn cpu_job<'a>(names: &'a Names) -> Component<'a> {
    Component {
        partition: Some(&names.cpu),
        tasks: Some(2),
        cpus_per_task: Some(4),
        min_cpus: Some(8),
        memory: Some(Memory::PerNode(Megabytes(8192))),
        std_out: Some("/home/alice/runs/slurm-%j.out"),
        std_in: Some("/dev/null"),
        ..Component::default()
    }
}

/// `-p GPU --gres=gpu:1 -c 8 --mem-per-cpu=2G -t 4:00:00`.
fn gpu_job<'a>(names: &'a Names) -> Component<'a> {
    Component {
        partition: Some(&names.gpu),
        tres_per_node: Some("gres:gpu:1"),
        tasks: Some(1),
        cpus_per_task: Some(8),
        min_cpus: Some(8),
        memory: Some(Memory::PerCpu(Megabytes(2048))),
        time_limit: Some(TimeLimit::Minutes(240)),
        std_out: Some("/home/alice/runs/train.out"),
        std_in: Some("/dev/null"),
        ..Component::default()
    }
}

/// `-p CPU --gres=gpu:1`: refused by `accelerators`.
fn gpu_on_cpu<'a>(names: &'a Names) -> Component<'a> {
    Component {
        tres_per_node: Some("gres:gpu:1"),
        ..cpu_job(names)
    }
}

/// A 4-component hetjob: CPU, GPU, another CPU partition, and a GPU
/// component that names no partition (routed).
fn hetjob4<'a>(names: &'a Names) -> [Component<'a>; 4] {
    let out = Some("/home/alice/runs/four.out");
    [
        Component {
            position: Position::Het(0),
            std_out: out,
            time_limit: Some(TimeLimit::Minutes(120)),
            ..cpu_job(names)
        },
        Component {
            position: Position::Het(1),
            std_out: out,
            ..gpu_job(names)
        },
        Component {
            position: Position::Het(2),
            partition: Some(&names.middle),
            nodes: Some(2),
            tasks: Some(16),
            min_cpus: Some(16),
            time_limit: Some(TimeLimit::Minutes(600)),
            std_out: out,
            std_in: Some("/dev/null"),
            ..Component::default()
        },
        Component {
            position: Position::Het(3),
            tres_per_task: Some("gres:gpu:1"),
            tasks: Some(1),
            time_limit: Some(TimeLimit::Minutes(120)),
            std_out: out,
            std_in: Some("/dev/null"),
            ..Component::default()
        },
    ]
}

/// Evaluates every component in order; returns how many were accepted.
fn submit(policy: &Policy, state: &mut HetjobState, components: &[Component<'_>]) -> usize {
    let mut accepted = 0;
    for component in components {
        match evaluate(policy, state, component) {
            Verdict::Accept(changes) => {
                black_box(changes);
                accepted += 1;
            }
            Verdict::Reject(rejection) => {
                black_box(rejection);
                break;
            }
        }
    }
    accepted
}

/// Checks the expected verdict, then prints the heap allocations one
/// submission makes, after a warm-up submission.
fn report_allocations(label: &str, policy: &Policy, components: &[Component<'_>], accept: bool) {
    let mut state = HetjobState::new();
    let accepted = submit(policy, &mut state, components);
    let expected = if accept { components.len() } else { 0 };
    assert_eq!(
        accepted,
        expected,
        "{label}: the benchmark's input must {} (policy and components disagree)",
        if accept { "be accepted" } else { "be rejected" }
    );
    const ROUNDS: u64 = 1000;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..ROUNDS {
        black_box(submit(policy, &mut state, black_box(components)));
    }
    let count = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let per_component = count as f64 / (ROUNDS as f64 * components.len() as f64);
    println!(
        "allocations: {label:<42} {:>6} path: {per_component:.2} per component",
        if accept { "accept" } else { "reject" }
    );
}

fn load(yaml: &str, source: &str) -> Policy {
    Policy::from_yaml(yaml, source).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn engine(c: &mut Criterion) {
    let reference = load(
        include_str!("../../../tests/fixtures/policy.yaml"),
        "policy.yaml",
    );
    let reference_names = Names::reference();
    let generated: Vec<(usize, Policy, Names)> = SIZES
        .iter()
        .map(|&n| {
            let policy = load(&generated_policy(n), &format!("generated-{n}.yaml"));
            (n, policy, Names::generated(n))
        })
        .collect();

    let mut cases: Vec<(String, &Policy, &Names)> =
        vec![("reference".into(), &reference, &reference_names)];
    for (n, policy, names) in &generated {
        cases.push((format!("{n} partitions"), policy, names));
    }

    for (label, policy, names) in &cases {
        report_allocations(
            &format!("{label}: cpu job"),
            policy,
            &[cpu_job(names)],
            true,
        );
        report_allocations(
            &format!("{label}: gpu job"),
            policy,
            &[gpu_job(names)],
            true,
        );
        report_allocations(
            &format!("{label}: hetjob of 4"),
            policy,
            &hetjob4(names),
            true,
        );
        report_allocations(
            &format!("{label}: gpu on a cpu partition"),
            policy,
            &[gpu_on_cpu(names)],
            false,
        );
    }

    let mut one = c.benchmark_group("one_component");
    for (label, policy, names) in &cases {
        let mut state = HetjobState::new();
        for (name, component) in [
            ("accept_cpu", cpu_job(names)),
            ("accept_gpu", gpu_job(names)),
            ("reject_gpu_on_cpu", gpu_on_cpu(names)),
        ] {
            one.bench_with_input(BenchmarkId::new(name, label), &component, |b, component| {
                b.iter(|| evaluate(policy, &mut state, black_box(component)).is_accept())
            });
        }
    }
    one.finish();

    let mut het = c.benchmark_group("hetjob_4_components");
    for (label, policy, names) in &cases {
        let mut state = HetjobState::new();
        let components = hetjob4(names);
        het.bench_with_input(
            BenchmarkId::new("accept", label),
            &components,
            |b, components| b.iter(|| submit(policy, &mut state, black_box(components))),
        );
    }
    het.finish();

    // The largest request the engine reads (engine::MAX_PARTITIONS and
    // MAX_GRES_ENTRIES): what one hostile component costs at most.
    let partitions = vec!["gpu"; MAX_PARTITIONS].join(",");
    let gres: Vec<String> = std::iter::once("gres:gpu:1".to_owned())
        .chain((1..MAX_GRES_ENTRIES).map(|i| format!("gres:fpga:t{i}:1")))
        .collect();
    let gres = gres.join(",");
    let largest = Component {
        partition: Some(&partitions),
        tres_per_node: Some(&gres),
        ..Component::default()
    };
    let over = format!("{partitions},gpu");
    let too_large = Component {
        partition: Some(&over),
        ..Component::default()
    };
    let mut bounds = c.benchmark_group("largest_request");
    let mut state = HetjobState::new();
    bounds.bench_function("1024_partitions_64_gres", |b| {
        b.iter(|| evaluate(&reference, &mut state, black_box(&largest)).is_accept())
    });
    bounds.bench_function("1025_partitions_refused", |b| {
        b.iter(|| evaluate(&reference, &mut state, black_box(&too_large)).is_accept())
    });
    bounds.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
