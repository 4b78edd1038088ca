//! Prints discovery events on stderr in the oracles' format
//! (`[impl] pub matched: current=.. total=.. reader=<guid>`).

use std::collections::BTreeMap;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::Instant;

use rtps::dds::{DdsEvent, DomainParticipant};
use rtps::wire::{EntityId, Guid};

use crate::types::guid_str;
use crate::IMPL;

/// Current / total match counts of one local endpoint.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    current: u32,
    total: u32,
}

/// Start the printer; it ends when the participant is dropped (the channel closes).
pub fn spawn_printer(p: &DomainParticipant, start: Instant) -> Option<JoinHandle<()>> {
    let rx = p.events();
    std::thread::Builder::new()
        .name("interop-events".into())
        .spawn(move || print_events(rx, start))
        .ok()
}

fn print_events(rx: Receiver<DdsEvent>, start: Instant) {
    let mut counts: BTreeMap<Guid, Counts> = BTreeMap::new();
    let t = || crate::now().saturating_duration_since(start).as_secs_f64();
    for e in rx {
        let now_s = t();
        let line = match e {
            DdsEvent::ParticipantDiscovered { guid_prefix, name } => format!(
                "[{IMPL}] discovered participant {} name={} t={:.3}",
                guid_str(Guid::new(guid_prefix, EntityId::PARTICIPANT)),
                name.as_deref().unwrap_or("-"),
                now_s
            ),
            DdsEvent::ParticipantLost {
                guid_prefix,
                reason,
            } => format!(
                "[{IMPL}] lost participant {} reason={reason:?} t={:.3}",
                guid_str(Guid::new(guid_prefix, EntityId::PARTICIPANT)),
                now_s
            ),
            DdsEvent::PublicationMatched { writer, reader } => {
                matched(&mut counts, writer, true, "pub reader", reader, now_s)
            }
            DdsEvent::PublicationUnmatched { writer, reader } => {
                matched(&mut counts, writer, false, "pub reader", reader, now_s)
            }
            DdsEvent::SubscriptionMatched { reader, writer } => {
                matched(&mut counts, reader, true, "sub writer", writer, now_s)
            }
            DdsEvent::SubscriptionUnmatched { reader, writer } => {
                matched(&mut counts, reader, false, "sub writer", writer, now_s)
            }
            DdsEvent::IncompatibleQos {
                local,
                remote,
                reason,
            } => {
                let role = if local.entity_id.kind.is_writer() {
                    "pub"
                } else {
                    "sub"
                };
                format!(
                    "[{IMPL}] {role} incompatible qos: {reason} remote={}",
                    guid_str(remote)
                )
            }
            other => format!("[{IMPL}] {other:?} t={now_s:.3}"),
        };
        eprintln!("{line}");
    }
}

fn matched(
    counts: &mut BTreeMap<Guid, Counts>,
    local: Guid,
    up: bool,
    role_what: &str,
    remote: Guid,
    now_s: f64,
) -> String {
    let (role, what) = role_what.split_once(' ').unwrap_or((role_what, "remote"));
    let c = counts.entry(local).or_default();
    if up {
        c.current = c.current.saturating_add(1);
        c.total = c.total.saturating_add(1);
    } else {
        c.current = c.current.saturating_sub(1);
    }
    format!(
        "[{IMPL}] {role} {}: current={} total={} {what}={} t={:.3}",
        if up { "matched" } else { "unmatched" },
        c.current,
        c.total,
        guid_str(remote),
        now_s
    )
}
