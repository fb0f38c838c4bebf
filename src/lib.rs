//! hetpolicy: a site policy for Slurm jobs and every component of a
//! heterogeneous job, enforced by a job_submit plugin inside slurmctld.
//!
//! The crate has one pure engine and thin doors into it:
//! - [`policy`]: hetpolicy.yaml, loaded, validated and compiled;
//! - [`engine`]: evaluates one component against a policy (safe Rust, no
//!   Slurm types);
//! - [`gres`] and [`units`]: Slurm's GRES, time and memory notations;
//! - [`store`]: the current policy, reloaded when its file changes;
//! - `submit` (private): the job_submit plugin's C entry points, built on the
//!   private `slurm` module, the only code that touches Slurm's C world.

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
pub mod store;
#[forbid(unsafe_code)]
pub mod units;

mod slurm;
mod submit;
