//! `poll_oneoff`: clock timeouts and readiness of descriptors, through the
//! host's `poll`.

use super::clocks::{host_clock, now};
use super::ctx::WasiCtx;
use super::types::{filetype, Errno, GuestMemory, WasiResult};
use crate::fd_ready::poll_fds;

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
/// `subclockflags.subscription_clock_abstime`.
const ABSTIME: u16 = 1;

struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
    /// The peer hung up (`FD_READWRITE_HANGUP`).
    hangup: bool,
}

/// What a `poll_oneoff` waits for, read from its subscriptions under the
/// context, so that the wait itself ([`poll_block`]) needs none: a thread
/// that sleeps does not hold a context other threads share.
pub(crate) struct PollPlan {
    ready: Vec<Event>,
    pollfds: Vec<(libc::pollfd, u64, u8)>,
    /// Earliest clock deadline: (nanoseconds from now, userdata).
    timeout: Option<(u64, u64)>,
    fds: Vec<libc::pollfd>,
    wait_ms: i32,
    start: u64,
}

impl WasiCtx {
    /// `poll_oneoff`. A context threads share is held to read the
    /// subscriptions and to report, not while waiting, and its
    /// descriptors are polled as duplicates: a close meanwhile cannot hand
    /// their numbers to other files.
    pub(crate) fn poll_oneoff(
        &mut self,
        mem: &mut GuestMemory<'_>,
        subs: u32,
        events: u32,
        count: u32,
        out: u32,
    ) -> WasiResult<()> {
        let Some(state) = self.shared.clone() else {
            let mut plan = self.poll_plan(mem, subs, count)?;
            poll_block(&mut plan)?;
            return self.poll_report(mem, plan, events, count, out);
        };
        let (mut plan, _duplicates) = {
            let mut held = super::ctx::lock(&state);
            let mut plan = held.poll_plan(mem, subs, count)?;
            let duplicates = plan.duplicate_fds()?;
            (plan, duplicates)
        };
        poll_block(&mut plan)?;
        let reported = super::ctx::lock(&state).poll_report(mem, plan, events, count, out);
        reported
    }

