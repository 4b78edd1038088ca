//! [`ParticipantStats`]: the counters a [`super::DomainParticipant`] keeps, copied in one
//! go ([`super::DomainParticipant::stats`]).

use crate::participant::{Participant, Stats};
use crate::reliability::{ReaderStats, WriterStats};
use crate::transport::driver::TransportStats;
use crate::transport::faults::FaultStats;

/// A snapshot of a participant's counters: datagrams in and out, what was dropped and why,
/// reliability traffic, discovery and the transport's errors. Counters only grow (the
/// `discovered_*` and `matched_*` numbers are the current ones). The first fields are the
/// headline numbers; `core`, `writers`, `readers` and `faults` hold every counter by reason.
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct ParticipantStats {
    /// Datagrams received and handed to the protocol core.
    pub datagrams_in: u64,
    /// Datagrams produced (each once, whatever the number of its destinations).
    pub datagrams_out: u64,
    /// Octets received.
    pub bytes_in: u64,
    /// Octets produced.
    pub bytes_out: u64,
    /// Datagrams (or their tails) dropped as malformed (`core.dropped_malformed`).
    pub malformed: u64,
    /// Datagrams (or their parts) dropped for coming from an address their participant did
    /// not announce (`core.rejected_source`).
    pub rejected_source: u64,
    /// DATA / DATA_FRAG re-sent because a reader asked for them (`writers.repairs_sent`).
    pub retransmissions: u64,
    /// ACKNACK submessages received by the local writers.
    pub acknacks_received: u64,
    /// ACKNACK submessages sent by the local readers.
    pub acknacks_sent: u64,
    /// NACK_FRAG submessages received by the local writers.
    pub nack_frags_received: u64,
    /// NACK_FRAG submessages sent by the local readers.
    pub nack_frags_sent: u64,
    /// HEARTBEAT submessages sent by the local writers.
    pub heartbeats_sent: u64,
    /// Datagrams the transport could not send at all.
    pub send_errors: u64,
    /// Datagrams the transport queued for a retry (the kernel's buffer was full).
    pub send_retries: u64,
    /// Remote participants currently known.
    pub discovered_participants: usize,
    /// Remote participants with an endpoint matched with one of ours (the matched peers).
    pub matched_participants: usize,
    /// Reader matches of the local writers (a reader matched with two writers counts twice).
    pub matched_readers: usize,
    /// Writer matches of the local readers (likewise).
    pub matched_writers: usize,
    /// Every counter of the protocol core by reason: malformed, rejected, not for us,
    /// unknown submessages, bad discovery, full tables, early data, participants lost, ...
    pub core: Stats,
    /// The local writers' counters, summed (the SEDP ones included).
    pub writers: WriterStats,
    /// The local readers' counters, summed (the SEDP ones included).
    pub readers: ReaderStats,
    /// What fault injection did (all zero without it; see `transport::faults`).
    pub faults: FaultStats,
}

impl ParticipantStats {
    /// Copy the counters of `participant` and its transport (under the driver's lock).
    pub(crate) fn collect(participant: &Participant, transport: TransportStats) -> Self {
        let core = participant.stats();
        let writers = participant.writer_stats();
        let readers = participant.readers_stats();
        let matched = participant.matched();
        ParticipantStats {
            datagrams_in: core.datagrams_received,
            datagrams_out: core.datagrams_sent,
            bytes_in: core.bytes_received,
            bytes_out: core.bytes_sent,
            malformed: core.dropped_malformed,
            rejected_source: core.rejected_source,
            retransmissions: writers.repairs_sent,
            acknacks_received: writers.acknacks_received,
            acknacks_sent: readers.acknacks_sent,
            nack_frags_received: writers.nack_frags_received,
            nack_frags_sent: readers.nack_frags_sent,
            heartbeats_sent: writers.heartbeats_sent,
            send_errors: transport.send_errors,
            send_retries: transport.send_retries,
            discovered_participants: participant.remote_participants().count(),
            matched_participants: matched.participants,
            matched_readers: matched.readers,
            matched_writers: matched.writers,
            core,
            writers,
            readers,
            faults: transport.faults,
        }
    }

