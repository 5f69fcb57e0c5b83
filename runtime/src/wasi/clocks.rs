//! `clock_res_get`, `clock_time_get`, and the clocks and random source an
//! embedder gives a guest in place of the host's
//! ([`WasiCtx::wall_clock`], [`WasiCtx::monotonic_clock`],
//! [`WasiCtx::secure_random`]) or the host's clocks coarsened
//! ([`WasiCtx::clock_resolution`]).

use std::sync::Arc;
use std::time::Duration;

use super::ctx::{lock, WasiCtx};
use super::types::{Errno, GuestMemory, WasiResult};

/// A wall clock an embedder gives a guest in place of the host's
/// (wasmtime's `HostWallClock`): WASI's `realtime` clock.
pub trait HostWallClock: Send + Sync {
    /// How fine its readings are.
    fn resolution(&self) -> Duration;
    /// The time since 1970-01-01T00:00:00Z.
    fn now(&self) -> Duration;
}

/// A monotonic clock an embedder gives a guest in place of the host's
/// (wasmtime's `HostMonotonicClock`): WASI's `monotonic` clock.
pub trait HostMonotonicClock: Send + Sync {
    /// How fine its readings are, in nanoseconds.
    fn resolution(&self) -> u64;
    /// Nanoseconds from an origin of the clock's choosing; never less
    /// than an earlier reading.
    fn now(&self) -> u64;
}

/// An embedder's source of random bytes (fills the buffer it is given),
/// behind a lock of its own: `random_get` draws from it holding no shared
/// context.
type RandomSource = Arc<std::sync::Mutex<dyn FnMut(&mut [u8]) + Send>>;

/// Where `random_get`'s bytes come from ([`WasiCtx::random_from`]).
enum RandomFrom {
    /// The host's `getrandom`.
    Host,
    /// [`WasiCtx::deterministic`]'s seeded generator, in the context.
    Seeded,
    /// The embedder's source.
    Embedder(RandomSource),
}

/// The embedder's clocks, random source and coarsening, where it gave
/// them ([`WasiCtx::deterministic`]'s virtual ones come first).
#[derive(Default)]
pub(crate) struct HostTime {
    wall: Option<Arc<dyn HostWallClock>>,
    monotonic: Option<Arc<dyn HostMonotonicClock>>,
    random: Option<RandomSource>,
    /// Every clock's readings rounded down to a multiple of this many
    /// nanoseconds (0: not rounded).
    coarse_ns: u64,
}

impl HostTime {
    /// Whether the embedder gave a wall clock.
    pub(crate) fn has_wall_clock(&self) -> bool {
        self.wall.is_some()
    }
}

impl std::fmt::Debug for HostTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostTime")
            .field("wall", &self.wall.is_some())
            .field("monotonic", &self.monotonic.is_some())
            .field("random", &self.random.is_some())
            .field("coarse_ns", &self.coarse_ns)
            .finish()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The host clock for a WASI clock id.
pub(crate) fn host_clock(id: u32) -> WasiResult<libc::clockid_t> {
    Ok(match id {
        0 => libc::CLOCK_REALTIME,
        1 => libc::CLOCK_MONOTONIC,
        2 => libc::CLOCK_PROCESS_CPUTIME_ID,
        3 => libc::CLOCK_THREAD_CPUTIME_ID,
        _ => return Err(Errno::INVAL),
    })
}

/// Reads a host clock in nanoseconds.
pub(crate) fn now(clock: libc::clockid_t) -> WasiResult<u64> {
    ask_clock(libc::clock_gettime, clock)
}

/// A host clock's resolution in nanoseconds.
fn resolution(clock: libc::clockid_t) -> WasiResult<u64> {
    ask_clock(libc::clock_getres, clock)
}

/// `clock_gettime` or `clock_getres` of `clock`, in nanoseconds.
fn ask_clock(
    ask: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int,
    clock: libc::clockid_t,
) -> WasiResult<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both write one timespec.
    if unsafe { ask(clock, &mut ts) } != 0 {
        return Err(Errno::last());
    }
    Ok(timespec_ns(&ts))
}

