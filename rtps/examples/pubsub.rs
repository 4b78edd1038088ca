//! Typed publish/subscribe with `rtps::dds`: two participants on loopback (as two processes
//! would have), a reliable KEEP_ALL topic of a serde type, COUNT messages written by one and
//! read back by the other.
//!
//! ```sh
//! ../shared/oracles/netns-run cargo run -p rtps --example pubsub -- [COUNT] [DOMAIN]
//! ```
//!
//! Prints each message as received and exits (status 1 if one did not arrive within 10 s). It
//! opens sockets on loopback: run it inside a private network namespace, or on a machine where
//! that is fine.

use std::process::ExitCode;
use std::time::Duration;

use rtps::dds::{error_chain, DdsError, DomainParticipant, ParticipantOptions, Qos};
use serde::{Deserialize, Serialize};

/// The topic's type, serialized as CDR (an IDL `struct Chat { unsigned long seq; string text; }`).
#[derive(Debug, Serialize, Deserialize)]
struct Chat {
    seq: u32,
    text: String,
}

const WAIT: Duration = Duration::from_secs(10);

fn run(count: u32, domain: u32) -> Result<(), DdsError> {
    let options = ParticipantOptions::default().domain_id(domain);
    let publisher = DomainParticipant::new(options.clone().name("pubsub-publisher"))?;
    let subscriber = DomainParticipant::new(options.name("pubsub-subscriber"))?;
    let qos = Qos::default().reliable().keep_all();
    let writer = publisher.create_writer::<Chat>("chat", "example::Chat", &qos)?;
    let reader = subscriber.create_reader::<Chat>("chat", "example::Chat", &qos)?;
    // A volatile writer's samples go to the readers matched when they are written.
    writer.wait_for_matched(1, WAIT)?;
    for seq in 1..=count {
        writer.write(&Chat {
            seq,
            text: format!("hello #{seq}"),
        })?;
    }
    for _ in 0..count {
        let sample = reader.recv_timeout(WAIT)?;
        println!(
            "received {} {:?} from {}",
            sample.value.seq, sample.value.text, sample.writer
        );
    }
    writer.wait_for_acknowledgments(WAIT)?;
    println!("{count} message(s) written, received and acknowledged");
    Ok(())
}

fn main() -> ExitCode {
    let arg = |i: usize, default: u32| match std::env::args().nth(i) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| format!("not a number: {s:?}")),
    };
    let (count, domain) = match (arg(1, 5), arg(2, 0)) {
        (Ok(c), Ok(d)) => (c, d),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("pubsub: {e}\nusage: pubsub [COUNT] [DOMAIN]");
            return ExitCode::FAILURE;
        }
    };
    match run(count, domain) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub: error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
