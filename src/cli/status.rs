//! `amlip status`: a live table of the nodes in the domain.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use amlip::multiservice::{AmlipId, NodeKind, StateKind, Status};
use amlip::node::{NodeError, NodeOptions, StatusNode};

use super::demo::clock;
use super::signal::{self, Ended};

/// How often the table looks at the stop flag.
const TICK: Duration = Duration::from_millis(100);

/// The table: every node seen, with its latest kind and state.
pub type Table = BTreeMap<AmlipId, (NodeKind, StateKind)>;

/// Record `s`; true if the table changed.
pub fn update(table: &mut Table, s: &Status) -> bool {
    let new = (s.node_kind, s.state);
    table.insert(s.id, new) != Some(new)
}

/// The table as text: a header, then one line per node (live nodes first, by id).
pub fn render(table: &Table) -> String {
    let width = table
        .keys()
        .map(|id| id.to_string().len())
        .max()
        .unwrap_or(0)
        .max(2);
    let mut rows: Vec<(&AmlipId, &(NodeKind, StateKind))> = table.iter().collect();
    rows.sort_by_key(|(id, (_, st))| (*st == StateKind::DROPPED, **id));
    let mut out = format!("{:<width$}  {:<10}  STATE\n", "ID", "KIND");
    for (id, (kind, state)) in rows {
        out.push_str(&format!(
            "{:<width$}  {:<10}  {state}\n",
            id.to_string(),
            kind.to_string()
        ));
    }
    let live = table
        .values()
        .filter(|(_, s)| *s != StateKind::DROPPED)
        .count();
    out.push_str(&format!("{live} live node(s)\n"));
    out
}

/// A status change as one JSON object (`amlip status --json`).
pub fn json_line(s: &Status) -> String {
    super::json::Object::new()
        .str("type", "status")
        .str("id", &s.id.to_string())
        .str("kind", &s.node_kind.to_string())
        .str("state", &s.state.to_string())
        .finish()
}

/// `amlip status`: until `duration` passes or a stop signal.
pub fn run(
    name: String,
    options: NodeOptions,
    duration: Option<Duration>,
    json: bool,
) -> Result<Ended, NodeError> {
    let node = StatusNode::new(&name, options.clone())?;
    let tty = !json && std::io::stdout().is_terminal();
    eprintln!(
        "Status node {} on domain {} ({}); Ctrl-C to stop",
        node.id(),
        options.domain,
        options.interface
    );
    let start = clock();
    let mut table = Table::new();
    let mut out = std::io::stdout();
    if tty {
        let _ = write!(out, "\x1b[2J\x1b[H{}", render(&table));
        let _ = out.flush();
    }
    loop {
        if signal::stopping() {
            return Ok(Ended::Completed);
        }
        let left = match duration {
            Some(d) => match d.checked_sub(clock().saturating_duration_since(start)) {
                Some(l) if !l.is_zero() => l.min(TICK),
                _ => return Ok(Ended::Completed),
            },
            None => TICK,
        };
        let s = match node.recv_timeout(left) {
            Ok(s) => s,
            Err(NodeError::Timeout) => continue,
            Err(e) => return Err(e),
        };
        if !update(&mut table, &s) {
            continue;
        }
        if json {
            let _ = writeln!(out, "{}", json_line(&s));
        } else if tty {
            let _ = write!(out, "\x1b[2J\x1b[H{}", render(&table));
        } else {
            let _ = writeln!(out, "{} {} {}", s.id, s.node_kind, s.state);
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_live_nodes_first_and_counts_them() {
        let a = AmlipId::new("AMLMainNode", [1, 2, 3, 4]).unwrap();
        let b = AmlipId::new("Comp", [0xff, 0, 0, 1]).unwrap();
        let mut t = Table::new();
        let st = |id, k, s| Status {
            id,
            node_kind: k,
            state: s,
        };
        assert!(update(&mut t, &st(a, NodeKind::MAIN, StateKind::DROPPED)));
        assert!(update(
            &mut t,
            &st(b, NodeKind::COMPUTING, StateKind::RUNNING)
        ));
        assert!(!update(
            &mut t,
            &st(b, NodeKind::COMPUTING, StateKind::RUNNING)
        ));
        assert_eq!(
            json_line(&st(b, NodeKind::COMPUTING, StateKind::RUNNING)),
            r#"{"type":"status","id":"Comp.ff.00.00.01","kind":"computing","state":"running"}"#
        );
        assert_eq!(
            render(&t),
            "ID                       KIND        STATE\n\
             Comp.ff.00.00.01         computing   running\n\
             AMLMainNode.01.02.03.04  main        dropped\n\
             1 live node(s)\n"
        );
    }
}
