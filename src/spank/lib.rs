//! The SPANK plugin's entry points (`spank_hetpolicy.so`).
//!
//! Loaded through a plugstack.conf line such as
//! `required spank_hetpolicy.so policy=/etc/slurm/hetpolicy.yaml`, or the
//! line `hetpolicy plugstack` writes, which carries the site options itself
//! (for nodes without the policy file: configless clusters), it adds the
//! policy's site options (`--qpu=NAME`) to sbatch, salloc and srun.
//! Each context has its own module:
//! - allocator (sbatch, salloc) and local (srun): [`client`];
//! - remote (slurmstepd): [`remote`];
//! - job script (prolog/epilog, run by slurmd): [`prolog`].
//!
//! Every callback runs inside `catch_unwind`. Only the client contexts
//! ever return an error (which aborts the command before any RPC); the
//! others log to the daemon's log and go on, since a failure there drains
//! the node, and never write into a task's output.

mod client;
mod prolog;
mod record;
mod remote;
mod state;

use std::ffi::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use hetpolicy_core::paths::default_policy_path;
use hetpolicy_core::plugstack::PluginArgs;
use hetpolicy_core::policy::{Policy, SiteOption};
use hetpolicy_slurm::api::{loaded_slurm_conf, spank, SpankApi};
use hetpolicy_slurm::bindings::{spank_context, spank_t, HETPOLICY_SLURM_VERSION_NUMBER};
use hetpolicy_slurm::fields::text;
use state::{plugin, Plugin};

// The plugin's name (core's, shared with the sbatch model); Slurm derives
// option variables from it (`_SLURM_SPANK_OPTION_hetpolicy_qpu`).
pub(crate) use hetpolicy_core::spank::PLUGIN_NAME;

/// The plugin's name as Slurm reads it: `PLUGIN_NAME`, NUL-terminated (a
/// unit test in client.rs checks they agree).
#[no_mangle]
#[used]
pub static plugin_name: [u8; 10] = *b"hetpolicy\0";

/// Tells Slurm this is a SPANK plugin.
#[no_mangle]
#[used]
pub static plugin_type: [u8; 6] = *b"spank\0";

/// The Slurm release this plugin was built for (SPANK compares major.minor).
#[no_mangle]
#[used]
pub static plugin_version: u32 = HETPOLICY_SLURM_VERSION_NUMBER;

const SPANK_SUCCESS: c_int = 0;
const SPANK_FAILURE: c_int = -1;

/// Which kind of process loaded the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Context {
    /// sbatch, salloc, srun: may fail the command.
    Client,
    /// slurmstepd.
    Remote,
    /// The job prolog/epilog.
    JobScript,
    /// slurmd, or anything else: nothing to do.
    Other,
}

fn context(api: &SpankApi) -> Context {
    // SAFETY: spank_context() takes no arguments and only reads.
    match unsafe { (api.context)() } {
        spank_context::S_CTX_ALLOCATOR | spank_context::S_CTX_LOCAL => Context::Client,
        spank_context::S_CTX_REMOTE => Context::Remote,
        spank_context::S_CTX_JOB_SCRIPT => Context::JobScript,
        _ => Context::Other,
    }
}

/// The plugstack.conf words.
///
/// # Safety
/// `av` must hold `ac` NULL or NUL-terminated strings.
unsafe fn words(ac: c_int, av: *mut *mut c_char) -> Vec<String> {
    if av.is_null() || ac <= 0 {
        return Vec::new();
    }
    // SAFETY: the caller guarantees `ac` entries at `av`.
    let raw = unsafe { std::slice::from_raw_parts(av, ac as usize) };
    raw.iter()
        // SAFETY: each entry is NULL or a NUL-terminated string.
        .filter_map(|word| unsafe { text(*word) }.map(|w| w.into_owned()))
        .collect()
}

