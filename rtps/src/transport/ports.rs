//! Well-known UDP port mapping (RTPS 2.5 §9.6.1.1).
//!
//! A domain id and a participant id give four ports:
//!
//! | Traffic              | Formula                       | Domain 0     |
//! |----------------------|-------------------------------|--------------|
//! | SPDP multicast       | PB + DG·domain + d0           | 7400         |
//! | User multicast       | PB + DG·domain + d2           | 7401         |
//! | Metatraffic unicast  | PB + DG·domain + d1 + PG·pid  | 7410 + 2·pid |
//! | User unicast         | PB + DG·domain + d3 + PG·pid  | 7411 + 2·pid |
//!
//! Every port must fit a `u16`, which bounds the domain id to [`MAX_DOMAIN_ID`] (232) and the
//! participant id per domain ([`max_participant_id`]). All arithmetic is checked; nothing here
//! opens a socket.

use core::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Port base `PB` (RTPS 2.5 §9.6.1.1).
pub const PORT_BASE: u32 = 7400;
/// Domain id gain `DG` (RTPS 2.5 §9.6.1.1).
pub const DOMAIN_ID_GAIN: u32 = 250;
/// Participant id gain `PG` (RTPS 2.5 §9.6.1.1).
pub const PARTICIPANT_ID_GAIN: u32 = 2;
/// Offset `d0` of the SPDP (metatraffic) multicast port (RTPS 2.5 §9.6.1.1).
pub const OFFSET_D0: u32 = 0;
/// Offset `d1` of the metatraffic unicast port (RTPS 2.5 §9.6.1.1).
pub const OFFSET_D1: u32 = 10;
/// Offset `d2` of the user (default) multicast port (RTPS 2.5 §9.6.1.1).
pub const OFFSET_D2: u32 = 1;
/// Offset `d3` of the user (default) unicast port (RTPS 2.5 §9.6.1.1).
pub const OFFSET_D3: u32 = 11;
/// The default SPDP multicast group `239.255.0.1` (RTPS 2.5 §9.6.1.4.1).
pub const SPDP_MULTICAST_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 0, 1);
/// The largest domain id whose ports fit a `u16` (7400 + 250·232 + 11 = 65411).
pub const MAX_DOMAIN_ID: u32 = 232;
/// How many participant ids the automatic choice tries at most (0..=this), as Fast DDS does.
pub const AUTO_PARTICIPANT_ID_CAP: u32 = 120;

/// Why a domain id or participant id has no ports (RTPS 2.5 §9.6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortError {
    /// The domain id is over [`MAX_DOMAIN_ID`].
    DomainIdOutOfRange {
        /// The rejected domain id.
        domain_id: u32,
    },
    /// The participant id gives a unicast port over `u16::MAX` in this domain.
    ParticipantIdOutOfRange {
        /// The domain id.
        domain_id: u32,
        /// The rejected participant id.
        participant_id: u32,
    },
}

impl fmt::Display for PortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortError::DomainIdOutOfRange { domain_id } => write!(
                f,
                "domain id {domain_id} is out of range (0..={MAX_DOMAIN_ID}: ports must fit 16 bits)"
            ),
            PortError::ParticipantIdOutOfRange {
                domain_id,
                participant_id,
            } => write!(
                f,
                "participant id {participant_id} is out of range for domain {domain_id} \
                 (0..={}: ports must fit 16 bits)",
                max_participant_id(*domain_id).unwrap_or(0)
            ),
        }
    }
}

impl std::error::Error for PortError {}

/// `PB + DG·domain + offset`, checked to fit a `u16`.
fn domain_port(domain_id: u32, offset: u32) -> Result<u16, PortError> {
    if domain_id > MAX_DOMAIN_ID {
        return Err(PortError::DomainIdOutOfRange { domain_id });
    }
    DOMAIN_ID_GAIN
        .checked_mul(domain_id)
        .and_then(|p| p.checked_add(PORT_BASE))
        .and_then(|p| p.checked_add(offset))
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(PortError::DomainIdOutOfRange { domain_id })
}

