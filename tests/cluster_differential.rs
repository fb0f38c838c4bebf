//! Differential test against slurmctld itself: what job_submit/hetpolicy
//! read of every accepted component must be what slurmctld recorded for the
//! job it created, and no accepted job may break the reference policy as
//! slurmctld recorded it.
//!
//! A seeded generator (splitmix64; `HETPOLICY_DIFF_SEED`, default
//! [`DEFAULT_SEED`]) makes `HETPOLICY_DIFF_COUNT` (default 2,000) plain and
//! hetjob (2-4 components) submissions that mix every form of the fields the
//! plugin reads: partition lists with empty and repeated names, QOS and QOS
//! lists, every GRES and `--gpus*` notation with every count suffix Slurm
//! takes, typed GRES and `qpu`, memory per node, CPU and GPU, every time
//! notation, node ranges, tasks and CPUs per task. About one in a hundred
//! goes through `salloc --hold --no-shell` (kept waiting in the background
//! until the jobs are read back), the rest through `sbatch --hold`, 4
//! clients at a time. Every component carries the job name
//! `d<seed>-<index>`.
//!
//! With slurmctld at debug level, the plugin logs, for every component it
//! accepts:
//!
//! ```text
//! job_submit/hetpolicy: reading job=NAME component=job|N partition=LIST|- qos=LIST|-
//!   gres=NAME:TOTAL[,...]|- nodes=N|MIN-MAX tasks=N|- cpus=N mem=<N>M/node|<N>M/cpu|-
//!   time=MINUTES|UNLIMITED|-
//! ```
//!
//! After all submissions, one `scontrol show job --oneliner` reads every job
//! back. Per accepted component the test compares (see [`compare`]):
//!
//! | reading | `scontrol show job` | normalised |
//! | --- | --- | --- |
//! | partition | `Partition=` | empty and repeated names dropped on the record's side |
//! | qos | `QOS=` | as for partitions; when slurmctld records none (`QOS=(null)`: no accounting), a plain job's `--qos`, if it gave one |
//! | gres | `TresPerJob/Node/Socket/Task`, `NumNodes=`, `NumTasks=`, `Socks/Node=` | Slurm's reading of each field: `gres:` and `gres/`, `:N` and `=N`, count suffixes; a repeated NAME[:TYPE] keeps the last count (slurmctld allocates 1 GPU for `gpu:2,gpu:1`), a count of 0 is no request and replaces nothing (`gpu:2,gpu:0` gets 2); types of one name add up; per node times the most nodes (see nodes); per socket times the most nodes and `Socks/Node` (an upper bound: without Cores= in gres.conf slurmctld gives 1 per node); per task times `NumTasks`; the largest field |
//! | nodes | `NumNodes=`, `NumTasks=` | the most nodes the component may get: with `--nodes` (its command line says, see [`gives_nodes`]; sbatch does not pass it on to later components), the MAX of `NumNodes=GUESS-MAX` (sbatch and salloc send `--nodes` as a range, `-N 2` as 2-2, after their own corrections: `-N 1-3 -n1` as 1-1); without, `NumTasks` (each task may get a node of its own: `-n 4` reads `nodes=1-4`; the range 24.11 and later show then, 1-1 on 24.11 and 1-3 on 26.05 for `-n3`, is slurmctld's own). The reading's top (MAX of `nodes=MIN-MAX`, written only when above MIN; else MIN) must be exactly that; its minimum (the one requested) must be 1 without `--nodes`, and at most GUESS with it (a held job's GUESS is slurmctld's estimate: 22.05 shows 2 for `-n1 -c2`, which runs on 1 node) |
//! | tasks | `NumTasks=` | only when the reading has a number |
//! | cpus | `NumCPUs=` | none |
//! | mem | `MinMemoryNode=` / `MinMemoryCPU=` | units to MiB; `-` is `MinMemoryNode=0` (the whole node, Slurm's default without DefMemPer*) |
//! | time | `TimeLimit=` | to minutes; `-` is the partition's DefaultTime, else its MaxTime |
//!
//! The policy checks ([`check_policy`]) read the reference policy (the
//! cluster's installed hetpolicy.yaml, also loaded with the crate's own
//! loader to make sure it is the valid one) and judge the record, with the
//! QOS hetpolicy read where slurmctld records none (sbatch passes a
//! hetjob component's `--qos`, `--time` and `--mem` on to the others, so
//! the command line alone does not tell):
//! GRES outside their accelerator partitions, reserved partitions without
//! their GRES, QOS not allowed on the partition, per-QOS `max_gres`,
//! `max_nodes`, `max_cpus`, `max_memory` and `max_time`, and the hetjob's
//! `max_components` and `max_total_gres`. Per-node GRES and per-node
//! memory count on the most nodes slurmctld may give the component (see
//! nodes in the table: the top of a `--nodes` range, else `NumTasks`),
//! per-socket GRES also times `Socks/Node`; `max_nodes` is held against
//! the top of an explicit `--nodes` range only (1 without one), or the
//! nodes its CPUs need (`NumCPUs` over the partition's largest node) when
//! more.
//!
//! A submission slurmctld or sbatch refuses by itself is refused, not a
//! mismatch. Every mismatch fails the test with the command line that
//! reproduces it, the reading line and the scontrol record; all are
//! collected first, then the count per kind and the first
//! [`MISMATCHES_SHOWN`] are printed (a few of each kind), and all of them
//! are written to `differential-<seed>-<count>.txt` in the cluster's tmp
//! directory.
mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::cluster::{self, Cluster, CmdOutput};
use hetpolicy_core::units::{Megabytes, TimeLimit};
use serde::Deserialize;

/// The seed when `HETPOLICY_DIFF_SEED` is not set.
const DEFAULT_SEED: u64 = 20_261_130;
/// Submissions when `HETPOLICY_DIFF_COUNT` is not set.
const DEFAULT_COUNT: usize = 2_000;
/// Parallel sbatch clients.
const WORKERS: usize = 4;
/// Out of 1,000 submissions, how many go through salloc.
const SALLOC_PER_MILLE: u64 = 10;
/// How long a salloc may take to report its pending allocation.
const SALLOC_WAIT: Duration = Duration::from_secs(60);
/// Mismatches printed in full when the test fails.
const MISMATCHES_SHOWN: usize = 20;
/// What the plugin's reading lines start with.
const READING_MARK: &str = "job_submit/hetpolicy: reading ";

// ---------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------

/// splitmix64: a small, fast generator whose every seed is usable. Each
/// submission gets its own stream from (seed, index), so one case is
/// reproduced without the ones before it.
struct Rng(u64);

impl Rng {
    /// The stream of submission `index` of `seed`.
    fn for_submission(seed: u64, index: usize) -> Rng {
        let mut rng = Rng(seed ^ (index as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
        rng.next();
        rng
    }

    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with `percent`% probability.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `options`, each as likely (list one twice to weigh it).
    fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[usize::try_from(self.below(options.len() as u64)).unwrap_or(0)]
    }

    /// `text` with each letter in a random case.
    fn any_case(&mut self, text: &str) -> String {
        text.chars()
            .map(|ch| {
                if self.chance(50) {
                    ch.to_ascii_uppercase()
                } else {
                    ch.to_ascii_lowercase()
                }
            })
            .collect()
    }
}

/// Which client submits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Client {
    Sbatch,
    Salloc,
}

impl Client {
    /// The command's name.
    fn program(self) -> &'static str {
        match self {
            Client::Sbatch => "sbatch",
            Client::Salloc => "salloc",
        }
    }
}

/// One generated component: its options, and the `--qos` it gave (the
/// policy checks need it where slurmctld does not record a QOS).
#[derive(Clone, Debug)]
struct GenComponent {
    args: Vec<String>,
    qos: Option<String>,
}

/// One generated submission.
#[derive(Clone, Debug)]
struct Submission {
    index: usize,
    name: String,
    client: Client,
    components: Vec<GenComponent>,
}

impl Submission {
    /// The client's arguments: global options first, components separated
    /// by `:`, and sbatch's `--wrap` last.
    fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = match self.client {
            Client::Sbatch => vec!["--hold".into(), "--parsable".into()],
            Client::Salloc => vec!["--hold".into(), "--no-shell".into()],
        };
        for (k, component) in self.components.iter().enumerate() {
            if k > 0 {
                args.push(":".into());
            }
            args.extend(component.args.iter().cloned());
        }
        if self.client == Client::Sbatch {
            args.push("--wrap=true".into());
        }
        args
    }

    /// The command line that reproduces it, quoted for a shell.
    fn command_line(&self) -> String {
        let mut line = self.client.program().to_owned();
        for arg in self.args() {
            line.push(' ');
            line.push_str(&shell_quote(&arg));
        }
        line
    }

    /// True for 2 components or more.
    fn is_hetjob(&self) -> bool {
        self.components.len() > 1
    }
}

/// `arg` as a shell reads it back: as it is when plain, else in single
/// quotes.
fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=,:./+%@".contains(&b));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Every count suffix Slurm's `suffix_mult` takes (any case).
const SUFFIXES: &[&str] = &[
    "k", "kb", "kib", "m", "mb", "mib", "g", "gb", "gib", "t", "tb", "tib", "p", "pb", "pib",
];
/// GRES types (the test cluster's GPUs have none; slurmctld takes them).
const GPU_TYPES: &[&str] = &["a100", "tesla", "v100"];

