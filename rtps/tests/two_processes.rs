//! Two processes exchange reliable samples over real UDP sockets on loopback: each test re-runs
//! this test binary with only itself selected and [`CHILD_ENV`] set, which makes that second run
//! of the same test the publisher while the parent subscribes. Runs only inside a private
//! network namespace (`../shared/oracles/netns-run cargo test -- --include-ignored`, as `.ci/run`
//! does): a plain `cargo test` lists the tests as ignored.

use std::process::{Command, Stdio};
use std::time::Duration;

use rtps::dds::{DomainParticipant, ParticipantOptions, Qos};
use rtps::transport::interface::require_private_namespace;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    seq: u32,
    text: String,
}

const COUNT: u32 = 2000;

/// Set (to any value) in the child process: the test it runs publishes instead of subscribing.
const CHILD_ENV: &str = "RTPS_TWO_PROCESSES_PUBLISHER";

fn options(multicast: bool) -> ParticipantOptions {
    let domain_id = if multicast { 21 } else { 22 };
    ParticipantOptions::default()
        .domain_id(domain_id)
        .multicast(multicast)
}

fn qos() -> Qos {
    Qos::default()
        .reliable()
        .keep_all()
        .max_blocking_time(Duration::from_secs(10))
}

/// The publisher side, run in the child process.
fn publish(multicast: bool) {
    let p = DomainParticipant::new(options(multicast)).expect("participant");
    let w = p
        .create_writer::<Message>("two_processes", "interop::Message", &qos())
        .expect("writer");
    w.wait_for_matched(1, Duration::from_secs(20))
        .expect("matched");
    for seq in 0..COUNT {
        w.write(&Message {
            seq,
            text: format!("sample {seq}"),
        })
        .expect("write");
    }
    w.wait_for_acknowledgments(Duration::from_secs(20))
        .expect("acknowledged");
}

fn run(multicast: bool, name: &str) {
    require_private_namespace();
    if std::env::var_os(CHILD_ENV).is_some() {
        publish(multicast);
        return;
    }
    let p = DomainParticipant::new(options(multicast)).expect("participant");
    let r = p
        .create_reader::<Message>("two_processes", "interop::Message", &qos())
        .expect("reader");
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            name,
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the publisher process");
    for seq in 0..COUNT {
        let s = r.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|e| {
            let _ = child.kill();
            panic!("{name}: sample {seq} not received: {e}")
        });
        assert_eq!(
            s.value,
            Message {
                seq,
                text: format!("sample {seq}")
            }
        );
    }
    let status = child.wait().expect("publisher exit");
    assert!(
        status.success(),
        "{name}: publisher process failed: {status}"
    );
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn two_processes_exchange_reliable_samples() {
    run(true, "two_processes_exchange_reliable_samples");
}

#[test]
#[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
fn two_processes_discover_each_other_by_unicast_without_multicast() {
    run(
        false,
        "two_processes_discover_each_other_by_unicast_without_multicast",
    );
}
