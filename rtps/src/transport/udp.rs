//! The UDPv4 transport (RTPS 2.5 §9.6.1): four receive sockets on the well-known ports and one
//! send socket, built with socket2.
//!
//! - **Interface.** Everything binds to one configured IPv4 interface address, by default
//!   loopback (`127.0.0.1`); a LAN address only when configured. The unicast sockets bind
//!   `interface:port`; multicast is joined on the interface and sent with
//!   `IP_MULTICAST_IF = interface`, `IP_MULTICAST_LOOP` on and TTL 1. While bound to loopback,
//!   the sender refuses any destination outside `127.0.0.0/8` and multicast.
//! - **Participant id.** Unless configured, the first id whose metatraffic and user unicast
//!   ports are both free is taken (0, 1, 2, ... up to a cap), as Fast DDS and Cyclone
//!   (`ParticipantIndex=auto`) do. Unicast sockets never set `SO_REUSEADDR`, so a port in use
//!   really means "taken".
//! - **Multicast.** The SPDP multicast socket sets `SO_REUSEADDR` and `SO_REUSEPORT` (every
//!   participant on the host shares the port), binds the group address so unicast to that port
//!   and other groups are not received, and joins `239.255.0.1` on the interface. If joining
//!   fails the transport carries on unicast-only (the failure is logged and kept).
//! - **Buffers.** Large socket buffers are requested (4 MiB by default); the kernel caps them at
//!   `net.core.{r,w}mem_max` and reports double the value it grants: see [`BufferSizes`].
//! - **Send.** Sends never drop silently: a full socket buffer (`EAGAIN`, `ENOBUFS`) is
//!   [`SendError::WouldBlock`], so the driver can queue control traffic and retry.
//! - **Receive.** [`UdpReceiver::recv_timeout`] reads one datagram straight into the caller's
//!   buffer: the only copy is kernel to that buffer.
//!
//! This is the only module, with the driver, that owns sockets; the protocol core never sees
//! them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

pub use super::error::{classify_send_error, BindError, RecvError, SendError};
use super::ports::{self, Ports, AUTO_PARTICIPANT_ID_CAP, SPDP_MULTICAST_GROUP};
use crate::wire::Locator;

/// The socket buffer size requested by default (4 MiB, for both directions).
pub const DEFAULT_SOCKET_BUFFER: usize = 4 << 20;
/// The largest UDP payload over IPv4 (65,535 − 20 − 8); a receive buffer this long never truncates.
pub const MAX_UDP_PAYLOAD: usize = 65_507;
/// How long a send waits for room in a full socket buffer by default before [`SendError::WouldBlock`].
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_millis(100);

/// How to bind a [`UdpTransport`] (RTPS 2.5 §9.6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportConfig {
    /// DDS domain id (0..=232).
    pub domain_id: u32,
    /// The interface address to bind and to send multicast on; default loopback.
    pub interface: Ipv4Addr,
    /// A fixed participant id, or `None` to take the first free one.
    pub participant_id: Option<u32>,
    /// The largest participant id the automatic choice tries.
    pub max_auto_participant_id: u32,
    /// Join and send to the SPDP multicast group (falls back to unicast-only if that fails).
    pub multicast: bool,
    /// Also open the user-traffic multicast socket (needs `multicast`).
    pub user_multicast: bool,
    /// Requested `SO_RCVBUF` of each receive socket, in bytes.
    pub recv_buffer: usize,
    /// Requested `SO_SNDBUF` of the send socket, in bytes.
    pub send_buffer: usize,
    /// How long a send waits for buffer room; `None` makes sends non-blocking.
    pub send_timeout: Option<Duration>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            domain_id: 0,
            interface: Ipv4Addr::LOCALHOST,
            participant_id: None,
            max_auto_participant_id: AUTO_PARTICIPANT_ID_CAP,
            multicast: true,
            user_multicast: false,
            recv_buffer: DEFAULT_SOCKET_BUFFER,
            send_buffer: DEFAULT_SOCKET_BUFFER,
            send_timeout: Some(DEFAULT_SEND_TIMEOUT),
        }
    }
}