/// How a submission is drawn: `Tame` keeps to values the reference policy
/// accepts (in every notation), so hetjobs of several components get
/// through; `Wild` draws from everything, limits and odd forms included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Tame,
    Wild,
}

/// What a component is mostly about; the options follow from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    Cpu,
    Gpu,
    Quantum,
    Mixed,
}

/// Which memory option the components of one submission use. sbatch
/// refuses a hetjob whose components use different ones (it passes each
/// component's choice on to the next through SLURM_MEM_PER_*), so most
/// submissions keep to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MemoryKind {
    PerNode,
    PerCpu,
    PerGpu,
    Any,
}

/// A GRES count as a user writes it. Wild counts sometimes carry a suffix
/// in any case (`1kB` is 1,000 in Slurm's reading, `0K` is 0).
fn gres_count(rng: &mut Rng, mode: Mode, max: u64) -> String {
    if mode == Mode::Wild && rng.chance(30) {
        let base = rng.pick(&[0, 1, 1, 2]);
        let suffix = rng.pick(SUFFIXES);
        return format!("{base}{}", rng.any_case(suffix));
    }
    match mode {
        Mode::Tame => (1 + rng.below(max.max(1))).to_string(),
        Mode::Wild => rng.pick(&["1", "1", "2", "2", "0", "3"]).to_owned(),
    }
}

/// A time limit in one of sbatch's notations. Tame limits stay within
/// `max_minutes`; wild ones gather around the reference policy's limits
/// (1, 2 and 7 days) and beyond.
fn time_limit(rng: &mut Rng, mode: Mode, max_minutes: u64) -> String {
    if mode == Mode::Wild && rng.chance(12) {
        return rng
            .pick(&["UNLIMITED", "unlimited", "infinite", "INFINITE", "0"])
            .to_owned();
    }
    // (days, hours, minutes, seconds)
    let (d, h, m, s): (u64, u64, u64, u64) = match mode {
        Mode::Tame => {
            let total = 1 + rng.below(max_minutes.max(2) - 1);
            let s = if total < max_minutes {
                rng.pick(&[0, 0, 1, 30, 59])
            } else {
                0
            };
            (total / 1440, total % 1440 / 60, total % 60, s)
        }
        Mode::Wild => match rng.below(7) {
            0 => (0, 0, rng.below(120), rng.below(60)),
            1 => (0, 23, 59, rng.pick(&[0, 1, 59])),
            2 => (1, 0, rng.pick(&[0, 1]), rng.pick(&[0, 1])),
            3 => (
                rng.pick(&[1, 2]),
                rng.pick(&[0, 23]),
                rng.pick(&[0, 59]),
                rng.pick(&[0, 30]),
            ),
            4 => (rng.pick(&[3, 5, 6]), rng.below(24), rng.below(60), 0),
            5 => (7, 0, rng.pick(&[0, 1]), rng.pick(&[0, 1])),
            _ => (rng.pick(&[8, 30]), rng.below(24), 0, 0),
        },
    };
    let hours = d * 24 + h;
    let minutes = hours * 60 + m;
    // A notation that holds the value exactly (D-HH only whole hours;
    // seconds only where the notation has them).
    let notations: &[u64] = match (m, s) {
        (0, 0) => &[0, 1, 2, 3, 4, 5],
        (_, 0) => &[0, 1, 2, 4, 5],
        _ => &[1, 2, 5],
    };
    match rng.pick(notations) {
        0 => minutes.to_string(),
        1 => format!("{minutes}:{s:02}"),
        2 => format!("{hours:02}:{m:02}:{s:02}"),
        3 => format!("{d}-{h}"),
        4 => format!("{d}-{h:02}:{m:02}"),
        _ => format!("{d}-{h:02}:{m:02}:{s:02}"),
    }
}

/// A memory size with one of sbatch's units, in any case.
fn memory_size(rng: &mut Rng) -> String {
    let (number, unit) = rng.pick(&[
        (100, ""),
        (2000, ""),
        (1500, "K"),
        (2048, "K"),
        (500, "M"),
        (4000, "M"),
        (1, "G"),
        (2, "G"),
        (16, "G"),
        (1, "T"),
    ]);
    format!("{number}{}", rng.any_case(unit))
}

/// `-p X`, `--partition=X` or `-pX`.
fn partition_args(rng: &mut Rng, list: &str, args: &mut Vec<String>) {
    match rng.below(3) {
        0 => args.extend(["-p".to_owned(), list.to_owned()]),
        1 => args.push(format!("--partition={list}")),
        _ => args.push(format!("-p{list}")),
    }
}

/// The GPU part of a component, in one of sbatch's notations, asking for
/// at most `max` GPUs when tame. Returns true when it gave `-n` itself.
fn gpu_args(rng: &mut Rng, mode: Mode, max: u64, args: &mut Vec<String>) -> bool {
    let count = gres_count(rng, mode, max);
    let gpu_type = rng.pick(GPU_TYPES);
    match rng.below(13) {
        0 | 1 => args.push(format!("--gres=gpu:{count}")),
        2 => args.push(format!("--gres=gpu:{gpu_type}:{count}")),
        3 => args.push(rng.pick(&["--gres=gpu", "--gres=gpu:a100"]).to_owned()),
        4 => args.push(format!("--gpus={count}")),
        5 => args.push(format!("--gpus={gpu_type}:{count}")),
        6 => args.push(format!("--gpus-per-node={count}")),
        7 => {
            // Tame: tasks times GPUs per task within max.
            let tasks = match mode {
                Mode::Tame => 1 + rng.below(max.max(1)),
                Mode::Wild => 1 + rng.below(3),
            };
            let per_task = match mode {
                Mode::Tame => "1".to_owned(),
                Mode::Wild => count,
            };
            args.push(format!("--gpus-per-task={per_task}"));
            args.push(format!("-n{tasks}"));
            return true;
        }
        8 => {
            // Tame: GPUs per socket times sockets within max.
            let mut sockets = 1 + rng.below(2);
            if mode == Mode::Tame && count.parse::<u64>().unwrap_or(1) * sockets > max {
                sockets = 1;
            }
            args.push(format!("--gpus-per-socket={count}"));
            args.push(format!("--sockets-per-node={sockets}"));
        }
        9 => {
            // The same GRES twice: slurmctld keeps the last count.
            let first = gres_count(rng, mode, max);
            args.push(format!("--gres=gpu:{first},gpu:{count}"));
        }
        10 => args.push(format!("--gres=gres:gpu:{count}")),
        11 if mode == Mode::Wild || max >= 2 => {
            args.push("--gres=gpu:a100:1,gpu:v100:1".to_owned());
        }
        11 => args.push(format!("--gpus-per-node={gpu_type}:{count}")),
        _ => {
            let total = if max >= 2 { rng.pick(&["1", "2"]) } else { "1" };
            args.push(format!("--gpus={total}"));
            args.push("--gpus-per-node=1".to_owned());
        }
    }
    false
}

