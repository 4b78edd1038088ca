//! Whose turn it is to read the user-unicast socket: the participant's receive thread, or an
//! application thread that waits for an answer and polls the socket itself meanwhile (see
//! [`Shared::poll_receive`](super::Shared::poll_receive)).
//!
//! Reading the answer on the thread that waits for it removes a thread hand-over (a futex
//! wake-up, and on a busy machine a wait for a CPU) from every request/answer exchange. Only
//! one thread reads at a time, and a thread blocked in the kernel is never joined by a poller:
//! the socket's non-blocking flag is shared by every reader, so a poller switching it on would
//! turn the blocked reader into a spinning one.
//!
//! A pure state machine: the driver calls it under a mutex and does the waiting.

use std::time::{Duration, Instant};

/// How long the receive thread parks at a time while an application thread polls. It is not
/// woken when a poller that got its answer stops (that would cost the wake-up this module
/// exists to save, on every answer), so traffic that comes while nobody polls afterwards may
/// wait this long at most. A poller stopped early by another thread that wanted to poll, or
/// by a window with no answer, wakes it at once.
pub(crate) const APP_PARK: Duration = Duration::from_millis(5);

/// Who reads the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SocketTurn {
    /// The receive thread is (about to be) blocked in the kernel: nobody else may read.
    Blocking,
    /// The receive thread polls without blocking: an application thread may take over.
    Polling,
    /// An application thread polls until `until`; the receive thread is parked.
    App {
        /// The end of the application thread's window.
        until: Instant,
        /// Another application thread asked to poll meanwhile (and waits the usual way).
        contended: bool,
    },
    /// Nobody reads; the receive thread takes the socket back at `at` (an application thread
    /// that got its answer may well come back before, for the next one).
    Idle {
        /// When the receive thread resumes.
        at: Instant,
    },
}

impl SocketTurn {
    /// An application thread asks to poll until `until`; true if it may (the caller then owns
    /// the socket until [`SocketTurn::app_release`]).
    pub fn app_claim(&mut self, until: Instant) -> bool {
        match self {
            SocketTurn::Polling | SocketTurn::Idle { .. } => {
                *self = SocketTurn::App {
                    until,
                    contended: false,
                };
                true
            }
            SocketTurn::App { contended, .. } => {
                *contended = true;
                false
            }
            SocketTurn::Blocking => false,
        }
    }

    /// The polling application thread extends its window to `until`.
    pub fn app_extend(&mut self, until: Instant) {
        if let SocketTurn::App { until: u, .. } = self {
            *u = until.max(*u);
        }
    }

    /// The application thread stops polling at `now`. If it got its answer it probably comes
    /// back soon: the receive thread stays parked for `linger` (unless another thread waits
    /// for traffic). Returns true if the receive thread should be woken now.
    pub fn app_release(&mut self, now: Instant, linger: Option<Duration>) -> bool {
        let SocketTurn::App { contended, .. } = *self else {
            return false;
        };
        match linger {
            Some(l) if !contended => {
                *self = SocketTurn::Idle { at: now + l };
                false
            }
            _ => {
                *self = SocketTurn::Idle { at: now };
                true
            }
        }
    }

    /// The receive thread wants to read at `now` (`poll`: without blocking). `Ok` if it may
    /// (the turn is then its own), else how long to park before asking again.
    pub fn recv_claim(&mut self, now: Instant, poll: bool) -> Result<(), Duration> {
        match *self {
            SocketTurn::App { until, .. } => {
                Err(until.saturating_duration_since(now).max(APP_PARK))
            }
            SocketTurn::Idle { at } if at > now => Err(at - now),
            _ => {
                *self = if poll {
                    SocketTurn::Polling
                } else {
                    SocketTurn::Blocking
                };
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn an_application_thread_never_joins_a_blocked_receive_thread() {
        let t = super::super::now();
        let mut turn = SocketTurn::Polling;
        assert_eq!(turn.recv_claim(t, false), Ok(()));
        assert_eq!(turn, SocketTurn::Blocking);
        assert!(
            !turn.app_claim(t + us(200)),
            "the receive thread is in the kernel"
        );
        assert_eq!(turn, SocketTurn::Blocking);
    }

    #[test]
    fn one_application_thread_at_a_time_and_the_receive_thread_parks_meanwhile() {
        let t = super::super::now();
        let mut turn = SocketTurn::Polling;
        assert!(turn.app_claim(t + us(200)));
        assert_eq!(turn.recv_claim(t, true), Err(APP_PARK));
        assert_eq!(
            turn.recv_claim(t + us(250), false),
            Err(APP_PARK),
            "a late poller still owns it"
        );
        turn.app_extend(t + APP_PARK * 2);
        assert_eq!(turn.recv_claim(t, true), Err(APP_PARK * 2));
        assert!(!turn.app_claim(t + us(300)), "a second poller");
        assert!(
            turn.app_release(t + us(10), Some(us(200))),
            "the second one waits for the receive thread: wake it"
        );
        assert_eq!(turn.recv_claim(t + us(10), true), Ok(()));
    }

    #[test]
    fn an_answered_poller_keeps_the_socket_for_a_while_a_timed_out_one_hands_it_back() {
        let t = super::super::now();
        let mut turn = SocketTurn::Polling;
        assert!(turn.app_claim(t + us(200)));
        assert!(!turn.app_release(t + us(10), Some(us(200))));
        assert_eq!(turn.recv_claim(t + us(20), true), Err(us(190)));
        assert_eq!(
            turn.recv_claim(t + us(210), true),
            Ok(()),
            "not back in time"
        );
        assert_eq!(turn, SocketTurn::Polling);
        assert!(
            turn.app_claim(t + us(300)),
            "the poller comes back for the next answer"
        );
        assert!(
            turn.app_release(t + us(300), None),
            "wake the receive thread"
        );
        assert_eq!(turn.recv_claim(t + us(300), false), Ok(()));
        assert_eq!(turn, SocketTurn::Blocking);
        assert!(
            !turn.app_release(t + us(300), None),
            "not the poller's to release"
        );
    }
}
