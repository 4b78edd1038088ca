//! Transports: the well-known port mapping, the UDPv4 socket transport, interface lookup and a
//! deterministic simulated network (RTPS 2.5 §9.6).
//!
//! Only `udp` and the driver built on it (both behind the `udp` feature) touch sockets; [`ports`]
//! and [`sim`] are pure.
//! The default interface is loopback: nothing leaves the host unless a LAN interface is
//! configured explicitly.

#[cfg(feature = "udp")]
pub mod driver;
#[cfg(feature = "udp")]
pub mod error;
pub mod faults;
pub mod interface;
pub mod ports;
pub mod sim;
#[cfg(feature = "udp")]
pub mod udp;

pub use faults::{FaultConfig, FaultParseError};
pub use interface::{loopback_only_namespace, resolve_interface, InterfaceError};
pub use ports::{PortError, Ports, SPDP_MULTICAST_GROUP};
pub use sim::{Delivery, LinkConfig, NodeId, SimNetwork};
#[cfg(feature = "udp")]
pub use udp::{
    BindError, LocalLocators, Received, ReceiverKind, RecvError, SendError, TransportConfig,
    UdpReceiver, UdpSender, UdpTransport,
};
