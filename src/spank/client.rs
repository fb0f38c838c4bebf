//! sbatch, salloc (allocator context) and srun (local context): register
//! the site options, capture each component's values, check them before
//! anything is submitted, and forward them to slurmctld.

use std::ffi::{c_char, c_int};
use std::panic::catch_unwind;

use crate::state::{plugin, Plugin};
use crate::{SPANK_FAILURE, SPANK_SUCCESS};
use hetpolicy_core::engine::{check_option_value, Position};
use hetpolicy_core::policy::COMPONENT_ENV;
use hetpolicy_core::spank::{own_value, replay_variable};
use hetpolicy_slurm::api::{c_string, SpankApi};
use hetpolicy_slurm::bindings::{spank_option, spank_t, HETPOLICY_ESPANK_SUCCESS};
use hetpolicy_slurm::fields::text;

/// Registers every site option with the host, so that it
/// parses them and lists them in `--help`.
pub(crate) fn register_options(api: &SpankApi, spank: spank_t, state: &Plugin) {
    for (index, option) in state.options.iter().enumerate() {
        let name = c_string(option.name());
        let arg = c_string(option.arg());
        let usage = c_string(option.help());
        let mut registration = spank_option {
            name: name.as_ptr().cast_mut(),
            arginfo: arg.as_ptr().cast_mut(),
            usage: usage.as_ptr().cast_mut(),
            has_arg: 1,
            val: c_int::try_from(index).unwrap_or(c_int::MAX),
            cb: Some(option_callback),
        };
        // SAFETY: the host copies the option and its strings
        // (src/common/plugstack.c, _spank_option_copy); they outlive the call.
        let rc = unsafe { (api.option_register)(spank, &mut registration) };
        if rc != HETPOLICY_ESPANK_SUCCESS {
            log::error!("cannot register --{} (spank error {rc})", option.name());
        }
    }
}

/// Called by the host for every `--<option>` it parses, including values
/// it replays from component 0 into later components. Keeps the value for
/// init_post_opt, which decides.
extern "C" fn option_callback(val: c_int, optarg: *const c_char, remote: c_int) -> c_int {
    catch_unwind(|| {
        if remote != 0 {
            return SPANK_SUCCESS;
        }
        // SAFETY: the host passes NULL or the option's NUL-terminated value.
        let value = unsafe { text(optarg) }.unwrap_or_default().into_owned();
        let mut guard = plugin();
        if let Some(slot) = guard
            .as_mut()
            .and_then(|state| state.captured.get_mut(usize::try_from(val).ok()?))
        {
            slot.push(value);
        }
        SPANK_SUCCESS
    })
    .unwrap_or(SPANK_FAILURE)
}

/// Ends one component: checks each option's value, forwards it to
/// slurmctld in the component's job-control environment (empty when
/// unset: entries accumulate across components), and resets the capture.
/// A value the policy does not allow fails the command (-1) before any RPC.
pub(crate) fn finish_component(api: &SpankApi, spank: spank_t, state: &mut Plugin) -> c_int {
    let index = state.components_done;
    state.components_done += 1;
    let captured: Vec<Vec<String>> = state.captured.iter_mut().map(std::mem::take).collect();
    forward(api, spank, COMPONENT_ENV, &index.to_string());
    let position = if index == 0 {
        Position::Plain
    } else {
        Position::Het(index)
    };
    for (option, values) in state.options.iter().zip(&captured) {
        // The value sbatch replays from the previous component, and the
        // component's own (hetpolicy_core::spank, shared with `hetpolicy
        // eval`).
        let inherited = std::env::var(replay_variable(option.name())).ok();
        let value = own_value(values, inherited.as_deref())
            .map(|i| values[i].as_str())
            .filter(|v| !v.is_empty());
        if let Some(value) = value {
            if let Err(rejection) = check_option_value(option, value, position) {
                log::error!("{}", rejection.message);
                return SPANK_FAILURE;
            }
        }
        forward(api, spank, option.job_env(), value.unwrap_or(""));
    }
    SPANK_SUCCESS
}

/// Puts `name=value` into the current component's job-control environment
/// (its job_desc's spank_job_env in slurmctld), replacing the value an
/// earlier component left there.
fn forward(api: &SpankApi, spank: spank_t, name: &str, value: &str) {
    let c_name = c_string(name);
    let c_value = c_string(value);
    // SAFETY: both strings are NUL-terminated and outlive the call.
    let rc = unsafe { (api.job_control_setenv)(spank, c_name.as_ptr(), c_value.as_ptr(), 1) };
    if rc != HETPOLICY_ESPANK_SUCCESS {
        log::debug!("cannot forward {name} (spank error {rc})");
    }
}

#[cfg(test)]
mod tests {
    /// SPANK names the option variables after the plugin's exported name,
    /// which must be core's (`hetpolicy eval` computes the same names).
    #[test]
    fn the_plugin_name_is_core_s() {
        let exported = &crate::plugin_name[..crate::plugin_name.len() - 1];
        assert_eq!(exported, hetpolicy_core::spank::PLUGIN_NAME.as_bytes());
        assert_eq!(crate::PLUGIN_NAME, hetpolicy_core::spank::PLUGIN_NAME);
    }
}