/// `PB + DG·domain + offset + PG·pid`, checked to fit a `u16`.
fn participant_port(domain_id: u32, participant_id: u32, offset: u32) -> Result<u16, PortError> {
    let base = domain_port(domain_id, offset)?;
    PARTICIPANT_ID_GAIN
        .checked_mul(participant_id)
        .and_then(|p| p.checked_add(u32::from(base)))
        .and_then(|p| u16::try_from(p).ok())
        .ok_or(PortError::ParticipantIdOutOfRange {
            domain_id,
            participant_id,
        })
}

/// The SPDP (builtin metatraffic) multicast port `PB + DG·domain + d0` (RTPS 2.5 §9.6.1.1).
pub fn spdp_multicast_port(domain_id: u32) -> Result<u16, PortError> {
    domain_port(domain_id, OFFSET_D0)
}

/// The user-traffic multicast port `PB + DG·domain + d2` (RTPS 2.5 §9.6.1.1).
pub fn user_multicast_port(domain_id: u32) -> Result<u16, PortError> {
    domain_port(domain_id, OFFSET_D2)
}

/// The metatraffic unicast port `PB + DG·domain + d1 + PG·pid` (RTPS 2.5 §9.6.1.1).
pub fn metatraffic_unicast_port(domain_id: u32, participant_id: u32) -> Result<u16, PortError> {
    participant_port(domain_id, participant_id, OFFSET_D1)
}

/// The user-traffic unicast port `PB + DG·domain + d3 + PG·pid` (RTPS 2.5 §9.6.1.1).
pub fn user_unicast_port(domain_id: u32, participant_id: u32) -> Result<u16, PortError> {
    participant_port(domain_id, participant_id, OFFSET_D3)
}

/// The largest participant id whose ports fit a `u16` in this domain (RTPS 2.5 §9.6.1.1).
pub fn max_participant_id(domain_id: u32) -> Result<u32, PortError> {
    let base = u32::from(domain_port(domain_id, OFFSET_D3)?);
    Ok((u32::from(u16::MAX) - base) / PARTICIPANT_ID_GAIN)
}

/// The participant ids an automatic choice tries, in order: `0..=min(cap, max)` (RTPS 2.5
/// §9.6.1.1).
pub fn candidate_participant_ids(
    domain_id: u32,
    cap: u32,
) -> Result<core::ops::RangeInclusive<u32>, PortError> {
    Ok(0..=cap.min(max_participant_id(domain_id)?))
}

/// The well-known metatraffic unicast addresses of participant ids `0..=last` on `ip`, the
/// targets of unicast SPDP probes where multicast is unavailable (RTPS 2.5 §8.5.3, §9.6.1.1).
/// Ids whose port does not fit are left out.
pub fn spdp_unicast_probe_addrs(
    domain_id: u32,
    ip: Ipv4Addr,
    last: u32,
) -> impl Iterator<Item = SocketAddrV4> {
    (0..=last).map_while(move |pid| {
        metatraffic_unicast_port(domain_id, pid)
            .ok()
            .map(|port| SocketAddrV4::new(ip, port))
    })
}

/// The four well-known ports of one participant (RTPS 2.5 §9.6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ports {
    /// The domain id.
    pub domain_id: u32,
    /// The participant id.
    pub participant_id: u32,
    /// SPDP multicast port (`d0`).
    pub spdp_multicast: u16,
    /// User multicast port (`d2`).
    pub user_multicast: u16,
    /// Metatraffic unicast port (`d1`).
    pub metatraffic_unicast: u16,
    /// User unicast port (`d3`).
    pub user_unicast: u16,
}

