//! sbatch's GRES checks before it sends a job description
//! (`gres_job_state_validate` and `_test_gres_cnt`, src/common/gres.c in
//! 22.05, src/interfaces/gres.c in 24.11 and 26.05): unknown GRES names and
//! inconsistent counts are refused with sbatch's own lines, and task and
//! node counts are derived from the GPU options.

use super::rules::{GresMinCpus, Rules};
use super::state::{error_line, Lines};
use crate::gres;

/// The GRES requests of one name (and type) across a component's
/// tres_per_* fields, as sbatch's `gres_job_state_validate` sees them.
#[derive(Clone, Debug, Default)]
struct GresCounts {
    key: (String, Option<String>),
    per_job: u64,
    per_node: u64,
    per_socket: u64,
    per_task: u64,
    cpus_per_gres: u64,
    /// `total_gres`: the most any field asks for the whole job.
    total: u64,
}

/// The counts of a job description that sbatch's GRES checks may change.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DescCounts {
    /// `num_tasks`.
    pub(crate) tasks: Option<i64>,
    /// `min_nodes`.
    pub(crate) min_nodes: Option<i64>,
    /// `max_nodes`.
    pub(crate) max_nodes: Option<i64>,
    /// `cpus_per_task`.
    pub(crate) cpus_per_task: Option<i64>,
    /// `ntasks_per_node`.
    pub(crate) ntasks_per_node: Option<i64>,
    /// `sockets_per_node`.
    pub(crate) sockets_per_node: Option<i64>,
    /// `min_cpus`.
    pub(crate) min_cpus: i64,
}

/// What a job description asks of the GRES checks.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GresFields<'a> {
    /// `tres_per_job`, `tres_per_node`, `tres_per_socket`, `tres_per_task`.
    pub(crate) tres: [Option<&'a str>; 4],
    /// `--cpus-per-gpu`.
    pub(crate) cpus_per_gpu: Option<i64>,
    /// `--mem-per-gpu`, in megabytes.
    pub(crate) mem_per_gpu: Option<u64>,
    /// slurm.conf's `GresTypes`, when known.
    pub(crate) gres_types: Option<&'a [String]>,
}

/// How C prints an unset (NO_VAL) count.
fn or_no_val(value: Option<i64>) -> i64 {
    value.unwrap_or(0xffff_fffe)
}