/// Runs a callback body with the host's SPANK API and the plugin state,
/// catching panics. In contexts that must not fail, any error becomes 0.
fn guarded(
    name: &str,
    body: impl FnOnce(&SpankApi, Context, &mut Option<Plugin>) -> c_int,
) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let api = spank()?;
        let context = context(api);
        let rc = body(api, context, &mut plugin());
        Some(if context == Context::Client {
            rc
        } else {
            SPANK_SUCCESS
        })
    }));
    match outcome {
        Ok(Some(rc)) => rc,
        Ok(None) => SPANK_SUCCESS,
        Err(_) => {
            log::error!("{name}: internal error (panic caught)");
            SPANK_SUCCESS
        }
    }
}

/// Logs hetpolicy's version and the Slurm releases it was built for and
/// runs in (at verbose level: `sbatch -v` shows it). Slurm loads a SPANK
/// plugin built for the same major.minor release; a different micro
/// release is reported, in the daemons at info level.
fn log_versions(context: Context) {
    use hetpolicy_slurm::version::{check, Check, Release};
    let ours = env!("CARGO_PKG_VERSION");
    let built_for = Release::BUILT_FOR;
    match check() {
        Check::Differs(running) if context != Context::Client => log::info!(
            "version {ours} was built for Slurm {built_for} and runs in Slurm {} (plugin_version \
             of {}); rebuild it for this release",
            running.release,
            running.plugin
        ),
        Check::Same(running) | Check::Differs(running) => log::debug!(
            "version {ours} built for Slurm {built_for}, running in Slurm {}",
            running.release
        ),
        Check::Unknown => log::debug!("version {ours} built for Slurm {built_for}"),
    }
}

/// Parses the plugstack.conf words and finds the site options: on the
/// line, else in the policy file. A bad line is an error in
/// sbatch/salloc/srun (the caller fails the command); elsewhere it is
/// logged and the plugin offers nothing. A missing policy file (a node
/// that has none, as on configless clusters) quietly leaves the options
/// out: slurmctld still judges every job.
fn load_state(context: Context, words: &[String]) -> Result<Plugin, ()> {
    hetpolicy_slurm::logger::install(PLUGIN_NAME);
    log_versions(context);
    let args = match PluginArgs::parse(words.iter().map(String::as_str)) {
        Ok(args) => args,
        Err(message) => {
            log::error!("{message}");
            if context == Context::Client {
                return Err(());
            }
            PluginArgs {
                options: Some(Vec::new()),
                ..PluginArgs::default()
            }
        }
    };
    let options = match &args.options {
        Some(options) => options.clone(),
        None => match &args.policy {
            Some(path) => options_in(path),
            None => options_in(&default_policy_path(loaded_slurm_conf().as_deref())),
        },
    };
    Ok(Plugin {
        captured: vec![Vec::new(); options.len()],
        args,
        options,
        components_done: 0,
    })
}

/// The site options of the policy file at `path`; none, quietly, when the
/// node has no such file, and none, logged, when it does not load.
fn options_in(path: &Path) -> Vec<SiteOption> {
    if matches!(std::fs::metadata(path), Err(err) if err.kind() == std::io::ErrorKind::NotFound) {
        log::debug!(
            "no policy file at {} and no options= on the plugstack.conf line: no site options \
             on this node (`hetpolicy plugstack` writes a line that carries them)",
            path.display()
        );
        return Vec::new();
    }
    match Policy::load(path) {
        Ok(policy) => policy.options().to_vec(),
        Err(error) => {
            log::error!("site options are unavailable: {error}");
            Vec::new()
        }
    }
}

