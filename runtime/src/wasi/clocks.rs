//! `clock_res_get`, `clock_time_get`.

use super::ctx::WasiCtx;
use super::types::{Errno, GuestMemory, WasiResult};

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
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes one timespec.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(Errno::last());
    }
    Ok((ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64))
}

impl WasiCtx {
    pub(crate) fn clock_res_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        out: u32,
    ) -> WasiResult<()> {
        let clock = host_clock(id)?;
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes one timespec.
        if unsafe { libc::clock_getres(clock, &mut ts) } != 0 {
            return Err(Errno::last());
        }
        mem.write_u64(out, (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64)
    }

    pub(crate) fn clock_time_get(
        &mut self,
        mem: &mut GuestMemory<'_>,
        id: u32,
        out: u32,
    ) -> WasiResult<()> {
        let clock = host_clock(id)?;
        let t = match self.replay.as_mut() {
            Some(replay) => replay.time(id),
            None => now(clock)?,
        };
        mem.write_u64(out, t)
    }
}
