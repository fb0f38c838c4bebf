//! `hetpolicy`: check a policy file and judge batch scripts offline, with
//! the same engine the Slurm plugins run.
//!
//! ```text
//! hetpolicy check [--format text|json] [--deny-warnings] [--cluster]
//!                 [--plugstack FILE] [POLICY]
//! hetpolicy plugstack [--state-dir DIR] [--plugin PATH] [--optional] [POLICY]
//! hetpolicy eval [--policy FILE] [--slurm-conf FILE | --no-slurm-conf]
//!                [--slurm RELEASE] [--format text|json] [--strict]
//!                [--user NAME | --no-user]
//!                SCRIPT [-- SBATCH-ARGS...]
//! hetpolicy replay [--against OLD] [--sacct-json FILE | -] [--start WHEN]
//!                  [--end WHEN] [--on DATE] [--format text|json] [POLICY]
//! hetpolicy stats [--metrics FILE | --policy FILE] [--format text|json]
//! ```
//!
//! Exit status: 0 valid / accepted, 1 invalid / rejected, 2 usage errors
//! (and, for eval, a policy or script that cannot be read).

#![forbid(unsafe_code)]

mod args;
mod check;
mod cluster;
mod command;
mod eval;
mod output;
mod plugstack;
mod release;
mod replay;
mod report;
mod sacct;
mod stats;
mod who;

use std::io::Write;
use std::process::ExitCode;

use args::{Args, UsageError};

const USAGE: &str = "\
usage: hetpolicy check [--format text|json] [--deny-warnings] [--cluster]
                       [--plugstack FILE] [POLICY]
       hetpolicy plugstack [--state-dir DIR] [--plugin PATH] [--optional] [POLICY]
       hetpolicy eval [--policy FILE] [--slurm-conf FILE | --no-slurm-conf]
                      [--slurm RELEASE] [--format text|json] [--strict]
                      [--user NAME | --no-user]
                      SCRIPT [-- SBATCH-ARGS...]
       hetpolicy replay [--against OLD] [--sacct-json FILE | -] [--start WHEN]
                        [--end WHEN] [--on DATE] [--format text|json] [POLICY]
       hetpolicy stats [--metrics FILE | --policy FILE] [--format text|json]
       hetpolicy --help | --version

check  validates a policy file exactly as the Slurm plugins load it and
       prints every error as file:line:column with a hint, then warnings for
       rules that load but are surely wrong. Exit 0 when valid, 1 when not
       (or with warnings under --deny-warnings), 2 on usage errors.
       POLICY defaults to hetpolicy.yaml beside $SLURM_CONF (or /etc/slurm).
       --cluster also holds every partition, QOS, account and GRES the
       policy names against the live cluster (scontrol, sacctmgr).
       --plugstack FILE also holds the spank_hetpolicy.so line of FILE (a
       plugstack.conf, and the files it includes) against the policy.

plugstack prints the plugstack.conf line that loads spank_hetpolicy.so
       with POLICY's site options on it (options=qpu qpu.help=... and so
       on), so that nodes without the policy file, as on configless
       clusters, offer them too. --state-dir DIR adds state_dir=DIR,
       --plugin PATH names the plugin (default spank_hetpolicy.so, found
       in PluginDir), --optional writes `optional` for `required`. Exit 0,
       1 when the policy does not load or the line would be too long.

eval   judges a batch script as `sbatch SBATCH-ARGS SCRIPT` would be judged:
       it reads the #SBATCH lines, `#SBATCH hetjob` separators, components
       separated by `:` in SBATCH-ARGS and SBATCH_* variables, applies
       sbatch's propagation rules, and runs the policy engine on every
       component. It prints each component's verdict and the exact lines
       sbatch would print, then hetjob mistakes with their fixes. Exit 0
       when accepted, 1 when sbatch or slurmctld would refuse it (or, with
       --strict, when a mistake makes the job unable to run), 2 on usage
       errors or when the policy or script cannot be read.
       --policy defaults as for check; slurm.conf ($SLURM_CONF, else
       /etc/slurm/slurm.conf) is read when present, for partitions, node
       counts and GRES names.
       eval models the sbatch and slurmctld of one Slurm release, and says
       which: --slurm RELEASE (22.05, 24.11 or 26.05), else the release of
       the sbatch on PATH (`sbatch --version`), else the newest. An
       installed release eval does not model gives the closest one below
       it, with a note.
       When the policy has rules about who submits (exempt, deny,
       partitions.<p>.allow/deny), eval judges them for the user running it,
       or --user NAME: their groups from `id`, the account -A names or their
       default account from `sacctmgr`. --no-user leaves them out.

replay judges POLICY against jobs that already ran: `sacct --json
       --allusers` from --start (default now-30days) to --end, or a saved
       --sacct-json FILE (- for stdin), read as a stream. It counts per rule,
       account and user the components the policy would have refused,
       warned about or changed; with --against OLD, both side by side and
       what the edit changes. --on DATE judges warn_until rules on that day
       (default today). Exit 0 when replayed, 2 on usage errors or input
       that cannot be read.
stats  prints what each rule did since slurmctld started: components
       changed, warnings given, components refused, and every component
       accepted, changed, warned and refused; then the decision log lines
       dropped. It reads the OpenMetrics file job_submit/hetpolicy writes
       every second (--metrics FILE, else the metrics_file of --policy,
       which defaults as for check). Exit 0, 2 when the file cannot be
       read.
";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&argv) {
        Ok(code) => code,
        Err(UsageError(message)) => {
            let _ = writeln!(std::io::stderr(), "hetpolicy: {message}\n\n{USAGE}");
            2
        }
    };
    ExitCode::from(code)
}

fn run(argv: &[String]) -> Result<u8, UsageError> {
    let mut args = Args::new(argv);
    let Some(command) = args.next_word() else {
        return Err(UsageError(
            "a command is needed: check, eval, plugstack, replay or stats".to_owned(),
        ));
    };
    match command.as_str() {
        "check" => check::run(check::Options::parse(&mut args)?),
        "eval" => eval::run(eval::Options::parse(&mut args)?),
        "plugstack" => plugstack::run(plugstack::Options::parse(&mut args)?),
        "replay" => replay::run(replay::Options::parse(&mut args)?),
        "stats" => stats::run(stats::Options::parse(&mut args)?),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(0)
        }
        "-V" | "--version" => {
            println!("hetpolicy {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        other => Err(UsageError(format!(
            "unknown command '{other}': use check, eval, plugstack, replay or stats"
        ))),
    }
}
