//! Entry points for the `fuzz/` targets of the `amlip` crate: each takes arbitrary bytes and must
//! not panic except on a broken invariant (architecture.md rule 9).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::multiservice::server::DEFAULT_PREFETCH;
use crate::multiservice::{
    AmlipId, Client, ClientEvent, GenericData, MsData, MsReference, MsRequest, Outgoing, Payload,
    Server, ServerEvent, Status, TaskId,
};

fn round_trip<T: Payload + PartialEq + core::fmt::Debug>(data: &[u8]) {
    if let Ok(v) = T::from_payload(data) {
        let bytes = v.to_payload().expect("a decoded value re-encodes");
        assert_eq!(bytes.len(), v.payload_len());
        let back = T::from_payload(&bytes).expect("a re-encoded value decodes");
        assert_eq!(back, v);
    }
}

/// Decode `data` as every AML-IP payload type; whatever decodes must re-encode and decode to
/// the same value (AML-IP spec §3).
pub fn amlip_payloads(data: &[u8]) {
    round_trip::<AmlipId>(data);
    round_trip::<MsRequest>(data);
    round_trip::<MsReference>(data);
    round_trip::<MsData>(data);
    round_trip::<Status>(data);
}

/// A small cursor over fuzz bytes that yields zeros once exhausted.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
}

/// Run a sequence of operations, decoded from `data`, on one MultiService client and one
/// server that share some (but not all) samples, checking the invariants: at most one solution
/// per task reaches the user, the server never holds more slots than allowed, and every sample
/// either machine produces serializes.
pub fn multiservice_ops(data: &[u8]) {
    let mut now = rtps::transport::sim::virtual_epoch();
    let ids = [
        AmlipId::new("client", [1, 2, 3, 4]).unwrap_or_default(),
        AmlipId::new("other", [5, 6, 7, 8]).unwrap_or_default(),
        AmlipId::new("server", [9, 9, 9, 9]).unwrap_or_default(),
        AmlipId::new("rival", [7, 7, 7, 7]).unwrap_or_default(),
        AmlipId::undefined(),
    ];
    let pick = |b: u8| {
        ids.get(usize::from(b) % ids.len())
            .copied()
            .unwrap_or_default()
    };
    let mut client = Client::new(ids[0]);
    let max_slots = 2;
    let mut server = Server::new(ids[2], max_slots).with_max_queued(16);
    let mut solved = BTreeSet::new();
    let mut work: Vec<MsRequest> = Vec::new();
    let mut r = Bytes(data);
    for _ in 0..data.len() {
        now += Duration::from_millis(1);
        let op = r.next();
        let task = TaskId(u32::from(r.next() % 8));
        let a = pick(r.next());
        let b = pick(r.next());
        let reference = MsReference {
            client_id: a,
            task_id: task,
            server_id: b,
        };
        let job = GenericData::new(vec![r.next(); usize::from(r.next() % 4)]);
        match op % 12 {
            0 => {
                let _ = client.submit(now, job);
            }
            1 => client.handle_reply_available(now, reference),
            2 if task.0 % 2 == 0 => client.handle_solution(now, MsData::new(reference, job)),
            2 => client.handle_solution(now, MsData::failure(reference, job)),
            3 => {
                client.cancel(now, task);
            }
            4 => client.server_lost(now, b),
            5 => server.handle_request(now, reference.request()),
            6 => server.handle_target(now, reference),
            7 => server.handle_task_data(now, MsData::new(reference, job)),
            8 => {
                if !work.is_empty() {
                    let k = work.swap_remove(usize::from(r.next()) % work.len());
                    let done = if r.next() % 2 == 0 {
                        server.complete(now, k, job)
                    } else {
                        server.fail(now, k, job)
                    };
                    assert!(done.is_ok(), "a given task completes");
                }
            }
            9 => server.set_accepting(now, r.next() % 2 == 0),
            10 => server.client_lost(now, a),
            _ => {
                now += Duration::from_millis(u64::from(r.next()) * 4);
                client.handle_timeout(now);
                // Loop the two machines' samples back to each other.
                while let Some(o) = client.poll_outgoing() {
                    assert!(o.to_payload().is_ok());
                    match o {
                        Outgoing::Request(q) => server.handle_request(now, q),
                        Outgoing::Target(t) => server.handle_target(now, t),
                        Outgoing::TaskData { data, .. } => server.handle_task_data(now, data),
                        _ => unreachable!("a client only publishes requests, targets and data"),
                    }
                }
                while let Some(o) = server.poll_outgoing() {
                    assert!(o.to_payload().is_ok());
                    match o {
                        Outgoing::ReplyAvailable { reference, .. } => {
                            client.handle_reply_available(now, reference)
                        }
                        Outgoing::Solution { data, .. } => client.handle_solution(now, data),
                        _ => unreachable!("a server only publishes replies and solutions"),
                    }
                }
            }
        }
        while let Some(ServerEvent::Task { key, .. }) = server.poll_event() {
            work.push(key);
        }
        while let Some(ev) = client.poll_event() {
            if let ClientEvent::Solved { task, .. } | ClientEvent::Failed { task, .. } = ev {
                assert!(solved.insert(task), "task {task} finished twice");
            }
        }
        // Its slots, plus the requests a busy server answers ahead (its jobs here take no
        // time, so it prefetches once it has timed a few).
        assert!(server.slots().count() <= max_slots + DEFAULT_PREFETCH);
        assert!(server.queued() <= 16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn payload_entry_accepts_the_captured_samples() {
        for text in [
            include_str!("multiservice/testdata/amlip-demo.samples"),
            include_str!("multiservice/testdata/amlip-status.samples"),
        ] {
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let hex = line.rsplit(' ').next().unwrap_or("");
                let bytes: Vec<u8> = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                amlip_payloads(&bytes);
                for n in 0..bytes.len() {
                    amlip_payloads(&bytes[..n]);
                }
            }
        }
    }

    #[test]
    fn ops_entry_runs_a_full_handshake() {
        // submit task 0; loop; loop; complete; loop.
        let submit = [0, 0, 0, 0, 0, 1];
        let pump = [11, 0, 0, 0, 0, 0];
        let complete = [8, 0, 0, 0, 0, 0, 0];
        let mut ops = Vec::new();
        ops.extend_from_slice(&submit);
        ops.extend_from_slice(&pump);
        ops.extend_from_slice(&pump);
        ops.extend_from_slice(&complete);
        ops.extend_from_slice(&pump);
        multiservice_ops(&ops);
    }

    proptest! {
        #[test]
        fn payload_entry_never_panics(data in proptest::collection::vec(any::<u8>(), 0..96)) {
            amlip_payloads(&data);
            let mut framed = vec![0, 1, 0, 0];
            framed.extend_from_slice(&data);
            amlip_payloads(&framed);
        }

        #[test]
        fn ops_entry_keeps_its_invariants(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            multiservice_ops(&data);
        }
    }
}
