//! What the SPANK plugin keeps for the life of its host process.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::args::Args;
use hetpolicy_core::policy::Policy;

/// The plugin's state in this process.
pub(crate) struct Plugin {
    /// The plugstack.conf arguments.
    pub(crate) args: Args,
    /// The policy, when it loaded.
    pub(crate) policy: Option<Arc<Policy>>,
    /// A problem found where the plugin must not fail (slurmstepd, slurmd,
    /// prolog): reported to the user in task_init.
    pub(crate) problem: Option<String>,
    /// How many components init_post_opt has finished (sbatch, salloc and
    /// srun call it once per hetjob component, in order).
    pub(crate) components_done: u32,
    /// Per site option (in policy order), the values its callback received
    /// while the current component was parsed.
    pub(crate) captured: Vec<Vec<String>>,
}

static PLUGIN: Mutex<Option<Plugin>> = Mutex::new(None);

/// The plugin's state (None before init).
pub(crate) fn plugin() -> MutexGuard<'static, Option<Plugin>> {
    PLUGIN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
