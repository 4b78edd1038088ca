//! `amlip status`: a live table of the nodes in the domain.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use amlip::multiservice::{AmlipId, NodeKind, StateKind, Status};
use amlip::node::{NodeError, NodeOptions, StatusNode};

use super::demo::clock;
use super::signal::{self, Ended};
use super::stats;

/// How often the table looks at the stop flag.
const TICK: Duration = Duration::from_millis(100);
/// How often `--stats` prints the counters.
const STATS_EVERY: Duration = Duration::from_secs(1);

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

/// `amlip status`: until `duration` passes or a stop signal; with `stats`, the node's DDS
/// counters every [`STATS_EVERY`] and at the end.
pub fn run(
    name: String,
    options: NodeOptions,
    duration: Option<Duration>,
    json: bool,
    stats: bool,
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
    // The last counters shown (a terminal's screen is redrawn with them) and when they are
    // due again.
    let mut shown = String::new();
    let mut stats_due = start;
    let mut redraw = tty;
    let ended = loop {
        if stats && clock() >= stats_due {
            stats_due = clock() + STATS_EVERY;
            shown = show_stats(&node, json, tty, &mut out);
            redraw = tty;
        }
        if redraw {
            redraw = false;
            let _ = write!(out, "\x1b[2J\x1b[H{}{shown}", render(&table));
            let _ = out.flush();
        }
        if signal::stopping() {
            break Ok(Ended::Completed);
        }
        let mut left = match duration {
            Some(d) => match d.checked_sub(clock().saturating_duration_since(start)) {
                Some(l) if !l.is_zero() => l.min(TICK),
                _ => break Ok(Ended::Completed),
            },
            None => TICK,
        };
        if stats {
            left = left.min(stats_due.saturating_duration_since(clock()));
        }
        let s = match node.recv_timeout(left) {
            Ok(s) => s,
            Err(NodeError::Timeout) => continue,
            Err(e) => break Err(e),
        };
        if !update(&mut table, &s) {
            continue;
        }
        if json {
            let _ = writeln!(out, "{}", json_line(&s));
        } else if tty {
            redraw = true;
            continue;
        } else {
            let _ = writeln!(out, "{} {} {}", s.id, s.node_kind, s.state);
        }
        let _ = out.flush();
    };
    if stats {
        show_stats(&node, json, tty, &mut out);
    }
    ended
}

/// Print the node's DDS counters (a JSON object, or a line of text; on a terminal the
/// caller redraws the screen with them): returns the text line.
fn show_stats(node: &StatusNode, json: bool, tty: bool, out: &mut impl Write) -> String {
    let s = node.stats().participant;
    if json {
        let _ = writeln!(out, "{}", stats::json_line(&s));
        let _ = out.flush();
        return String::new();
    }
    let line = format!("{}\n", stats::human(&s));
    if !tty {
        let _ = write!(out, "{line}");
        let _ = out.flush();
    }
    line
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
