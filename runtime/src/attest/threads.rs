//! Threads that stay parked between attestation sessions.
//!
//! Every attested run needs a verifier thread (and the `wasm` back end
//! one per sandbox). Spawning them per run cost more than the exact
//! checks of a short run: a stack mapped and guarded, a clone, and at the
//! end an exit and an unmap, tens of microseconds on a virtual machine
//! (`perf` on the CVE corpus's lz4 runs of 0.2 ms: a quarter of
//! `coarse`'s overhead). A thread here runs one job, then waits for the
//! next; one that waits [`IDLE`] without a job exits, so an embedder that
//! stops attesting is left with no thread of ours.

use std::any::Any;
use std::cell::RefCell;
use std::io;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// A job and what tells its waiter it ended.
struct Job {
    run: Box<dyn FnOnce() + Send>,
    ended: Ended,
}

/// How long a parked thread waits for a job before it exits.
const IDLE: Duration = Duration::from_secs(10);

/// A thread waiting for a job.
struct Parked {
    id: u64,
    jobs: Sender<Job>,
}

thread_local! {
    /// What jobs left on this thread for later ones (see [`keep`]). The
    /// thread drops it before it exits rather than leave it to the
    /// thread-local destructors, which may already have run for what these
    /// values use (a store's trap handling state).
    static KEPT: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Leaves `value` on this thread for a later job ([`take_kept`]), such as
/// a sandbox instantiated for the next run. At most `most` values of its
/// type are kept; the oldest goes. Only for jobs of [`start`].
pub(crate) fn keep<T: 'static>(value: T, most: usize) {
    KEPT.with_borrow_mut(|kept| {
        if kept.iter().filter(|v| v.is::<T>()).count() >= most.max(1) {
            if let Some(oldest) = kept.iter().position(|v| v.is::<T>()) {
                kept.remove(oldest);
            }
        }
        kept.push(Box::new(value));
    });
}

/// Takes a value a job before left on this thread with [`keep`], the most
/// recent of type `T` that is `wanted`.
pub(crate) fn take_kept<T: 'static>(wanted: impl Fn(&T) -> bool) -> Option<T> {
    KEPT.with_borrow_mut(|kept| {
        let i = kept
            .iter()
            .rposition(|v| v.downcast_ref::<T>().is_some_and(&wanted))?;
        kept.remove(i).downcast::<T>().ok().map(|b| *b)
    })
}

/// Threads waiting for a job (tests make pools of their own).
struct Pool {
    parked: Mutex<Vec<Parked>>,
}