/// Which well-known port a receiver listens on (RTPS 2.5 §9.6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReceiverKind {
    /// Builtin (discovery) traffic to this participant (`d1`).
    MetatrafficUnicast,
    /// User traffic to this participant (`d3`).
    UserUnicast,
    /// SPDP multicast, shared by every participant of the domain (`d0`).
    MetatrafficMulticast,
    /// User-traffic multicast (`d2`).
    UserMulticast,
}

/// The socket buffer sizes the kernel granted (as `getsockopt` reports them: Linux doubles the
/// request, capped at `net.core.{r,w}mem_max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferSizes {
    /// `SO_RCVBUF` of the receive sockets.
    pub recv: usize,
    /// `SO_SNDBUF` of the send socket.
    pub send: usize,
}

/// This participant's locators, as SPDP announces them (RTPS 2.5 §8.5.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalLocators {
    /// `metatrafficUnicastLocatorList`.
    pub metatraffic_unicast: Locator,
    /// `defaultUnicastLocatorList`.
    pub default_unicast: Locator,
    /// `metatrafficMulticastLocatorList`, when multicast is active.
    pub metatraffic_multicast: Option<Locator>,
    /// `defaultMulticastLocatorList`, when user multicast is active.
    pub default_multicast: Option<Locator>,
}

/// One received datagram: its bytes are `buf[..len]` of the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Bytes written into the buffer.
    pub len: usize,
    /// The sender's address.
    pub from: SocketAddr,
    /// The socket it arrived on.
    pub kind: ReceiverKind,
    /// The datagram filled a buffer shorter than [`MAX_UDP_PAYLOAD`], so it may have been cut.
    pub possibly_truncated: bool,
}

/// Sentinel values of [`UdpReceiver`]'s timeout cache.
const TIMEOUT_UNKNOWN: u64 = u64::MAX;
const TIMEOUT_BLOCKING: u64 = u64::MAX - 1;

/// A receive socket on one well-known port.
#[derive(Debug)]
pub struct UdpReceiver {
    socket: UdpSocket,
    kind: ReceiverKind,
    local: SocketAddrV4,
    /// The `SO_RCVTIMEO` last set, in nanoseconds, so repeated calls skip the syscall.
    timeout_ns: AtomicU64,
    /// The socket is in non-blocking mode ([`UdpReceiver::try_recv`] last).
    nonblocking: AtomicBool,
}

impl UdpReceiver {
    fn new(socket: Socket, kind: ReceiverKind, local: SocketAddrV4) -> Self {
        UdpReceiver {
            socket: socket.into(),
            kind,
            local,
            timeout_ns: AtomicU64::new(TIMEOUT_UNKNOWN),
            nonblocking: AtomicBool::new(false),
        }
    }

    /// Which port this is.
    pub fn kind(&self) -> ReceiverKind {
        self.kind
    }

