//! What `hetpolicy eval` reads from slurm.conf: the partitions (their
//! nodes, `Default=YES`, `MaxNodes`) and `GresTypes`. With it, eval knows
//! what slurmctld and sbatch themselves check besides the policy: unknown
//! partitions, unknown GRES names, and node counts a partition can never
//! satisfy.

use std::collections::{BTreeMap, BTreeSet};

/// One `PartitionName=` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionConf {
    /// How many nodes the partition holds; `None` when eval cannot count
    /// them (a node set, or a name it cannot expand).
    pub nodes: Option<u32>,
    /// `MaxNodes`, when limited.
    pub max_nodes: Option<u32>,
    /// `Default=YES`.
    pub default: bool,
}

/// The parts of slurm.conf eval uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlurmConf {
    /// Partitions by name.
    pub partitions: BTreeMap<String, PartitionConf>,
    /// `GresTypes`, when set.
    pub gres_types: Option<Vec<String>>,
    /// `PlugStackConfig`, when set.
    pub plugstack: Option<String>,
    /// Lines eval could not use (`Include`, node sets), for a note.
    pub unread: Vec<String>,
}

impl SlurmConf {
    /// Parses slurm.conf text.
    pub fn parse(text: &str) -> SlurmConf {
        let mut conf = SlurmConf::default();
        let mut nodes: BTreeSet<String> = BTreeSet::new();
        let mut partition_lines: Vec<Vec<(String, String)>> = Vec::new();
        let mut partition_default_max: Option<u32> = None;
        for line in logical_lines(text) {
            let first_word = line.split_whitespace().next().unwrap_or_default();
            if first_word.eq_ignore_ascii_case("include") {
                conf.unread.push(line.clone());
                continue;
            }
            let pairs = pairs(&line);
            let Some((key, value)) = pairs.first() else {
                continue;
            };
            match key.as_str() {
                "nodename" if !value.eq_ignore_ascii_case("default") => {
                    match expand_hostlist(value) {
                        Some(names) => nodes.extend(names),
                        None => conf.unread.push(line.clone()),
                    }
                }
                "partitionname" if value.eq_ignore_ascii_case("default") => {
                    partition_default_max = find(&pairs, "maxnodes").and_then(limit);
                }
                "partitionname" => {
                    let mut pairs = pairs.clone();
                    if find(&pairs, "maxnodes").is_none() {
                        if let Some(max) = partition_default_max {
                            pairs.push(("maxnodes".to_owned(), max.to_string()));
                        }
                    }
                    partition_lines.push(pairs);
                }
                "grestypes" => {
                    conf.gres_types = Some(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|g| !g.is_empty())
                            .map(str::to_owned)
                            .collect(),
                    );
                }
                "plugstackconfig" => conf.plugstack = Some(value.clone()),
                "nodeset" => conf.unread.push(line.clone()),
                _ => {}
            }
        }
        for pairs in partition_lines {
            let name = pairs[0].1.clone();
            let count = match find(&pairs, "nodes") {
                None => Some(0),
                Some(list) if list.eq_ignore_ascii_case("all") => u32::try_from(nodes.len()).ok(),
                Some(list) => expand_hostlist(list).and_then(|names| {
                    let known = names.iter().all(|n| nodes.contains(n));
                    known.then(|| u32::try_from(names.len()).ok()).flatten()
                }),
            };
            conf.partitions.insert(
                name,
                PartitionConf {
                    nodes: count,
                    max_nodes: find(&pairs, "maxnodes").and_then(limit),
                    default: find(&pairs, "default").is_some_and(|d| d.eq_ignore_ascii_case("yes")),
                },
            );
        }
        conf
    }

    /// The `Default=YES` partition.
    pub fn default_partition(&self) -> Option<&str> {
        self.partitions
            .iter()
            .find(|(_, p)| p.default)
            .map(|(name, _)| name.as_str())
    }

    /// The most nodes one job can get on `partition`: its node count, or
    /// `MaxNodes` when smaller.
    pub fn node_limit(&self, partition: &str) -> Option<u32> {
        let p = self.partitions.get(partition)?;
        match (p.nodes, p.max_nodes) {
            (Some(n), Some(m)) => Some(n.min(m)),
            (n, m) => n.or(m),
        }
    }
}

fn find<'p>(pairs: &'p [(String, String)], key: &str) -> Option<&'p str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn limit(value: &str) -> Option<u32> {
    if value.eq_ignore_ascii_case("unlimited") || value.eq_ignore_ascii_case("infinite") {
        return None;
    }
    value.parse().ok()
}

