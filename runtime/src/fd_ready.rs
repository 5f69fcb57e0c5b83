//! Readiness of host descriptors as a future that needs no particular
//! executor: one thread, started on first use, `poll`s every descriptor a
//! waiting task registered and wakes the task when one of its descriptors
//! is ready (WASI's reads, writes and `poll_oneoff` on pipes, terminals and
//! sockets in asynchronous calls, `wasi::add_to_linker_async`), as the
//! timer thread wakes sleepers (`timer.rs`).

use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A waiting task: its descriptors (and the events each waits for) and
/// the waker of its latest poll.
struct Waiting {
    id: u64,
    fds: Vec<(RawFd, i16)>,
    waker: Waker,
}

/// The registered waits, and the eventfd that tells the thread the list
/// changed (its `poll` is then begun again with the new list).
struct Reactor {
    waiting: Mutex<Vec<Waiting>>,
    changed: Option<OwnedFd>,
}

static REACTOR: OnceLock<&'static Reactor> = OnceLock::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The process's reactor; its thread starts with the first wait. Without
/// an eventfd or a thread (the system refused them), waits are polled
/// again at once until ready, as a busy loop.
fn reactor() -> &'static Reactor {
    REACTOR.get_or_init(|| {
        // SAFETY: no pointers; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        // SAFETY: a fresh descriptor we own.
        let changed = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
        let mut reactor: &'static Reactor = Box::leak(Box::new(Reactor {
            waiting: Mutex::new(Vec::new()),
            changed,
        }));
        if reactor.changed.is_some() {
            let served = reactor;
            let started = std::thread::Builder::new()
                .name("walmart-fd-ready".into())
                .spawn(move || serve(served));
            if started.is_err() {
                reactor = Box::leak(Box::new(Reactor {
                    waiting: Mutex::new(Vec::new()),
                    changed: None,
                }));
            }
        }
        reactor
    })
}

fn lock(reactor: &Reactor) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
    reactor.waiting.lock().unwrap_or_else(|e| e.into_inner())
}

