//! A small capture-file reader for the tests: classic pcap (both byte orders, microsecond and
//! nanosecond magic) and pcapng (what `tshark`/`dumpcap` write, also with a `.pcap` name), then
//! the link layer (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw IP, BSD loopback), IPv4
//! (options, fragments detected) / IPv6 (UDP directly after the fixed header) and UDP.
//!
//! Every read is bounds-checked with `get`; malformed files give an `Err(&str)`, never a panic.

/// Link types (tcpdump.org/linktypes.html).
pub const LINKTYPE_NULL: u32 = 0;
/// Ethernet II.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Raw IP (v4 or v6 by the version nibble).
pub const LINKTYPE_RAW: u32 = 101;
/// OpenBSD loopback: the address family in network byte order.
pub const LINKTYPE_LOOP: u32 = 108;
/// Linux cooked capture v1.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// Raw IPv4.
pub const LINKTYPE_IPV4: u32 = 228;
/// Raw IPv6.
pub const LINKTYPE_IPV6: u32 = 229;
/// Linux cooked capture v2.
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// One captured link-layer frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based frame number, as Wireshark shows it.
    pub number: usize,
    /// The link type of the frame's interface.
    pub link_type: u32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// True when the frame was cut by the snap length (captured < original length).
    pub truncated: bool,
}

#[derive(Debug, Clone, Copy)]
enum Order {
    Little,
    Big,
}

fn u16_at(b: &[u8], at: usize, o: Order) -> Result<u16, &'static str> {
    let s: [u8; 2] = b
        .get(at..at.checked_add(2).ok_or("offset overflow")?)
        .and_then(|s| s.try_into().ok())
        .ok_or("truncated u16")?;
    Ok(match o {
        Order::Little => u16::from_le_bytes(s),
        Order::Big => u16::from_be_bytes(s),
    })
}

fn u32_at(b: &[u8], at: usize, o: Order) -> Result<u32, &'static str> {
    let s: [u8; 4] = b
        .get(at..at.checked_add(4).ok_or("offset overflow")?)
        .and_then(|s| s.try_into().ok())
        .ok_or("truncated u32")?;
    Ok(match o {
        Order::Little => u32::from_le_bytes(s),
        Order::Big => u32::from_be_bytes(s),
    })
}

fn slice(b: &[u8], at: usize, len: usize) -> Result<&[u8], &'static str> {
    b.get(at..at.checked_add(len).ok_or("length overflow")?)
        .ok_or("record runs past the end of the file")
}

fn len_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Read every frame of a classic pcap or a pcapng file.
pub fn read_capture(file: &[u8]) -> Result<Vec<Frame<'_>>, &'static str> {
    match file.get(0..4) {
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => read_pcapng(file),
        Some(_) => read_classic(file),
        None => Err("file shorter than a magic number"),
    }
}

/// Classic libpcap format: 24-byte file header, 16-byte record headers.
fn read_classic(file: &[u8]) -> Result<Vec<Frame<'_>>, &'static str> {
    let magic = u32_at(file, 0, Order::Little)?;
    let order = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => Order::Little,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => Order::Big,
        _ => return Err("not a pcap or pcapng file (bad magic)"),
    };
    let link_type = u32_at(file, 20, order)? & 0x0fff_ffff; // high bits: FCS info
    let mut frames = Vec::new();
    let mut at = 24usize;
    while at < file.len() {
        let incl = len_usize(u32_at(file, at + 8, order)?);
        let orig = len_usize(u32_at(file, at + 12, order)?);
        let data = slice(file, at + 16, incl)?;
        frames.push(Frame {
            number: frames.len() + 1,
            link_type,
            data,
            truncated: incl < orig,
        });
        at = at + 16 + incl;
    }
    Ok(frames)
}