/// Lines without comments, with `\` continuations joined.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let mut line = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'#') => {
                    line.push('#');
                    chars.next();
                }
                '#' => break,
                _ => line.push(c),
            }
        }
        let trimmed = line.trim_end();
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        if !pending.trim().is_empty() {
            out.push(std::mem::take(&mut pending));
        }
        pending.clear();
    }
    if !pending.trim().is_empty() {
        out.push(pending);
    }
    out
}

/// `Key=Value` words (keys lower-cased; values may be quoted).
fn pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else {
            break;
        };
        let key = rest[..eq].trim().to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(char::is_whitespace) {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.push((key, value.to_owned()));
        rest = next.trim_start();
    }
    out
}

/// Expands a Slurm hostlist (`c[1-4,7],g1`); `None` when it is not one
/// eval can expand or it names more than 100,000 hosts.
pub(crate) fn expand_hostlist(list: &str) -> Option<Vec<String>> {
    const MAX: usize = 100_000;
    let mut names = Vec::new();
    for part in split_top_level(list) {
        let mut expanded = vec![String::new()];
        let mut rest = part;
        while !rest.is_empty() {
            match rest.find('[') {
                None => {
                    expanded.iter_mut().for_each(|n| n.push_str(rest));
                    rest = "";
                }
                Some(open) => {
                    let close = rest[open..].find(']')? + open;
                    let prefix = &rest[..open];
                    let mut next = Vec::new();
                    for range in rest[open + 1..close].split(',') {
                        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                        let width = lo.len();
                        let (lo, hi): (u64, u64) = (lo.parse().ok()?, hi.parse().ok()?);
                        if hi < lo || hi - lo > MAX as u64 {
                            return None;
                        }
                        for base in &expanded {
                            for n in lo..=hi {
                                next.push(format!("{base}{prefix}{n:0width$}"));
                                if next.len() > MAX {
                                    return None;
                                }
                            }
                        }
                    }
                    expanded = next;
                    rest = &rest[close + 1..];
                }
            }
        }
        names.extend(expanded.into_iter().filter(|n| !n.is_empty()));
        if names.len() > MAX {
            return None;
        }
    }
    names.sort_unstable();
    names.dedup();
    Some(names)
}

/// Splits on commas outside brackets.
fn split_top_level(list: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in list.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(list[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostlists() {
        assert_eq!(expand_hostlist("c1").unwrap(), ["c1"]);
        assert_eq!(
            expand_hostlist("c[1-3],g1").unwrap(),
            ["c1", "c2", "c3", "g1"]
        );
        assert_eq!(
            expand_hostlist("n[01-02,05]").unwrap(),
            ["n01", "n02", "n05"]
        );
        assert_eq!(expand_hostlist("r[1-2]n[1-2]").unwrap().len(), 4);
        assert!(expand_hostlist("c[1-").is_none());
        assert!(expand_hostlist("c[5-1]").is_none());
    }

    #[test]
    fn the_test_cluster() {
        let conf = SlurmConf::parse(
            "# Generated\nGresTypes=gpu,qpu\nNodeName=c1 NodeAddr=127.0.0.1 CPUs=8\nNodeName=g[1-2] Gres=gpu:2 \\\n  CPUs=8\nPartitionName=DEFAULT MaxNodes=5\nPartitionName=cpu Nodes=c1 Default=YES MaxTime=INFINITE State=UP\npartitionname=gpu nodes=g[1-2] MaxNodes=1\nPartitionName=all Nodes=ALL MaxNodes=UNLIMITED\nPartitionName=odd Nodes=@set\nInclude /etc/slurm/more.conf\n",
        );
        assert_eq!(
            conf.gres_types.as_deref(),
            Some(&["gpu".to_owned(), "qpu".to_owned()][..])
        );
        assert_eq!(conf.default_partition(), Some("cpu"));
        assert_eq!(conf.node_limit("cpu"), Some(1));
        assert_eq!(conf.node_limit("gpu"), Some(1), "MaxNodes");
        assert_eq!(conf.partitions["gpu"].nodes, Some(2));
        assert_eq!(conf.node_limit("all"), Some(3));
        assert_eq!(
            conf.partitions["cpu"].max_nodes,
            Some(5),
            "PartitionName=DEFAULT"
        );
        assert_eq!(conf.partitions["odd"].nodes, None);
        assert_eq!(conf.unread.len(), 1);
        assert!(!conf.partitions.contains_key("DEFAULT"));
    }
}