/// Tells the thread the list changed.
fn nudge(reactor: &Reactor) {
    if let Some(fd) = &reactor.changed {
        let one = 1u64;
        // SAFETY: 8 bytes from a live u64; a full counter (EAGAIN) is
        // already a pending nudge.
        unsafe { libc::write(fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }
}

/// Polls every registered descriptor, wakes the waits that have one
/// ready, and begins again when the list changes.
fn serve(reactor: &'static Reactor) {
    let Some(changed) = reactor.changed.as_ref().map(|f| f.as_raw_fd()) else {
        return;
    };
    loop {
        // The list as it stands: the eventfd first, then each wait's
        // descriptors with the wait they belong to.
        let mut pollfds = vec![libc::pollfd {
            fd: changed,
            events: libc::POLLIN,
            revents: 0,
        }];
        // One entry a descriptor, its events those of every wait on it
        // (many stores may wait on one inherited stdin).
        let mut index: std::collections::HashMap<RawFd, usize> = Default::default();
        for w in lock(reactor).iter() {
            for &(fd, events) in &w.fds {
                let at = *index.entry(fd).or_insert_with(|| {
                    pollfds.push(libc::pollfd {
                        fd,
                        events: 0,
                        revents: 0,
                    });
                    pollfds.len() - 1
                });
                pollfds[at].events |= events;
            }
        }
        if poll_fds(&mut pollfds, -1).is_err() {
            // Refused (more descriptors than the process may have open,
            // no memory): every wait is woken to look for itself (its
            // next poll checks without waiting), and the thread pauses
            // rather than spin.
            let all: Vec<Waker> = lock(reactor).drain(..).map(|w| w.waker).collect();
            wake_all(all);
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if pollfds[0].revents != 0 {
            let mut count = 0u64;
            // SAFETY: 8 writable bytes; the eventfd is non-blocking.
            unsafe { libc::read(changed, (&mut count as *mut u64).cast(), 8) };
        }
        let ready: std::collections::HashMap<RawFd, i16> = pollfds[1..]
            .iter()
            .filter(|p| p.revents != 0)
            .map(|p| (p.fd, p.revents))
            .collect();
        if ready.is_empty() {
            continue;
        }
        // A wait is woken when one of its descriptors showed what it
        // waits for, or an error or hang-up (which the call reports).
        let shows = |&(fd, events): &(RawFd, i16)| {
            ready
                .get(&fd)
                .is_some_and(|r| r & (events | libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0)
        };
        let mut wakers = Vec::new();
        lock(reactor).retain_mut(|w| {
            if w.fds.iter().any(shows) {
                wakers.push(w.waker.clone());
                false
            } else {
                true
            }
        });
        wake_all(wakers);
    }
}

/// Wakes each task; a waker that panics does not take the thread (and
/// with it every later wait) along.
fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
    }
}

/// `poll` of `fds` for at most `timeout_ms` (-1: however long), begun
/// again when a signal interrupts it: how many are ready.
pub(crate) fn poll_fds(fds: &mut [libc::pollfd], timeout_ms: i32) -> std::io::Result<usize> {
    loop {
        // SAFETY: a valid array of pollfd.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if rc >= 0 {
            return Ok(rc as usize);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Ready when one of its descriptors is ready for what it waits for
/// (errors and hang-ups count: the call that follows reports them), or
/// when its time, if it has one, is up. Registered with the reactor only
/// while it waits.
pub(crate) struct FdsReady {
    fds: Vec<(RawFd, i16)>,
    id: u64,
    registered: bool,
    timeout: Option<Pin<Box<crate::timer::Sleep>>>,
}

impl FdsReady {
    /// Waits for any of `fds` (descriptor, `poll` events), at most
    /// `timeout` (`None`: however long it takes).
    pub(crate) fn new(fds: Vec<(RawFd, i16)>, timeout: Option<Duration>) -> FdsReady {
        FdsReady {
            fds,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            registered: false,
            timeout: timeout.map(|t| Box::pin(crate::timer::Sleep::new(t))),
        }
    }

    /// Whether one of the descriptors is ready now.
    fn ready_now(&self) -> bool {
        let mut pollfds: Vec<libc::pollfd> = self
            .fds
            .iter()
            .map(|&(fd, events)| libc::pollfd {
                fd,
                events,
                revents: 0,
            })
            .collect();
        // What `poll` refuses, the call that follows reports.
        poll_fds(&mut pollfds, 0).map_or(true, |n| n > 0)
    }

    fn deregister(&mut self) {
        if self.registered {
            self.registered = false;
            let reactor = reactor();
            let removed = {
                let mut waiting = lock(reactor);
                let before = waiting.len();
                waiting.retain(|w| w.id != self.id);
                waiting.len() != before
            };
            // The thread's `poll` holds the descriptors it waits on: a
            // file the guest closes next would stay open (no end of file
            // for a pipe's reader, no FIN for a socket's peer) until
            // something else woke it.
            if removed {
                nudge(reactor);
            }
        }
    }
}

impl Future for FdsReady {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.ready_now() {
            this.deregister();
            return Poll::Ready(());
        }
        if let Some(timeout) = this.timeout.as_mut() {
            if timeout.as_mut().poll(cx).is_ready() {
                this.deregister();
                return Poll::Ready(());
            }
        }
        let reactor = reactor();
        if reactor.changed.is_none() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        // Registered anew after the thread woke (and so removed) it: the
        // thread's next `poll` must include it again.
        let added = {
            let mut waiting = lock(reactor);
            match waiting.iter_mut().find(|w| w.id == this.id) {
                Some(w) => {
                    w.waker.clone_from(cx.waker());
                    false
                }
                None => {
                    waiting.push(Waiting {
                        id: this.id,
                        fds: this.fds.clone(),
                        waker: cx.waker().clone(),
                    });
                    true
                }
            }
        };
        this.registered = true;
        if added {
            nudge(reactor);
        }
        Poll::Pending
    }
}

impl Drop for FdsReady {
    fn drop(&mut self) {
        self.deregister();
    }
}
