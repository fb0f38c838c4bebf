//! Reading `sacct --json` as a stream: the `jobs` array is visited one job
//! at a time and each job is handed on as it arrives, so a year of history
//! is read in the memory of one job.
//!
//! The schemas differ by release; every field is read in each form:
//!
//! | field | 22.05 (openapi/dbv0.0.38) | 24.11, 26.05 (data_parser v0.0.42, v0.0.45) |
//! | --- | --- | --- |
//! | numbers (`time.limit`, `het.job_offset`) | a number or `null` | `{"set", "infinite", "number"}` |
//! | memory | `required.memory` (per node or per CPU: the flag is lost) | `required.memory_per_node`, `required.memory_per_cpu` |
//! | batch or interactive | a step `batch` | `submit_line` (`sbatch ...`), else a step `N.batch` |
//! | order of keys | `meta` first | `jobs` first |

use std::fmt;
use std::io::Read;

use hetpolicy_core::engine::{JobKind, Memory};
use hetpolicy_core::units::{Megabytes, TimeLimit};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Slurm's NO_VAL for 32-bit fields (22.05 prints it as a number).
const NO_VAL: u64 = 0xffff_fffe;
/// Slurm's INFINITE for 32-bit fields.
const INFINITE: u64 = 0xffff_ffff;

/// One job record (a plain job, or one hetjob component) as the engine
/// needs it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job id.
    pub job_id: u64,
    /// The hetjob it belongs to (its leader's id) and its offset there.
    pub het: Option<(u64, u32)>,
    /// The user name.
    pub user: Option<String>,
    /// The account charged.
    pub account: Option<String>,
    /// The partition it ran in (or the list it was submitted to).
    pub partition: Option<String>,
    /// The QOS.
    pub qos: Option<String>,
    /// The job name.
    pub name: Option<String>,
    /// The time limit.
    pub time_limit: Option<TimeLimit>,
    /// The CPUs it required.
    pub cpus: Option<u32>,
    /// The nodes it requested (else was allocated).
    pub nodes: Option<u32>,
    /// Memory, per node or per CPU.
    pub memory: Option<Memory>,
    /// The GRES requested over the whole job, as a TRES string
    /// (`gres:gpu:2,gres:qpu:1`).
    pub gres_per_job: Option<String>,
    /// Batch or interactive, when the record tells.
    pub kind: Option<JobKind>,
}

/// What the whole stream said besides its jobs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The Slurm release that wrote it (`meta.Slurm.release`).
    pub release: Option<String>,
    /// The error messages sacct put in `errors`.
    pub errors: Vec<String>,
}

/// A number in any of the releases' forms.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Num {
    /// `null`, absent, `{"set": false}`, or a negative number.
    #[default]
    Unset,
    /// `{"infinite": true}`.
    Infinite,
    /// A value.
    Value(u64),
}

impl Num {
    /// The value, with 22.05's NO_VAL and INFINITE sentinels read.
    fn sentinel_read(self) -> Num {
        match self {
            Num::Value(NO_VAL) => Num::Unset,
            Num::Value(INFINITE) => Num::Infinite,
            other => other,
        }
    }

    fn value(self) -> Option<u64> {
        match self.sentinel_read() {
            Num::Value(v) => Some(v),
            _ => None,
        }
    }