static POOL: Pool = Pool {
    parked: Mutex::new(Vec::new()),
};
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl Pool {
    fn parked(&self) -> MutexGuard<'_, Vec<Parked>> {
        // Nothing runs under this lock that can panic; take it regardless.
        self.parked.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A job handed to a thread; [`Running::wait`] is its join.
#[must_use = "a job's end is only known by waiting for it"]
pub(crate) struct Running {
    done: Arc<(Mutex<bool>, Condvar)>,
}

impl Running {
    /// Blocks until the job has returned (or panicked).
    pub(crate) fn wait(self) {
        let (ended, signal) = &*self.done;
        let mut ended = ended.lock().unwrap_or_else(|e| e.into_inner());
        while !*ended {
            ended = signal.wait(ended).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Marks the job ended when dropped: by its thread once parked again
/// (so that a job started as soon as this one's waiter returns finds the
/// thread), or with the job when no thread could take it.
struct Ended(Arc<(Mutex<bool>, Condvar)>);

impl Drop for Ended {
    fn drop(&mut self) {
        let (ended, signal) = &*self.0;
        *ended.lock().unwrap_or_else(|e| e.into_inner()) = true;
        signal.notify_all();
    }
}

/// Runs `job` on a parked thread, or on a new one (`walmart-attest`) when
/// none is parked. Fails only when a thread cannot be spawned.
pub(crate) fn start(job: impl FnOnce() + Send + 'static) -> io::Result<Running> {
    start_in(&POOL, job)
}

fn start_in(pool: &'static Pool, job: impl FnOnce() + Send + 'static) -> io::Result<Running> {
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let mut job = Job {
        run: Box::new(job),
        ended: Ended(done.clone()),
    };
    loop {
        let Some(thread) = pool.parked().pop() else {
            break;
        };
        match thread.jobs.send(job) {
            Ok(()) => return Ok(Running { done }),
            // It exited between parking and now: try the next one.
            Err(returned) => job = returned.0,
        }
    }
    std::thread::Builder::new()
        .name("walmart-attest".into())
        .spawn(move || serve(pool, job))?;
    Ok(Running { done })
}

/// A pool thread: runs `first`, then each job it is handed, until it has
/// waited [`IDLE`] for one.
fn serve(pool: &Pool, first: Job) {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (jobs, next) = mpsc::channel::<Job>();
    let mut job = first;
    loop {
        let Job { run, ended } = job;
        // A panic has been reported by the hook; the thread itself is
        // still good.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(run));
        pool.parked().push(Parked {
            id,
            jobs: jobs.clone(),
        });
        drop(ended);
        job = match next.recv_timeout(IDLE) {
            Ok(j) => j,
            Err(RecvTimeoutError::Timeout) => {
                let mut list = pool.parked();
                match list.iter().position(|p| p.id == id) {
                    Some(i) => {
                        list.swap_remove(i);
                        drop(list);
                        let kept = KEPT.take();
                        drop(kept);
                        return;
                    }
                    // Taken just now: its job is on the way.
                    None => {
                        drop(list);
                        match next.recv() {
                            Ok(j) => j,
                            Err(_) => return,
                        }
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn own_pool() -> &'static Pool {
        Box::leak(Box::new(Pool {
            parked: Mutex::new(Vec::new()),
        }))
    }

    #[test]
    fn jobs_run_to_their_end_and_one_thread_serves_them_in_turn() {
        let pool = own_pool();
        let ran = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for round in 1..=4 {
            let counter = ran.clone();
            let (tx, rx) = mpsc::channel();
            start_in(pool, move || {
                std::thread::sleep(Duration::from_millis(5));
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = tx.send(std::thread::current().id());
            })
            .expect("a thread")
            .wait();
            // Waiting returned after the job's own work.
            assert_eq!(ran.load(Ordering::SeqCst), round);
            threads.push(rx.recv().expect("the job reported"));
            // Parked again before its waiter returned: the next job finds
            // it.
            assert_eq!(pool.parked().len(), 1);
        }
        assert!(
            threads.iter().all(|t| *t == threads[0]),
            "a job spawned a thread while one was parked: {threads:?}"
        );
    }

    #[test]
    fn jobs_at_once_get_threads_of_their_own() {
        let pool = own_pool();
        let gate = Arc::new(std::sync::Barrier::new(3));
        let running: Vec<Running> = (0..3)
            .map(|_| {
                let gate = gate.clone();
                // Each waits for the others: one thread for all would hang.
                start_in(pool, move || {
                    gate.wait();
                })
                .expect("a thread")
            })
            .collect();
        running.into_iter().for_each(Running::wait);
    }

    #[test]
    fn values_kept_by_a_job_are_there_for_the_next_on_its_thread() {
        let pool = own_pool();
        let run = |job: Box<dyn FnOnce() + Send>| {
            start_in(pool, job).expect("a thread").wait();
        };
        run(Box::new(|| {
            for v in [1u32, 2, 3] {
                keep(v, 2);
            }
            keep("other", 2);
        }));
        let (tx, rx) = mpsc::channel();
        run(Box::new(move || {
            let got = (
                take_kept::<u32>(|_| true),
                take_kept::<u32>(|v| *v == 3),
                take_kept::<u32>(|_| true),
                take_kept::<&str>(|_| true),
            );
            let _ = tx.send(got);
        }));
        // 1 went when 3 came; the most recent first.
        assert_eq!(
            rx.recv().expect("the job reported"),
            (Some(3), None, Some(2), Some("other"))
        );
    }

    #[test]
    fn a_panicking_job_ends_and_its_thread_serves_again() {
        let pool = own_pool();
        start_in(pool, || panic!("a verifier bug"))
            .expect("a thread")
            .wait();
        let (tx, rx) = mpsc::channel();
        start_in(pool, move || {
            let _ = tx.send(std::thread::current().name().map(str::to_string));
        })
        .expect("a thread")
        .wait();
        assert_eq!(
            rx.recv().expect("the next job ran").as_deref(),
            Some("walmart-attest")
        );
        assert_eq!(pool.parked().len(), 1, "the panicked thread was reused");
    }
}
