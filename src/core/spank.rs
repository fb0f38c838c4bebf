//! How Slurm's SPANK stack names and replays the values of the site
//! options the SPANK plugin adds (`--qpu=NAME`), and which value is a
//! component's own: one definition for the plugin (`src/spank`) and for
//! the sbatch model behind `hetpolicy eval` ([`crate::script`]).

/// The SPANK plugin's name, its exported `plugin_name`: SPANK derives the
/// variables of the plugin's options from it.
pub const PLUGIN_NAME: &str = "hetpolicy";

/// The variable in which sbatch keeps an option's value after a hetjob
/// component, to replay it into the next one: `SLURM_SPANK_` followed by
/// SPANK's name for the option's variable
/// (`_SLURM_SPANK_OPTION_<plugin>_<option>`, src/common/plugstack.c
/// `_opt_env_name` in 22.05, src/common/spank.c in 24.11 and 26.05), every
/// character but ASCII letters and digits written as `_`.
pub fn replay_variable(option: &str) -> String {
    format!(
        "SLURM_SPANK__SLURM_SPANK_OPTION_{}_{}",
        canonical(PLUGIN_NAME),
        canonical(option)
    )
}

/// `_canonical_char`: ASCII letters and digits kept, the rest `_`.
fn canonical(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Which of the values an option's callback received in one component is
/// the component's own (its index in `captured`): the last one that
/// differs from the value sbatch replayed from the previous component,
/// else the replayed value if it was received, else none. The replay
/// comes before the component's own value on the command line and after
/// it in `#SBATCH` lines, so "the last value" alone would misread one of
/// them.
pub fn own_value<S: AsRef<str>>(captured: &[S], replayed: Option<&str>) -> Option<usize> {
    let is_replayed = |value: &S| Some(value.as_ref()) == replayed;
    captured
        .iter()
        .rposition(|value| !is_replayed(value))
        .or_else(|| captured.iter().rposition(is_replayed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own<'a>(captured: &[&'a str], replayed: Option<&str>) -> Option<&'a str> {
        own_value(captured, replayed).map(|i| captured[i])
    }

    #[test]
    fn the_variable_follows_spank() {
        assert_eq!(
            replay_variable("qpu"),
            "SLURM_SPANK__SLURM_SPANK_OPTION_hetpolicy_qpu"
        );
        assert_eq!(
            replay_variable("qpu-name.x"),
            "SLURM_SPANK__SLURM_SPANK_OPTION_hetpolicy_qpu_name_x"
        );
    }

    #[test]
    fn an_own_value_wins_in_either_order() {
        // #SBATCH: own value first, then the replay.
        assert_eq!(
            own(&["ibm_torino", "ibm_fez"], Some("ibm_fez")),
            Some("ibm_torino")
        );
        // Command line: the replay first, then the own value.
        assert_eq!(
            own(&["ibm_fez", "ibm_torino"], Some("ibm_fez")),
            Some("ibm_torino")
        );
    }

    #[test]
    fn else_the_replayed_value_or_none() {
        assert_eq!(own(&["ibm_fez"], Some("ibm_fez")), Some("ibm_fez"));
        assert_eq!(own(&[], Some("ibm_fez")), None);
        assert_eq!(own(&["ibm_fez"], None), Some("ibm_fez"));
        assert_eq!(own(&["a", "b"], None), Some("b"));
        assert_eq!(own(&[], None), None);
    }
}