    fn u32(self) -> Option<u32> {
        self.value().and_then(|v| u32::try_from(v).ok())
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Num, D::Error> {
        deserializer.deserialize_any(NumVisitor)
    }
}

struct NumVisitor;

impl<'de> Visitor<'de> for NumVisitor {
    type Value = Num;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, null or {\"set\", \"infinite\", \"number\"}")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
        Ok(Num::Value(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
        Ok(u64::try_from(v).map_or(Num::Unset, Num::Value))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
        // Truncation is what is meant: sacct prints whole numbers.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(if v >= 0.0 && v.is_finite() {
            Num::Value(v as u64)
        } else {
            Num::Unset
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
        // 26.05 prints some counts as strings ("major": "26").
        Ok(v.parse().map_or(Num::Unset, Num::Value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Num, E> {
        Ok(Num::Unset)
    }

    fn visit_none<E: de::Error>(self) -> Result<Num, E> {
        Ok(Num::Unset)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Num, A::Error> {
        let (mut set, mut infinite, mut number) = (true, false, Num::Unset);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "set" => set = map.next_value()?,
                "infinite" => infinite = map.next_value()?,
                "number" => number = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(if infinite {
            Num::Infinite
        } else if set {
            number
        } else {
            Num::Unset
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawJob {
    job_id: Num,
    het: RawHet,
    user: Option<String>,
    account: Option<String>,
    partition: Option<String>,
    qos: Option<String>,
    name: Option<String>,
    time: RawTime,
    required: RawRequired,
    allocation_nodes: Num,
    tres: RawTres,
    steps: Vec<RawStep>,
    submit_line: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawHet {
    job_id: Num,
    job_offset: Num,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTime {
    limit: Num,
    start: Num,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRequired {
    #[serde(rename = "CPUs")]
    cpus: Num,
    memory: Num,
    memory_per_cpu: Num,
    memory_per_node: Num,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTres {
    requested: Vec<RawTresItem>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTresItem {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    count: Num,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawStep {
    step: RawStepId,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawStepId {
    id: Option<serde_json::Value>,
    name: Option<String>,
}

impl RawStep {
    /// The batch step: `batch` (22.05), `N.batch` (24.11 and later).
    fn is_batch(&self) -> bool {
        let id_is_batch = match &self.step.id {
            Some(serde_json::Value::String(id)) => id == "batch" || id.ends_with(".batch"),
            _ => false,
        };
        id_is_batch || self.step.name.as_deref() == Some("batch")
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

impl RawJob {
    fn into_job(self) -> Job {
        let het = match (self.het.job_id.value(), self.het.job_offset.sentinel_read()) {
            (Some(leader), Num::Value(offset)) if leader != 0 => {
                u32::try_from(offset).ok().map(|offset| (leader, offset))
            }
            _ => None,
        };
        let time_limit = match self.time.limit.sentinel_read() {
            Num::Infinite => Some(TimeLimit::Unlimited),
            Num::Value(minutes) => u32::try_from(minutes).ok().map(TimeLimit::Minutes),
            Num::Unset => None,
        };
        let mut gres = String::new();
        let mut tres_nodes = None;
        let mut tres_mem = None;
        for item in &self.tres.requested {
            match item.kind.as_deref() {
                Some("gres") => {
                    if let (Some(name), Some(count)) = (item.name.as_deref(), item.count.value()) {
                        if !name.is_empty() && count > 0 {
                            if !gres.is_empty() {
                                gres.push(',');
                            }
                            gres.push_str("gres:");
                            gres.push_str(name);
                            gres.push(':');
                            gres.push_str(&count.to_string());
                        }
                    }
                }
                Some("node") => tres_nodes = item.count.u32(),
                Some("mem") => tres_mem = item.count.value(),
                _ => {}
            }
        }
        let nodes = tres_nodes
            .filter(|n| *n > 0)
            .or(self.allocation_nodes.u32().filter(|n| *n > 0));
        let req = &self.required;
        let memory = match (
            req.memory_per_node.value().filter(|m| *m > 0),
            req.memory_per_cpu.value().filter(|m| *m > 0),
            req.memory.value().filter(|m| *m > 0),
        ) {
            (Some(per_node), _, _) => Some(Memory::PerNode(Megabytes(per_node))),
            (None, Some(per_cpu), _) => Some(Memory::PerCpu(Megabytes(per_cpu))),
            // 22.05 loses whether required.memory is per node or per CPU;
            // the requested TRES hold the job's total, spread over its
            // nodes.
            (None, None, Some(_)) => tres_mem.map(|total| {
                Memory::PerNode(Megabytes(total / u64::from(nodes.unwrap_or(1).max(1))))
            }),
            (None, None, None) => None,
        };
        let from_submit_line = self.submit_line.as_deref().and_then(|line| {
            let program = line.split_whitespace().next()?;
            match program.rsplit('/').next()? {
                "sbatch" => Some(JobKind::Batch),
                "salloc" | "srun" => Some(JobKind::Interactive),
                _ => None,
            }
        });
        let started = self.time.start.value().is_some_and(|s| s > 0);
        let kind = from_submit_line.or_else(|| {
            if self.steps.iter().any(RawStep::is_batch) {
                Some(JobKind::Batch)
            } else if started {
                Some(JobKind::Interactive)
            } else {
                None
            }
        });
        Job {
            job_id: self.job_id.value().unwrap_or(0),
            het,
            user: non_empty(self.user),
            account: non_empty(self.account),
            partition: non_empty(self.partition),
            qos: non_empty(self.qos),
            name: non_empty(self.name),
            time_limit,
            cpus: req.cpus.u32().filter(|c| *c > 0),
            nodes,
            memory,
            gres_per_job: (!gres.is_empty()).then_some(gres),
            kind,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMeta {
    #[serde(alias = "Slurm")]
    slurm: RawSlurm,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSlurm {
    release: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawError {
    error: Option<String>,
    description: Option<String>,
}

/// Why a stream could not be read: the JSON's own error, with its line
/// and column.
#[derive(Debug)]
pub struct ReadError(pub serde_json::Error);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        if e.is_io() {
            write!(f, "reading failed: {e}")
        } else if e.is_eof() {
            write!(
                f,
                "the JSON ends early, at line {} column {}",
                e.line(),
                e.column()
            )
        } else {
            write!(f, "not sacct's JSON: {e}")
        }
    }
}

/// Reads a `sacct --json` document from `reader`, calling `each` with
/// every job record in order. Only one job is held at a time.
pub fn read<R: Read>(reader: R, each: &mut dyn FnMut(Job)) -> Result<Meta, ReadError> {
    let mut deserializer = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let meta = Document { each }
        .deserialize(&mut deserializer)
        .map_err(ReadError)?;
    deserializer.end().map_err(ReadError)?;
    Ok(meta)
}

struct Document<'f> {
    each: &'f mut dyn FnMut(Job),
}

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = Meta;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Meta, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_> {
    type Value = Meta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sacct's JSON object, {\"meta\": ..., \"jobs\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Meta, A::Error> {
        let mut meta = Meta::default();
        let mut saw_jobs = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "jobs" => {
                    map.next_value_seed(Jobs { each: self.each })?;
                    saw_jobs = true;
                }
                "meta" => meta.release = map.next_value::<RawMeta>()?.slurm.release,
                "errors" => {
                    let errors: Vec<RawError> = map.next_value()?;
                    meta.errors.extend(
                        errors
                            .into_iter()
                            .filter_map(|e| non_empty(e.description).or(non_empty(e.error))),
                    );
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !saw_jobs {
            return Err(de::Error::missing_field("jobs"));
        }
        Ok(meta)
    }
}

struct Jobs<'f> {
    each: &'f mut dyn FnMut(Job),
}

impl<'de> DeserializeSeed<'de> for Jobs<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Jobs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of jobs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(job) = seq.next_element::<RawJob>()? {
            (self.each)(job.into_job());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (Vec<Job>, Meta) {
        let path = format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut jobs = Vec::new();
        let meta = read(file, &mut |job| jobs.push(job)).unwrap_or_else(|e| panic!("{e}"));
        (jobs, meta)
    }

    fn gres(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    /// The jobs tests/cluster_replay.rs's first sample runs, as each
    /// release records them.
    fn check_sample(jobs: &[Job], release_memory_per_cpu: bool) {
        let by_id = |id: u64| jobs.iter().find(|j| j.job_id == id).expect("job");
        let gpu = by_id(1);
        assert_eq!(gpu.user.as_deref(), Some("alice"));
        assert_eq!(gpu.account.as_deref(), Some("physics"));
        assert_eq!(gpu.partition.as_deref(), Some("gpu"));
        assert_eq!(gpu.qos.as_deref(), Some("gpu"));
        assert_eq!(gpu.name.as_deref(), Some("agpu"));
        assert_eq!(gpu.time_limit, Some(TimeLimit::Minutes(10)));
        assert_eq!(gpu.gres_per_job, gres("gres:gpu:1"));
        assert_eq!(gpu.kind, Some(JobKind::Batch));
        assert_eq!(gpu.het, None);
        assert_eq!(gpu.nodes, Some(1));
        assert_eq!(gpu.memory, None);
        let mem = by_id(2);
        assert_eq!(mem.memory, Some(Memory::PerNode(Megabytes(100))));
        assert_eq!(mem.cpus, Some(2));
        assert_eq!(by_id(3).gres_per_job, gres("gres:gpu:2"));
        assert_eq!(by_id(3).account.as_deref(), Some("physics"));
        let per_cpu = by_id(4);
        assert_eq!(
            per_cpu.memory,
            Some(if release_memory_per_cpu {
                Memory::PerCpu(Megabytes(50))
            } else {
                Memory::PerNode(Megabytes(100))
            })
        );
        assert_eq!(per_cpu.time_limit, Some(TimeLimit::Minutes(60)));
        assert_eq!(by_id(5).het, Some((5, 0)));
        assert_eq!(by_id(5).gres_per_job, None);
        assert_eq!(by_id(6).het, Some((5, 1)));
        assert_eq!(by_id(6).gres_per_job, gres("gres:gpu:1"));
    }

    #[test]
    fn slurm_22_05() {
        let (jobs, meta) = fixture("sacct-22.05.json");
        assert_eq!(meta.release.as_deref(), Some("22.05.8"));
        assert_eq!(jobs.len(), 8);
        check_sample(&jobs, false);
        // salloc, then srun: no batch step.
        assert_eq!(jobs[6].kind, Some(JobKind::Interactive));
        assert_eq!(jobs[7].kind, Some(JobKind::Interactive));
    }

    #[test]
    fn slurm_24_11() {
        let (jobs, meta) = fixture("sacct-24.11.json");
        assert_eq!(meta.release.as_deref(), Some("24.11.5"));
        assert_eq!(jobs.len(), 7);
        check_sample(&jobs, true);
        assert_eq!(jobs[6].kind, Some(JobKind::Interactive));
    }

    #[test]
    fn slurm_26_05() {
        let (jobs, meta) = fixture("sacct-26.05.json");
        assert_eq!(meta.release.as_deref(), Some("26.05.5"));
        assert_eq!(jobs.len(), 7);
        check_sample(&jobs, true);
        assert_eq!(jobs[6].kind, Some(JobKind::Interactive));
    }

    #[test]
    fn numbers_in_every_form() {
        let read_num = |text: &str| serde_json::from_str::<Num>(text).expect(text);
        assert_eq!(read_num("5"), Num::Value(5));
        assert_eq!(read_num("null"), Num::Unset);
        assert_eq!(read_num("-1"), Num::Unset);
        assert_eq!(read_num("\"26\""), Num::Value(26));
        assert_eq!(
            read_num(r#"{"set":true,"infinite":false,"number":7}"#),
            Num::Value(7)
        );
        assert_eq!(
            read_num(r#"{"set":false,"infinite":false,"number":7}"#),
            Num::Unset
        );
        assert_eq!(
            read_num(r#"{"set":true,"infinite":true,"number":0}"#),
            Num::Infinite
        );
        assert_eq!(Num::Value(INFINITE).sentinel_read(), Num::Infinite);
        assert_eq!(Num::Value(NO_VAL).value(), None);
    }

    #[test]
    fn malformed_input_says_where() {
        let text = "{\"jobs\": [\n{\"job_id\": 1},\n{\"job_id\": }\n]}";
        let mut seen = 0;
        let error = read(text.as_bytes(), &mut |_| seen += 1).expect_err("malformed");
        assert_eq!(seen, 1, "the jobs before the error are read");
        assert_eq!((error.0.line(), error.0.column()), (3, 12));
        assert!(
            error.to_string().starts_with("not sacct's JSON: "),
            "{error}"
        );
        let missing = read("{\"meta\": {}}".as_bytes(), &mut |_| {}).expect_err("no jobs");
        assert!(
            missing.to_string().contains("missing field `jobs`"),
            "{missing}"
        );
        let short = read("{\"jobs\": [".as_bytes(), &mut |_| {}).expect_err("short");
        assert!(
            short.to_string().starts_with("the JSON ends early"),
            "{short}"
        );
    }
}
