//! Where `memory.atomic.wait32`/`wait64` sleep and `memory.atomic.notify`
//! wakes them: process-wide tables of waiters keyed by the native address
//! they wait on (spread over 64 locks by address). A shared memory never
//! moves, so its native addresses name its cells for as long as it lives,
//! in every instance that uses it.
//!
//! A waiter compares the cell with its expected value while it holds its
//! address's table, and a notify takes the same lock, so no notify falls
//! between the comparison and the sleep.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// One sleeping wait: set `woken` (under its lock) and signal to wake it.
#[derive(Default)]
struct Waiter {
    woken: Mutex<bool>,
    signal: Condvar,
}

/// Waiters by address, in the order they began to wait.
type Table = HashMap<usize, VecDeque<Arc<Waiter>>>;

/// Tables the addresses are spread over, so that threads waiting on
/// different cells seldom share a lock.
const BUCKETS: usize = 64;

/// The table that holds `addr`'s waiters, locked.
fn table(addr: usize) -> MutexGuard<'static, Table> {
    static TABLES: OnceLock<Vec<Mutex<Table>>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| (0..BUCKETS).map(|_| Mutex::default()).collect());
    // Cells are at least 4 bytes apart: the bits above those pick.
    let bucket = (addr >> 2) % BUCKETS;
    // A panic while the lock was held left the table consistent (no
    // operation here panics between changes): carry on with it.
    tables[bucket].lock().unwrap_or_else(|e| e.into_inner())
}

/// What a wait ends with, as Wasm numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum WaitResult {
    /// A notify woke it.
    Woken = 0,
    /// The cell did not hold the expected value: no sleep.
    NotEqual = 1,
    /// The timeout passed first.
    TimedOut = 2,
}

/// `memory.atomic.wait32` (`wide` false) or `wait64` at `addr`: sleeps
/// until a notify at `addr` or `timeout_ns` (negative: no timeout), if
/// the cell holds `expected`.
///
/// # Safety
/// `addr` must be the address of a live, aligned cell of a shared memory
/// (4 bytes, or 8 when `wide`) for the whole call.
pub(crate) unsafe fn wait(addr: usize, expected: u64, timeout_ns: i64, wide: bool) -> WaitResult {
    let deadline = u64::try_from(timeout_ns)
        .ok()
        .and_then(|ns| Instant::now().checked_add(Duration::from_nanos(ns)));
    let waiter = {
        let mut table = table(addr);
        // SAFETY: per the contract; other threads change the cell only
        // with atomic instructions, which this read takes part in.
        let now = unsafe {
            if wide {
                (*(addr as *const AtomicU64)).load(Ordering::SeqCst)
            } else {
                u64::from((*(addr as *const AtomicU32)).load(Ordering::SeqCst))
            }
        };
        let expected = if wide {
            expected
        } else {
            expected & 0xffff_ffff
        };
        if now != expected {
            return WaitResult::NotEqual;
        }
        let waiter = Arc::new(Waiter::default());
        table.entry(addr).or_default().push_back(waiter.clone());
        waiter
    };
    let mut woken = waiter.woken.lock().unwrap_or_else(|e| e.into_inner());
    while !*woken {
        match deadline {
            // No timeout (or one too long for an `Instant`).
            None => {
                woken = waiter.signal.wait(woken).unwrap_or_else(|e| e.into_inner());
            }
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                woken = waiter
                    .signal
                    .wait_timeout(woken, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
    }
    if *woken {
        return WaitResult::Woken;
    }
    drop(woken);
    // Timed out, unless a notify took it from the table meanwhile: then
    // that notify counted it, and it is woken.
    let mut table = table(addr);
    let Some(queue) = table.get_mut(&addr) else {
        return WaitResult::Woken;
    };
    let Some(at) = queue.iter().position(|w| Arc::ptr_eq(w, &waiter)) else {
        return WaitResult::Woken;
    };
    queue.remove(at);
    if queue.is_empty() {
        table.remove(&addr);
    }
    WaitResult::TimedOut
}

/// `memory.atomic.notify` at `addr`: wakes up to `count` of its waiters,
/// the longest waiting first, and answers how many it woke.
pub(crate) fn notify(addr: usize, count: u32) -> u32 {
    let mut table = table(addr);
    let Some(queue) = table.get_mut(&addr) else {
        return 0;
    };
    let mut woke = 0;
    while woke < count {
        let Some(waiter) = queue.pop_front() else {
            break;
        };
        *waiter.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
        waiter.signal.notify_one();
        woke += 1;
    }
    if queue.is_empty() {
        table.remove(&addr);
    }
    woke
}