    /// The bound address (for multicast: the group and port).
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.local
    }

    /// Receive one datagram into `buf`, waiting at most `timeout` (`None`: forever). Returns
    /// `Ok(None)` on timeout or interruption. Use a buffer of [`MAX_UDP_PAYLOAD`] bytes to never
    /// truncate. Concurrent callers on one receiver should pass the same timeout.
    pub fn recv_timeout(
        &self,
        buf: &mut [u8],
        timeout: Option<Duration>,
    ) -> Result<Option<Received>, RecvError> {
        self.set_nonblocking(false)?;
        self.apply_timeout(timeout)?;
        self.recv_now(buf)
    }

    /// Receive one datagram into `buf` if one is queued, without waiting (`Ok(None)` if none).
    /// Busy-polling with this avoids the wake-up latency of a blocked thread.
    pub fn try_recv(&self, buf: &mut [u8]) -> Result<Option<Received>, RecvError> {
        self.set_nonblocking(true)?;
        self.recv_now(buf)
    }

    fn set_nonblocking(&self, on: bool) -> Result<(), RecvError> {
        if self.nonblocking.load(Ordering::Relaxed) != on {
            self.socket.set_nonblocking(on).map_err(RecvError::Io)?;
            self.nonblocking.store(on, Ordering::Relaxed);
        }
        Ok(())
    }

    fn recv_now(&self, buf: &mut [u8]) -> Result<Option<Received>, RecvError> {
        match self.socket.recv_from(buf) {
            Ok((len, from)) => Ok(Some(Received {
                len,
                from,
                kind: self.kind,
                possibly_truncated: len == buf.len() && buf.len() < MAX_UDP_PAYLOAD,
            })),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(RecvError::Io(e)),
        }
    }

    /// Set `SO_RCVTIMEO` unless it already has this value (a zero timeout becomes 1 µs, since
    /// zero means "forever" to the kernel).
    fn apply_timeout(&self, timeout: Option<Duration>) -> Result<(), RecvError> {
        let timeout = timeout.map(|t| t.max(Duration::from_micros(1)));
        let code = match timeout {
            None => TIMEOUT_BLOCKING,
            Some(t) => u64::try_from(t.as_nanos())
                .unwrap_or(TIMEOUT_BLOCKING - 1)
                .min(TIMEOUT_BLOCKING - 1),
        };
        if self.timeout_ns.load(Ordering::Relaxed) != code {
            self.socket
                .set_read_timeout(timeout)
                .map_err(RecvError::Io)?;
            self.timeout_ns.store(code, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// The send socket: bound to `interface:0`; multicast (when active) goes out of the interface
/// with TTL 1 and loops back to local members.
#[derive(Debug)]
pub struct UdpSender {
    socket: UdpSocket,
    interface: Ipv4Addr,
    multicast: bool,
}

impl UdpSender {
    /// Send one datagram to `to` (RTPS 2.5 §8.3.4: a message is one datagram). A full socket
    /// buffer is [`SendError::WouldBlock`]; nothing is dropped silently.
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> Result<(), SendError> {
        let ip = match to.ip() {
            IpAddr::V4(ip) => ip,
            IpAddr::V6(_) => return Err(SendError::Unsupported),
        };
        let multicast = ip.is_multicast();
        if multicast && !self.multicast {
            return Err(SendError::MulticastDisabled);
        }
        if self.interface.is_loopback() && !multicast && !ip.is_loopback() {
            return Err(SendError::NotLoopback);
        }
        if bytes.len() > MAX_UDP_PAYLOAD {
            return Err(SendError::TooLarge);
        }
        self.socket
            .send_to(bytes, to)
            .map(|_| ())
            .map_err(|e| classify_send_error(e, multicast))
    }

    /// The address the sender is bound to (interface and ephemeral port).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.socket.local_addr().ok()
    }

    /// Whether multicast sends are allowed.
    pub fn multicast(&self) -> bool {
        self.multicast
    }
}

/// The sockets of a [`UdpTransport`], for a driver that moves each receiver to its own thread.
#[derive(Debug)]
pub struct TransportParts {
    /// The send socket.
    pub sender: UdpSender,
    /// Metatraffic unicast receiver.
    pub metatraffic_unicast: UdpReceiver,
    /// User unicast receiver.
    pub user_unicast: UdpReceiver,
    /// SPDP multicast receiver, when multicast is active.
    pub metatraffic_multicast: Option<UdpReceiver>,
    /// User multicast receiver, when configured and active.
    pub user_multicast: Option<UdpReceiver>,
}

/// A bound UDPv4 transport: the participant's ports, receive sockets and send socket
/// (RTPS 2.5 §9.6.1).
#[derive(Debug)]
pub struct UdpTransport {
    ports: Ports,
    interface: Ipv4Addr,
    sender: UdpSender,
    metatraffic_unicast: UdpReceiver,
    user_unicast: UdpReceiver,
    metatraffic_multicast: Option<UdpReceiver>,
    user_multicast: Option<UdpReceiver>,
    buffers: BufferSizes,
    multicast_error: Option<io::Error>,
}

fn socket_err(what: &'static str) -> impl FnOnce(io::Error) -> BindError {
    move |error| BindError::Socket { what, error }
}

fn new_udp_socket(recv_buffer: usize) -> Result<Socket, BindError> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(socket_err("create UDP socket"))?;
    if let Err(e) = s.set_recv_buffer_size(recv_buffer) {
        log::warn!("SO_RCVBUF {recv_buffer}: {e}");
    }
    Ok(s)
}

/// Bind a unicast receive socket; `Ok(None)` when the port is taken.
fn bind_unicast(addr: SocketAddrV4, recv_buffer: usize) -> Result<Option<Socket>, BindError> {
    let s = new_udp_socket(recv_buffer)?;
    match s.bind(&SockAddr::from(addr)) {
        Ok(()) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => Err(BindError::InvalidInterface(
            "the address is not assigned to any interface here",
        )),
        Err(e) => Err(BindError::Socket {
            what: "bind unicast socket",
            error: e,
        }),
    }
}

/// Both unicast sockets of `pid`, or `None` if either port is taken.
fn bind_participant(
    interface: Ipv4Addr,
    ports: &Ports,
    recv_buffer: usize,
) -> Result<Option<(Socket, Socket)>, BindError> {
    let Some(meta) = bind_unicast(
        SocketAddrV4::new(interface, ports.metatraffic_unicast),
        recv_buffer,
    )?
    else {
        return Ok(None);
    };
    let Some(user) = bind_unicast(
        SocketAddrV4::new(interface, ports.user_unicast),
        recv_buffer,
    )?
    else {
        return Ok(None);
    };
    Ok(Some((meta, user)))
}

/// A multicast receive socket: shared port, bound to the group, joined on the interface.
fn bind_multicast(
    group: Ipv4Addr,
    port: u16,
    interface: Ipv4Addr,
    recv_buffer: usize,
) -> Result<Socket, BindError> {
    let s = new_udp_socket(recv_buffer)?;
    s.set_reuse_address(true)
        .map_err(socket_err("SO_REUSEADDR"))?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    s.set_reuse_port(true).map_err(socket_err("SO_REUSEPORT"))?;
    s.bind(&SockAddr::from(SocketAddrV4::new(group, port)))
        .map_err(socket_err("bind multicast socket"))?;
    s.join_multicast_v4(&group, &interface)
        .map_err(socket_err("join multicast group"))?;
    #[cfg(target_os = "linux")]
    if let Err(e) = s.set_multicast_all_v4(false) {
        log::debug!("IP_MULTICAST_ALL off: {e}");
    }
    Ok(s)
}

/// Send multicast out of `interface` only, with TTL 1, looped back to local members.
fn enable_multicast_send(socket: &UdpSocket, interface: Ipv4Addr) -> Result<(), BindError> {
    let s = socket2::SockRef::from(socket);
    s.set_multicast_if_v4(&interface)
        .map_err(socket_err("IP_MULTICAST_IF"))?;
    s.set_multicast_loop_v4(true)
        .map_err(socket_err("IP_MULTICAST_LOOP"))?;
    s.set_multicast_ttl_v4(1)
        .map_err(socket_err("IP_MULTICAST_TTL"))
}

fn bind_sender(config: &TransportConfig) -> Result<UdpSender, BindError> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))
        .map_err(socket_err("create send socket"))?;
    if let Err(e) = s.set_send_buffer_size(config.send_buffer) {
        log::warn!("SO_SNDBUF {}: {e}", config.send_buffer);
    }
    s.bind(&SockAddr::from(SocketAddrV4::new(config.interface, 0)))
        .map_err(socket_err("bind send socket"))?;
    match config.send_timeout {
        None => s.set_nonblocking(true).map_err(socket_err("O_NONBLOCK"))?,
        Some(t) => s
            .set_write_timeout(Some(t.max(Duration::from_micros(1))))
            .map_err(socket_err("SO_SNDTIMEO"))?,
    }
    Ok(UdpSender {
        socket: s.into(),
        interface: config.interface,
        multicast: false,
    })
}

