//! The state-machine fuzz driver behind `fuzzing::reliable_state_machines`: arbitrary bytes
//! are read as a sequence of operations against one writer and one reader (writes, hostile
//! ACKNACK / NACK_FRAG / HEARTBEAT / GAP / DATA / DATA_FRAG / HEARTBEAT_FRAG, time advances,
//! faithful or lossy delivery between the two through the wire codec, re-matching). It checks
//! that nothing panics and that the reader never delivers a sequence number twice (or out of
//! order) for a writer.

use std::time::Duration;

use bytes::Bytes;

use super::out::Transmit;
use super::*;
use crate::history::{HistoryKind, ResourceLimits};
use crate::wire::message::{Message, MessageBuilder};
use crate::wire::sets::{FragmentNumberSet, SequenceNumberSet};
use crate::wire::submessage::{
    AckNack, Data, DataFrag, Gap, Heartbeat, HeartbeatFrag, InfoDestination, NackFrag,
    SerializedPayload, Submessage,
};
use crate::wire::{Endianness, EntityId, Guid, GuidPrefix, Header, Reader, SequenceNumber, Time};

const MAX_OPS: usize = 512;
const DATAGRAM: usize = 2048;

/// Pulls values out of the fuzz input; yields zeros once it runs out.
struct Input<'a>(Reader<'a>);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        self.0.u8("fuzz").unwrap_or(0)
    }
    fn u16(&mut self) -> u16 {
        self.0.u16("fuzz").unwrap_or(0)
    }
    fn u32(&mut self) -> u32 {
        self.0.u32("fuzz").unwrap_or(0)
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }
    /// Mostly small sequence numbers near the action, sometimes anything.
    fn sn(&mut self) -> SequenceNumber {
        match self.u8() {
            b @ 0..=239 => SequenceNumber(i64::from(b) - 8),
            240..=247 => SequenceNumber(i64::from(self.u16())),
            _ => SequenceNumber(self.0.u64("fuzz").map_or(0, |v| v as i64)),
        }
    }
    fn sn_set(&mut self) -> SequenceNumberSet {
        let mut s = SequenceNumberSet::new(self.sn());
        s.num_bits = u32::from(self.u8()).min(256);
        for w in s.bitmap.iter_mut().take(usize::from(self.u8() % 9)) {
            *w = self.u32();
        }
        s
    }
    fn frag_set(&mut self) -> FragmentNumberSet {
        let mut s = FragmentNumberSet::new(u32::from(self.u8()));
        s.num_bits = u32::from(self.u8()).min(256);
        for w in s.bitmap.iter_mut().take(usize::from(self.u8() % 9)) {
            *w = self.u32();
        }
        s
    }
    fn count(&mut self) -> u32 {
        u32::from(self.u8())
    }
}

fn writer_guid() -> Guid {
    Guid::new(GuidPrefix([1; 12]), EntityId::from_u32(0x0000_0103))
}

fn reader_guid() -> Guid {
    Guid::new(GuidPrefix([2; 12]), EntityId::from_u32(0x0000_0104))
}

