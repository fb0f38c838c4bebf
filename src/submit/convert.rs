//! job_desc_msg_t to the engine's view, and the engine's changes back.

use std::borrow::Cow;
use std::ffi::{c_char, c_int, CStr};

use hetpolicy_core::engine::{
    Changes, Component, JobKind, Memory, OptionValues, Position, RejectCode,
};
use hetpolicy_core::policy::{SiteOption, COMPONENT_ENV};
use hetpolicy_core::units::{Megabytes, TimeLimit};
use hetpolicy_slurm::api::SlurmApi;
use hetpolicy_slurm::bindings::{
    job_desc_msg_t, slurm_err_t, HETPOLICY_CRON_JOB, HETPOLICY_JOB_SHARED_NONE,
    HETPOLICY_JOB_SHARED_TOPO, HETPOLICY_NO_VAL, HETPOLICY_NO_VAL16,
};
use hetpolicy_slurm::fields::{count16, count32, text, value64, MEM_PER_CPU};

/// The text fields of one job_desc, read once (NULL-safe, lossy UTF-8),
/// which the [`Component`] view borrows.
pub(crate) struct JobText<'a> {
    partition: Option<Cow<'a, str>>,
    qos: Option<Cow<'a, str>>,
    tres_per_job: Option<Cow<'a, str>>,
    tres_per_node: Option<Cow<'a, str>>,
    tres_per_socket: Option<Cow<'a, str>>,
    tres_per_task: Option<Cow<'a, str>>,
    std_out: Option<Cow<'a, str>>,
    std_err: Option<Cow<'a, str>>,
    std_in: Option<Cow<'a, str>>,
    req_nodes: Option<Cow<'a, str>>,
    exc_nodes: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    spank_job_env: SpankJobEnv<'a>,
}

/// A job's spank_job_env (`NAME=value` entries), where the SPANK plugin
/// put each site option's value for this component.
#[derive(Debug)]
pub(crate) struct SpankJobEnv<'a> {
    entries: &'a [*mut c_char],
}

impl<'a> SpankJobEnv<'a> {
    fn read(desc: &'a job_desc_msg_t) -> Self {
        let entries = if desc.spank_job_env.is_null() {
            &[][..]
        } else {
            // SAFETY: Slurm keeps spank_job_env_size valid entries (each
            // NULL or a C string) at spank_job_env for the job_desc's life.
            unsafe {
                std::slice::from_raw_parts(desc.spank_job_env, desc.spank_job_env_size as usize)
            }
        };
        SpankJobEnv { entries }
    }
}

impl SpankJobEnv<'_> {
    /// The value of the last `NAME=value` entry for `name`, as bytes.
    fn last_value(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .rev()
            .filter(|entry| !entry.is_null())
            // SAFETY: non-NULL entries are NUL-terminated strings (see read).
            .map(|entry| unsafe { CStr::from_ptr(*entry) }.to_bytes())
            .find_map(|entry| entry.strip_prefix(name.as_bytes())?.strip_prefix(b"="))
    }

    /// The component index the SPANK plugin recorded ([`COMPONENT_ENV`]).
    fn client_component(&self) -> Option<u32> {
        let value = self.last_value(COMPONENT_ENV)?;
        std::str::from_utf8(value).ok()?.parse().ok()
    }
}

impl OptionValues for SpankJobEnv<'_> {
    /// The last entry for the option wins, as in an environment. A value
    /// that is not UTF-8 reads as U+FFFD, which the options rule refuses:
    /// it is never skipped (the prolog would still record it).
    fn value(&self, option: &SiteOption) -> Option<&str> {
        const NOT_UTF8: &str = "\u{FFFD}";
        let value = self.last_value(option.job_env())?;
        Some(std::str::from_utf8(value).unwrap_or(NOT_UTF8))
    }
}

impl<'a> JobText<'a> {
    /// Reads the text fields of `desc`.
    pub(crate) fn read(desc: &'a job_desc_msg_t) -> Self {
        // SAFETY: Slurm hands us a job_desc whose char * fields are NULL or
        // NUL-terminated strings that live as long as `desc`.
        unsafe {
            JobText {
                partition: text(desc.partition),
                qos: text(desc.qos),
                tres_per_job: text(desc.tres_per_job),
                tres_per_node: text(desc.tres_per_node),
                tres_per_socket: text(desc.tres_per_socket),
                tres_per_task: text(desc.tres_per_task),
                std_out: text(desc.std_out),
                std_err: text(desc.std_err),
                std_in: text(desc.std_in),
                req_nodes: text(desc.req_nodes),
                exc_nodes: text(desc.exc_nodes),
                name: text(desc.name),
                spank_job_env: SpankJobEnv::read(desc),
            }
        }
    }

