//! slurmstepd (remote context): export each component's own site option
//! values to its tasks, from the record its prolog wrote. Never fails:
//! a failure here would drain the node; problems go to slurmd's log,
//! never into the task's output.

use crate::record;
use crate::state::Plugin;
use hetpolicy_slurm::api::{c_string, SpankApi};
use hetpolicy_slurm::bindings::{spank_item, spank_t, HETPOLICY_ESPANK_SUCCESS};

/// The job id of the step's own component (S_JOB_ID).
pub(crate) fn job_id(api: &SpankApi, spank: spank_t) -> Option<u32> {
    let mut job_id: u32 = 0;
    // SAFETY: S_JOB_ID writes one uint32_t through the pointer.
    let rc = unsafe { (api.get_item)(spank, spank_item::S_JOB_ID, &mut job_id as *mut u32) };
    (rc == HETPOLICY_ESPANK_SUCCESS).then_some(job_id)
}

/// Sets each option's `task_env` for the step's tasks.
pub(crate) fn export_to_tasks(api: &SpankApi, spank: spank_t, state: &Plugin) {
    let with_env: Vec<_> = state
        .options
        .iter()
        .filter_map(|o| Some((o, o.task_env()?)))
        .collect();
    if with_env.is_empty() {
        return;
    }
    let Some(job_id) = job_id(api, spank) else {
        log::error!("cannot get this step's job id, so its tasks get no site option values");
        return;
    };
    for (option, variable) in with_env {
        match record::read(&state.args.state_dir, job_id, option.name()) {
            Ok(Some(value)) => {
                let (name, value) = (c_string(variable), c_string(&value));
                // SAFETY: both strings are NUL-terminated and outlive the call.
                let rc = unsafe { (api.setenv)(spank, name.as_ptr(), value.as_ptr(), 1) };
                if rc != HETPOLICY_ESPANK_SUCCESS {
                    log::error!("job {job_id}: cannot set {variable} (spank error {rc})");
                }
            }
            Ok(None) => {}
            Err(err) => log::error!(
                "--{} of job {job_id} is unknown on this node, so {variable} is not set ({}: \
                 {err}); the job prolog records it, which needs PrologFlags=Alloc in slurm.conf",
                option.name(),
                record::path(&state.args.state_dir, job_id).display()
            ),
        }
    }
}
