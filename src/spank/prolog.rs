//! The job prolog and epilog (job script context, as root): record each
//! component's own site option values for its tasks, and remove the record.
//!
//! With `PrologFlags=Alloc`, slurmctld starts the prolog of every
//! component with that component's job record, whose spank_job_env holds
//! the values the client forwarded; Slurm puts each entry into the
//! prolog's environment as `SPANK_<NAME>` (src/slurmctld/node_scheduler.c,
//! src/plugins/prep/script/prep_script_slurmd.c). Without it, the prolog of
//! a later component runs at its first step with the step's environment,
//! which holds component 0's values, so nothing is recorded then.

use crate::record;
use crate::remote::job_id;
use crate::state::Plugin;
use hetpolicy_slurm::api::{prolog_flags, SpankApi};
use hetpolicy_slurm::bindings::{spank_t, HETPOLICY_PROLOG_FLAG_ALLOC};

/// Writes the record for the prolog's job. Never fails the prolog (that
/// would drain the node): problems are logged.
pub(crate) fn record_values(api: &SpankApi, spank: spank_t, state: &Plugin) {
    if state.options.is_empty() {
        return;
    }
    if prolog_flags().is_some_and(|flags| u32::from(flags) & HETPOLICY_PROLOG_FLAG_ALLOC == 0) {
        log::error!(
            "PrologFlags=Alloc is not set in slurm.conf, so the prolog cannot see each \
             component's own site options; tasks will not get them"
        );
        return;
    }
    let Some(job_id) = job_id(api, spank) else {
        log::error!("job prolog: cannot get the job id");
        return;
    };
    let values: Vec<(String, String)> = state
        .options
        .iter()
        .map(|option| {
            let value = std::env::var(format!("SPANK_{}", option.job_env())).unwrap_or_default();
            (option.name().to_owned(), value)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if let Err(err) = record::write(&state.args.state_dir, job_id, &pairs) {
        log::error!(
            "job {job_id}: cannot record site options in {}: {err}",
            state.args.state_dir.display()
        );
    }
}

/// Removes the record of the epilog's job.
pub(crate) fn remove_record(api: &SpankApi, spank: spank_t, state: &Plugin) {
    if let Some(job_id) = job_id(api, spank) {
        if let Err(err) = record::remove(&state.args.state_dir, job_id) {
            log::error!("job {job_id}: cannot remove its site option record: {err}");
        }
    }
}