/// Set up multicast send options and the multicast receivers (SPDP, and user if configured).
fn open_multicast(
    config: &TransportConfig,
    ports: &Ports,
    sender: &UdpSender,
) -> Result<(UdpReceiver, Option<UdpReceiver>), BindError> {
    enable_multicast_send(&sender.socket, config.interface)?;
    let open = |port: u16, kind: ReceiverKind| {
        bind_multicast(
            SPDP_MULTICAST_GROUP,
            port,
            config.interface,
            config.recv_buffer,
        )
        .map(|s| UdpReceiver::new(s, kind, SocketAddrV4::new(SPDP_MULTICAST_GROUP, port)))
    };
    let spdp = open(ports.spdp_multicast, ReceiverKind::MetatrafficMulticast)?;
    let user = if config.user_multicast {
        Some(open(ports.user_multicast, ReceiverKind::UserMulticast)?)
    } else {
        None
    };
    Ok((spdp, user))
}

impl UdpTransport {
    /// Bind the participant's sockets on the configured interface (RTPS 2.5 §9.6.1).
    pub fn bind(config: TransportConfig) -> Result<Self, BindError> {
        let interface = config.interface;
        if interface.is_unspecified() {
            return Err(BindError::InvalidInterface(
                "0.0.0.0 is not an interface; name one (default 127.0.0.1)",
            ));
        }
        if interface.is_multicast() || interface.is_broadcast() {
            return Err(BindError::InvalidInterface(
                "a multicast or broadcast address is not an interface",
            ));
        }
        let domain = config.domain_id;
        let (ports, meta, user) = match config.participant_id {
            Some(pid) => {
                let ports = Ports::new(domain, pid)?;
                let (meta, user) = bind_participant(interface, &ports, config.recv_buffer)?.ok_or(
                    BindError::ParticipantIdInUse {
                        participant_id: pid,
                    },
                )?;
                (ports, meta, user)
            }
            None => {
                let ids = ports::candidate_participant_ids(domain, config.max_auto_participant_id)?;
                let last_tried = *ids.end();
                let mut found = None;
                for pid in ids {
                    let ports = Ports::new(domain, pid)?;
                    if let Some((meta, user)) =
                        bind_participant(interface, &ports, config.recv_buffer)?
                    {
                        found = Some((ports, meta, user));
                        break;
                    }
                }
                found.ok_or(BindError::NoFreeParticipantId { last_tried })?
            }
        };
        let recv_granted = meta.recv_buffer_size().unwrap_or(0);
        let metatraffic_unicast = UdpReceiver::new(
            meta,
            ReceiverKind::MetatrafficUnicast,
            SocketAddrV4::new(interface, ports.metatraffic_unicast),
        );
        let user_unicast = UdpReceiver::new(
            user,
            ReceiverKind::UserUnicast,
            SocketAddrV4::new(interface, ports.user_unicast),
        );

        let mut sender = bind_sender(&config)?;
        let send_granted = socket2::SockRef::from(&sender.socket)
            .send_buffer_size()
            .unwrap_or(0);

        let mut metatraffic_multicast = None;
        let mut user_multicast = None;
        let mut multicast_error = None;
        if config.multicast {
            let joined = open_multicast(&config, &ports, &sender);
            match joined {
                Ok((spdp, user)) => {
                    metatraffic_multicast = Some(spdp);
                    user_multicast = user;
                    sender.multicast = true;
                }
                Err(BindError::Socket { what, error }) => {
                    log::warn!(
                        "multicast unavailable on {interface} ({what}: {error}); \
                         continuing with unicast only"
                    );
                    multicast_error = Some(error);
                }
                Err(e) => return Err(e),
            }
        }
        log::debug!(
            "bound domain {} participant {} on {interface}: ports {:?}, buffers rcv {recv_granted} snd {send_granted}",
            ports.domain_id,
            ports.participant_id,
            ports
        );
        Ok(UdpTransport {
            ports,
            interface,
            sender,
            metatraffic_unicast,
            user_unicast,
            metatraffic_multicast,
            user_multicast,
            buffers: BufferSizes {
                recv: recv_granted,
                send: send_granted,
            },
            multicast_error,
        })
    }

