//! What `hetpolicy check` and `hetpolicy eval` found: check.rs and
//! eval.rs build these and print them as text, output/json.rs as JSON.

use hetpolicy_core::policy::PolicyWarning;
use hetpolicy_core::script::{Finding, Outcome, Simulation, Submitting};

use crate::release::Choice;

/// One error with its hint, ready to print.
pub struct Problem {
    pub position: Option<(u64, u64)>,
    pub message: String,
    pub hint: String,
}

/// What checking a file found.
pub struct Report {
    pub file: String,
    pub errors: Vec<Problem>,
    pub warnings: Vec<PolicyWarning>,
    pub summary: Option<String>,
    /// `--plugstack FILE`: the file, and what is wrong with the plugin's
    /// line in it.
    pub stack: Option<(String, Vec<crate::plugstack::Finding>)>,
}

/// Everything eval read.
pub struct Evaluation<'p> {
    /// The Slurm release modelled, and why.
    pub release: Choice,
    pub script_name: String,
    pub default_partition: Option<String>,
    pub policy_path: String,
    pub simulation: Simulation,
    pub outcome: Option<Outcome<'p>>,
    /// Whom the rules about who submits were judged for.
    pub who: WhoJudged,
}

/// Whom `eval` judged the rules about who submits for.
#[derive(Debug)]
pub enum WhoJudged {
    /// The policy has no such rules.
    NoRules,
    /// `--no-user`: they were not judged.
    Skipped,
    /// This submitter, with what could not be found out about them.
    User {
        submitting: Submitting,
        notes: Vec<String>,
    },
}

impl Evaluation<'_> {
    /// accepted, rejected or refused.
    pub fn verdict(&self) -> &'static str {
        match (&self.simulation.refusal, &self.outcome) {
            (Some(_), _) => "refused",
            (None, Some(outcome)) if outcome.accepted => "accepted",
            _ => "rejected",
        }
    }

    /// Every note: the model's, then what could not be found out about
    /// the submitter.
    pub fn notes(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.simulation.notes.iter().map(String::as_str).collect();
        if let WhoJudged::User { notes, .. } = &self.who {
            all.extend(notes.iter().map(String::as_str));
        }
        all
    }

    /// Every finding: sbatch's and slurmctld's.
    pub fn findings(&self) -> Vec<&Finding> {
        let mut all: Vec<&Finding> = self.simulation.findings.iter().collect();
        if let Some(outcome) = &self.outcome {
            all.extend(&outcome.findings);
        }
        all.sort_by_key(|f| (f.line.unwrap_or(usize::MAX), f.component));
        all
    }

    /// The lines sbatch prints on stderr.
    pub fn stderr(&self) -> Vec<String> {
        let mut lines = self.simulation.stderr.clone();
        match (&self.simulation.refusal, &self.outcome) {
            (Some(refusal), _) => lines.extend(refusal.stderr.iter().cloned()),
            (None, Some(outcome)) => lines.extend(outcome.stderr.iter().cloned()),
            (None, None) => {}
        }
        lines
    }
}