    pub(crate) fn poll_plan(
        &mut self,
        mem: &GuestMemory<'_>,
        subs: u32,
        count: u32,
    ) -> WasiResult<PollPlan> {
        if count == 0 {
            return Err(Errno::INVAL);
        }
        // The subscriptions' addresses must not wrap past 4 GiB.
        count
            .checked_mul(48)
            .and_then(|n| subs.checked_add(n))
            .ok_or(Errno::FAULT)?;
        let mut ready: Vec<Event> = Vec::new();
        let mut pollfds: Vec<(libc::pollfd, u64, u8)> = Vec::new();
        // Earliest clock deadline: (nanoseconds from now, userdata).
        let mut timeout: Option<(u64, u64)> = None;
        for i in 0..count {
            // In range: the last subscription's end was checked above.
            let at = subs + 48 * i;
            let userdata = mem.read_u64(at)?;
            let tag = mem.read_u8(at + 8)?;
            match tag {
                EVENTTYPE_CLOCK => {
                    let id = mem.read_u32(at + 16)?;
                    let t = mem.read_u64(at + 24)?;
                    let flags = mem.read_u16(at + 40)?;
                    // An unknown clock is this subscription's error.
                    if let Err(e) = host_clock(id) {
                        ready.push(Event {
                            userdata,
                            error: e,
                            kind: tag,
                            nbytes: 0,
                            hangup: false,
                        });
                        continue;
                    }
                    // Deadlines are in the time the guest reads: the
                    // virtual time of `WasiCtx::deterministic`, or the
                    // embedder's clock.
                    let rel = if flags & ABSTIME != 0 {
                        t.saturating_sub(self.clock_reading(id, false)?)
                    } else {
                        t
                    };
                    if timeout.is_none_or(|(best, _)| rel < best) {
                        timeout = Some((rel, userdata));
                    }
                }
                EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                    let fd = mem.read_u32(at + 16)?;
                    match self.get(fd) {
                        Err(e) => ready.push(Event {
                            userdata,
                            error: e,
                            kind: tag,
                            nbytes: 0,
                            hangup: false,
                        }),
                        // A stream in host memory (or the embedder's
                        // reader or writer) is taken as ready: there is no
                        // descriptor to poll.
                        Ok(super::ctx::FdEntry {
                            pipe: Some(pipe), ..
                        }) => {
                            // A read subscription on standard output (or
                            // a write one on its input) would never fire
                            // for a host pipe's wrong end: an error here.
                            let reads = tag == EVENTTYPE_FD_READ;
                            let (nbytes, hangup) = if reads { pipe.readable() } else { (0, false) };
                            ready.push(Event {
                                userdata,
                                error: if reads == pipe.is_input() {
                                    Errno::SUCCESS
                                } else {
                                    Errno::BADF
                                },
                                kind: tag,
                                nbytes,
                                hangup,
                            })
                        }
                        // Regular files are always ready.
                        Ok(e) if e.filetype() == filetype::REGULAR_FILE => ready.push(Event {
                            userdata,
                            error: Errno::SUCCESS,
                            kind: tag,
                            nbytes: 0,
                            hangup: false,
                        }),
                        Ok(e) => pollfds.push((
                            libc::pollfd {
                                fd: e.fd,
                                events: if tag == EVENTTYPE_FD_READ {
                                    libc::POLLIN
                                } else {
                                    libc::POLLOUT
                                },
                                revents: 0,
                            },
                            userdata,
                            tag,
                        )),
                    }
                }
                _ => return Err(Errno::INVAL),
            }
        }
        // A virtual clock's wait takes no real time: descriptors are
        // polled without sleeping, and the clock fires where none is ready.
        let wait_ms: i32 = if !ready.is_empty() || (self.replay.is_some() && timeout.is_some()) {
            0
        } else {
            match timeout {
                Some((ns, _)) => ns.div_ceil(1_000_000).min(i32::MAX as u64) as i32,
                None => -1,
            }
        };
        let fds: Vec<libc::pollfd> = pollfds.iter().map(|(p, _, _)| *p).collect();
        Ok(PollPlan {
            ready,
            pollfds,
            timeout,
            fds,
            wait_ms,
            start: 0,
        })
    }

    pub(crate) fn poll_report(
        &mut self,
        mem: &mut GuestMemory<'_>,
        plan: PollPlan,
        events: u32,
        count: u32,
        out: u32,
    ) -> WasiResult<()> {
        let PollPlan {
            mut ready,
            pollfds,
            timeout,
            fds,
            start,
            ..
        } = plan;
        for (p, (_, userdata, kind)) in fds.iter().zip(&pollfds) {
            if p.revents != 0 {
                // As the host's poll says: an error condition on the
                // descriptor (wasi-libc's `poll` shows any error as
                // `POLLERR`), and the peer's hang-up as a flag.
                let error = if p.revents & libc::POLLNVAL != 0 {
                    Errno::BADF
                } else if p.revents & libc::POLLERR != 0 {
                    Errno::IO
                } else {
                    Errno::SUCCESS
                };
                let hangup = p.revents & libc::POLLHUP != 0;
                let mut nbytes = 0;
                if *kind == EVENTTYPE_FD_READ && error == Errno::SUCCESS {
                    let mut avail: libc::c_int = 0;
                    // SAFETY: FIONREAD writes one int.
                    if unsafe { libc::ioctl(p.fd, libc::FIONREAD, &mut avail) } == 0 {
                        nbytes = avail.max(0) as u64;
                    }
                }
                ready.push(Event {
                    userdata: *userdata,
                    error,
                    kind: *kind,
                    nbytes,
                    hangup,
                });
            }
        }
        if let Some((ns, userdata)) = timeout {
            let passed = match self.replay.as_mut() {
                Some(replay) if ready.is_empty() || ns == 0 => {
                    replay.advance(ns);
                    true
                }
                Some(_) => false,
                None => now(libc::CLOCK_MONOTONIC)?.saturating_sub(start) >= ns,
            };
            if passed || ready.is_empty() {
                ready.push(Event {
                    userdata,
                    error: Errno::SUCCESS,
                    kind: EVENTTYPE_CLOCK,
                    nbytes: 0,
                    hangup: false,
                });
            }
        }
        for (i, ev) in ready.iter().take(count as usize).enumerate() {
            let at = (i as u32)
                .checked_mul(32)
                .and_then(|n| events.checked_add(n))
                .ok_or(Errno::FAULT)?;
            let mut buf = [0u8; 32];
            buf[0..8].copy_from_slice(&ev.userdata.to_le_bytes());
            buf[8..10].copy_from_slice(&ev.error.0.to_le_bytes());
            buf[10] = ev.kind;
            buf[16..24].copy_from_slice(&ev.nbytes.to_le_bytes());
            if ev.hangup {
                // `eventrwflags::fd_readwrite_hangup`.
                buf[24] = 1;
            }
            mem.write(at, &buf)?;
        }
        mem.write_u32(out, ready.len().min(count as usize) as u32)
    }
}

impl PollPlan {
    /// Puts duplicates of the descriptors in place of the table's own,
    /// and hands them over to be closed after the poll.
    fn duplicate_fds(&mut self) -> WasiResult<Vec<std::os::fd::OwnedFd>> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let mut owned = Vec::with_capacity(self.fds.len());
        for p in &mut self.fds {
            // SAFETY: F_DUPFD_CLOEXEC on a descriptor the table holds
            // (the caller holds the table); the result is checked and owned.
            let dup = unsafe { libc::fcntl(p.fd, libc::F_DUPFD_CLOEXEC, 0) };
            if dup < 0 {
                return Err(Errno::last());
            }
            // SAFETY: a fresh descriptor no one else owns.
            let dup = unsafe { OwnedFd::from_raw_fd(dup) };
            p.fd = dup.as_raw_fd();
            owned.push(dup);
        }
        Ok(owned)
    }
}