/// `_test_gres_cnt`, with its messages.
fn test_gres_counts(g: &GresCounts, d: &mut DescCounts, rules: &Rules) -> Result<(), String> {
    let n = g.key.0.as_str();
    let (job, node, socket, task) = (g.per_job, g.per_node, g.per_socket, g.per_task);
    if job > 0
        && ((node > 0 && node > job) || (task > 0 && task > job) || (socket > 0 && socket > job))
    {
        return Err(format!(
            "Failed to ensure --{n}s >= --gres={n}/--{n}s-per-node >= --{n}s-per-socket"
        ));
    }
    if node > 0 && ((task > 0 && task > node) || (socket > 0 && socket > node)) {
        return Err(format!("Failed to ensure --{n}s >= --{n}s-per-task"));
    }
    if socket > 0 && d.sockets_per_node.is_none() {
        return Err(format!(
            "--{n}s-per-socket option requires --sockets-per-node specification"
        ));
    }
    if g.cpus_per_gres > 0 && d.cpus_per_task.is_some() {
        return Err(format!(
            "--cpus-per-{n} is mutually exclusive with --cpus-per-task"
        ));
    }
    if job > 0 && node > 0 {
        if job % node != 0 {
            return Err(format!(
                "Failed to validate job spec, --{n}s is not multiple of --gres={n}/--{n}s-per-node"
            ));
        }
        let req = i64::try_from(job / node).unwrap_or(i64::MAX);
        if d.min_nodes.is_some_and(|min| req < min) || d.max_nodes.is_some_and(|max| req > max) {
            return Err(format!(
                "Failed to validate job spec. Based on --{n} and --gres={n}/--{n}s-per-node \
                 required nodes ({req}) doesn't fall between min_nodes ({}) and max_nodes ({}) \
                 boundaries.",
                or_no_val(d.min_nodes),
                or_no_val(d.max_nodes)
            ));
        }
        d.min_nodes = Some(req);
        d.max_nodes = Some(req);
    }
    if node > 0 && socket > 0 {
        if node % socket != 0 {
            return Err(format!(
                "Failed to validate job spec, --gres={n}/--{n}s-per-node not multiple of \
                 --{n}s-per-socket."
            ));
        }
        let req = i64::try_from(node / socket).unwrap_or(i64::MAX);
        match d.sockets_per_node {
            None => d.sockets_per_node = Some(req),
            Some(s) if s != req => {
                return Err(format!(
                    "Failed to validate job spec. Based on --gres={n}/--{n}s-per-node and \
                     --{n}s-per-socket required number of sockets differ from --sockets-per-node."
                ))
            }
            Some(_) => {}
        }
    }
    let mut job_total = job;
    if task > 0 {
        if job > 0 {
            if job % task != 0 {
                return Err(format!(
                    "Failed to validate job spec, --{n}s not multiple of --{n}s-per-task"
                ));
            }
            let req = i64::try_from(job / task).unwrap_or(i64::MAX);
            match d.tasks {
                None => d.tasks = Some(req),
                Some(t) if t != req => {
                    return Err(format!(
                        "Failed to validate job spec. Based on --{n}s and --{n}s-per-task number \
                         of requested tasks differ from -n/--ntasks."
                    ))
                }
                Some(_) => {}
            }
        } else if let Some(tasks) = d.tasks {
            job_total = u64::try_from(tasks).unwrap_or(0).saturating_mul(task);
        } else {
            return Err(format!(
                "Failed to validate job spec. {}",
                rules.per_task_without_tasks.replace("{n}", n)
            ));
        }
    }
    if node > 0 && task > 0 {
        if node % task != 0 {
            return Err(format!(
                "Failed to validate job spec, --gres={n}/--{n}s-per-node not multiple of \
                 --{n}s-per-task."
            ));
        }
        let req = i64::try_from(node / task).unwrap_or(i64::MAX);
        match d.ntasks_per_node {
            None | Some(0) => d.ntasks_per_node = Some(req),
            Some(t) if t != req => {
                return Err(format!(
                    "Failed to validate job spec. Based on --gres={n}/--{n}s-per-node and \
                     --{n}s-per-task requested number of tasks per node differ from \
                     --ntasks-per-node."
                ))
            }
            Some(_) => {}
        }
    }
    if socket > 0 && task > 0 && socket % task != 0 {
        return Err(format!(
            "Failed to validate job spec, --{n}s-per-socket not multiple of --{n}s-per-task."
        ));
    }
    if g.cpus_per_gres > 0 && task > 0 {
        let req = i64::try_from(g.cpus_per_gres.saturating_mul(task)).unwrap_or(i64::MAX);
        if d.cpus_per_task.is_none() {
            d.cpus_per_task = Some(req);
        }
    }
    if job_total > 0 {
        let total = i64::try_from(job_total).unwrap_or(i64::MAX);
        if d.min_nodes.is_some_and(|min| total < min) {
            return Err(format!("Failed to validate job spec, --{n}s < -N"));
        }
        if d.max_nodes.is_some_and(|max| total < max) {
            d.max_nodes = Some(total);
        }
    }
    Ok(())
}

