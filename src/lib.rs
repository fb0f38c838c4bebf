//! hetpolicy: a site policy for Slurm jobs and every component of a
//! heterogeneous job, enforced by a job_submit plugin inside slurmctld.
//!
//! The crate has one pure engine and thin doors into it:
//! - [`policy`]: hetpolicy.yaml, loaded, validated and compiled;
//! - [`engine`]: evaluates one component against a policy (safe Rust, no
//!   Slurm types);
//! - [`gres`] and [`units`]: Slurm's GRES, time and memory notations;
//! - [`script`]: a batch script and sbatch command line as slurmctld will
//!   see them (the `hetpolicy eval` command);
//! - [`shown`]: how user values are quoted in messages;
//! - [`store`]: the current policy, reloaded when its file changes;
//! - [`trust`]: who may own and write the policy file;
//! - `submit` (private): the job_submit plugin's C entry points;
//! - `spank` (private, feature `spank`): the SPANK plugin's entry points;
//! - `slurm` (private): the only other code that touches Slurm's C world.

#![warn(missing_docs)]

// The engine and everything it uses are safe Rust; `unsafe` is confined to
// the FFI modules below them.
#[forbid(unsafe_code)]
pub mod engine;
#[forbid(unsafe_code)]
pub mod gres;
#[forbid(unsafe_code)]
pub mod policy;
#[forbid(unsafe_code)]
pub mod script;
#[forbid(unsafe_code)]
pub mod shown;
#[forbid(unsafe_code)]
pub mod store;
#[forbid(unsafe_code)]
pub mod trust;
#[forbid(unsafe_code)]
pub mod units;

mod slurm;
// One crate, two plugins: the default build is job_submit_hetpolicy.so, the
// `spank` feature builds spank_hetpolicy.so (each has its own plugin_type).
#[cfg(feature = "spank")]
mod spank;
#[cfg(not(feature = "spank"))]
mod submit;
