//! Bounds on the size of one component's request, checked before any rule,
//! so that every rule's cost stays small inside slurmctld's locks whatever
//! a job carries (a 100 KB partition or GRES list included), and the GRES
//! names a component requests, read once for all rules.

use super::{reject, Component, RejectCode, Rejection};
use crate::gres::GresParseError;
use crate::policy::Policy;
use crate::shown::shown;

/// The most GRES entries one component may carry, over all its tres_per_*
/// fields (`--gres=gpu:2,qpu:1` is two). A cluster has a handful of GRES.
pub const MAX_GRES_ENTRIES: usize = 64;

/// The most partitions one component may name (`--partition=a,b,...`).
pub const MAX_PARTITIONS: usize = 1024;

/// Distinct GRES names kept on the stack; a component asking for more
/// (never seen in practice) is asked again by [`RequestedGres::contains`].
const KEPT_NAMES: usize = 16;

/// Why a component's GRES cannot be judged.
#[derive(Debug)]
pub(crate) enum GresProblem {
    /// More than [`MAX_GRES_ENTRIES`] entries.
    TooMany(usize),
    /// An entry that cannot be read (the first one).
    Unreadable(GresParseError),
}

impl GresProblem {
    /// The rejection, for `who` (`job`, `hetjob component 1`, `job update`)
    /// and the way the fix is written there (`--gres=` or `gres=`).
    pub(crate) fn rejection(self, who: &dyn std::fmt::Display, option: &str) -> Rejection {
        match self {
            GresProblem::TooMany(entries) => reject(
                RejectCode::InvalidGres,
                format!(
                    "{who} carries {entries} GRES requests; hetpolicy reads at most \
                     {MAX_GRES_ENTRIES} per component: request each GRES once, e.g. \
                     {option}gpu:2"
                ),
            ),
            GresProblem::Unreadable(error) => reject(
                RejectCode::InvalidGres,
                format!("{who}: {error}; write it as {option}NAME:COUNT, e.g. {option}gpu:1"),
            ),
        }
    }
}

/// Refuses a component that names more partitions than any real request,
/// and a partition list that names none (`--partition=,`): slurmctld 22.05
/// refuses such a list, 24.11 and later put the job on the default
/// partition, and hetpolicy judges only what it can name.
pub(crate) fn check_partitions(
    policy: &Policy,
    component: &Component<'_>,
    who: &dyn std::fmt::Display,
    option: &str,
) -> Result<(), Rejection> {
    let Some(list) = component.partition else {
        return Ok(());
    };
    let (partitions, named) = list
        .split(',')
        .fold((0usize, false), |(count, named), name| {
            (count + 1, named || !name.trim().is_empty())
        });
    if partitions > MAX_PARTITIONS {
        return Err(reject(
            RejectCode::InvalidPartitionName,
            format!(
                "{who} names {partitions} partitions; hetpolicy reads at most {MAX_PARTITIONS} \
                 per component: list the partitions the job can use"
            ),
        ));
    }
    if !named {
        let example = policy.default_partition.as_deref().unwrap_or("NAME");
        return Err(reject(
            RejectCode::InvalidPartitionName,
            format!(
                "{who} gives {option}{} but names no partition in it: name one, e.g. \
                 {option}{example}, or leave it out to use the default partition",
                shown(list)
            ),
        ));
    }
    Ok(())
}

/// The names of the GRES a component requests (non-zero counts), read once
/// on the stack: rules that ask "does it request X?" for every partition of
/// a list ask this instead of parsing the TRES strings again.
pub(crate) struct RequestedGres<'a> {
    names: [&'a str; KEPT_NAMES],
    len: usize,
    /// More distinct names than fit: then the component itself is asked.
    overflow: Option<&'a Component<'a>>,
}

impl<'a> RequestedGres<'a> {
    /// Reads every GRES entry of `component` in one pass: at most
    /// [`MAX_GRES_ENTRIES`] of them, all readable.
    pub(crate) fn read(component: &'a Component<'a>) -> Result<Self, GresProblem> {
        let mut requested = RequestedGres {
            names: [""; KEPT_NAMES],
            len: 0,
            overflow: None,
        };
        let mut entries = 0usize;
        let mut unreadable = None;
        for entry in component.gres_entries() {
            entries += 1;
            match entry {
                Err(error) => {
                    unreadable.get_or_insert(error);
                }
                Ok(request) if request.count == 0 => {}
                Ok(request) => requested.add(component, request.name),
            }
        }
        if entries > MAX_GRES_ENTRIES {
            return Err(GresProblem::TooMany(entries));
        }
        match unreadable {
            Some(error) => Err(GresProblem::Unreadable(error)),
            None => Ok(requested),
        }
    }

    fn add(&mut self, component: &'a Component<'a>, name: &'a str) {
        if self.overflow.is_some() || self.names[..self.len].contains(&name) {
            return;
        }
        if self.len == KEPT_NAMES {
            self.overflow = Some(component);
            return;
        }
        self.names[self.len] = name;
        self.len += 1;
    }

    /// Each requested name, in the order first requested; once each unless
    /// the names overflowed (then some may come twice).
    pub(crate) fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.names[..self.len].iter().copied().chain(
            self.overflow
                .into_iter()
                .flat_map(|component| component.gres_requests().filter_map(Result::ok))
                .map(|request| request.name),
        )
    }

    /// True when the component asks for at least one `name`.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.names[..self.len].contains(&name)
            || self
                .overflow
                .is_some_and(|component| component.requests_gres(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Position;

    #[test]
    fn requested_names_are_read_once_and_deduplicated() {
        let component = Component {
            tres_per_job: Some("gres:gpu:2,gres:gpu:a100:1,gres:fpga:0"),
            tres_per_node: Some("gres/qpu"),
            ..Component::default()
        };
        let requested = RequestedGres::read(&component).unwrap();
        assert_eq!(requested.names().collect::<Vec<_>>(), ["gpu", "qpu"]);
        assert!(requested.contains("gpu") && requested.contains("qpu"));
        assert!(!requested.contains("fpga"), "a zero count is no request");
    }

    #[test]
    fn many_names_fall_back_to_the_component() {
        let list: Vec<String> = (0..40).map(|i| format!("gres:g{i}:1")).collect();
        let list = list.join(",");
        let component = Component {
            tres_per_node: Some(&list),
            ..Component::default()
        };
        let requested = RequestedGres::read(&component).unwrap();
        assert!(requested.contains("g0") && requested.contains("g39"));
        assert!(!requested.contains("g40"));
        assert!(requested.names().any(|name| name == "g39"));
    }

    #[test]
    fn too_many_entries_or_an_unreadable_one() {
        let list = vec!["gres:gpu:1"; MAX_GRES_ENTRIES + 1].join(",");
        let component = Component {
            tres_per_node: Some(&list),
            ..Component::default()
        };
        let problem = RequestedGres::read(&component).err().unwrap();
        assert!(problem
            .rejection(&Position::Het(1), "--gres=")
            .message
            .starts_with("hetjob component 1 carries 65 GRES requests"));
        let component = Component {
            tres_per_job: Some("gres:gpu:1,gres::2"),
            ..Component::default()
        };
        let problem = RequestedGres::read(&component).err().unwrap();
        assert_eq!(
            problem.rejection(&Position::Plain, "--gres=").message,
            "job: cannot read the GRES request 'gres::2': expected NAME, NAME:COUNT or \
             NAME:TYPE:COUNT; write it as --gres=NAME:COUNT, e.g. --gres=gpu:1"
        );
    }
}