/// Waits for what `plan` asks (descriptors, a deadline), holding no
/// context.
pub(crate) fn poll_block(plan: &mut PollPlan) -> WasiResult<()> {
    plan.start = now(libc::CLOCK_MONOTONIC)?;
    if !plan.fds.is_empty() || plan.wait_ms > 0 {
        poll_fds(&mut plan.fds, plan.wait_ms).map_err(|e| Errno::from_io(&e))?;
    }
    Ok(())
}

/// The descriptors' states now, without waiting (their wait is over),
/// `plan.start` kept for the clocks.
fn poll_now(plan: &mut PollPlan) -> WasiResult<()> {
    poll_fds(&mut plan.fds, 0).map_err(|e| Errno::from_io(&e))?;
    Ok(())
}

/// `poll_oneoff` for [`super::add_to_linker_async`]: in an asynchronous
/// call that may suspend, a wait on clocks alone sleeps on a timer, and a
/// wait on descriptors (and perhaps a clock) on the descriptors'
/// readiness, both suspending the call; anything else as
/// [`WasiCtx::poll_oneoff`].
pub(super) fn poll_oneoff_async<T>(
    caller: &mut crate::Caller<'_, T>,
    get: fn(&mut T) -> &mut WasiCtx,
    subs: u32,
    events: u32,
    count: u32,
    out: u32,
) -> crate::Result<i32> {
    let acx = caller.suspendable_fiber();
    let mut plan = None;
    let errno = super::with_own_ctx(caller, get, |ctx, mem| {
        if acx.is_none() || ctx.shared.is_some() {
            return ctx.poll_oneoff(mem, subs, events, count, out);
        }
        plan = Some(ctx.poll_plan(mem, subs, count)?);
        Ok(())
    });
    let (Some(mut plan), Some(acx)) = (plan, acx) else {
        return Ok(errno);
    };
    if let Err(e) = wait_plan(acx, &mut plan)? {
        return Ok(i32::from(e.0));
    }
    Ok(super::with_own_ctx(caller, get, |ctx, mem| {
        ctx.poll_report(mem, plan, events, count, out)
    }))
}

/// The wait of a `poll_oneoff` in an asynchronous call that may suspend
/// (on the fiber `acx`): on clocks alone a timer's sleep, on descriptors
/// (and perhaps a clock) their readiness, both suspending the call; then
/// `plan` holds what to report. An error unwinds the guest (the call was
/// cancelled); the inner one is WASI's.
pub(crate) fn wait_plan(
    acx: *mut crate::fiber::AsyncCx,
    plan: &mut PollPlan,
) -> crate::Result<WasiResult<()>> {
    let sleep = match plan.clock_only_wait() {
        Some(wait) => wait,
        // Nothing to wait for (a clock already fired, or a virtual
        // clock's): as the synchronous call.
        None if plan.fds.is_empty() || plan.wait_ms == 0 => return Ok(poll_block(plan)),
        None => {
            // Descriptors, perhaps with a clock: the call suspends until
            // one is ready or the clock's deadline, then they are polled
            // without waiting for what to report.
            plan.start = match now(libc::CLOCK_MONOTONIC) {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            let fds: Vec<_> = plan.fds.iter().map(|p| (p.fd, p.events)).collect();
            let deadline = plan
                .timeout
                .map(|(ns, _)| std::time::Instant::now() + std::time::Duration::from_nanos(ns));
            loop {
                let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
                let mut ready = std::pin::pin!(crate::fd_ready::FdsReady::new(fds.clone(), left));
                // Cancelled (the call's future dropped): the error unwinds
                // the guest.
                // SAFETY: as the sleep's below.
                unsafe { crate::fiber::wait_in_host_call(acx, ready.as_mut()) }?;
                if let Err(e) = poll_now(plan) {
                    return Ok(Err(e));
                }
                // Ready a moment ago, and taken since (another reader of
                // the same pipe): waited for again, as a blocking `poll`
                // would, rather than reported as no event before the
                // deadline.
                let shown = plan.fds.iter().any(|p| p.revents != 0);
                if shown || deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                    return Ok(Ok(()));
                }
            }
        }
    };
    plan.start = match now(libc::CLOCK_MONOTONIC) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let mut timer = std::pin::pin!(crate::timer::Sleep::new(sleep));
    // Cancelled (the call's future dropped): the error unwinds the guest.
    // SAFETY: the fiber the store publishes, which the host call that
    // asked runs on; the call's frames here are the runtime's.
    unsafe { crate::fiber::wait_in_host_call(acx, timer.as_mut()) }?;
    Ok(Ok(()))
}

impl PollPlan {
    /// How long to sleep, where the subscriptions are clocks alone and
    /// none has fired (and real time passes: not a virtual clock).
    fn clock_only_wait(&self) -> Option<std::time::Duration> {
        if !self.fds.is_empty() || self.wait_ms <= 0 {
            return None;
        }
        self.timeout
            .map(|(ns, _)| std::time::Duration::from_nanos(ns))
    }
}
