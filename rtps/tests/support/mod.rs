//! Shared helpers of the integration tests: where `shared/` is, and the RTPS datagrams of its
//! captures and hostile corpus.
//!
//! Each test binary uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod pcap;

use std::path::{Path, PathBuf};

/// The `#[ignore]` reason of the tests that read the reference folder (`#[ignore = ..]` takes a
/// literal only, so each test repeats it).
pub const SHARED_IGNORE_REASON: &str = "needs the reference folder ../shared or $AMLIP_SHARED: run with cargo test -- --include-ignored";

/// The reference folder: `$AMLIP_SHARED`, or else `<workspace root>/../shared`. Panics with
/// [`SHARED_IGNORE_REASON`] when it is not there: the tests that call it are `#[ignore]`d, so
/// one that runs was asked for and must not pass without having read anything.
pub fn shared_dir() -> PathBuf {
    let dir = match std::env::var_os("AMLIP_SHARED") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    assert!(
        dir.is_dir(),
        "{SHARED_IGNORE_REASON} ({} is not a directory)",
        dir.display()
    );
    dir
}

/// Files directly in `dir` with the given extension (`None`: every regular file), sorted.
pub fn files_in(dir: &Path, ext: Option<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| match ext {
            None => true,
            Some(x) => p.extension().is_some_and(|e| e == x),
        })
        .collect();
    out.sort();
    out
}

/// The `*.pcap` files of `shared/captures`, sorted.
pub fn capture_files(shared: &Path) -> Vec<PathBuf> {
    files_in(&shared.join("captures"), Some("pcap"))
}

/// One hostile datagram of `shared/corpus/<set>/<file>`.
#[derive(Debug)]
pub struct CorpusFile {
    /// `<set>/<file>`, for messages.
    pub name: String,
    /// The raw datagram.
    pub bytes: Vec<u8>,
}

/// Every file of every folder of `shared/corpus`, sorted by set then name.
pub fn corpus_files(shared: &Path) -> Vec<CorpusFile> {
    let root = shared.join("corpus");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut sets: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    sets.sort();
    let mut out = Vec::new();
    for set in sets {
        let set_name = file_name(&set);
        for file in files_in(&set, None) {
            let bytes = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            out.push(CorpusFile {
                name: format!("{set_name}/{}", file_name(&file)),
                bytes,
            });
        }
    }
    out
}

/// The last path component as a string.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One RTPS datagram found in a capture.
#[derive(Debug, Clone)]
pub struct RtpsDatagram {
    /// Frame number in the capture, 1-based as in Wireshark.
    pub frame: usize,
    /// The UDP payload (starts with "RTPS").
    pub bytes: Vec<u8>,
}

/// What a capture held, beyond its RTPS datagrams.
#[derive(Debug, Default, Clone)]
pub struct CaptureScan {
    /// Capture file name.
    pub name: String,
    /// Link-layer frames.
    pub frames: usize,
    /// Frames that are not IPv4/IPv6 UDP.
    pub not_udp: usize,
    /// IPv4 fragments (not reassembled: none expected on loopback, MTU 65536).
    pub ip_fragments: usize,
    /// UDP datagrams whose payload does not start with "RTPS".
    pub non_rtps_udp: usize,
    /// Frames cut short by the snap length.
    pub truncated: usize,
    /// The RTPS datagrams, in capture order.
    pub rtps: Vec<RtpsDatagram>,
}

/// Read a capture file and pick out its RTPS datagrams. Panics (it is a test helper) naming the
/// file on a malformed capture.
pub fn scan_capture(path: &Path) -> CaptureScan {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let frames = pcap::read_capture(&bytes)
        .unwrap_or_else(|e| panic!("{}: bad capture: {e}", path.display()));
    let mut scan = CaptureScan {
        name: file_name(path),
        frames: frames.len(),
        ..CaptureScan::default()
    };
    for f in &frames {
        if f.truncated {
            scan.truncated += 1;
        }
        match pcap::decode_frame(f.link_type, f.data) {
            pcap::Transport::Udp(udp) if udp.payload.starts_with(b"RTPS") => {
                scan.rtps.push(RtpsDatagram {
                    frame: f.number,
                    bytes: udp.payload.to_vec(),
                })
            }
            pcap::Transport::Udp(_) => scan.non_rtps_udp += 1,
            pcap::Transport::IpFragment => scan.ip_fragments += 1,
            pcap::Transport::Other(_) => scan.not_udp += 1,
        }
    }
    scan
}

/// Every capture of `shared/captures`, scanned.
pub fn scan_all_captures(shared: &Path) -> Vec<CaptureScan> {
    capture_files(shared)
        .iter()
        .map(|p| scan_capture(p))
        .collect()
}