/// Serialize a transmit into datagrams (dropping one chosen by `drop_mask`) and parse them
/// back, calling `f` for every submessage with the INFO_TS state.
fn through_wire(
    from: GuidPrefix,
    t: &Transmit,
    drop_mask: u8,
    mut f: impl FnMut(&Submessage<'_>, Option<Time>),
) {
    let mut buf = vec![0u8; DATAGRAM];
    let header = Header::new(from);
    let mut i = 0;
    let mut n = 0u32;
    while i < t.submessages.len() {
        let Ok(mut b) = MessageBuilder::new(&mut buf, &header) else {
            return;
        };
        let dst = Submessage::InfoDestination(InfoDestination {
            guid_prefix: t.destination.guid.prefix,
        });
        if b.push(&dst).is_err() {
            return;
        }
        let mut pushed = 0;
        while let Some(s) = t.submessages.get(i) {
            if s.with_submessage(Endianness::Little, |s| b.push(s))
                .is_err()
            {
                break;
            }
            pushed += 1;
            i += 1;
        }
        if pushed == 0 {
            // Larger than a datagram: skip it (a real participant would not configure this).
            i += 1;
        }
        let len = b.finish();
        n += 1;
        if drop_mask & (1 << (n % 8)) != 0 {
            continue;
        }
        let Some(gram) = buf.get(..len) else { return };
        let Ok(msg) = Message::parse(gram) else {
            panic!("our own datagram does not parse")
        };
        let mut ts = None;
        for s in msg.submessages() {
            let Ok(s) = s else {
                panic!("our own submessage does not parse")
            };
            if let Submessage::InfoTimestamp(t) = &s.submessage {
                ts = t.timestamp;
            }
            f(&s.submessage, ts);
        }
    }
}

/// Run the operations in `data` (see the module doc).
pub(crate) fn run(data: &[u8]) {
    run_counting(data);
}

/// [`run`], returning how many samples the reader delivered.
fn run_counting(data: &[u8]) -> u64 {
    let mut inp = Input(Reader::new(data, Endianness::Little));
    let start = crate::transport::sim::virtual_epoch();
    let mut now = start;
    let flags = inp.u8();
    let wcfg = WriterConfig {
        reliable: flags & 1 != 0,
        durability: if flags & 2 != 0 {
            Durability::TransientLocal
        } else {
            Durability::Volatile
        },
        history: if flags & 4 != 0 {
            HistoryKind::KeepAll
        } else {
            HistoryKind::KeepLast {
                depth: u32::from(flags >> 4),
            }
        },
        resource_limits: ResourceLimits {
            max_samples: (flags & 8 != 0).then_some(8),
            max_instances: Some(4),
        },
        heartbeat_period: Duration::from_millis(10),
        heartbeat_min_period: Duration::from_millis(2),
        nack_response_delay: Duration::from_millis(u64::from(inp.u8() % 4)),
        fragment_size: 16 + u16::from(inp.u8()),
        max_transmit_size: 200 + usize::from(inp.u16() % 1800),
        push_mode: inp.u8() % 4 != 0,
        durable_history_bytes: if flags & 8 != 0 {
            256
        } else {
            WriterConfig::default().durable_history_bytes
        },
    };
    let response_delay = Duration::from_millis(u64::from(inp.u8() % 4));
    let rcfg = ReaderConfig {
        heartbeat_response_delay: response_delay,
        nack_spacing: response_delay,
        nack_delay: Duration::from_millis(1),
        max_buffered_samples: 1 + usize::from(inp.u8() % 64),
        max_buffered_bytes: 1 << 16,
        max_sample_size: 1 << 16,
        max_reassemblies: 1 + usize::from(inp.u8() % 4),
        max_reassembly_bytes: 1 << 18,
    };
    let reader_reliable = inp.bool() && wcfg.reliable;
    let reader_durable = inp.bool();
    let mut writer = StatefulWriter::new(writer_guid(), wcfg);
    let mut reader = StatefulReader::new(reader_guid(), rcfg);
    let wproxy = WriterProxyConfig {
        remote_writer_guid: writer_guid(),
        reliable: reader_reliable,
        locators: Vec::new(),
    };
    let rproxy = ReaderProxyConfig {
        remote_reader_guid: reader_guid(),
        reliable: reader_reliable,
        durable: reader_durable,
        expects_inline_qos: false,
        locators: Vec::new(),
    };
    writer.add_matched_reader(now, rproxy.clone());
    reader.add_matched_writer(now, wproxy.clone());
    let wprefix = writer_guid().prefix;
    let rprefix = reader_guid().prefix;
    let (wid, rid) = (writer_guid().entity_id, reader_guid().entity_id);
    let mut last_delivered = SequenceNumber::ZERO;
    let payload_src: Vec<u8> = (0..4096u32).map(|i| (i % 253) as u8).collect();

    for _ in 0..MAX_OPS {
        if inp.0.is_empty() {
            break;
        }
        match inp.u8() % 13 {
            0 => {
                let len = usize::from(inp.u16() % 3000);
                let p = Bytes::copy_from_slice(payload_src.get(..len).unwrap_or_default());
                let key = inp.u8();
                let _ = writer.write_change(
                    now,
                    crate::history::ChangeKind::from_status_info(key >> 6),
                    (key & 1 != 0).then_some([key & 3; 16]),
                    p,
                    None,
                );
            }
            1 => {
                let a = AckNack {
                    reader_id: rid,
                    writer_id: wid,
                    reader_sn_state: inp.sn_set(),
                    count: inp.count(),
                    final_flag: inp.bool(),
                };
                writer.handle_acknack(now, rprefix, &a);
            }
            2 => {
                let n = NackFrag {
                    reader_id: rid,
                    writer_id: wid,
                    writer_sn: inp.sn(),
                    fragment_number_state: inp.frag_set(),
                    count: inp.count(),
                };
                writer.handle_nack_frag(now, rprefix, &n);
            }
            3 => {
                let h = Heartbeat {
                    reader_id: rid,
                    writer_id: wid,
                    first_sn: inp.sn(),
                    last_sn: inp.sn(),
                    count: inp.count(),
                    final_flag: inp.bool(),
                    liveliness_flag: inp.bool(),
                };
                reader.handle_heartbeat(now, wprefix, &h);
            }
            4 => {
                let g = Gap {
                    reader_id: rid,
                    writer_id: wid,
                    gap_start: inp.sn(),
                    gap_list: inp.sn_set(),
                };
                reader.handle_gap(now, wprefix, &g);
            }
            5 => {
                let len = usize::from(inp.u16() % 512);
                let d = Data {
                    reader_id: rid,
                    writer_id: wid,
                    writer_sn: inp.sn(),
                    inline_qos: None,
                    payload: inp.bool().then(|| SerializedPayload {
                        bytes: payload_src.get(..len).unwrap_or_default(),
                        is_key: false,
                    }),
                };
                reader.handle_data(now, wprefix, &d, None);
            }
            6 => {
                let fragment_size = inp.u16() % 600;
                let sample_size = match inp.u8() {
                    0 => inp.u32(),
                    b => u32::from(b) * 16,
                };
                let start = usize::from(inp.u16() % 4096);
                let len = usize::from(inp.u16() % 2048);
                let d = DataFrag {
                    reader_id: rid,
                    writer_id: wid,
                    writer_sn: inp.sn(),
                    fragment_starting_num: u32::from(inp.u8()),
                    fragments_in_submessage: u16::from(inp.u8()),
                    fragment_size,
                    sample_size,
                    inline_qos: None,
                    is_key: inp.bool(),
                    fragments: payload_src
                        .get(start..start.saturating_add(len).min(payload_src.len()))
                        .unwrap_or_default(),
                };
                reader.handle_data_frag(now, wprefix, &d, None);
            }
            7 => {
                let h = HeartbeatFrag {
                    reader_id: rid,
                    writer_id: wid,
                    writer_sn: inp.sn(),
                    last_fragment_num: inp.u32(),
                    count: inp.count(),
                };
                reader.handle_heartbeat_frag(now, wprefix, &h);
            }
            8 => {
                let d = Duration::from_millis(u64::from(inp.u16()));
                now = now.checked_add(d).unwrap_or(now);
                writer.handle_timeout(now);
                reader.handle_timeout(now);
            }
            9 | 10 => {
                // Writer -> reader, then reader -> writer, through the codec; some datagrams
                // dropped by the mask.
                let drop_mask = inp.u8();
                for _ in 0..64 {
                    let Some(t) = writer.poll_transmit(now) else {
                        break;
                    };
                    through_wire(wprefix, &t, drop_mask, |s, ts| match s {
                        Submessage::Data(d) => reader.handle_data(now, wprefix, d, ts),
                        Submessage::DataFrag(d) => reader.handle_data_frag(now, wprefix, d, ts),
                        Submessage::Heartbeat(h) => reader.handle_heartbeat(now, wprefix, h),
                        Submessage::HeartbeatFrag(h) => {
                            reader.handle_heartbeat_frag(now, wprefix, h)
                        }
                        Submessage::Gap(g) => reader.handle_gap(now, wprefix, g),
                        _ => {}
                    });
                }
                for _ in 0..64 {
                    let Some(t) = reader.poll_transmit(now) else {
                        break;
                    };
                    through_wire(rprefix, &t, drop_mask >> 1, |s, _| match s {
                        Submessage::AckNack(a) => writer.handle_acknack(now, rprefix, a),
                        Submessage::NackFrag(n) => writer.handle_nack_frag(now, rprefix, n),
                        _ => {}
                    });
                }
            }
            11 => {
                if inp.bool() {
                    writer.remove_matched_reader(reader_guid());
                    writer.add_matched_reader(now, rproxy.clone());
                } else {
                    reader.remove_matched_writer(writer_guid());
                    reader.add_matched_writer(now, wproxy.clone());
                    last_delivered = SequenceNumber::ZERO;
                }
            }
            _ => {
                let _ = writer.poll_timeout();
                let _ = reader.poll_timeout();
                while writer.poll_event().is_some() {}
                let _ = writer.is_acked_by_all(inp.sn());
            }
        }
        while let Some(s) = reader.poll_sample() {
            assert!(
                s.sn > last_delivered,
                "sequence number {} delivered after {}",
                s.sn.0,
                last_delivered.0
            );
            last_delivered = s.sn;
        }
    }
    reader.stats().delivered
}

#[cfg(test)]
mod tests {
    use super::{run, run_counting};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn random_operation_sequences_never_panic_or_deliver_twice() {
        let mut rng = StdRng::seed_from_u64(7);
        let iters: usize = std::env::var("RTPS_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(400);
        for i in 0..iters {
            let data: Vec<u8> = (0..(i % 400) * 4).map(|_| rng.gen()).collect();
            run(&data);
        }
    }

    #[test]
    fn operation_sequences_biased_towards_delivery_make_progress_without_panics() {
        let mut rng = StdRng::seed_from_u64(8);
        let iters: usize = std::env::var("RTPS_FUZZ_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        let mut delivered = 0;
        for _ in 0..iters {
            let mut data: Vec<u8> = vec![rng.gen::<u8>() | 1, 1, 40, 0x40, 0x02, 1, 2, 8, 2, 1, 0];
            for _ in 0..150 {
                match rng.gen_range(0..10) {
                    // write: length, instance byte 0 (keyless, alive)
                    0..=2 => data.extend([0, rng.gen(), rng.gen::<u8>() % 8, 0]),
                    // advance time
                    3 => data.extend([8, rng.gen::<u8>() % 32, 0]),
                    // deliver, usually without loss
                    4..=7 => data.extend([9, if rng.gen_bool(0.7) { 0 } else { rng.gen() }]),
                    // something hostile, with random arguments
                    _ => data.extend((0..8).map(|_| rng.gen::<u8>())),
                }
            }
            delivered += run_counting(&data);
        }
        assert!(delivered > 1000, "only {delivered} samples delivered");
    }
}