    /// The engine's view of `desc`, borrowing these texts.
    pub(crate) fn component(&self, desc: &job_desc_msg_t) -> Component<'_> {
        Component {
            position: position(desc),
            partition: self.partition.as_deref().filter(|p| !p.is_empty()),
            qos: self.qos.as_deref().filter(|q| !q.is_empty()),
            tres_per_job: self.tres_per_job.as_deref(),
            tres_per_node: self.tres_per_node.as_deref(),
            tres_per_socket: self.tres_per_socket.as_deref(),
            tres_per_task: self.tres_per_task.as_deref(),
            nodes: count32(desc.min_nodes),
            max_nodes: count32(desc.max_nodes),
            sockets_per_node: count16(desc.sockets_per_node),
            tasks: count32(desc.num_tasks),
            cpus_per_task: count16(desc.cpus_per_task),
            min_cpus: count32(desc.min_cpus),
            memory: memory(desc.pn_min_memory),
            time_limit: time_limit(desc.time_limit),
            std_out: self.std_out.as_deref(),
            std_err: self.std_err.as_deref(),
            std_in: self.std_in.as_deref(),
            options: Some(&self.spank_job_env),
            client_component: self.spank_job_env.client_component(),
            // Filled by the caller for submissions (who::Who); an update
            // carries no submitter to judge.
            submitter: None,
            account: None,
            kind: None,
            nodelist: self.req_nodes.as_deref(),
            exclude: self.exc_nodes.as_deref(),
            job_name: self.name.as_deref(),
            whole_node_memory: whole_node_memory(desc.pn_min_memory),
            exclusive: exclusive(desc.shared),
        }
    }
}

/// Batch or interactive, as the job_desc shows it: sbatch sends the batch
/// script in `script` (src/sbatch/sbatch.c: `desc->script = script_body`
/// for the first component only, when `!job_req_list`), salloc and srun
/// send none. A later hetjob component carries no script whatever it is,
/// so it is `None` and the engine gives it component 0's kind. (26.05's
/// `sbatch --external` jobs carry no script either: an allocation other
/// tools run in, judged as interactive.)
pub(crate) fn kind(desc: &job_desc_msg_t, position: Position) -> Option<JobKind> {
    if !desc.script.is_null() {
        Some(JobKind::Batch)
    } else if matches!(position, Position::Het(k) if k > 0) {
        None
    } else {
        Some(JobKind::Interactive)
    }
}

/// The job's owner: `user_id`, which slurmctld has set before job_submit
/// (proc_req.c `_valid_id`: the authenticated uid unless root or SlurmUser
/// submitted for another user; the allocation RPCs of 24.11+ overwrite it
/// with the authenticated uid). `submit_uid`, the caller of the RPC, only
/// when user_id is unset (never seen).
pub(crate) fn owner(desc: &job_desc_msg_t, submit_uid: u32) -> u32 {
    if desc.user_id == HETPOLICY_NO_VAL {
        submit_uid
    } else {
        desc.user_id
    }
}

/// `-A` as slurmctld records it: lower-cased (job_mgr.c
/// `validate_job_create_req` calls `xstrtolower(job_desc->account)` right
/// after the job_submit plugins, ASCII only); `None` when not given or
/// empty. Borrowed from the job_desc unless it has capitals to lower.
pub(crate) fn account(desc: &job_desc_msg_t) -> Option<Cow<'_, str>> {
    // SAFETY: account is NULL or a NUL-terminated string owned by the
    // job_desc.
    let account = unsafe { text(desc.account) }?;
    if account.is_empty() {
        None
    } else if account.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(account.to_ascii_lowercase()))
    } else {
        Some(account)
    }
}

/// A job's name (`--job-name`), read from the job_desc only when it is
/// formatted: the debug-level reading line is usually not written.
pub(crate) struct JobName<'a>(pub(crate) &'a job_desc_msg_t);

impl std::fmt::Display for JobName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: `name` is NULL or a NUL-terminated string that lives as
        // long as the job_desc.
        let name = unsafe { text(self.0.name) };
        write!(
            f,
            "{}",
            hetpolicy_core::shown::shown(name.as_deref().unwrap_or_default())
        )
    }
}

/// Plain job or hetjob component. scrontab jobs carry offset 0 but are
/// plain jobs (`CRON_JOB` in bitflags), and so are jobs a federation's
/// origin cluster sends to a sibling (fed_siblings_viable set), which
/// arrive with offset 0: federations take no hetjobs (a hetjob is refused
/// on a federated cluster unless submitted to one cluster, where it never
/// reaches a sibling).
pub(crate) fn position(desc: &job_desc_msg_t) -> Position {
    if desc.het_job_offset == HETPOLICY_NO_VAL
        || desc.bitflags & HETPOLICY_CRON_JOB != 0
        || (desc.het_job_offset == 0 && desc.fed_siblings_viable != 0)
    {
        Position::Plain
    } else {
        Position::Het(desc.het_job_offset)
    }
}