/// pcapng: a sequence of blocks; sections (SHB) set the byte order, interfaces (IDB) the link
/// type, packets come in EPB, SPB or the obsolete PB; every other block is skipped.
fn read_pcapng(file: &[u8]) -> Result<Vec<Frame<'_>>, &'static str> {
    const SHB: u32 = 0x0a0d_0d0a;
    const IDB: u32 = 1;
    const PB: u32 = 2;
    const SPB: u32 = 3;
    const EPB: u32 = 6;
    let mut order = Order::Little;
    // (link type, snap length) per interface of the current section
    let mut interfaces: Vec<(u32, u32)> = Vec::new();
    let mut frames = Vec::new();
    let mut at = 0usize;
    while at < file.len() {
        if file.get(at..at + 4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
            order = match file.get(at + 8..at + 12) {
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => Order::Big,
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => Order::Little,
                _ => return Err("pcapng section header with a bad byte-order magic"),
            };
            interfaces.clear();
        }
        let kind = u32_at(file, at, order)?;
        let total = len_usize(u32_at(file, at + 4, order)?);
        if total < 12 || total % 4 != 0 {
            return Err("pcapng block length not a multiple of 4 or under 12");
        }
        let block = slice(file, at, total)?;
        if u32_at(block, total - 4, order)? != u32_at(block, 4, order)? {
            return Err("pcapng block trailing length differs from its leading length");
        }
        let body = slice(block, 8, total - 12)?;
        match kind {
            SHB => {}
            IDB => {
                let link = u32::from(u16_at(body, 0, order)?);
                let snap = u32_at(body, 4, order)?;
                if interfaces.len() >= 1024 {
                    return Err("more than 1024 pcapng interfaces");
                }
                interfaces.push((link, snap));
            }
            EPB | PB => {
                let (iface, cap_at) = if kind == EPB {
                    (len_usize(u32_at(body, 0, order)?), 12)
                } else {
                    (usize::from(u16_at(body, 0, order)?), 12)
                };
                let (link_type, _) = *interfaces
                    .get(iface)
                    .ok_or("packet block names an undeclared interface")?;
                let cap = len_usize(u32_at(body, cap_at, order)?);
                let orig = len_usize(u32_at(body, cap_at + 4, order)?);
                let data = slice(body, cap_at + 8, cap)?;
                frames.push(Frame {
                    number: frames.len() + 1,
                    link_type,
                    data,
                    truncated: cap < orig,
                });
            }
            SPB => {
                let (link_type, snap) = *interfaces
                    .first()
                    .ok_or("simple packet block without an interface")?;
                let orig = len_usize(u32_at(body, 0, order)?);
                let mut cap = orig.min(body.len().saturating_sub(4));
                if snap != 0 {
                    cap = cap.min(len_usize(snap));
                }
                let data = slice(body, 4, cap)?;
                frames.push(Frame {
                    number: frames.len() + 1,
                    link_type,
                    data,
                    truncated: cap < orig,
                });
            }
            _ => {} // statistics, name resolution, custom...: not needed
        }
        at += total;
    }
    Ok(frames)
}

/// A UDP datagram found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Udp<'a> {
    /// Source address (IPv4: 4 bytes, IPv6: 16 bytes).
    pub src: &'a [u8],
    /// Destination address.
    pub dst: &'a [u8],
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The UDP payload (as much of it as was captured).
    pub payload: &'a [u8],
}

/// What a frame carries, as far as these tests care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A whole UDP datagram.
    Udp(Udp<'a>),
    /// An IPv4 fragment (not reassembled).
    IpFragment,
    /// Anything else, with the reason.
    Other(&'static str),
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;

/// Decode the link layer, IP and UDP of one frame.
pub fn decode_frame(link_type: u32, data: &[u8]) -> Transport<'_> {
    match network_layer(link_type, data) {
        Ok(Some((ETHERTYPE_IPV4, ip))) => ipv4(ip),
        Ok(Some((ETHERTYPE_IPV6, ip))) => ipv6(ip),
        Ok(_) => Transport::Other("not IP"),
        Err(e) => Transport::Other(e),
    }
}

/// Strip the link-layer header: `(ethertype, network-layer bytes)`, `None` for other protocols.
fn network_layer(link_type: u32, data: &[u8]) -> Result<Option<(u16, &[u8])>, &'static str> {
    match link_type {
        LINKTYPE_ETHERNET => {
            let mut at = 12;
            let mut ethertype = u16_at(data, at, Order::Big)?;
            // 802.1Q / 802.1ad tags, at most two deep in practice
            for _ in 0..4 {
                if ethertype != 0x8100 && ethertype != 0x88a8 {
                    break;
                }
                at += 4;
                ethertype = u16_at(data, at, Order::Big)?;
            }
            Ok(Some((ethertype, data.get(at + 2..).ok_or("short frame")?)))
        }
        LINKTYPE_LINUX_SLL => Ok(Some((
            u16_at(data, 14, Order::Big)?,
            data.get(16..).ok_or("short SLL frame")?,
        ))),
        LINKTYPE_LINUX_SLL2 => Ok(Some((
            u16_at(data, 0, Order::Big)?,
            data.get(20..).ok_or("short SLL2 frame")?,
        ))),
        LINKTYPE_RAW => Ok(match data.first().map(|b| b >> 4) {
            Some(4) => Some((ETHERTYPE_IPV4, data)),
            Some(6) => Some((ETHERTYPE_IPV6, data)),
            _ => None,
        }),
        LINKTYPE_IPV4 => Ok(Some((ETHERTYPE_IPV4, data))),
        LINKTYPE_IPV6 => Ok(Some((ETHERTYPE_IPV6, data))),
        LINKTYPE_NULL | LINKTYPE_LOOP => {
            // The address family is in the capturing host's byte order (NULL) or in network
            // order (LOOP); AF_INET is 2 everywhere, AF_INET6 is 10, 24, 28 or 30.
            let le = u32_at(data, 0, Order::Little)?;
            let be = u32_at(data, 0, Order::Big)?;
            let family = if le < 256 { le } else { be };
            let ip = data.get(4..).ok_or("short loopback frame")?;
            Ok(match family {
                2 => Some((ETHERTYPE_IPV4, ip)),
                10 | 24 | 28 | 30 => Some((ETHERTYPE_IPV6, ip)),
                _ => None,
            })
        }
        _ => Err("unsupported link type"),
    }
}