/// One component's options, all named `name`.
fn component(rng: &mut Rng, name: &str, mode: Mode, memory: MemoryKind) -> GenComponent {
    let mut args = vec![format!("--job-name={name}")];
    let profile = match mode {
        Mode::Tame => rng.pick(&[
            Profile::Cpu,
            Profile::Cpu,
            Profile::Cpu,
            Profile::Gpu,
            Profile::Gpu,
            Profile::Gpu,
            Profile::Quantum,
        ]),
        Mode::Wild => rng.pick(&[
            Profile::Cpu,
            Profile::Gpu,
            Profile::Gpu,
            Profile::Quantum,
            Profile::Mixed,
        ]),
    };
    let partition: Option<&str> = match (mode, profile) {
        (Mode::Tame, Profile::Cpu) => rng.pick(&[
            None,
            None,
            Some("cpu"),
            Some("cpu"),
            Some("cpu,cpu"),
            Some(",cpu"),
        ]),
        (Mode::Tame, Profile::Gpu) => rng.pick(&[
            None,
            None,
            Some("gpu"),
            Some("gpu"),
            Some("gpu,gpu"),
            Some("gpu,,gpu"),
            Some(",gpu"),
        ]),
        (_, Profile::Quantum) => rng.pick(&[
            Some("quantum"),
            Some("quantum"),
            Some("quantum,quantum"),
            Some(",quantum"),
            Some("quantum,"),
        ]),
        (Mode::Wild, Profile::Cpu) => {
            rng.pick(&[None, Some("cpu"), Some("cpu,,"), Some(","), Some("cpu,cpu")])
        }
        (Mode::Wild, Profile::Gpu) => rng.pick(&[
            None,
            Some("gpu"),
            Some("gpu,gpu"),
            Some(","),
            Some("cpu,,gpu"),
            Some("gpu,cpu"),
        ]),
        (_, Profile::Mixed) => rng.pick(&[
            None,
            Some(",,"),
            Some("cpu,gpu"),
            Some("gpu,quantum"),
            Some("quantum,cpu"),
        ]),
    };
    if let Some(list) = partition {
        partition_args(rng, list, &mut args);
    }

    // The QOS, and what it allows (GPUs per component, minutes).
    let qos: Option<&str> = match (mode, profile) {
        (Mode::Tame, Profile::Cpu) => rng.pick(&[
            None,
            None,
            None,
            Some("normal"),
            Some("long"),
            Some("normal,long"),
        ]),
        (Mode::Tame, Profile::Gpu) => rng.pick(&[
            None,
            None,
            None,
            Some("normal"),
            Some("gpu"),
            Some("gpu,normal"),
            Some("gpu,gpu"),
        ]),
        (Mode::Tame, _) => rng.pick(&[None, None, Some("normal"), Some("normal,normal")]),
        (Mode::Wild, _) => rng.pick(&[
            None,
            None,
            None,
            Some("normal"),
            Some("gpu"),
            Some("long"),
            Some("gpu,normal"),
            Some("normal,"),
            Some(",gpu"),
            Some("long,normal"),
        ]),
    };
    if let Some(qos) = qos {
        if rng.chance(50) {
            args.push(format!("--qos={qos}"));
        } else {
            args.extend(["-q".to_owned(), qos.to_owned()]);
        }
    }
    // Tame values keep within the strictest QOS the component may get.
    let strictest = |name: &str| qos.is_some_and(|q| q.split(',').any(|n| n == name));
    let (max_gpus, max_minutes): (u64, u64) = if strictest("normal") {
        (1, 1440)
    } else if strictest("long") {
        (0, 7 * 1440)
    } else {
        match profile {
            Profile::Gpu => (2, 2 * 1440),
            _ => (1, 1440),
        }
    };

    let mut gave_tasks = false;
    let mut gpus = false;
    match profile {
        Profile::Cpu => {
            if rng.chance(12) {
                let zero = [
                    "--gres=gpu:0",
                    "--gpus=0",
                    "--gres=gpu:0K",
                    "--gpus-per-node=0kib",
                ];
                let any = ["--gres=gpu:1", "--gpus=1", "--gres=gpu:0"];
                args.push(
                    match mode {
                        Mode::Tame => rng.pick(&zero),
                        Mode::Wild => rng.pick(&any),
                    }
                    .to_owned(),
                );
            }
        }
        Profile::Gpu => {
            gave_tasks = gpu_args(rng, mode, max_gpus, &mut args);
            gpus = true;
        }
        Profile::Quantum => {
            if mode == Mode::Tame || rng.chance(85) {
                let count = if mode == Mode::Tame || rng.chance(70) {
                    "1".to_owned()
                } else {
                    gres_count(rng, mode, 1)
                };
                args.push(match (mode, rng.below(4)) {
                    (_, 0 | 1) => format!("--gres=qpu:{count}"),
                    (Mode::Tame, _) | (_, 2) => "--gres=qpu".to_owned(),
                    _ => "--gres=gpu:1,qpu:1".to_owned(),
                });
            }
            if mode == Mode::Tame || rng.chance(85) {
                let values: &[&str] = match mode {
                    Mode::Tame => &["ibm_fez", "ibm_torino"],
                    Mode::Wild => &["ibm_fez", "ibm_torino", "nowhere"],
                };
                args.push(format!("--qpu={}", rng.pick(values)));
            }
        }
        Profile::Mixed => {
            if rng.chance(60) {
                gave_tasks = gpu_args(rng, mode, max_gpus, &mut args);
                gpus = true;
            }
        }
    }

    if rng.chance(45) {
        let size = memory_size(rng);
        let kind = match memory {
            MemoryKind::Any => {
                rng.pick(&[MemoryKind::PerNode, MemoryKind::PerCpu, MemoryKind::PerGpu])
            }
            kind => kind,
        };
        match kind {
            MemoryKind::PerGpu if gpus => args.push(format!("--mem-per-gpu={size}")),
            MemoryKind::PerGpu => {}
            MemoryKind::PerCpu => args.push(format!("--mem-per-cpu={size}")),
            _ => args.push(format!("--mem={size}")),
        }
    }
    if rng.chance(60) {
        let time = time_limit(rng, mode, max_minutes);
        match rng.below(2) {
            0 => args.extend(["-t".to_owned(), time]),
            _ => args.push(format!("--time={time}")),
        }
    }
    // Per-node and per-socket GPUs count on every node the component may
    // get: without --nodes, one per task.
    let per_node_gpus = gpus
        && args.iter().any(|arg| {
            ["--gres=", "--gpus-per-node=", "--gpus-per-socket="]
                .iter()
                .any(|form| arg.starts_with(form))
        });
    let gave_nodes = rng.chance(30);
    if gave_nodes {
        let nodes = match mode {
            // One node per partition in the test cluster, and per-node
            // GPU counts multiply with the node count.
            Mode::Tame if gpus => rng.pick(&["1", "1-1"]),
            Mode::Tame => rng.pick(&["1", "2", "1-2", "2-2", "1-1"]),
            Mode::Wild => rng.pick(&["1", "2", "1-2", "2-2", "1-3", "3"]),
        };
        match rng.below(2) {
            0 => args.extend(["-N".to_owned(), nodes.to_owned()]),
            _ => args.push(format!("--nodes={nodes}")),
        }
    }
    if !gave_tasks && rng.chance(40) {
        let tasks = 1 + rng.below(4);
        args.push(format!("-n{tasks}"));
        // Tame: keep per-node GPUs on one node.
        if mode == Mode::Tame && per_node_gpus && tasks > 1 && !gave_nodes {
            args.push("--nodes=1".to_owned());
        }
    }
    if rng.chance(35) {
        args.extend(["-c".to_owned(), (1 + rng.below(4)).to_string()]);
    }
    GenComponent {
        args,
        qos: qos.map(str::to_owned),
    }
}

/// True when a component's options give `--nodes` (`-N`), or make sbatch
/// and salloc derive it: `--gpus=2 --gpus-per-node=1` is sent as
/// `--nodes=2` (2-2).
fn gives_nodes(args: &[String]) -> bool {
    let given = |prefix: &str| args.iter().any(|arg| arg.starts_with(prefix));
    given("-N") || given("--nodes=") || (given("--gpus=") && given("--gpus-per-node="))
}

/// Submission `index` of `seed`.
fn generate(seed: u64, index: usize) -> Submission {
    let mut rng = Rng::for_submission(seed, index);
    let name = format!("d{seed}-{index}");
    let client = if rng.below(1000) < SALLOC_PER_MILLE {
        Client::Salloc
    } else {
        Client::Sbatch
    };
    let mode = if rng.chance(55) {
        Mode::Tame
    } else {
        Mode::Wild
    };
    let count = if rng.chance(40) {
        2 + usize::try_from(rng.below(3)).unwrap_or(0)
    } else {
        1
    };
    let memory = if count > 1 && rng.chance(90) {
        // One memory option for all components; per GPU only where every
        // component asks for GPUs, which this cannot know: rarely.
        rng.pick(&[
            MemoryKind::PerNode,
            MemoryKind::PerNode,
            MemoryKind::PerCpu,
            MemoryKind::PerCpu,
            MemoryKind::PerGpu,
        ])
    } else {
        MemoryKind::Any
    };
    let components = (0..count)
        .map(|_| component(&mut rng, &name, mode, memory))
        .collect();
    Submission {
        index,
        name,
        client,
        components,
    }
}

// ---------------------------------------------------------------------------
// Submitting
// ---------------------------------------------------------------------------

/// What a submission got: the job id (a hetjob's leader) or none.
#[derive(Debug)]
struct Outcome {
    job_id: Option<u32>,
    output: String,
}

/// The job id sbatch --parsable prints (`id` or `id;cluster`).
fn parsable_id(out: &CmdOutput) -> Option<u32> {
    if out.code != 0 {
        return None;
    }
    let first = out.stdout.lines().find(|l| !l.trim().is_empty())?;
    first.trim().split(';').next()?.parse().ok()
}

/// A client's exit code and stderr on one line.
fn describe(out: &CmdOutput) -> String {
    format!(
        "exit {}; {}",
        out.code,
        out.stderr.trim().replace('\n', " | ")
    )
}

/// Why a submission was refused, for the summary: hetpolicy's rule
/// (`policy: qos.normal.max_time`), else the first error sbatch or salloc
/// printed, with digits masked.
fn refusal_reason(output: &str) -> String {
    if let Some((_, rest)) = output.split_once("(policy: ") {
        let rule = rest.split(')').next().unwrap_or_default();
        return format!("policy: {rule}");
    }
    let error = output
        .split(" | ")
        .find_map(|line| line.split_once("error: ").map(|(_, e)| e))
        .unwrap_or(output);
    error
        .chars()
        .map(|ch| if ch.is_ascii_digit() { '#' } else { ch })
        .take(90)
        .collect()
}

/// Runs the sbatch submissions on [`WORKERS`] threads.
fn run_sbatch(c: &'static Cluster, subs: &[Submission], outcomes: &Mutex<Vec<Option<Outcome>>>) {
    let next = AtomicUsize::new(0);
    let indices: Vec<usize> = (0..subs.len())
        .filter(|&i| subs[i].client == Client::Sbatch)
        .collect();
    thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some(&i) = indices.get(n) else { break };
                let args = subs[i].args();
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                let out = c.run("sbatch", &refs);
                let outcome = Outcome {
                    job_id: parsable_id(&out),
                    output: describe(&out),
                };
                outcomes.lock().unwrap()[i] = Some(outcome);
            });
        }
    });
}

