#![allow(clippy::disallowed_methods)]
use rtps::dds::{DomainParticipant, ParticipantOptions, Qos};
use std::time::{Duration, Instant};
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let a = DomainParticipant::new(ParticipantOptions {
        domain_id: 20,
        ..Default::default()
    })
    .unwrap();
    let b = DomainParticipant::new(ParticipantOptions {
        domain_id: 20,
        ..Default::default()
    })
    .unwrap();
    let qos = Qos::default()
        .reliable()
        .keep_all()
        .max_samples(20000)
        .max_blocking_time(Duration::from_secs(10));
    let w = a.create_raw_writer("perf", "Blob", &qos).unwrap();
    let r = b.create_raw_reader("perf", "Blob", &qos).unwrap();
    w.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    r.wait_for_matched(1, Duration::from_secs(10)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let payload = bytes::Bytes::from(vec![0u8; 68]);
    let t0 = Instant::now();
    let rt = std::thread::spawn(move || {
        let mut got = 0;
        let mut first = None;
        while got < n {
            if r.recv_timeout(Duration::from_secs(10)).is_err() {
                break;
            }
            if first.is_none() {
                first = Some(Instant::now());
            }
            got += 1;
        }
        (got, first.unwrap(), Instant::now())
    });
    for _ in 0..n {
        w.write_bytes(payload.clone()).unwrap();
    }
    let tw = t0.elapsed();
    let (got, first, last) = rt.join().unwrap();
    println!(
        "wrote {n} in {:?} ({:.0}/s); received {got}, {:.0}/s first-to-last",
        tw,
        n as f64 / tw.as_secs_f64(),
        (got - 1) as f64 / (last - first).as_secs_f64()
    );
    let w2 = b
        .create_raw_writer("pong", "Blob", &Qos::default().reliable())
        .unwrap();
    let r2 = a
        .create_raw_reader("pong", "Blob", &Qos::default().reliable())
        .unwrap();
    let wp = a
        .create_raw_writer("ping", "Blob", &Qos::default().reliable())
        .unwrap();
    let rp = b
        .create_raw_reader("ping", "Blob", &Qos::default().reliable())
        .unwrap();
    let m1 = wp.wait_for_matched(1, Duration::from_secs(10));
    let m2 = w2.wait_for_matched(1, Duration::from_secs(10));
    if m1.is_err() || m2.is_err() {
        eprintln!(
            "MATCH FAIL wp->{} w2->{} rp<-{} r2<-{} a knows {:?} b knows {:?}",
            wp.matched_readers(),
            w2.matched_readers(),
            rp.matched_writers(),
            r2.matched_writers(),
            a.discovered_participants(),
            b.discovered_participants()
        );
        std::thread::sleep(Duration::from_secs(20));
        eprintln!(
            "after 20s: wp->{} w2->{} rp<-{} r2<-{}",
            wp.matched_readers(),
            w2.matched_readers(),
            rp.matched_writers(),
            r2.matched_writers()
        );
        std::process::exit(5);
    }
    std::thread::sleep(Duration::from_millis(200));
    let echo = std::thread::spawn(move || {
        for i in 0..5000 {
            let s = match rp.recv_timeout(Duration::from_secs(5)) {
                Ok(s) => s,
                Err(_) => {
                    eprintln!("echo stuck at {i}, matched {}", rp.matched_writers());
                    let s = rp.recv_timeout(Duration::from_secs(30));
                    eprintln!("echo later: {:?}", s.is_ok());
                    std::process::exit(3)
                }
            };
            w2.write_bytes(s.value).unwrap();
        }
    });
    let mut lat = Vec::new();
    for i in 0..5000 {
        let t = Instant::now();
        wp.write_bytes(payload.clone()).unwrap();
        if r2.recv_timeout(Duration::from_secs(5)).is_err() {
            eprintln!("main stuck at {i}, r2 matched {}", r2.matched_writers());
            std::thread::sleep(Duration::from_secs(40));
            std::process::exit(4)
        }
        lat.push(t.elapsed());
    }
    echo.join().unwrap();
    lat.sort();
    println!(
        "half RTT p50 {:?} p99 {:?}",
        lat[lat.len() / 2] / 2,
        lat[lat.len() * 99 / 100] / 2
    );
}