fn timespec_ns(ts: &libc::timespec) -> u64 {
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

impl WasiCtx {
    /// Gives the guest `clock` as its wall clock (`realtime`) in place of
    /// the host's, as wasmtime's `WasiCtxBuilder::wall_clock`.
    pub fn wall_clock(&mut self, clock: impl HostWallClock + 'static) -> &mut Self {
        self.with_state(|c| c.host_time.wall = Some(Arc::new(clock)));
        self
    }

    /// Gives the guest `clock` as its monotonic clock in place of the
    /// host's, as wasmtime's `WasiCtxBuilder::monotonic_clock`; its
    /// readings also measure `poll_oneoff`'s absolute deadlines on it.
    pub fn monotonic_clock(&mut self, clock: impl HostMonotonicClock + 'static) -> &mut Self {
        self.with_state(|c| c.host_time.monotonic = Some(Arc::new(clock)));
        self
    }

    /// Gives the guest `fill` as the source of `random_get`'s bytes in
    /// place of the host's (`getrandom`), as wasmtime's
    /// `WasiCtxBuilder::secure_random`: it fills the buffer it is given
    /// (for a `rand` generator, `move |buf| rng.fill_bytes(buf)`).
    pub fn secure_random(&mut self, fill: impl FnMut(&mut [u8]) + Send + 'static) -> &mut Self {
        let source: RandomSource = Arc::new(std::sync::Mutex::new(fill));
        self.with_state(|c| c.host_time.random = Some(source));
        self
    }

    /// Rounds every clock the guest reads (wall, monotonic, CPU times)
    /// and the times of files it stats down to a multiple of
    /// `resolution`, and reports at least that resolution
    /// (`clock_res_get`), as browsers coarsen `performance.now()`: a
    /// blunter timer for timing side channels, not the end of them (a
    /// guest can still count loop iterations between ticks, run a
    /// counting thread in a shared memory, or wait less than a tick and
    /// see whether the clock moved; waits are not rounded). Keep it well
    /// below the timeouts the guest uses: a loop that waits for a
    /// deadline reads the clock a tick late. Zero rounds nothing.
    pub fn clock_resolution(&mut self, resolution: Duration) -> &mut Self {
        self.with_state(|c| c.host_time.coarse_ns = nanos(resolution));
        self
    }

    /// Clock `id`'s reading now, as the guest sees it: the virtual time
    /// of a deterministic run (moved by the read when `advance`), the
    /// embedder's clock, or the host's; rounded by `clock_resolution`.
    pub(crate) fn clock_reading(&mut self, id: u32, advance: bool) -> WasiResult<u64> {
        let clock = host_clock(id)?;
        let HostTime {
            wall, monotonic, ..
        } = &self.host_time;
        let t = match (self.replay.as_mut(), id, wall, monotonic) {
            (Some(replay), ..) if advance => replay.time(id),
            (Some(replay), ..) => replay.peek(id),
            (None, 0, Some(wall), _) => nanos(wall.now()),
            (None, 1, _, Some(monotonic)) => monotonic.now(),
            _ => now(clock)?,
        };
        Ok(self.coarsened(t))
    }

    /// `t` (nanoseconds) rounded down by [`WasiCtx::clock_resolution`].
    pub(crate) fn coarsened(&self, t: u64) -> u64 {
        match self.host_time.coarse_ns {
            0 => t,
            q => t - t % q,
        }
    }

    /// Where `random_get`'s bytes come from: the seeded generator of a
    /// deterministic run, else the embedder's source, else the host's.
    fn random_from(&self) -> RandomFrom {
        match (&self.replay, &self.host_time.random) {
            (Some(_), _) => RandomFrom::Seeded,
            (None, Some(source)) => RandomFrom::Embedder(source.clone()),
            (None, None) => RandomFrom::Host,
        }
    }

    /// `random_get`: `len` bytes at `ptr`, input to attestation. Given
    /// the store's own context: a shared one's state is held only to
    /// look the source up, and to draw from the seeded generator that
    /// lives in it, never while the embedder's source runs.
    pub(crate) fn random_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        ptr: u32,
        len: u32,
    ) -> WasiResult<()> {
        // Checked (and marked written) before any byte is drawn.
        let buf = mem.raw_mut(ptr, len)?;
        let size = len as usize;
        // Drawn into host memory (never a Rust slice of the guest's) a
        // piece at a time, a multiple of the seeded generator's 8 bytes,
        // so the bytes are those one fill would give.
        let in_pieces = |draw: &mut dyn FnMut(&mut [u8])| {
            let mut piece = [0u8; 4096];
            for at in (0..size).step_by(piece.len()) {
                let n = piece.len().min(size - at);
                draw(&mut piece[..n]);
                // SAFETY: `n` bytes at `at` lie in the checked range.
                unsafe { std::ptr::copy(piece.as_ptr(), buf.add(at), n) };
            }
        };
        match self.with_state(|s| s.random_from()) {
            RandomFrom::Seeded => in_pieces(&mut |piece| {
                self.with_state(|s| {
                    if let Some(replay) = s.replay.as_mut() {
                        replay.fill(piece);
                    }
                })
            }),
            RandomFrom::Embedder(source) => in_pieces(&mut |piece| (lock(&source))(piece)),
            RandomFrom::Host => {
                let mut filled = 0;
                while filled < size {
                    // SAFETY: `size - filled` writable guest bytes from
                    // there (checked).
                    let n = unsafe { libc::getrandom(buf.add(filled).cast(), size - filled, 0) };
                    if n < 0 {
                        let e = Errno::last();
                        if e != Errno::INTR {
                            return Err(e);
                        }
                        continue;
                    }
                    filled += n as usize;
                }
            }
        }
        mem.supplied(ptr, size, None);
        Ok(())
    }

    pub(crate) fn clock_res_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        out: u32,
    ) -> WasiResult<()> {
        let clock = host_clock(id)?;
        let res = match (id, &self.host_time.wall, &self.host_time.monotonic) {
            (0, Some(wall), _) => nanos(wall.resolution()),
            (1, _, Some(monotonic)) => monotonic.resolution(),
            _ => resolution(clock)?,
        };
        mem.write_u64(out, res.max(self.host_time.coarse_ns))
    }

    pub(crate) fn clock_time_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        out: u32,
    ) -> WasiResult<()> {
        let t = self.clock_reading(id, true)?;
        mem.write_u64(out, t)
    }
}
