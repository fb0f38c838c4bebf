//! Who `hetpolicy eval` judges a script for: the user running it, or
//! `--user NAME`, with their groups (`id`) and default account
//! (`sacctmgr`), as slurmctld would know them. Asked only when the policy
//! has rules about who submits.

use hetpolicy_core::engine::Submitter;
use hetpolicy_core::script::Submitting;

use crate::command::run;

/// The submitter, and what could not be found out about them.
#[derive(Debug)]
pub struct Resolved {
    pub submitting: Submitting,
    /// Sentences for the report's notes.
    pub notes: Vec<String>,
}

/// Looks `user` (default: the user running the tool) up. `Err` when the
/// user database does not know them. The default account is asked of
/// slurmdbd only when `needs_account`.
pub fn resolve(user: Option<&str>, needs_account: bool) -> Result<Resolved, String> {
    let name = match user {
        Some(name) => name.to_owned(),
        None => first_word(&run("id", &["-un"])?)
            .ok_or("`id -un` printed no user name")?
            .to_owned(),
    };
    let uid = run("id", &["-u", "--", &name])
        .ok()
        .and_then(|out| first_word(&out)?.parse::<u32>().ok())
        .ok_or_else(|| format!("no user {name} in the user database (`id {name}` fails)"))?;
    let mut notes = Vec::new();
    let (groups, groups_known) = match run("id", &["-Gn", "--", &name]) {
        Ok(out) => (out.split_whitespace().map(str::to_owned).collect(), true),
        Err(why) => {
            notes.push(format!(
                "the groups of user {name} could not be read ({why}): rules about groups refuse \
                 the job, as the plugin does when the user database does not answer"
            ));
            (Vec::new(), false)
        }
    };
    let default_account = if needs_account {
        default_account(&name, &mut notes)
    } else {
        None
    };
    Ok(Resolved {
        submitting: Submitting {
            submitter: Submitter {
                uid,
                user: Some(name),
                groups,
                groups_known,
            },
            default_account,
        },
        notes,
    })
}

/// The user's default account in slurmdbd, as slurmctld's association
/// data has it; a note when it cannot be read.
fn default_account(name: &str, notes: &mut Vec<String>) -> Option<String> {
    let asked = run(
        "sacctmgr",
        &[
            "--noheader",
            "--parsable2",
            "show",
            "user",
            name,
            "format=DefaultAccount",
        ],
    );
    let account = match &asked {
        Ok(out) => first_word(out).map(str::to_ascii_lowercase),
        Err(_) => None,
    };
    if account.is_none() {
        let why = match asked {
            Ok(_) => format!("slurmdbd has no default account for user {name}"),
            Err(why) => why,
        };
        notes.push(format!(
            "the default account of user {name} is unknown ({why}): components without -A are \
             judged as charged to no account, as on a cluster without accounting; give \
             -A ACCOUNT to judge them as charged there"
        ));
    }
    account
}

fn first_word(text: &str) -> Option<&str> {
    text.split_whitespace().next()
}
