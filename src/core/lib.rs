//! hetpolicy's core: a site policy for Slurm jobs and every component of a
//! heterogeneous job, and the engine that judges them. Safe Rust, no Slurm
//! types, no build script: the job_submit plugin (`src/submit`), the SPANK
//! plugin (`src/spank`) and the `hetpolicy` command (`src/cli`) all call it.
//!
//! - [`policy`]: hetpolicy.yaml, loaded, validated and compiled;
//! - [`engine`]: evaluates one component against a policy (safe Rust, no
//!   Slurm types);
//! - [`gres`] and [`units`]: Slurm's GRES, time and memory notations;
//! - [`script`]: a batch script and sbatch command line as slurmctld will
//!   see them (the `hetpolicy eval` command);
//! - [`slurm_options`]: the options of Slurm's client commands in each
//!   supported release, generated from Slurm's sources;
//! - [`spank`]: how SPANK names and replays the site options' values;
//! - [`paths`]: where slurm.conf and the policy file are;
//! - [`plugstack`]: the SPANK plugin's plugstack.conf line, which can
//!   carry the site options to nodes without the policy file;
//! - [`shown`]: how user values are quoted in messages;
//! - [`store`]: the current policy, reloaded when its file changes;
//! - [`trust`]: who may own and write the policy file.

#![forbid(unsafe_code)]

pub mod engine;
pub mod gres;
pub mod paths;
pub mod plugstack;
pub mod policy;
pub mod script;
pub mod shown;
pub mod slurm_options;
pub mod spank;
pub mod store;
pub mod trust;
pub mod units;