    /// The domain id.
    pub fn domain_id(&self) -> u32 {
        self.ports.domain_id
    }

    /// The participant id (configured or chosen).
    pub fn participant_id(&self) -> u32 {
        self.ports.participant_id
    }

    /// The four well-known ports of this participant.
    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// The interface address.
    pub fn interface(&self) -> Ipv4Addr {
        self.interface
    }

    /// Whether the SPDP multicast group is joined and multicast sends are allowed.
    pub fn multicast_active(&self) -> bool {
        self.metatraffic_multicast.is_some()
    }

    /// Why multicast was configured but could not be set up, if so.
    pub fn multicast_error(&self) -> Option<&io::Error> {
        self.multicast_error.as_ref()
    }

    /// The socket buffer sizes the kernel granted.
    pub fn buffer_sizes(&self) -> BufferSizes {
        self.buffers
    }

    /// The locators to announce in SPDP (RTPS 2.5 §8.5.3.1).
    pub fn local_locators(&self) -> LocalLocators {
        let loc = |r: &UdpReceiver| Locator::udp_v4(*r.local.ip(), r.local.port());
        LocalLocators {
            metatraffic_unicast: loc(&self.metatraffic_unicast),
            default_unicast: loc(&self.user_unicast),
            metatraffic_multicast: self.metatraffic_multicast.as_ref().map(loc),
            default_multicast: self.user_multicast.as_ref().map(loc),
        }
    }

