//! Who may speak for a remote participant, and who gets a place in the participant table
//! (issue 11 items 2 and 3). Plain RTPS has no authentication (RTPS 2.5 §8.3.3: the GUID
//! prefix in the header is whatever the sender wrote), so:
//!
//! - traffic that names a known participant is accepted only from an IP address that
//!   participant announced in SPDP (metatraffic or default unicast locators) or from the one
//!   its first SPDP came from. Addresses are compared, not ports (a participant on 127.0.0.1
//!   sends from other ports than it listens on). A participant that announced no unicast
//!   IPv4 locator is accepted from anywhere (leniency for peers that announce only
//!   multicast or IPv6).
//! - a full table makes room: participants that have sent nothing but SPDP (no SEDP, no user
//!   traffic) are evicted, least recently heard first, and at most
//!   [`MAX_SPDP_ONLY_PER_SOURCE`] of them are kept per source address, so a flood of fake
//!   SPDP participants churns through a few slots and real newcomers still get in.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use super::{LostReason, Participant, RemoteParticipant, MAX_REMOTE_PARTICIPANTS};
use crate::discovery::data::ParticipantData;
use crate::wire::{GuidPrefix, Locator, LocatorKind};

/// Most participants that have sent nothing but SPDP kept per source IP address; a newcomer
/// over the cap evicts the one of them heard least recently.
pub const MAX_SPDP_ONLY_PER_SOURCE: usize = 64;

/// The IPv4 unicast addresses in `locators` (unspecified ones left out).
fn ipv4_addresses(locators: &[Locator]) -> impl Iterator<Item = IpAddr> + '_ {
    locators
        .iter()
        .filter(|l| l.kind == LocatorKind::UDP_V4)
        .filter_map(Locator::to_socket_addr)
        .map(|a| a.ip())
        .filter(|ip| !ip.is_unspecified() && !ip.is_multicast())
}

/// True when `ip` may speak for a participant that announced `data` and whose first SPDP
/// came from `heard_from`.
fn accepts(data_unicast: [&[Locator]; 2], heard_from: Option<IpAddr>, ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if heard_from == Some(ip) {
        return true;
    }
    let mut announced = data_unicast.into_iter().flat_map(ipv4_addresses);
    match announced.next() {
        None => true,
        Some(first) => first == ip || announced.any(|a| a == ip),
    }
}

impl RemoteParticipant {
    /// A remote participant just discovered at `now` by an SPDP from `source`.
    pub(super) fn new(
        data: ParticipantData,
        lease_expiry: Option<Instant>,
        source: SocketAddr,
        now: Instant,
    ) -> Self {
        RemoteParticipant {
            data,
            lease_expiry,
            heard_from: source.ip().to_canonical(),
            last_heard: now,
            engaged: false,
            answers_left: 0,
            next_answer: None,
        }
    }

    /// True when a datagram from `ip` may speak for this participant.
    pub(super) fn accepts(&self, ip: IpAddr) -> bool {
        accepts(
            [
                &self.data.metatraffic_unicast_locators,
                &self.data.default_unicast_locators,
            ],
            Some(self.heard_from),
            ip,
        )
    }
}

impl Participant {
    /// True when a datagram from `source` may carry submessages of participant `prefix`:
    /// unknown participants (nothing of theirs is matched) and ourselves by our own locators.
    pub(super) fn source_allowed(&self, prefix: GuidPrefix, source: &SocketAddr) -> bool {
        if prefix == self.prefix {
            return accepts(
                [
                    &self.config.metatraffic_unicast,
                    &self.config.default_unicast,
                ],
                None,
                source.ip(),
            );
        }
        self.remotes
            .get(&prefix)
            .is_none_or(|r| r.accepts(source.ip()))
    }

    /// Note that participant `prefix` sent something other than SPDP (it is then never
    /// evicted to make room for a newcomer).
    pub(super) fn mark_engaged(&mut self, prefix: GuidPrefix) {
        if let Some(r) = self.remotes.get_mut(&prefix) {
            r.engaged = true;
        }
    }

    /// Make room for a new participant heard from `source`: evict the least recently heard
    /// SPDP-only participant of the same source when that source is at its cap, or of any
    /// source when the table is full. False when there is no room (every entry is engaged).
    pub(super) fn make_room(&mut self, now: Instant, source: &SocketAddr) -> bool {
        let ip = source.ip().to_canonical();
        let spdp_only = self.remotes.iter().filter(|(_, r)| !r.engaged);
        let same_source: Vec<(&GuidPrefix, &RemoteParticipant)> = spdp_only
            .clone()
            .filter(|(_, r)| r.heard_from == ip)
            .collect();
        let victim = if same_source.len() >= MAX_SPDP_ONLY_PER_SOURCE {
            same_source
                .iter()
                .min_by_key(|(_, r)| r.last_heard)
                .map(|(p, _)| **p)
        } else if self.remotes.len() >= MAX_REMOTE_PARTICIPANTS {
            spdp_only.min_by_key(|(_, r)| r.last_heard).map(|(p, _)| *p)
        } else {
            return true;
        };
        let Some(victim) = victim else {
            self.stats.table_full += 1;
            return false;
        };
        log::debug!("participant table: evicting {victim} (SPDP only) for a newcomer from {ip}");
        self.stats.evicted += 1;
        self.remove_participant(now, victim, LostReason::Evicted);
        self.remotes.len() < MAX_REMOTE_PARTICIPANTS
    }
}

impl Participant {
    /// The counters of a local reader (suspect claims, resyncs, ...); `None` if unknown.
    pub fn reader_stats(
        &self,
        reader: crate::wire::EntityId,
    ) -> Option<crate::reliability::ReaderStats> {
        self.readers.get(&reader).map(|r| *r.reader.stats())
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
