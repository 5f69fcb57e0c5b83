//! A sleep future that needs no particular executor: one timer thread,
//! started on first use, wakes each sleeper's task at its deadline (WASI's
//! `poll_oneoff` clocks in asynchronous calls, `wasi::add_to_linker_async`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The sleepers' deadlines and wakers, and the condition the timer thread
/// waits on for an earlier one.
struct Timers {
    /// Deadline, sleeper, and the waker of its latest poll.
    pending: Mutex<Vec<(Instant, u64, Waker)>>,
    changed: Condvar,
    /// The timer thread started: without it, sleepers are polled again
    /// at once until their deadlines (the system refused a thread).
    serving: bool,
}

/// The process's timers, once a sleeper has asked for them.
static TIMERS_STARTED: OnceLock<&'static Timers> = OnceLock::new();

/// The process's timers; the thread serving them starts with the first.
fn timers() -> &'static Timers {
    TIMERS_STARTED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<&'static Timers>();
        let started = std::thread::Builder::new()
            .name("walmart-timer".into())
            .spawn(move || {
                if let Ok(timers) = rx.recv() {
                    serve(timers)
                }
            });
        let timers: &'static Timers = Box::leak(Box::new(Timers {
            pending: Mutex::new(Vec::new()),
            changed: Condvar::new(),
            serving: started.is_ok(),
        }));
        // (Without the thread, the receiver is gone: nothing to send to.)
        let _ = tx.send(timers);
        timers
    })
}

/// Wakes each sleeper whose deadline passed; waits for the earliest left.
fn serve(timers: &'static Timers) {
    let mut pending = timers.pending.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        let mut i = 0;
        while i < pending.len() {
            if pending[i].0 <= now {
                due.push(pending.swap_remove(i).2);
            } else {
                i += 1;
            }
        }
        if !due.is_empty() {
            // Woken without the lock: a waker may run (or drop) its task
            // here, whose sleepers take it; one that panics does not end
            // the thread every later sleeper needs.
            drop(pending);
            for waker in due {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
            }
            pending = timers.pending.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        let next = pending.iter().map(|(at, _, _)| *at).min();
        pending = match next {
            Some(at) => {
                let wait = at.saturating_duration_since(Instant::now());
                timers
                    .changed
                    .wait_timeout(pending, wait)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => timers
                .changed
                .wait(pending)
                .unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// Ready once `deadline` has passed.
pub(crate) struct Sleep {
    deadline: Instant,
    /// Tells this sleeper's entry from others' (one per sleeper, however
    /// often it is polled).
    id: u64,
}

impl Sleep {
    pub(crate) fn new(duration: Duration) -> Sleep {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let now = Instant::now();
        Sleep {
            deadline: now
                .checked_add(duration)
                .unwrap_or(now + Duration::from_secs(1 << 40)),
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        // Its waker is not kept past it (nor woken for nothing).
        if let Some(timers) = TIMERS_STARTED.get() {
            let mut pending = timers.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.retain(|(_, id, _)| *id != self.id);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let timers = timers();
        if !timers.serving {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut pending = timers.pending.lock().unwrap_or_else(|e| e.into_inner());
        match pending.iter_mut().find(|(_, id, _)| *id == self.id) {
            Some(entry) => entry.2.clone_from(cx.waker()),
            None => {
                pending.push((self.deadline, self.id, cx.waker().clone()));
                timers.changed.notify_one();
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(AtomicBool, std::thread::Thread);

    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
            self.1.unpark();
        }
    }

    #[test]
    fn sleepers_wake_at_their_deadlines_in_order() {
        let start = Instant::now();
        let flag = Arc::new(Flag(AtomicBool::new(false), std::thread::current()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut long = Box::pin(Sleep::new(Duration::from_millis(60)));
        let mut short = Box::pin(Sleep::new(Duration::from_millis(20)));
        assert!(long.as_mut().poll(&mut cx).is_pending());
        assert!(short.as_mut().poll(&mut cx).is_pending());
        while short.as_mut().poll(&mut cx).is_pending() {
            std::thread::park_timeout(Duration::from_millis(100));
        }
        assert!(flag.0.load(Ordering::SeqCst), "woken, not polled by chance");
        let short_at = start.elapsed();
        assert!(short_at >= Duration::from_millis(20), "{short_at:?}");
        while long.as_mut().poll(&mut cx).is_pending() {
            std::thread::park_timeout(Duration::from_millis(100));
        }
        assert!(start.elapsed() >= Duration::from_millis(60));
    }
}
