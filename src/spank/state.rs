//! What the SPANK plugin keeps for the life of its host process.

use std::sync::{Mutex, MutexGuard};

use hetpolicy_core::plugstack::PluginArgs;
use hetpolicy_core::policy::SiteOption;

/// The plugin's state in this process.
pub(crate) struct Plugin {
    /// The plugstack.conf arguments.
    pub(crate) args: PluginArgs,
    /// The site options, from the plugstack.conf line or the policy file
    /// (none when neither gives them).
    pub(crate) options: Vec<SiteOption>,
    /// How many components init_post_opt has finished (sbatch, salloc and
    /// srun call it once per hetjob component, in order).
    pub(crate) components_done: u32,
    /// Per site option (in `options` order), the values its callback
    /// received while the current component was parsed.
    pub(crate) captured: Vec<Vec<String>>,
}

static PLUGIN: Mutex<Option<Plugin>> = Mutex::new(None);

/// The plugin's state (None before init).
pub(crate) fn plugin() -> MutexGuard<'static, Option<Plugin>> {
    PLUGIN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
