//! Bounds on the size of one component's request, checked before any rule,
//! so that every rule's cost stays small inside slurmctld's locks whatever
//! a job carries (a 100 KB partition or GRES list included).

use super::{reject, Component, Position, RejectCode, Rejection};
use crate::gres;

/// The most GRES entries one component may carry, over all its tres_per_*
/// fields (`--gres=gpu:2,qpu:1` is two). A cluster has a handful of GRES.
pub const MAX_GRES_ENTRIES: usize = 64;

/// The most partitions one component may name (`--partition=a,b,...`).
pub const MAX_PARTITIONS: usize = 1024;

/// Refuses a component whose GRES or partition list is longer than any
/// real request.
pub(crate) fn check(component: &Component<'_>, who: Position) -> Result<(), Rejection> {
    let entries = gres_entries(component);
    if entries > MAX_GRES_ENTRIES {
        return Err(reject(
            RejectCode::InvalidGres,
            format!(
                "{who} carries {entries} GRES requests; hetpolicy reads at most \
                 {MAX_GRES_ENTRIES} per component: request each GRES once, e.g. --gres=gpu:2"
            ),
        ));
    }
    let partitions = component
        .partition
        .map_or(0, |list| list.split(',').count());
    if partitions > MAX_PARTITIONS {
        return Err(reject(
            RejectCode::InvalidPartitionName,
            format!(
                "{who} names {partitions} partitions; hetpolicy reads at most {MAX_PARTITIONS} \
                 per component: list the partitions the job can use"
            ),
        ));
    }
    Ok(())
}

/// GRES entries of every tres_per_* field, readable or not, zero counts
/// included.
fn gres_entries(component: &Component<'_>) -> usize {
    [
        component.tres_per_job,
        component.tres_per_node,
        component.tres_per_socket,
        component.tres_per_task,
    ]
    .into_iter()
    .flatten()
    .map(|field| gres::parse(field).count())
    .sum()
}

/// The names of the GRES a component requests, read once, on the stack:
/// rules that ask "does it request X?" for every partition of a list ask
/// this instead of parsing the TRES strings again.
pub(crate) struct RequestedGres<'a> {
    names: [&'a str; MAX_GRES_ENTRIES],
    len: usize,
    /// More requests than fit (only when [`check`] was not applied): then
    /// the component itself is asked.
    overflow: Option<&'a Component<'a>>,
}

impl<'a> RequestedGres<'a> {
    /// Reads the readable, non-zero GRES requests of `component`.
    pub(crate) fn of(component: &'a Component<'a>) -> Self {
        let mut requested = RequestedGres {
            names: [""; MAX_GRES_ENTRIES],
            len: 0,
            overflow: None,
        };
        for request in component.gres_requests().filter_map(Result::ok) {
            if requested.names[..requested.len].contains(&request.name) {
                continue;
            }
            if requested.len == MAX_GRES_ENTRIES {
                requested.overflow = Some(component);
                break;
            }
            requested.names[requested.len] = request.name;
            requested.len += 1;
        }
        requested
    }

    /// Each requested name once, in the order first requested (all of them
    /// unless the list overflowed).
    pub(crate) fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.names[..self.len].iter().copied().chain(
            self.overflow
                .into_iter()
                .flat_map(|component| component.gres_requests().filter_map(Result::ok))
                .map(|request| request.name)
                .skip(MAX_GRES_ENTRIES),
        )
    }

    /// True when the component asks for at least one `name`.
    pub(crate) fn contains(&self, name: &str) -> bool {
        match self.overflow {
            Some(component) => component.requests_gres(name),
            None => self.names[..self.len].contains(&name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_names_are_read_once_and_deduplicated() {
        let component = Component {
            tres_per_job: Some("gres:gpu:2,gres:gpu:a100:1,gres:fpga:0"),
            tres_per_node: Some("gres/qpu"),
            ..Component::default()
        };
        let requested = RequestedGres::of(&component);
        assert_eq!(requested.len, 2);
        assert!(requested.contains("gpu") && requested.contains("qpu"));
        assert!(!requested.contains("fpga"), "a zero count is no request");
    }

    #[test]
    fn overflowing_lists_fall_back_to_the_component() {
        let list: Vec<String> = (0..100).map(|i| format!("gres:g{i}:1")).collect();
        let list = list.join(",");
        let component = Component {
            tres_per_node: Some(&list),
            ..Component::default()
        };
        let requested = RequestedGres::of(&component);
        assert!(requested.contains("g0") && requested.contains("g99"));
        assert!(!requested.contains("g100"));
        assert!(check(&component, Position::Het(1))
            .unwrap_err()
            .message
            .starts_with("hetjob component 1 carries 100 GRES requests"));
    }
}