/// sbatch's `gres_job_state_validate`: reads the GRES requests, refuses
/// unknown names and inconsistent counts, and derives task, node and CPU
/// counts from them.
pub(crate) fn validate_gres(
    fields: &GresFields<'_>,
    d: &mut DescCounts,
    rules: &Rules,
) -> Result<(), Lines> {
    let GresFields {
        tres,
        cpus_per_gpu,
        mem_per_gpu,
        gres_types,
    } = *fields;
    if tres.iter().all(Option::is_none) && cpus_per_gpu.is_none() && mem_per_gpu.is_none() {
        return Ok(());
    }
    let invalid = || vec![error_line("Invalid generic resource (gres) specification")];
    if tres[3].is_some() && d.tasks.is_none() && d.min_nodes.is_some() && d.min_nodes == d.max_nodes
    {
        if let (Some(min), Some(per_node)) = (d.min_nodes, d.ntasks_per_node) {
            d.tasks = Some(min * per_node);
        } else if d.cpus_per_task.is_none() {
            d.tasks = d.min_nodes;
        }
    }
    let mut list: Vec<GresCounts> = Vec::new();
    fn slot(list: &mut Vec<GresCounts>, name: &str, gres_type: Option<&str>) -> usize {
        let key = (name.to_owned(), gres_type.map(str::to_owned));
        match list.iter().position(|g| g.key == key) {
            Some(i) => i,
            None => {
                list.push(GresCounts {
                    key,
                    ..GresCounts::default()
                });
                list.len() - 1
            }
        }
    }
    let mut entries = Vec::new();
    for (scope, field) in tres.iter().enumerate() {
        let Some(field) = field else {
            continue;
        };
        for request in gres::parse(field) {
            let request = request.map_err(|_| invalid())?;
            if gres_types.is_some_and(|known| !known.iter().any(|g| g == request.name)) {
                return Err(invalid());
            }
            entries.push((scope, request.name, request.gres_type, request.count));
        }
    }
    let unsigned = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    for (scope, name, gres_type, count) in entries {
        let i = slot(&mut list, name, gres_type);
        let g = &mut list[i];
        // The whole job's count, as the parse loops compute `total_gres`.
        let total = match scope {
            0 => {
                g.per_job = count;
                Some(count)
            }
            1 => {
                g.per_node = count;
                Some(unsigned(d.min_nodes).map_or(count, |n| count.saturating_mul(n)))
            }
            2 => {
                g.per_socket = count;
                match (unsigned(d.min_nodes), unsigned(d.sockets_per_node)) {
                    (Some(n), Some(s)) => Some(count.saturating_mul(n).saturating_mul(s)),
                    (_, Some(s)) => Some(count.saturating_mul(s)),
                    _ => Some(count),
                }
            }
            _ => {
                g.per_task = count;
                Some(unsigned(d.tasks).map_or(count, |t| count.saturating_mul(t)))
            }
        };
        g.total = g.total.max(total.unwrap_or(0));
    }
    // A zero count (`--gpus=0`) is no request.
    let requested_gpu = list
        .iter()
        .any(|g| g.key.0 == "gpu" && g.per_job + g.per_node + g.per_socket + g.per_task > 0);
    let prefix = rules.gres_prefix;
    if let Some(cpus) = cpus_per_gpu {
        let i = slot(&mut list, "gpu", None);
        list[i].cpus_per_gres = u64::try_from(cpus).unwrap_or(0);
    }
    if let Some(mb) = mem_per_gpu {
        slot(&mut list, "gpu", None);
        if !requested_gpu {
            return Err(vec![
                error_line(&format!(
                    "Requested mem_per_tres={prefix}gpu:{mb} but did not request any GPU."
                )),
                error_line("Invalid generic resource (gres) specification"),
            ]);
        }
    }
    if let Some(cpus) = cpus_per_gpu.filter(|_| rules.cpus_per_gpu_needs_gpus && !requested_gpu) {
        return Err(vec![
            error_line(&format!(
                "Requested cpus_per_tres={prefix}gpu:{cpus} but did not request any GPU."
            )),
            error_line("Invalid generic resource (gres) specification"),
        ]);
    }
    let cpus_per_gres = list.iter().map(|g| g.cpus_per_gres).max().unwrap_or(0);
    let mut gres_min_cpus: u64 = 0;
    for g in &list {
        test_gres_counts(g, d, rules).map_err(|message| {
            vec![
                error_line(&message),
                error_line("Invalid generic resource (gres) specification"),
            ]
        })?;
        if g.key.0 == "gpu" {
            gres_min_cpus = gres_min_cpus.saturating_add(cpus_per_gres.saturating_mul(g.total));
        }
    }
    if rules.gres_min_cpus != GresMinCpus::Unchanged {
        let gres_min_cpus = i64::try_from(gres_min_cpus).unwrap_or(i64::MAX);
        d.min_cpus = d.min_cpus.max(gres_min_cpus);
    }
    if rules.gres_min_cpus == GresMinCpus::CpusPerGpuAndTask {
        if let (Some(cpus), Some(tasks)) = (d.cpus_per_task, d.tasks) {
            d.min_cpus = d.min_cpus.max(cpus.saturating_mul(tasks));
        }
    }
    Ok(())
}
