//! `--stats`: a node's DDS counters for eyes (one line) and for scripts (one JSON object).

use std::fmt::Write;

use amlip::node::NodeStats;
use rtps::dds::ParticipantStats;

use super::json::Object;

/// The participant's counters as one line of text.
pub fn human(s: &ParticipantStats) -> String {
    let c = &s.core;
    let mut out = String::new();
    let _ = write!(
        out,
        "stats: datagrams in {} ({} B) out {} ({} B); rejected: malformed {}, source {}, \
         not for us {}, unknown submessages {}, bad discovery {}, table full {}, \
         early data {}; retransmissions {}; ACKNACKs in {} out {}; NACK_FRAGs in {} out {}; \
         send errors {} (retries {}); peers discovered {} matched {} (lost {})",
        s.datagrams_in,
        s.bytes_in,
        s.datagrams_out,
        s.bytes_out,
        s.malformed,
        s.rejected_source,
        c.not_for_us,
        c.unknown_submessages,
        c.bad_discovery,
        c.table_full,
        c.early_data_dropped,
        s.retransmissions,
        s.acknacks_received,
        s.acknacks_sent,
        s.nack_frags_received,
        s.nack_frags_sent,
        s.send_errors,
        s.send_retries,
        s.discovered_participants,
        s.matched_participants,
        c.participants_lost,
    );
    out
}

/// The participant's counters as one JSON object of `"type":"stats"` (rejected datagrams by
/// reason under `rejected_*`).
pub fn json_line(s: &ParticipantStats) -> String {
    let c = &s.core;
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    Object::new()
        .str("type", "stats")
        .int("datagrams_in", s.datagrams_in)
        .int("datagrams_out", s.datagrams_out)
        .int("bytes_in", s.bytes_in)
        .int("bytes_out", s.bytes_out)
        .int("rejected_malformed", s.malformed)
        .int("rejected_source", s.rejected_source)
        .int("rejected_not_for_us", c.not_for_us)
        .int("rejected_unknown_submessage", c.unknown_submessages)
        .int("rejected_bad_discovery", c.bad_discovery)
        .int("rejected_table_full", c.table_full)
        .int("rejected_early_data", c.early_data_dropped)
        .int("retransmissions", s.retransmissions)
        .int("acknacks_in", s.acknacks_received)
        .int("acknacks_out", s.acknacks_sent)
        .int("nack_frags_in", s.nack_frags_received)
        .int("nack_frags_out", s.nack_frags_sent)
        .int("heartbeats_out", s.heartbeats_sent)
        .int("send_errors", s.send_errors)
        .int("send_retries", s.send_retries)
        .int("discovered_participants", n(s.discovered_participants))
        .int("matched_participants", n(s.matched_participants))
        .int("participants_lost", c.participants_lost)
        .finish()
}

/// `amlip main --stats` / `amlip computing --stats`: the node's counters on stderr at exit.
pub fn print_at_exit(s: &NodeStats) {
    let core = &s.core;
    eprintln!(
        "{}; node: samples {}, malformed {}, foreign {}, oversized {}, write errors {}",
        human(&s.participant),
        core.samples,
        core.malformed,
        core.foreign,
        core.oversized,
        s.write_errors
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stats_line_names_every_headline_counter() {
        let mut s = ParticipantStats::default();
        s.datagrams_in = 7;
        s.malformed = 2;
        s.matched_participants = 1;
        let line = json_line(&s);
        assert!(line.starts_with(r#"{"type":"stats","datagrams_in":7,"datagrams_out":0,"#));
        assert!(line.contains(r#""rejected_malformed":2,"#));
        assert!(line.ends_with(r#""matched_participants":1,"participants_lost":0}"#));
        let text = human(&s);
        assert!(text.starts_with("stats: datagrams in 7 (0 B) out 0 (0 B); rejected: malformed 2"));
        assert!(text.contains("peers discovered 0 matched 1 (lost 0)"));
    }
}