/// A salloc kept waiting for its held allocation.
struct Waiting {
    index: usize,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

/// Starts the salloc submissions in the background, each with a thread
/// collecting its stderr.
fn start_salloc(c: &Cluster, subs: &[Submission]) -> Vec<Waiting> {
    subs.iter()
        .filter(|s| s.client == Client::Salloc)
        .map(|s| {
            let args = s.args();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut child = c
                .command("salloc", &refs)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start salloc");
            let stderr = Arc::new(Mutex::new(String::new()));
            let pipe = child.stderr.take().expect("salloc's stderr is piped");
            let sink = Arc::clone(&stderr);
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut text = sink.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
            Waiting {
                index: s.index,
                child,
                stderr,
            }
        })
        .collect()
}

/// The job id of salloc's "Pending job allocation N".
fn salloc_id(stderr: &str) -> Option<u32> {
    stderr.lines().find_map(|line| {
        let rest = line
            .split_once("Pending job allocation ")
            .or_else(|| line.split_once("Granted job allocation "))?
            .1;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Waits until every salloc has a pending allocation or has exited, and
/// records the outcomes.
fn await_salloc(waiting: &mut [Waiting], outcomes: &Mutex<Vec<Option<Outcome>>>) {
    let deadline = Instant::now() + SALLOC_WAIT;
    let mut open: BTreeSet<usize> = (0..waiting.len()).collect();
    while !open.is_empty() {
        open.retain(|&w| {
            let entry = &mut waiting[w];
            let stderr = entry.stderr.lock().unwrap().clone();
            if let Some(id) = salloc_id(&stderr) {
                outcomes.lock().unwrap()[entry.index] = Some(Outcome {
                    job_id: Some(id),
                    output: stderr.trim().replace('\n', " | "),
                });
                return false;
            }
            match entry.child.try_wait() {
                Ok(Some(status)) => {
                    // Let the reader thread take the last lines.
                    thread::sleep(Duration::from_millis(50));
                    let stderr = entry.stderr.lock().unwrap().clone();
                    outcomes.lock().unwrap()[entry.index] = Some(Outcome {
                        job_id: salloc_id(&stderr),
                        output: format!("{status}; {}", stderr.trim().replace('\n', " | ")),
                    });
                    false
                }
                _ => true,
            }
        });
        if open.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "salloc did not report a pending allocation within {SALLOC_WAIT:?}: {:?}",
            open.iter()
                .map(|&w| waiting[w].stderr.lock().unwrap().clone())
                .collect::<Vec<_>>()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// Ends the waiting sallocs (SIGTERM revokes their allocation; SIGKILL if
/// one does not exit).
fn stop_salloc(waiting: &mut [Waiting]) {
    for entry in waiting.iter_mut() {
        if let Ok(pid) = i32::try_from(entry.child.id()) {
            // SAFETY: kill(2) on the pid of our own child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for entry in waiting.iter_mut() {
        while matches!(entry.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        if matches!(entry.child.try_wait(), Ok(None)) {
            let _ = entry.child.kill();
            let _ = entry.child.wait();
        }
    }
}

/// Puts slurmctld's log level back when dropped (also on panic).
struct DebugLevel<'a> {
    cluster: &'a Cluster,
    restore: String,
}

impl<'a> DebugLevel<'a> {
    /// Sets slurmctld's log level to debug until the guard is dropped.
    fn debug(cluster: &'a Cluster) -> Self {
        let config = cluster.run("scontrol", &["show", "config"]);
        let restore = config
            .stdout
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == "SlurmctldDebug").then(|| value.trim().to_owned())
            })
            .filter(|level| !level.is_empty())
            .unwrap_or_else(|| "info".to_owned());
        let out = cluster.run("scontrol", &["setdebug", "debug"]);
        assert!(out.success(), "scontrol setdebug debug failed:\n{out:?}");
        DebugLevel { cluster, restore }
    }
}

impl Drop for DebugLevel<'_> {
    /// `scontrol setdebug <the level before>`.
    fn drop(&mut self) {
        self.cluster.run("scontrol", &["setdebug", &self.restore]);
    }
}

// ---------------------------------------------------------------------------
// What slurmctld recorded
// ---------------------------------------------------------------------------

/// One line of `scontrol show job --oneliner`.
#[derive(Clone, Debug)]
struct Record {
    fields: HashMap<String, String>,
}

/// The fields a mismatch report shows.
const SHOWN_FIELDS: &[&str] = &[
    "JobId",
    "HetJobId",
    "HetJobOffset",
    "JobName",
    "JobState",
    "Reason",
    "Partition",
    "QOS",
    "TimeLimit",
    "NumNodes",
    "MinNodes",
    "NumCPUs",
    "NumTasks",
    "CPUs/Task",
    "Socks/Node",
    "TRES",
    "MinMemoryNode",
    "MinMemoryCPU",
    "MemPerTres",
    "TresPerJob",
    "TresPerNode",
    "TresPerSocket",
    "TresPerTask",
];

impl Record {
    /// Splits a line into its `Key=value` fields.
    fn parse(line: &str) -> Record {
        let fields = line
            .split_whitespace()
            .filter_map(|field| field.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Record { fields }
    }

    /// A field's value; `None` when absent, empty or `(null)`.
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty() && *v != "(null)")
    }

    /// A field's value as a number.
    fn number(&self, key: &str) -> Option<u32> {
        self.get(key)?.parse().ok()
    }

    /// The relevant fields, in a fixed order.
    fn shown(&self) -> String {
        SHOWN_FIELDS
            .iter()
            .filter_map(|key| Some(format!("{key}={}", self.fields.get(*key)?)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Reads every job back with one `scontrol show job --oneliner`.
fn read_records(c: &Cluster) -> Vec<Record> {
    let out = c.run("scontrol", &["show", "job", "--oneliner"]);
    assert!(out.success(), "scontrol show job failed:\n{out:?}");
    out.stdout
        .lines()
        .filter(|line| line.starts_with("JobId="))
        .map(Record::parse)
        .collect()
}

/// What the comparison needs to know of a partition.
#[derive(Clone, Copy, Debug)]
struct PartitionInfo {
    /// The time limit a job without one gets there: DefaultTime, else
    /// MaxTime.
    default_time: Time,
    /// The most CPUs one of its nodes has.
    cpus_per_node: u64,
}

/// Every partition's [`PartitionInfo`], from `scontrol show partition`
/// and `scontrol show node`.
fn partition_info(c: &Cluster) -> HashMap<String, PartitionInfo> {
    let nodes = c.run("scontrol", &["show", "node", "--oneliner"]);
    assert!(nodes.success(), "scontrol show node failed:\n{nodes:?}");
    let mut cpus: HashMap<String, u64> = HashMap::new();
    for line in nodes.stdout.lines() {
        let node = Record::parse(line);
        let Some(count) = node.get("CPUTot").and_then(|n| n.parse::<u64>().ok()) else {
            continue;
        };
        for partition in node.get("Partitions").unwrap_or("").split(',') {
            let most = cpus.entry(partition.to_owned()).or_default();
            *most = (*most).max(count);
        }
    }
    let out = c.run("scontrol", &["show", "partition", "--oneliner"]);
    assert!(out.success(), "scontrol show partition failed:\n{out:?}");
    out.stdout
        .lines()
        .filter_map(|line| {
            let record = Record::parse(line);
            let name = record.get("PartitionName")?.to_owned();
            let default_time = record
                .get("DefaultTime")
                .filter(|t| *t != "NONE")
                .or_else(|| record.get("MaxTime"))
                .and_then(parse_scontrol_time)?;
            let cpus_per_node = cpus.get(&name).copied().filter(|n| *n > 0)?;
            Some((
                name,
                PartitionInfo {
                    default_time,
                    cpus_per_node,
                },
            ))
        })
        .collect()
}

/// A time limit as both sides write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Time {
    Minutes(u64),
    Unlimited,
}

impl Time {
    /// True when `self` is longer than `limit`.
    fn exceeds(self, limit: TimeLimit) -> bool {
        match (self, limit) {
            (_, TimeLimit::Unlimited) => false,
            (Time::Unlimited, TimeLimit::Minutes(_)) => true,
            (Time::Minutes(asked), TimeLimit::Minutes(max)) => asked > u64::from(max),
        }
    }
}

/// `UNLIMITED`, `D-HH:MM:SS`, `HH:MM:SS` or `MM:SS` (seconds round up).
fn parse_scontrol_time(text: &str) -> Option<Time> {
    if text.eq_ignore_ascii_case("UNLIMITED") || text.eq_ignore_ascii_case("INFINITE") {
        return Some(Time::Unlimited);
    }
    let (days, clock) = match text.split_once('-') {
        Some((d, rest)) => (d.parse::<u64>().ok()?, rest),
        None => (0, text),
    };
    let parts: Vec<u64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let seconds = match parts.as_slice() {
        [h, m, s] => h * 3600 + m * 60 + s,
        [m, s] => m * 60 + s,
        [m] => m * 60,
        _ => return None,
    };
    Some(Time::Minutes((days * 86_400 + seconds).div_ceil(60)))
}

/// Memory as scontrol prints it (`0`, `1500M`, `2G`, `62.50G`), in MiB.
fn parse_scontrol_memory(text: &str) -> Option<u64> {
    let split = text
        .find(|ch: char| !ch.is_ascii_digit() && ch != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "" | "M" => 1.0,
        "K" => 1.0 / 1024.0,
        "G" => 1024.0,
        "T" => 1024.0 * 1024.0,
        "P" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((number * factor).round() as u64)
}

/// Slurm's `suffix_mult`: the multiplier of a count suffix, any case.
fn suffix_multiplier(suffix: &str) -> Option<u64> {
    let lower = suffix.to_ascii_lowercase();
    if lower.is_empty() {
        return Some(1);
    }
    let power = 1 + u32::try_from("kmgtp".find(lower.chars().next()?)?).ok()?;
    match &lower[1..] {
        "" | "ib" => Some(1024u64.pow(power)),
        "b" => Some(1000u64.pow(power)),
        _ => None,
    }
}

/// A count field as slurmctld reads it: digits and an optional suffix;
/// `None` when it is not a count (then it is a GRES type).
fn gres_count_value(text: &str) -> Option<u64> {
    let split = text
        .find(|ch: char| !ch.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let number: u64 = digits.parse().ok()?;
    number.checked_mul(suffix_multiplier(suffix)?)
}

/// The GRES of one `TresPer*` field as slurmctld allocates them: per name,
/// per type the last count given, types added up. A count of 0 is no
/// request and leaves an earlier entry standing (`--gres=gpu:2,gpu:0` and
/// `gpu:0,gpu:2` both run with 2 GPUs; `gpu:2,gpu:1` with 1).
fn gres_field(text: &str) -> BTreeMap<String, u64> {
    let mut by_type: BTreeMap<(String, String), u64> = BTreeMap::new();
    for entry in text.split(',') {
        let Some(body) = entry
            .strip_prefix("gres:")
            .or_else(|| entry.strip_prefix("gres/"))
        else {
            continue;
        };
        let (spec, explicit) = match body.split_once('=') {
            Some((spec, count)) => (spec, gres_count_value(count)),
            None => (body, None),
        };
        let fields: Vec<&str> = spec.split(':').collect();
        let (name, gres_type, count) = match (fields.as_slice(), explicit) {
            ([name], Some(n)) => (*name, "", n),
            ([name, t], Some(n)) => (*name, *t, n),
            ([name], None) => (*name, "", 1),
            ([name, one], None) => match gres_count_value(one) {
                Some(n) => (*name, "", n),
                None => (*name, *one, 1),
            },
            ([name, t, n], None) => (*name, *t, gres_count_value(n).unwrap_or(0)),
            _ => continue,
        };
        if count == 0 {
            continue;
        }
        by_type.insert((name.to_owned(), gres_type.to_owned()), count);
    }
    let mut totals = BTreeMap::new();
    for ((name, _), count) in by_type {
        let total: &mut u64 = totals.entry(name).or_default();
        *total = total.saturating_add(count);
    }
    totals
}

/// Memory as requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mem {
    None,
    PerNode(u64),
    PerCpu(u64),
}

/// Which `TresPer*` field a GRES request is in: what its count multiplies
/// with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Job,
    Node,
    Socket,
    Task,
}

/// A component as slurmctld recorded it, in the reading's terms.
///
/// The node count a held job will get is the one value the record does not
/// state: `NumNodes=` of a pending job starts with slurmctld's guess
/// (`node_cnt_wag`), which can exceed what the job needs (22.05: `-n1 -c2`
/// shows 2 and runs on 1 node). What the record does state is what
/// per-node requests count with, the most nodes the component may get:
/// sbatch and salloc send `--nodes` as a range (`-N 2` as 2-2, after their
/// own corrections: `-N 1-3 -n1` is sent as 1-1), which scontrol shows as
/// `NumNodes=GUESS-MAX`, so for a component that gives `--nodes` (the
/// command line says which: sbatch does not pass it on to later
/// components) the range's MAX is its top. Without `--nodes`, slurmctld
/// may put each task on a node of its own, so the most is `NumTasks`; the
/// range 24.11 and later show for such a job (`NumNodes=1-1` on 24.11,
/// `1-3` on 26.05 for `-n3`) is slurmctld's own and not what was asked.
#[derive(Clone, Debug)]
struct Recorded {
    partitions: Vec<String>,
    /// `None` when slurmctld records no QOS.
    qos: Option<Vec<String>>,
    /// Per `TresPer*` field, the GRES counts as slurmctld reads them.
    gres_fields: Vec<(Scope, BTreeMap<String, u64>)>,
    /// The fewest nodes the component can run on: its CPUs over the
    /// partition's largest node, at most the range's maximum.
    nodes_needed: u32,
    /// slurmctld's node count guess (the first number of `NumNodes`).
    nodes_guess: u32,
    /// The second number of a `NumNodes` range, as shown.
    nodes_shown_max: Option<u32>,
    /// The top of an explicit `--nodes` (`nodes_shown_max` when the
    /// component gives `--nodes`).
    nodes_max: Option<u32>,
    tasks: Option<u32>,
    /// `--sockets-per-node` (`Socks/Node=`; `None` for `*`).
    sockets_per_node: Option<u32>,
    cpus: u64,
    mem: Mem,
    /// MiB per GPU (`--mem-per-gpu`).
    mem_per_gpu: Option<u64>,
    time: Option<Time>,
}

/// A comma-separated list with empty and repeated names dropped.
fn clean_list(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// `N` as (N, None), `N-M` as (N, Some(M)).
fn range(text: &str) -> Option<(u32, Option<u32>)> {
    match text.split_once('-') {
        Some((a, b)) => Some((a.parse().ok()?, Some(b.parse().ok()?))),
        None => Some((text.parse().ok()?, None)),
    }
}

impl Recorded {
    /// The component of one `scontrol show job` line; `gives_nodes` when
    /// its command line has `--nodes`.
    fn from_record(
        r: &Record,
        partitions: &HashMap<String, PartitionInfo>,
        gives_nodes: bool,
    ) -> Result<Recorded, String> {
        let (nodes_guess, nodes_shown_max) =
            r.get("NumNodes").and_then(range).ok_or("no NumNodes")?;
        let nodes_max = match (gives_nodes, nodes_shown_max) {
            (false, _) => None,
            (true, Some(max)) => Some(max),
            (true, None) => return Err("--nodes given, NumNodes shows no range".to_owned()),
        };
        let tasks = r.number("NumTasks");
        let sockets_per_node = r.number("Socks/Node");
        let cpus = r
            .get("NumCPUs")
            .and_then(range)
            .map(|(min, _)| u64::from(min))
            .ok_or("no NumCPUs")?;
        let names = clean_list(r.get("Partition").unwrap_or(""));
        let cpus_per_node = names
            .iter()
            .filter_map(|p| Some(partitions.get(p)?.cpus_per_node))
            .max()
            .unwrap_or(u64::MAX);
        // A job capped below that (`-N 1-1 -n9` on 8-CPU nodes) never runs.
        let nodes_needed = u32::try_from(cpus.div_ceil(cpus_per_node).max(1))
            .unwrap_or(u32::MAX)
            .min(nodes_shown_max.unwrap_or(u32::MAX));
        let gres_fields = [
            ("TresPerJob", Scope::Job),
            ("TresPerNode", Scope::Node),
            ("TresPerSocket", Scope::Socket),
            ("TresPerTask", Scope::Task),
        ]
        .into_iter()
        .filter_map(|(key, scope)| Some((scope, gres_field(r.get(key)?))))
        .collect();
        let mem = match (r.get("MinMemoryNode"), r.get("MinMemoryCPU")) {
            (_, Some(cpu)) => Mem::PerCpu(parse_scontrol_memory(cpu).ok_or("bad MinMemoryCPU")?),
            (Some(node), None) => {
                Mem::PerNode(parse_scontrol_memory(node).ok_or("bad MinMemoryNode")?)
            }
            (None, None) => Mem::None,
        };
        let mem_per_gpu = r.get("MemPerTres").and_then(|text| {
            text.split(',').find_map(|entry| {
                let body = entry
                    .strip_prefix("gres:gpu:")
                    .or_else(|| entry.strip_prefix("gres/gpu:"))
                    .or_else(|| entry.strip_prefix("gres/gpu="))?;
                body.parse().ok()
            })
        });
        let time = match r.get("TimeLimit") {
            None | Some("Partition_Limit") => None,
            Some(text) => Some(parse_scontrol_time(text).ok_or("bad TimeLimit")?),
        };
        Ok(Recorded {
            partitions: names,
            qos: r.get("QOS").map(clean_list),
            gres_fields,
            nodes_needed,
            nodes_guess,
            nodes_shown_max,
            nodes_max,
            tasks,
            sockets_per_node,
            cpus,
            mem,
            mem_per_gpu,
            time,
        })
    }

    /// The most nodes slurmctld may give the component, which per-node
    /// GRES and memory count on: the top of an explicit `--nodes` range,
    /// else `NumTasks` (one node per task; 1 without tasks).
    fn nodes_most(&self) -> u32 {
        self.nodes_max.unwrap_or(self.tasks.unwrap_or(1)).max(1)
    }

    /// The node count a `max_nodes` limit is held against: the top of an
    /// explicit `--nodes` range, else 1 (the nodes its tasks might spread
    /// over do not count), and never fewer than its CPUs need.
    fn nodes_asked(&self) -> u32 {
        self.nodes_max.unwrap_or(1).max(self.nodes_needed).max(1)
    }

    /// GRES totals on the most nodes ([`Recorded::nodes_most`]): per node
    /// counts times those nodes, per socket counts times those nodes and
    /// `Socks/Node` (an upper bound: a GPU in gres.conf without Cores= is
    /// not bound to a socket, and `--gpus-per-socket=1
    /// --sockets-per-node=2` is given 1 GPU per node on the test cluster),
    /// per task times `NumTasks`; the largest field; zero totals left out.
    fn gres(&self) -> BTreeMap<String, u64> {
        let nodes = u64::from(self.nodes_most());
        let sockets = u64::from(self.sockets_per_node.unwrap_or(1).max(1));
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        for (scope, counts) in &self.gres_fields {
            let times = match scope {
                Scope::Job => 1,
                Scope::Node => nodes,
                Scope::Socket => nodes.saturating_mul(sockets),
                Scope::Task => u64::from(self.tasks.unwrap_or(1).max(1)),
            };
            for (name, count) in counts {
                let total = count.saturating_mul(times);
                let entry = totals.entry(name.clone()).or_default();
                *entry = (*entry).max(total);
            }
        }
        totals.retain(|_, total| *total > 0);
        totals
    }

    /// Memory for the whole component, in MiB: per node times the most
    /// nodes, per CPU times `NumCPUs`, per GPU times its GPUs, the
    /// largest.
    fn memory_total(&self) -> Option<u64> {
        let base = match self.mem {
            Mem::None => None,
            Mem::PerNode(mb) => Some(mb.saturating_mul(u64::from(self.nodes_most()))),
            Mem::PerCpu(mb) => Some(mb.saturating_mul(self.cpus)),
        };
        let gpus = self.gres().get("gpu").copied().unwrap_or(0);
        let per_gpu = self.mem_per_gpu.map(|mb| mb.saturating_mul(gpus));
        match (base, per_gpu) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

// ---------------------------------------------------------------------------
// What hetpolicy read
// ---------------------------------------------------------------------------

/// One parsed reading line.
#[derive(Clone, Debug)]
struct Reading {
    line: String,
    partitions: Vec<String>,
    qos: Vec<String>,
    gres: BTreeMap<String, u64>,
    /// The minimum node count.
    nodes: u32,
    /// The top of a node range (`nodes=1-3`), when there is one.
    nodes_max: Option<u32>,
    tasks: Option<u32>,
    cpus: u64,
    mem: Mem,
    time: Option<Time>,
}

/// `-` or a comma-separated list.
fn reading_list(value: &str) -> Vec<String> {
    if value == "-" {
        Vec::new()
    } else {
        value.split(',').map(str::to_owned).collect()
    }
}

/// Parses the part of a log line after [`READING_MARK`]: returns the job
/// name, the component (`None` for a plain job) and the reading.
fn parse_reading(rest: &str) -> Result<(String, Option<u32>, Reading), String> {
    let fields: HashMap<&str, &str> = rest
        .split_whitespace()
        .filter_map(|field| field.split_once('='))
        .collect();
    let get = |key: &str| {
        fields
            .get(key)
            .copied()
            .ok_or_else(|| format!("no {key}= in the reading line"))
    };
    let name = get("job")?.to_owned();
    let component = match get("component")? {
        "job" => None,
        k => Some(k.parse().map_err(|_| format!("bad component {k}"))?),
    };
    let mut gres = BTreeMap::new();
    if get("gres")? != "-" {
        for entry in get("gres")?.split(',') {
            let (name, total) = entry
                .rsplit_once(':')
                .ok_or_else(|| format!("bad gres entry {entry}"))?;
            let total: u64 = total
                .parse()
                .map_err(|_| format!("bad gres total {entry}"))?;
            gres.insert(name.to_owned(), total);
        }
    }
    gres.retain(|_, total| *total > 0);
    let number = |key: &str| -> Result<u64, String> {
        get(key)?
            .parse()
            .map_err(|_| format!("bad {key}= in the reading line"))
    };
    let tasks = match get("tasks")? {
        "-" => None,
        n => Some(n.parse().map_err(|_| "bad tasks=".to_owned())?),
    };
    let mem = match get("mem")? {
        "-" => Mem::None,
        text => {
            let (number, scope) = text.split_once('/').ok_or("bad mem=")?;
            let mb: u64 = number
                .strip_suffix('M')
                .and_then(|n| n.parse().ok())
                .ok_or("bad mem=")?;
            match scope {
                "node" => Mem::PerNode(mb),
                "cpu" => Mem::PerCpu(mb),
                _ => return Err(format!("bad mem={text}")),
            }
        }
    };
    let time = match get("time")? {
        "-" => None,
        "UNLIMITED" => Some(Time::Unlimited),
        minutes => Some(Time::Minutes(
            minutes.parse().map_err(|_| "bad time=".to_owned())?,
        )),
    };
    let (nodes, nodes_max) = range(get("nodes")?).ok_or("bad nodes= in the reading line")?;
    let reading = Reading {
        line: rest.trim().to_owned(),
        partitions: reading_list(get("partition")?),
        qos: reading_list(get("qos")?),
        gres,
        nodes,
        nodes_max,
        tasks,
        cpus: number("cpus")?,
        mem,
        time,
    };
    Ok((name, component, reading))
}

// ---------------------------------------------------------------------------
// The reference policy, as the checks need it
// ---------------------------------------------------------------------------

/// The parts of hetpolicy.yaml the policy checks use (other keys ignored).
#[derive(Debug, Default, Deserialize)]
struct PolicyModel {
    #[serde(default)]
    partitions: BTreeMap<String, PartitionModel>,
    #[serde(default)]
    accelerators: BTreeMap<String, AcceleratorModel>,
    #[serde(default)]
    qos: BTreeMap<String, QosModel>,
    #[serde(default)]
    hetjob: HetjobModel,
}

/// `partitions.<name>`.
#[derive(Debug, Default, Deserialize)]
struct PartitionModel {
    #[serde(default)]
    reserved_for: Vec<String>,
    #[serde(default)]
    qos: Option<PartitionQosModel>,
}

/// `partitions.<name>.qos`.
#[derive(Debug, Default, Deserialize)]
struct PartitionQosModel {
    #[serde(default)]
    allowed: Option<Vec<String>>,
    #[serde(default)]
    default: Option<String>,
}

/// `accelerators.<gres>`.
#[derive(Debug, Default, Deserialize)]
struct AcceleratorModel {
    #[serde(default)]
    partitions: Vec<String>,
}

/// `qos.<name>`: the limits per component.
#[derive(Debug, Default, Deserialize)]
struct QosModel {
    #[serde(default)]
    max_gres: BTreeMap<String, u64>,
    #[serde(default)]
    max_nodes: Option<u32>,
    #[serde(default)]
    max_cpus: Option<u64>,
    #[serde(default)]
    max_memory: Option<String>,
    #[serde(default)]
    max_time: Option<String>,
}

/// `hetjob`: the limits over all components.
#[derive(Debug, Default, Deserialize)]
struct HetjobModel {
    #[serde(default)]
    max_components: Option<usize>,
    #[serde(default)]
    max_total_gres: BTreeMap<String, u64>,
}

/// Loads the cluster's installed policy twice: with the crate's loader
/// (it must be valid) and into [`PolicyModel`].
fn load_policy(c: &Cluster) -> PolicyModel {
    let path = c.policy_path();
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if let Err(e) = hetpolicy_core::policy::Policy::from_yaml(&text, &path.display().to_string()) {
        panic!("the cluster's policy does not load: {e}");
    }
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The QOS a component uses on `partition`: the ones slurmctld recorded;
/// where it records none (no accounting: `QOS=(null)`), `known` (the QOS
/// hetpolicy read, which is what slurmctld was sent); else the
/// partition's default in the policy.
fn effective_qos(
    policy: &PolicyModel,
    recorded: &Recorded,
    known: Option<&[String]>,
    partition: &str,
) -> Vec<String> {
    if let Some(qos) = &recorded.qos {
        return qos.clone();
    }
    if let Some(qos) = known.filter(|q| !q.is_empty()) {
        return qos.to_vec();
    }
    policy
        .partitions
        .get(partition)
        .and_then(|p| p.qos.as_ref())
        .and_then(|q| q.default.clone())
        .into_iter()
        .collect()
}

/// The `--qos` each component reaches slurmctld with. sbatch passes a
/// component's `--qos` on to the later components that give none, and the
/// last one given to a first component that gives none (seen with 22.05's
/// sbatch; `--time` and `--mem` are passed on the same way).
fn qos_as_sent(sub: &Submission) -> Vec<Option<String>> {
    let mut current = sub.components.iter().rev().find_map(|c| c.qos.clone());
    sub.components
        .iter()
        .map(|c| {
            if c.qos.is_some() {
                current.clone_from(&c.qos);
            }
            current.clone()
        })
        .collect()
}

/// Everything in `recorded` that breaks `policy`, as (kind, why): GRES
/// and memory on the most nodes it may get ([`Recorded::nodes_most`]),
/// `max_nodes` against the nodes it asked for ([`Recorded::nodes_asked`]).
fn check_policy(
    policy: &PolicyModel,
    recorded: &Recorded,
    known_qos: Option<&[String]>,
) -> Vec<(&'static str, String)> {
    let mut broken = Vec::new();
    let gres = recorded.gres();
    let most = recorded.nodes_most();
    let asked = recorded.nodes_asked();
    for (name, total) in &gres {
        if let Some(rule) = policy.accelerators.get(name) {
            for partition in &recorded.partitions {
                if !rule.partitions.contains(partition) {
                    broken.push((
                        "policy",
                        format!(
                            "{name}:{total} on partition {partition} (accelerators.{name} \
                             allows {:?})",
                            rule.partitions
                        ),
                    ));
                }
            }
        }
    }
    for partition in &recorded.partitions {
        let Some(rule) = policy.partitions.get(partition) else {
            broken.push((
                "policy",
                format!("partition {partition} is not in the policy"),
            ));
            continue;
        };
        if !rule.reserved_for.is_empty() && !rule.reserved_for.iter().any(|g| gres.contains_key(g))
        {
            broken.push((
                "policy",
                format!(
                    "partition {partition} is reserved for {:?}, the component requests none",
                    rule.reserved_for
                ),
            ));
        }
        for qos in effective_qos(policy, recorded, known_qos, partition) {
            let allowed = rule.qos.as_ref().and_then(|q| q.allowed.as_ref());
            if let Some(allowed) = allowed {
                if !allowed.contains(&qos) {
                    broken.push((
                        "policy",
                        format!("QOS {qos} on partition {partition} (allowed: {allowed:?})"),
                    ));
                }
            }
            let Some(limits) = policy.qos.get(&qos) else {
                continue;
            };
            for (name, max) in &limits.max_gres {
                let total = gres.get(name).copied().unwrap_or(0);
                if total > *max {
                    broken.push((
                        "policy",
                        format!(
                            "{total} {name} on up to {most} nodes with QOS {qos} (max_gres {max})"
                        ),
                    ));
                }
            }
            if let Some(max) = limits.max_nodes {
                if asked > max {
                    broken.push((
                        "policy",
                        format!("{asked} nodes with QOS {qos} (max_nodes {max})"),
                    ));
                }
            }
            if let Some(max) = limits.max_cpus {
                if recorded.cpus > max {
                    broken.push((
                        "policy",
                        format!("{} CPUs with QOS {qos} (max_cpus {max})", recorded.cpus),
                    ));
                }
            }
            if let Some(max) = limits.max_memory.as_deref() {
                let max = Megabytes::parse(max).expect("max_memory loads").0;
                if let Some(total) = recorded.memory_total() {
                    if total > max {
                        broken.push((
                            "policy",
                            format!("{total}M memory with QOS {qos} (max_memory {max}M)"),
                        ));
                    }
                }
            }
            if let Some(max) = limits.max_time.as_deref() {
                let max = TimeLimit::parse(max).expect("max_time loads");
                if let Some(time) = recorded.time {
                    if time.exceeds(max) {
                        broken.push((
                            "policy",
                            format!("time limit {time:?} with QOS {qos} (max_time {max})"),
                        ));
                    }
                }
            }
        }
    }
    broken
}

// ---------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------

/// One disagreement.
#[derive(Debug)]
struct Mismatch {
    kind: &'static str,
    what: String,
    command: String,
    component: String,
    reading: Option<String>,
    record: Option<String>,
}

impl Mismatch {
    /// The report of one mismatch, on four lines.
    fn show(&self) -> String {
        let mut text = format!("[{}] {}: {}\n", self.kind, self.component, self.what);
        let _ = writeln!(text, "  command: {}", self.command);
        let _ = writeln!(
            text,
            "  reading: {}",
            self.reading.as_deref().unwrap_or("(none)")
        );
        let _ = write!(
            text,
            "  scontrol: {}",
            self.record.as_deref().unwrap_or("(none)")
        );
        text
    }
}

/// Reading against record, field by field: (kind, why) per difference.
fn compare(
    reading: &Reading,
    recorded: &Recorded,
    submitted_qos: Option<&str>,
    partitions: &HashMap<String, PartitionInfo>,
) -> Vec<(&'static str, String)> {
    let mut differ = Vec::new();
    let recorded_as = |what: &dyn std::fmt::Debug| format!("slurmctld recorded {what:?}");
    if reading.partitions != recorded.partitions {
        differ.push((
            "partition",
            format!(
                "read {:?}, {}",
                reading.partitions,
                recorded_as(&recorded.partitions)
            ),
        ));
    }
    match &recorded.qos {
        Some(qos) if *qos != reading.qos => {
            differ.push((
                "qos",
                format!("read {:?}, {}", reading.qos, recorded_as(qos)),
            ));
        }
        None => {
            let submitted = submitted_qos.map(clean_list).unwrap_or_default();
            if !submitted.is_empty() && submitted != reading.qos {
                differ.push((
                    "qos",
                    format!(
                        "read {:?}, submitted {submitted:?} (slurmctld records no QOS)",
                        reading.qos
                    ),
                ));
            }
        }
        _ => {}
    }
    // The node count (see Recorded): the top is the most nodes the record
    // allows, exactly; the minimum is the one requested: 1 without
    // --nodes, at most slurmctld's guess with it.
    let most = recorded.nodes_most();
    let top = reading.nodes_max.unwrap_or(reading.nodes);
    let mut wrong: Vec<String> = Vec::new();
    if top != most {
        wrong.push(match recorded.nodes_max {
            Some(max) => format!("with --nodes the top must be the range's {max}"),
            None => format!(
                "without --nodes the top must be the task count, {}",
                recorded.tasks.unwrap_or(1)
            ),
        });
    }
    if reading.nodes_max.is_some_and(|max| max <= reading.nodes) {
        wrong.push("a range is shown only when its top exceeds its minimum".to_owned());
    }
    if recorded.nodes_max.is_none() && reading.nodes != 1 {
        wrong.push("without --nodes the minimum is 1".to_owned());
    } else if reading.nodes == 0 || reading.nodes > recorded.nodes_guess {
        wrong.push(format!(
            "the minimum must lie between 1 and slurmctld's {}",
            recorded.nodes_guess
        ));
    }
    if !wrong.is_empty() {
        differ.push((
            "nodes",
            format!(
                "read {}{}, slurmctld recorded NumNodes={}{} NumTasks={}: {}",
                reading.nodes,
                reading
                    .nodes_max
                    .map(|m| format!("-{m}"))
                    .unwrap_or_default(),
                recorded.nodes_guess,
                recorded
                    .nodes_shown_max
                    .map(|m| format!("-{m}"))
                    .unwrap_or_default(),
                recorded
                    .tasks
                    .map_or_else(|| "-".to_owned(), |t| t.to_string()),
                wrong.join("; ")
            ),
        ));
    }
    let gres = recorded.gres();
    if reading.gres != gres {
        differ.push((
            "gres",
            format!("read {:?}, {}", reading.gres, recorded_as(&gres)),
        ));
    }
    if let Some(tasks) = reading.tasks {
        if Some(tasks) != recorded.tasks {
            differ.push((
                "tasks",
                format!("read {tasks}, {}", recorded_as(&recorded.tasks)),
            ));
        }
    }
    if reading.cpus != recorded.cpus {
        differ.push((
            "cpus",
            format!("read {}, {}", reading.cpus, recorded_as(&recorded.cpus)),
        ));
    }
    let whole_node = |mem: Mem| match mem {
        Mem::None => Mem::PerNode(0),
        other => other,
    };
    if whole_node(reading.mem) != whole_node(recorded.mem) {
        differ.push((
            "mem",
            format!("read {:?}, {}", reading.mem, recorded_as(&recorded.mem)),
        ));
    }
    let partition_default = recorded
        .partitions
        .first()
        .and_then(|p| partitions.get(p))
        .map(|p| p.default_time);
    if reading.time.or(partition_default) != recorded.time.or(partition_default) {
        differ.push((
            "time",
            format!("read {:?}, {}", reading.time, recorded_as(&recorded.time)),
        ));
    }
    differ
}

/// The counts printed at the end.
#[derive(Debug, Default)]
struct Counts {
    submissions: usize,
    salloc: usize,
    salloc_accepted: usize,
    hetjobs: usize,
    components: usize,
    accepted_submissions: usize,
    accepted: usize,
    refused: usize,
    refused_by_hetpolicy: usize,
    compared: usize,
}

/// The number in environment variable `name`, else `default`.
fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) if !text.trim().is_empty() => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        _ => default,
    }
}

/// Generates, submits and reads back the submissions, then compares every
/// accepted component's reading with its record and judges the record
/// against the policy (see the module documentation).
#[test]
fn hetpolicy_reads_every_accepted_component_as_slurmctld_records_it() {
    let seed: u64 = env_number("HETPOLICY_DIFF_SEED", DEFAULT_SEED);
    let count: usize = env_number("HETPOLICY_DIFF_COUNT", DEFAULT_COUNT);
    println!(
        "differential: seed {seed} (HETPOLICY_DIFF_SEED), {count} submissions \
         (HETPOLICY_DIFF_COUNT)"
    );
    let started = Instant::now();
    let c = cluster::ensure_up();
    let reference = c.reference_policy();
    let policy_guard = c.with_policy(&reference);
    // The plugin notices a new file at most every 250 ms.
    thread::sleep(Duration::from_millis(400));
    let policy = load_policy(c);
    let partitions = partition_info(c);
    let (pid, offset) = (c.slurmctld_pid(), c.log_len());
    let debug = DebugLevel::debug(c);

    let subs: Vec<Submission> = (0..count).map(|i| generate(seed, i)).collect();
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..subs.len()).map(|_| None).collect());
    let submitting = Instant::now();
    let mut waiting = start_salloc(c, &subs);
    run_sbatch(c, &subs, &outcomes);
    await_salloc(&mut waiting, &outcomes);
    let submitted_in = submitting.elapsed();

    let records = read_records(c);
    stop_salloc(&mut waiting);
    drop(debug);
    let log = c.log_since(offset);
    let outcomes: Vec<Outcome> = outcomes
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|o| o.expect("every submission has an outcome"))
        .collect();

    // Cancel everything this run created, by id (names may repeat across
    // runs of the same seed). The sallocs revoked theirs when they ended;
    // one that had to be killed left its job behind, so theirs are
    // cancelled too, without asking that they still exist.
    let ids = |client: Client| -> Vec<String> {
        subs.iter()
            .zip(&outcomes)
            .filter(|(sub, _)| sub.client == client)
            .filter_map(|(_, o)| o.job_id)
            .map(|id| id.to_string())
            .collect()
    };
    for chunk in ids(Client::Sbatch).chunks(500) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let out = c.run("scancel", &refs);
        assert!(out.success(), "scancel failed:\n{out:?}");
    }
    let salloc_ids = ids(Client::Salloc);
    if !salloc_ids.is_empty() {
        let refs: Vec<&str> = salloc_ids.iter().map(String::as_str).collect();
        c.run("scancel", &refs);
    }
    drop(policy_guard);

    // Index the records and the reading lines.
    let mut plain: HashMap<u32, &Record> = HashMap::new();
    let mut het: HashMap<(u32, u32), &Record> = HashMap::new();
    for record in &records {
        match (record.number("HetJobId"), record.number("HetJobOffset")) {
            (Some(leader), Some(offset)) => {
                het.insert((leader, offset), record);
            }
            _ => {
                if let Some(id) = record.number("JobId") {
                    plain.insert(id, record);
                }
            }
        }
    }
    let mut readings: HashMap<(String, Option<u32>), Reading> = HashMap::new();
    let mut mismatches: Vec<Mismatch> = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once(READING_MARK) else {
            continue;
        };
        match parse_reading(rest) {
            Ok((name, component, reading)) => {
                readings.insert((name, component), reading);
            }
            Err(why) => mismatches.push(Mismatch {
                kind: "reading-line",
                what: why,
                command: String::new(),
                component: String::new(),
                reading: Some(line.to_owned()),
                record: None,
            }),
        }
    }

    let mut counts = Counts::default();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (sub, outcome) in subs.iter().zip(&outcomes) {
        counts.submissions += 1;
        counts.components += sub.components.len();
        if sub.client == Client::Salloc {
            counts.salloc += 1;
        }
        if sub.is_hetjob() {
            counts.hetjobs += 1;
        }
        let Some(job_id) = outcome.job_id else {
            counts.refused += sub.components.len();
            if outcome.output.contains("(policy: ") {
                counts.refused_by_hetpolicy += 1;
            }
            *reasons.entry(refusal_reason(&outcome.output)).or_default() += 1;
            continue;
        };
        counts.accepted_submissions += 1;
        if sub.client == Client::Salloc {
            counts.salloc_accepted += 1;
        }
        let mut hetjob_gres: BTreeMap<String, u64> = BTreeMap::new();
        let mut shown_records = Vec::new();
        let sent_qos = qos_as_sent(sub);
        for (k, generated) in sub.components.iter().enumerate() {
            let position = if sub.is_hetjob() {
                Some(u32::try_from(k).expect("few components"))
            } else {
                None
            };
            let label = match position {
                Some(k) => format!("{} component {k}", sub.name),
                None => format!("{} job", sub.name),
            };
            let record = match position {
                Some(k) => het.get(&(job_id, k)),
                None => plain.get(&job_id),
            };
            let reading = readings.get(&(sub.name.clone(), position));
            let mismatch = |kind: &'static str, what: String| Mismatch {
                kind,
                what,
                command: sub.command_line(),
                component: label.clone(),
                reading: reading.map(|r| r.line.clone()),
                record: record.map(|r| r.shown()),
            };
            counts.accepted += 1;
            let Some(record) = record else {
                mismatches.push(mismatch(
                    "no-record",
                    format!("job {job_id} was accepted, scontrol shows no such component"),
                ));
                continue;
            };
            shown_records.push(record.shown());
            if record.get("JobName") != Some(sub.name.as_str()) {
                mismatches.push(mismatch(
                    "no-record",
                    format!("job {job_id} is named {:?}", record.get("JobName")),
                ));
                continue;
            }
            let gives = gives_nodes(&generated.args);
            let recorded = match Recorded::from_record(record, &partitions, gives) {
                Ok(recorded) => recorded,
                Err(why) => {
                    mismatches.push(mismatch("record", why));
                    continue;
                }
            };
            for (name, total) in recorded.gres() {
                *hetjob_gres.entry(name).or_default() += total;
            }
            let sent: Option<Vec<String>> = sent_qos[k].as_deref().map(clean_list);
            let known = reading.map(|r| r.qos.as_slice()).or(sent.as_deref());
            for (kind, why) in check_policy(&policy, &recorded, known) {
                mismatches.push(mismatch(kind, why));
            }
            let Some(reading) = reading else {
                mismatches.push(mismatch(
                    "no-reading",
                    "slurmctld created it, hetpolicy logged no reading".to_owned(),
                ));
                continue;
            };
            counts.compared += 1;
            // Only a plain job's --qos is surely what slurmctld got (see
            // qos_as_sent for hetjobs).
            let submitted = (!sub.is_hetjob())
                .then_some(generated.qos.as_deref())
                .flatten();
            for (kind, why) in compare(reading, &recorded, submitted, &partitions) {
                mismatches.push(mismatch(kind, why));
            }
        }
        if sub.is_hetjob() {
            let hetjob_mismatch = |kind: &'static str, what: String| Mismatch {
                kind,
                what,
                command: sub.command_line(),
                component: format!("{} hetjob", sub.name),
                reading: None,
                record: Some(shown_records.join("\n            ")),
            };
            if let Some(max) = policy.hetjob.max_components {
                if sub.components.len() > max {
                    mismatches.push(hetjob_mismatch(
                        "policy",
                        format!(
                            "{} components (hetjob.max_components {max})",
                            sub.components.len()
                        ),
                    ));
                }
            }
            for (gres, max) in &policy.hetjob.max_total_gres {
                let total = hetjob_gres.get(gres).copied().unwrap_or(0);
                if total > *max {
                    mismatches.push(hetjob_mismatch(
                        "policy",
                        format!("{total} {gres} in all (hetjob.max_total_gres {max})"),
                    ));
                }
            }
        }
    }

    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &mismatches {
        *kinds.entry(m.kind).or_default() += 1;
    }
    println!(
        "differential: {} submissions ({} hetjobs, {} through salloc, {} of them accepted), \
         {} components; {} submissions accepted; components: {} accepted, {} refused ({} \
         submissions refused by hetpolicy); {} compared; {} mismatches {kinds:?}; submitted \
         in {:.1} s, {:.1} s in all",
        counts.submissions,
        counts.hetjobs,
        counts.salloc,
        counts.salloc_accepted,
        counts.components,
        counts.accepted_submissions,
        counts.accepted,
        counts.refused,
        counts.refused_by_hetpolicy,
        counts.compared,
        mismatches.len(),
        submitted_in.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("refused submissions, by reason:");
    for (reason, n) in &reasons {
        println!("  {n:5}  {reason}");
    }
    if count >= 200 {
        // A generator that only produced refusals (or only acceptances)
        // would compare nothing useful.
        assert!(
            counts.accepted * 5 >= counts.components && counts.refused * 10 >= counts.components,
            "the generated submissions should be both accepted and refused: {counts:?}"
        );
    }
    cluster::assert_controller_healthy_allowing(c, pid, offset, &[": rejected: "]);
    if !mismatches.is_empty() {
        // The first ones of each kind, in turn, so one frequent kind does
        // not hide the others.
        let mut by_kind: BTreeMap<&str, Vec<&Mismatch>> = BTreeMap::new();
        for m in &mismatches {
            by_kind.entry(m.kind).or_default().push(m);
        }
        let mut shown = Vec::new();
        for round in 0.. {
            let before = shown.len();
            for list in by_kind.values() {
                if let Some(m) = list.get(round) {
                    if shown.len() < MISMATCHES_SHOWN {
                        shown.push(m.show());
                    }
                }
            }
            if shown.len() == before || shown.len() >= MISMATCHES_SHOWN {
                break;
            }
        }
        let all = c.tmp_dir().join(format!("differential-{seed}-{count}.txt"));
        let text: Vec<String> = mismatches.iter().map(Mismatch::show).collect();
        std::fs::write(&all, text.join("\n") + "\n")
            .unwrap_or_else(|e| panic!("write {}: {e}", all.display()));
        panic!(
            "{} mismatches between hetpolicy's reading and slurmctld's records or the policy \
             (seed {seed}, count {count}; commands run in {} with SLURM_CONF={}), by kind \
             {kinds:?}; all of them are in {}; the first {}:\n{}",
            mismatches.len(),
            c.tmp_dir().display(),
            c.slurm_conf.display(),
            all.display(),
            shown.len(),
            shown.join("\n")
        );
    }
}