    /// The counters of a sans-IO participant alone (no transport: its counters stay zero),
    /// e.g. one run on the simulated network.
    pub fn of_core(participant: &Participant) -> Self {
        Self::collect(participant, TransportStats::default())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::ParticipantStats;
    use crate::discovery::data::qos::{EndpointQos, History, Reliability};
    use crate::simworld::SimWorld;
    use crate::transport::sim::LinkConfig;

    fn reliable() -> EndpointQos {
        let mut q = EndpointQos::writer_default();
        q.reliability = Reliability::WRITER_DEFAULT;
        q.history = History::KeepAll;
        q
    }

    #[test]
    fn a_malformed_datagram_is_counted_under_its_reason() {
        let mut w = SimWorld::new(21, 0, true);
        let a = w.add_participant("a", |_| {});
        let before = ParticipantStats::of_core(&w.participants[a].participant);
        let now = w.now;
        let src = "127.0.0.1:9".parse().unwrap();
        let p = &mut w.participants[a].participant;
        p.handle_datagram(now, src, b"RTPS\x02\x04");
        let s = ParticipantStats::of_core(p);
        assert_eq!(s.datagrams_in, before.datagrams_in + 1);
        assert_eq!(s.bytes_in, before.bytes_in + 6);
        assert_eq!(s.malformed, before.malformed + 1);
        assert_eq!(s.core.dropped_malformed, s.malformed);
        assert_eq!(s.rejected_source, before.rejected_source);
    }

    #[test]
    fn lost_samples_are_counted_as_nacks_and_retransmissions() {
        let mut w = SimWorld::new(22, 0, true);
        let seed = w.seed();
        let a = w.add_participant("pub", |_| {});
        let b = w.add_participant("sub", |_| {});
        let now = w.now;
        let wr = w.participants[a]
            .participant
            .create_writer(now, "t", "T", false, reliable())
            .unwrap();
        let rd = w.participants[b]
            .participant
            .create_reader(now, "t", "T", false, reliable())
            .unwrap();
        w.flush(a);
        w.flush(b);
        let matched = |w: &mut SimWorld| {
            ParticipantStats::of_core(&w.participants[a].participant).matched_participants == 1
        };
        assert!(
            w.run_until(Duration::from_secs(20), matched),
            "seed {seed}: no match"
        );
        let s = ParticipantStats::of_core(&w.participants[a].participant);
        assert_eq!((s.discovered_participants, s.matched_readers), (1, 1));
        assert_eq!(s.retransmissions, 0, "seed {seed}");
        w.set_link(LinkConfig::default().with_loss(0.3));
        const N: u32 = 200;
        let mut got = 0;
        for i in 0..N {
            let now = w.now;
            let payload = bytes::Bytes::from(vec![0, 1, 0, 0, i as u8]);
            w.participants[a]
                .participant
                .write(now, wr, payload, None)
                .unwrap();
            w.flush(a);
        }
        let ok = w.run_until(Duration::from_secs(60), |w| {
            while w.participants[b].participant.take(rd).is_some() {
                got += 1;
            }
            got >= N
        });
        assert!(ok, "seed {seed}: only {got} of {N} samples arrived");
        let pub_stats = ParticipantStats::of_core(&w.participants[a].participant);
        let sub_stats = ParticipantStats::of_core(&w.participants[b].participant);
        assert!(pub_stats.retransmissions > 0, "seed {seed}: {pub_stats:?}");
        assert!(pub_stats.acknacks_received > 0, "seed {seed}");
        assert!(sub_stats.acknacks_sent > 0, "seed {seed}");
        assert!(pub_stats.datagrams_out > 0 && sub_stats.datagrams_in > 0);
        // The SEDP readers' samples are counted too.
        assert!(sub_stats.readers.delivered > u64::from(N), "seed {seed}");
        assert_eq!(pub_stats.matched_participants, 1);
    }
}
