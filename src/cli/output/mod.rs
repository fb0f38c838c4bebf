//! Output formats other than the text reports of check.rs and eval.rs.

pub mod json;