fn memory(raw: u64) -> Option<Memory> {
    let raw = value64(raw)?;
    let megabytes = Megabytes(raw & !MEM_PER_CPU);
    // --mem=0 asks for all of a node's memory: no amount to judge.
    if megabytes.0 == 0 {
        return None;
    }
    Some(if raw & MEM_PER_CPU != 0 {
        Memory::PerCpu(megabytes)
    } else {
        Memory::PerNode(megabytes)
    })
}

/// `shared` (`--exclusive`, `--oversubscribe`): whole nodes for
/// JOB_SHARED_NONE and JOB_SHARED_TOPO, shared for the other values, not
/// asked for NO_VAL16.
fn exclusive(shared: u16) -> Option<bool> {
    (shared != HETPOLICY_NO_VAL16)
        .then_some(shared == HETPOLICY_JOB_SHARED_NONE || shared == HETPOLICY_JOB_SHARED_TOPO)
}

/// `--mem=0` (or `--mem-per-cpu=0`): all of each node's memory.
fn whole_node_memory(raw: u64) -> bool {
    value64(raw).is_some_and(|raw| raw & !MEM_PER_CPU == 0)
}

fn time_limit(minutes: u32) -> Option<TimeLimit> {
    match minutes {
        m if m == HETPOLICY_NO_VAL => None,
        m if m == hetpolicy_slurm::bindings::HETPOLICY_INFINITE => Some(TimeLimit::Unlimited),
        m => Some(TimeLimit::Minutes(m)),
    }
}

/// Writes the policy's changes into `desc`. Strings go through Slurm's
/// allocator; only fields that were unset are written.
pub(crate) fn apply(api: &SlurmApi, desc: &mut job_desc_msg_t, changes: &Changes<'_>) {
    if let Some(partition) = changes.partition {
        if desc.partition.is_null() {
            desc.partition = api.xstrdup(partition);
        }
    }
    if let Some(qos) = changes.qos {
        if desc.qos.is_null() {
            desc.qos = api.xstrdup(qos);
        }
    }
    if let Some(TimeLimit::Minutes(minutes)) = changes.time_limit {
        if desc.time_limit == HETPOLICY_NO_VAL {
            desc.time_limit = minutes;
        }
    }
    // Only where the job asks for no memory at all: not --mem, not
    // --mem-per-cpu, not --mem-per-gpu (mem_per_tres), which slurmctld
    // refuses together.
    if changes.whole_nodes && desc.shared == HETPOLICY_NO_VAL16 {
        desc.shared = HETPOLICY_JOB_SHARED_NONE;
    }
    if let Some(per_cpu) = changes.memory_per_cpu {
        if value64(desc.pn_min_memory).is_none() && desc.mem_per_tres.is_null() {
            desc.pn_min_memory = per_cpu.0 | MEM_PER_CPU;
        }
    }
}

/// Pairs each [`RejectCode`] with its `ESLURM_*` constant from the
/// headers, and checks (in a test) that the constant is the one
/// [`RejectCode::slurm_error`] names: the names and texts stay in the engine.
macro_rules! slurm_error_codes {
    ($($code:ident => $constant:ident,)*) => {
        /// The Slurm error code for a rejection.
        pub(crate) fn error_code(code: RejectCode) -> c_int {
            let value = match code {
                $(RejectCode::$code => slurm_err_t::$constant,)*
            };
            c_int::try_from(value).unwrap_or(c_int::MAX)
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn each_code_returns_the_error_the_engine_names() {
                let pairs = [$((RejectCode::$code, stringify!($constant)),)*];
                assert_eq!(pairs.len(), RejectCode::ALL.len());
                for (code, constant) in pairs {
                    assert_eq!(code.slurm_error().name, constant, "{code:?}");
                }
            }
        }
    };
}

slurm_error_codes! {
    InvalidPartitionName => ESLURM_INVALID_PARTITION_NAME,
    InvalidGres => ESLURM_INVALID_GRES,
    InvalidQos => ESLURM_INVALID_QOS,
    AccountingPolicy => ESLURM_ACCOUNTING_POLICY,
    InvalidTimeLimit => ESLURM_INVALID_TIME_LIMIT,
    NotSupported => ESLURM_NOT_SUPPORTED,
    AccessDenied => ESLURM_ACCESS_DENIED,
}
