//! Choosing the network interface a transport binds to, without a new crate.
//!
//! An interface is given as an IPv4 address (`127.0.0.1`, `192.0.2.2`) or a Linux interface name
//! (`lo`, `eth0`). Names are resolved from the calling process's network namespace:
//! - `/proc/net/dev` lists the interfaces (unlike `/sys/class/net`, which shows the namespace that
//!   mounted sysfs, `/proc/net` follows the process into `unshare -n`);
//! - `/proc/net/fib_trie` lists the local (`/32 host LOCAL`) addresses;
//! - `/proc/net/route` gives each interface's connected subnets, which tie a local address to a
//!   name. `lo` is always `127.0.0.1` (its routes live in the local table only).
//!
//! The parsers are pure functions over text (tested with fixtures) and cap what they read.

use core::fmt;
use std::net::Ipv4Addr;

/// The most bytes read from one `/proc` file.
const MAX_PROC_FILE: u64 = 1 << 20;
/// The longest Linux interface name (`IFNAMSIZ - 1`).
const MAX_IFNAME: usize = 15;

/// Why an interface could not be resolved to an IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InterfaceError {
    /// The text is neither an IPv4 address nor a valid interface name.
    InvalidName,
    /// No interface with that name exists in this network namespace.
    UnknownInterface,
    /// The interface exists but has no IPv4 address.
    NoIpv4Address,
    /// The named `/proc` file could not be read.
    Unreadable(&'static str),
}

impl fmt::Display for InterfaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterfaceError::InvalidName => {
                f.write_str("not an IPv4 address or a valid interface name")
            }
            InterfaceError::UnknownInterface => {
                f.write_str("no interface with that name in this network namespace")
            }
            InterfaceError::NoIpv4Address => f.write_str("the interface has no IPv4 address"),
            InterfaceError::Unreadable(what) => write!(f, "cannot read {what}"),
        }
    }
}

impl std::error::Error for InterfaceError {}

/// One IPv4 route from `/proc/net/route`: interface name, destination network and mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Interface name.
    pub interface: String,
    /// Destination network.
    pub destination: Ipv4Addr,
    /// Network mask.
    pub mask: Ipv4Addr,
}

impl Route {
    /// Whether `ip` is inside this route's destination network.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::from(self.mask);
        u32::from(ip) & mask == u32::from(self.destination) & mask
    }
}

/// Resolve `--interface` text to the IPv4 address to bind: an address is taken as is, a name is
/// looked up in this network namespace (`lo` gives `127.0.0.1`).
pub fn resolve_interface(spec: &str) -> Result<Ipv4Addr, InterfaceError> {
    let spec = spec.trim();
    if let Ok(ip) = spec.parse::<Ipv4Addr>() {
        return Ok(ip);
    }
    if !valid_interface_name(spec) {
        return Err(InterfaceError::InvalidName);
    }
    let names = interface_names()?;
    if !names.iter().any(|n| n == spec) {
        return Err(InterfaceError::UnknownInterface);
    }
    if spec == "lo" {
        return Ok(Ipv4Addr::LOCALHOST);
    }
    let locals = parse_fib_trie_local(&read_proc("/proc/net/fib_trie")?);
    let routes = parse_proc_net_route(&read_proc("/proc/net/route")?);
    address_of(spec, &locals, &routes).ok_or(InterfaceError::NoIpv4Address)
}

/// The first local address inside a connected subnet routed through `interface` (pure).
pub fn address_of(interface: &str, locals: &[Ipv4Addr], routes: &[Route]) -> Option<Ipv4Addr> {
    routes
        .iter()
        .filter(|r| r.interface == interface && !r.mask.is_unspecified())
        .find_map(|r| locals.iter().copied().find(|ip| r.contains(*ip)))
}

/// The interface names of this network namespace, from `/proc/net/dev`.
pub fn interface_names() -> Result<Vec<String>, InterfaceError> {
    Ok(parse_proc_net_dev(&read_proc("/proc/net/dev")?))
}

/// True when this process's network namespace has no interface but `lo`: the only setting in
/// which tests may open real sockets (run them under `shared/oracles/netns-run`).
pub fn loopback_only_namespace() -> bool {
    matches!(interface_names(), Ok(names) if names.iter().all(|n| n == "lo"))
}

/// The skip message printed by real-socket tests outside a private network namespace.
pub const NOT_IN_NAMESPACE: &str =
    "skipped: not inside a private network namespace (run under ../shared/oracles/netns-run)";

/// The `#[ignore]` reason of every real-socket test. `#[ignore = ..]` takes a string literal
/// only, so a test repeats this text; `cargo test` then lists the test as ignored with it, and
/// `../shared/oracles/netns-run cargo test -- --include-ignored` runs it. A real-socket test
/// reads:
///
/// ```text
/// #[test]
/// #[ignore = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored"]
/// fn two_participants_talk() {
///     rtps::transport::interface::require_private_namespace();
///     // ... open sockets ...
/// }
/// ```
pub const NETNS_IGNORE_REASON: &str = "needs a private network namespace: run with ../shared/oracles/netns-run cargo test -- --include-ignored";