impl Ports {
    /// All four ports for `(domain_id, participant_id)`, or why they do not fit a `u16`.
    pub fn new(domain_id: u32, participant_id: u32) -> Result<Self, PortError> {
        Ok(Ports {
            domain_id,
            participant_id,
            spdp_multicast: spdp_multicast_port(domain_id)?,
            user_multicast: user_multicast_port(domain_id)?,
            metatraffic_unicast: metatraffic_unicast_port(domain_id, participant_id)?,
            user_unicast: user_unicast_port(domain_id, participant_id)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn domain_zero_matches_the_interop_table() {
        let p = Ports::new(0, 0).unwrap();
        assert_eq!(
            (
                p.spdp_multicast,
                p.user_multicast,
                p.metatraffic_unicast,
                p.user_unicast
            ),
            (7400, 7401, 7410, 7411)
        );
        let p1 = Ports::new(0, 1).unwrap();
        assert_eq!((p1.metatraffic_unicast, p1.user_unicast), (7412, 7413));
    }

    #[test]
    fn amlip_domain_166_matches_the_observed_ports() {
        let p = Ports::new(166, 0).unwrap();
        assert_eq!(p.spdp_multicast, 48900);
        assert_eq!(p.user_multicast, 48901);
        assert_eq!(p.metatraffic_unicast, 48910);
        assert_eq!(p.user_unicast, 48911);
        assert_eq!(metatraffic_unicast_port(166, 3), Ok(48916));
    }

    #[test]
    fn domain_232_is_the_last_that_fits_sixteen_bits() {
        assert_eq!(spdp_multicast_port(232), Ok(65400));
        assert_eq!(user_unicast_port(232, 0), Ok(65411));
        assert_eq!(
            spdp_multicast_port(233),
            Err(PortError::DomainIdOutOfRange { domain_id: 233 })
        );
        assert_eq!(
            Ports::new(u32::MAX, 0),
            Err(PortError::DomainIdOutOfRange {
                domain_id: u32::MAX
            })
        );
    }

    #[test]
    fn participant_ids_past_the_port_range_are_rejected() {
        assert_eq!(max_participant_id(232), Ok(62));
        assert_eq!(user_unicast_port(232, 62), Ok(65535));
        assert_eq!(
            user_unicast_port(232, 63),
            Err(PortError::ParticipantIdOutOfRange {
                domain_id: 232,
                participant_id: 63
            })
        );
        assert!(metatraffic_unicast_port(0, u32::MAX).is_err());
        assert_eq!(candidate_participant_ids(232, 120), Ok(0..=62));
        assert_eq!(candidate_participant_ids(0, 120), Ok(0..=120));
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            PortError::DomainIdOutOfRange { domain_id: 300 }.to_string(),
            "domain id 300 is out of range (0..=232: ports must fit 16 bits)"
        );
        assert!(PortError::ParticipantIdOutOfRange {
            domain_id: 232,
            participant_id: 70
        }
        .to_string()
        .contains("0..=62"));
    }

    #[test]
    fn unicast_probes_target_every_well_known_metatraffic_port() {
        let v: Vec<_> = spdp_unicast_probe_addrs(0, Ipv4Addr::LOCALHOST, 3).collect();
        let ports: Vec<u16> = v.iter().map(|a| a.port()).collect();
        assert_eq!(ports, vec![7410, 7412, 7414, 7416]);
        assert_eq!(
            spdp_unicast_probe_addrs(232, Ipv4Addr::LOCALHOST, 1000).count(),
            63
        );
        assert_eq!(
            spdp_unicast_probe_addrs(500, Ipv4Addr::LOCALHOST, 5).count(),
            0
        );
    }

    proptest! {
        #[test]
        fn every_valid_pair_gives_distinct_ports(domain in 0u32..=232, pid in 0u32..=200) {
            match Ports::new(domain, pid) {
                Ok(p) => {
                    let mut v = [p.spdp_multicast, p.user_multicast, p.metatraffic_unicast, p.user_unicast];
                    v.sort_unstable();
                    prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(pid <= max_participant_id(domain).unwrap());
                }
                Err(_) => prop_assert!(pid > max_participant_id(domain).unwrap()),
            }
        }

        #[test]
        fn no_input_panics(domain in any::<u32>(), pid in any::<u32>()) {
            let _ = Ports::new(domain, pid);
            let _ = max_participant_id(domain);
        }
    }
}