/// Loads the state and, in sbatch/salloc/srun and slurmstepd, registers
/// the site options.
///
/// # Safety
/// Called by Slurm with its SPANK handle and the plugstack.conf words
/// (argc/argv) of this plugin's line.
#[no_mangle]
pub unsafe extern "C" fn slurm_spank_init(sp: spank_t, ac: c_int, av: *mut *mut c_char) -> c_int {
    // SAFETY: Slurm passes its plugstack.conf words as argc/argv.
    let words = unsafe { words(ac, av) };
    guarded("init", |api, context, slot| {
        let Ok(state) = load_state(context, &words) else {
            return SPANK_FAILURE;
        };
        let state = slot.insert(state);
        // Registered in slurmstepd too, where Slurm replays the job's
        // options (the callback ignores them there); unregistered, Slurm
        // warns that the option is not found.
        if matches!(context, Context::Client | Context::Remote) {
            client::register_options(api, sp, state);
        }
        SPANK_SUCCESS
    })
}

/// Called once per hetjob component after its options are parsed (in
/// sbatch, salloc and srun): checks and forwards that component's values.
///
/// # Safety
/// Called by Slurm with its SPANK handle and the plugstack.conf words
/// (argc/argv) of this plugin's line.
#[no_mangle]
pub unsafe extern "C" fn slurm_spank_init_post_opt(
    sp: spank_t,
    _ac: c_int,
    _av: *mut *mut c_char,
) -> c_int {
    guarded("init_post_opt", |api, context, slot| {
        match (context, slot) {
            (Context::Client, Some(state)) => client::finish_component(api, sp, state),
            _ => SPANK_SUCCESS,
        }
    })
}

/// slurmstepd, before the tasks start: exports the component's own values
/// to its tasks.
///
/// # Safety
/// Called by Slurm with its SPANK handle and the plugstack.conf words
/// (argc/argv) of this plugin's line.
#[no_mangle]
pub unsafe extern "C" fn slurm_spank_user_init(
    sp: spank_t,
    _ac: c_int,
    _av: *mut *mut c_char,
) -> c_int {
    guarded("user_init", |api, context, slot| {
        if let (Context::Remote, Some(state)) = (context, slot) {
            remote::export_to_tasks(api, sp, state);
        }
        SPANK_SUCCESS
    })
}

/// Job prolog (as root, once per component and node): records the
/// component's values for its tasks.
///
/// Slurm does not call slurm_spank_init in this context, so the state is
/// loaded here from the same plugstack.conf words.
///
/// # Safety
/// Called by Slurm with its SPANK handle and the plugstack.conf words
/// (argc/argv) of this plugin's line.
#[no_mangle]
pub unsafe extern "C" fn slurm_spank_job_prolog(
    sp: spank_t,
    ac: c_int,
    av: *mut *mut c_char,
) -> c_int {
    // SAFETY: Slurm passes its plugstack.conf words as argc/argv.
    let words = unsafe { words(ac, av) };
    guarded("job_prolog", |api, context, slot| {
        if let Some(state) = job_script_state(context, &words, slot) {
            prolog::record_values(api, sp, state);
        }
        SPANK_SUCCESS
    })
}

/// Job epilog: removes the record.
///
/// # Safety
/// Called by Slurm with its SPANK handle and the plugstack.conf words
/// (argc/argv) of this plugin's line.
#[no_mangle]
pub unsafe extern "C" fn slurm_spank_job_epilog(
    sp: spank_t,
    ac: c_int,
    av: *mut *mut c_char,
) -> c_int {
    // SAFETY: Slurm passes its plugstack.conf words as argc/argv.
    let words = unsafe { words(ac, av) };
    guarded("job_epilog", |api, context, slot| {
        if let Some(state) = job_script_state(context, &words, slot) {
            prolog::remove_record(api, sp, state);
        }
        SPANK_SUCCESS
    })
}

/// The state in the job script context, loaded on first use.
fn job_script_state<'s>(
    context: Context,
    words: &[String],
    slot: &'s mut Option<Plugin>,
) -> Option<&'s mut Plugin> {
    if slot.is_none() {
        *slot = load_state(context, words).ok();
    }
    slot.as_mut()
}