fn ipv4(ip: &[u8]) -> Transport<'_> {
    let parse = || -> Result<Transport<'_>, &'static str> {
        let vihl = *ip.first().ok_or("empty IPv4 packet")?;
        if vihl >> 4 != 4 {
            return Err("IPv4 version nibble is not 4");
        }
        let ihl = usize::from(vihl & 0x0f) * 4;
        if ihl < 20 {
            return Err("IPv4 header length under 20");
        }
        let total = usize::from(u16_at(ip, 2, Order::Big)?);
        let flags_frag = u16_at(ip, 6, Order::Big)?;
        if flags_frag & 0x3fff != 0 {
            return Ok(Transport::IpFragment); // MF set or a non-zero offset
        }
        if *ip.get(9).ok_or("short IPv4 header")? != 17 {
            return Ok(Transport::Other("IPv4 but not UDP"));
        }
        let src = slice(ip, 12, 4)?;
        let dst = slice(ip, 16, 4)?;
        // total == 0 happens with TSO captures; then trust the captured length
        let end = if total == 0 {
            ip.len()
        } else {
            total.min(ip.len())
        };
        let l4 = ip
            .get(ihl..end)
            .ok_or("IPv4 header longer than the packet")?;
        udp(src, dst, l4)
    };
    parse().unwrap_or_else(Transport::Other)
}

fn ipv6(ip: &[u8]) -> Transport<'_> {
    let parse = || -> Result<Transport<'_>, &'static str> {
        let payload_len = usize::from(u16_at(ip, 4, Order::Big)?);
        match *ip.get(6).ok_or("short IPv6 header")? {
            17 => {}
            44 => return Ok(Transport::IpFragment),
            _ => return Ok(Transport::Other("IPv6 but not directly UDP")),
        }
        let src = slice(ip, 8, 16)?;
        let dst = slice(ip, 24, 16)?;
        let end = 40usize.saturating_add(payload_len).min(ip.len());
        udp(src, dst, ip.get(40..end).ok_or("short IPv6 packet")?)
    };
    parse().unwrap_or_else(Transport::Other)
}

fn udp<'a>(src: &'a [u8], dst: &'a [u8], l4: &'a [u8]) -> Result<Transport<'a>, &'static str> {
    let src_port = u16_at(l4, 0, Order::Big)?;
    let dst_port = u16_at(l4, 2, Order::Big)?;
    let len = usize::from(u16_at(l4, 4, Order::Big)?);
    if len < 8 {
        return Err("UDP length under 8");
    }
    let payload = l4.get(8..len.min(l4.len())).ok_or("short UDP datagram")?;
    Ok(Transport::Udp(Udp {
        src,
        dst,
        src_port,
        dst_port,
        payload,
    }))
}

/// Build a classic pcap file (for the reader's own tests and for writing fixtures).
pub fn write_classic(link_type: u32, big_endian: bool, nanos: bool, frames: &[&[u8]]) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    out.extend(w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    out.extend(w16(2));
    out.extend(w16(4));
    out.extend(w32(0));
    out.extend(w32(0));
    out.extend(w32(65535));
    out.extend(w32(link_type));
    for (i, f) in frames.iter().enumerate() {
        let n = u32::try_from(f.len()).unwrap_or(u32::MAX);
        out.extend(w32(u32::try_from(i).unwrap_or(0)));
        out.extend(w32(0));
        out.extend(w32(n));
        out.extend(w32(n));
        out.extend_from_slice(f);
    }
    out
}

/// Build an IPv4/UDP packet (no options unless `options` is non-empty; a multiple of 4 bytes).
pub fn ipv4_udp(options: &[u8], flags_frag: u16, payload: &[u8]) -> Vec<u8> {
    let ihl = 20 + options.len();
    let total = ihl + 8 + payload.len();
    let mut ip = vec![0x40 | u8::try_from(ihl / 4).unwrap_or(5), 0];
    ip.extend(u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes());
    ip.extend([0, 1]);
    ip.extend(flags_frag.to_be_bytes());
    ip.extend([64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
    ip.extend_from_slice(options);
    ip.extend(7400u16.to_be_bytes());
    ip.extend(7410u16.to_be_bytes());
    ip.extend(
        u16::try_from(8 + payload.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    ip.extend([0, 0]);
    ip.extend_from_slice(payload);
    ip
}