    /// The SPDP multicast destination `239.255.0.1:PB+DG·domain` (RTPS 2.5 §9.6.1.4.1).
    pub fn spdp_multicast_addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(
            SPDP_MULTICAST_GROUP,
            self.ports.spdp_multicast,
        ))
    }

    /// Send one datagram (see [`UdpSender::send_to`]).
    pub fn send_to(&self, bytes: &[u8], to: SocketAddr) -> Result<(), SendError> {
        self.sender.send_to(bytes, to)
    }

    /// The send socket.
    pub fn sender(&self) -> &UdpSender {
        &self.sender
    }

    /// The receiver of one kind, if open.
    pub fn receiver(&self, kind: ReceiverKind) -> Option<&UdpReceiver> {
        match kind {
            ReceiverKind::MetatrafficUnicast => Some(&self.metatraffic_unicast),
            ReceiverKind::UserUnicast => Some(&self.user_unicast),
            ReceiverKind::MetatrafficMulticast => self.metatraffic_multicast.as_ref(),
            ReceiverKind::UserMulticast => self.user_multicast.as_ref(),
        }
    }

    /// Every open receiver, unicast first.
    pub fn receivers(&self) -> impl Iterator<Item = &UdpReceiver> {
        [
            Some(&self.metatraffic_unicast),
            Some(&self.user_unicast),
            self.metatraffic_multicast.as_ref(),
            self.user_multicast.as_ref(),
        ]
        .into_iter()
        .flatten()
    }

    /// Split into sockets a driver can move to threads.
    pub fn into_parts(self) -> TransportParts {
        TransportParts {
            sender: self.sender,
            metatraffic_unicast: self.metatraffic_unicast,
            user_unicast: self.user_unicast,
            metatraffic_multicast: self.metatraffic_multicast,
            user_multicast: self.user_multicast,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Socket-free tests; real sockets are exercised in `rtps/tests/loopback.rs` inside a
    //! private network namespace only.
    use super::*;
    use crate::transport::ports::PortError;

    #[test]
    fn default_config_binds_loopback_with_large_buffers() {
        let c = TransportConfig::default();
        assert_eq!(c.interface, Ipv4Addr::LOCALHOST);
        assert_eq!(c.recv_buffer, 4 << 20);
        assert!(c.multicast && c.participant_id.is_none());
    }

    #[test]
    fn unspecified_and_multicast_interfaces_are_rejected_before_any_socket() {
        let bad = |interface| {
            UdpTransport::bind(TransportConfig {
                interface,
                ..TransportConfig::default()
            })
        };
        assert!(matches!(
            bad(Ipv4Addr::UNSPECIFIED),
            Err(BindError::InvalidInterface(_))
        ));
        assert!(matches!(
            bad(SPDP_MULTICAST_GROUP),
            Err(BindError::InvalidInterface(_))
        ));
        assert!(matches!(
            bad(Ipv4Addr::BROADCAST),
            Err(BindError::InvalidInterface(_))
        ));
    }

    #[test]
    fn out_of_range_domains_fail_before_any_socket() {
        let r = UdpTransport::bind(TransportConfig {
            domain_id: 233,
            ..TransportConfig::default()
        });
        assert!(matches!(
            r,
            Err(BindError::Ports(PortError::DomainIdOutOfRange {
                domain_id: 233
            }))
        ));
    }
}
