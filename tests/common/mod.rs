//! Shared helpers for the integration tests: each tests/*.rs does `mod common;`.
pub mod accounting;
pub mod bin;
pub mod cluster;
pub mod scripts;
pub mod users;