/// The first statement of a real-socket test: panics with [`NETNS_IGNORE_REASON`] unless
/// [`loopback_only_namespace`], so that an ignored test run outside the namespace (with
/// `--include-ignored`) fails loudly instead of opening sockets on a real network or passing
/// without having run.
pub fn require_private_namespace() {
    assert!(
        loopback_only_namespace(),
        "{NETNS_IGNORE_REASON} (this network namespace has interfaces other than `lo`: no real \
         socket is opened here)"
    );
}

/// Whether `name` could be a Linux interface name (1..=15 octets, no `/`, no whitespace).
fn valid_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_IFNAME
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

/// Read at most [`MAX_PROC_FILE`] bytes of a `/proc` file as text.
fn read_proc(path: &'static str) -> Result<String, InterfaceError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|_| InterfaceError::Unreadable(path))?;
    let mut text = String::new();
    file.take(MAX_PROC_FILE)
        .read_to_string(&mut text)
        .map_err(|_| InterfaceError::Unreadable(path))?;
    Ok(text)
}

/// Interface names from `/proc/net/dev` text (lines `  name: counters...` after two headers).
pub fn parse_proc_net_dev(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, _)| name.trim())
        .filter(|name| valid_interface_name(name))
        .map(str::to_owned)
        .collect()
}

/// Local host addresses (`/32 host LOCAL`) from `/proc/net/fib_trie` text, deduplicated, sorted.
pub fn parse_fib_trie_local(text: &str) -> Vec<Ipv4Addr> {
    let mut out = std::collections::BTreeSet::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("|-- ") {
            last = rest.trim().parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(ip) = last {
                out.insert(ip);
            }
        }
    }
    out.into_iter().collect()
}

/// Routes from `/proc/net/route` text (hex fields in host byte order).
pub fn parse_proc_net_route(text: &str) -> Vec<Route> {
    let hex = |s: &str| {
        u32::from_str_radix(s, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let interface = f.next()?;
            let destination = hex(f.next()?)?;
            let mask = hex(f.nth(5)?)?;
            valid_interface_name(interface).then(|| Route {
                interface: interface.to_owned(),
                destination,
                mask,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
  eth0: 1234 5 0 0 0 0 0 0 99 1 0 0 0 0 0 0
";

    const FIB: &str = "Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
           |-- 192.0.2.2
              /32 host LOCAL
";

    const ROUTE: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
";

    proptest::proptest! {
        #[test]
        fn parsers_never_panic_on_arbitrary_text(text in ".{0,400}") {
            let _ = parse_proc_net_dev(&text);
            let locals = parse_fib_trie_local(&text);
            let routes = parse_proc_net_route(&text);
            let _ = address_of("eth0", &locals, &routes);
        }
    }

    #[test]
    fn proc_net_dev_lists_interface_names() {
        assert_eq!(parse_proc_net_dev(DEV), vec!["lo", "eth0"]);
        assert!(parse_proc_net_dev("garbage\n:::\n").is_empty());
    }

    #[test]
    fn fib_trie_gives_only_host_local_addresses() {
        assert_eq!(
            parse_fib_trie_local(FIB),
            vec![Ipv4Addr::LOCALHOST, Ipv4Addr::new(192, 0, 2, 2)]
        );
    }

    #[test]
    fn proc_net_route_decodes_host_order_hex() {
        let routes = parse_proc_net_route(ROUTE);
        assert_eq!(routes.len(), 2);
        if cfg!(target_endian = "little") {
            assert_eq!(routes[1].destination, Ipv4Addr::new(192, 0, 2, 0));
            assert_eq!(routes[1].mask, Ipv4Addr::new(255, 255, 255, 0));
        }
    }

    #[test]
    fn a_name_maps_to_the_local_address_in_its_subnet() {
        let locals = parse_fib_trie_local(FIB);
        let routes = parse_proc_net_route(ROUTE);
        if cfg!(target_endian = "little") {
            assert_eq!(
                address_of("eth0", &locals, &routes),
                Some(Ipv4Addr::new(192, 0, 2, 2))
            );
        }
        assert_eq!(address_of("eth1", &locals, &routes), None);
    }

    #[test]
    fn addresses_are_taken_as_given_and_bad_names_rejected() {
        assert_eq!(resolve_interface("127.0.0.1"), Ok(Ipv4Addr::LOCALHOST));
        assert_eq!(
            resolve_interface(" 10.1.2.3 "),
            Ok(Ipv4Addr::new(10, 1, 2, 3))
        );
        assert_eq!(resolve_interface(""), Err(InterfaceError::InvalidName));
        assert_eq!(
            resolve_interface("../etc"),
            Err(InterfaceError::InvalidName)
        );
        assert_eq!(
            resolve_interface("averyveryverylongname"),
            Err(InterfaceError::InvalidName)
        );
    }

    #[test]
    fn loopback_always_resolves_and_unknown_names_do_not() {
        assert_eq!(resolve_interface("lo"), Ok(Ipv4Addr::LOCALHOST));
        assert_eq!(
            resolve_interface("nosuchif0"),
            Err(InterfaceError::UnknownInterface)
        );
    }

    #[test]
    fn require_private_namespace_panics_exactly_outside_one() {
        // Reads /proc only: no socket is opened, in or out of a namespace.
        let r = std::panic::catch_unwind(require_private_namespace);
        assert_eq!(r.is_ok(), loopback_only_namespace());
    }
}
