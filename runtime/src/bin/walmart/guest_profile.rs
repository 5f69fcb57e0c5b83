//! `walmart run --profile guest[,PATH[,INTERVAL]]`: samples of the
//! guest's Wasm stack, written for the Firefox profiler
//! ([`walmart::GuestProfiler`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use walmart::wasi::WasiCtx;
use walmart::{CallHook, Engine, GuestProfiler, Module, Store, UpdateDeadline};

/// wasmtime's default file and interval.
const DEFAULT_PATH: &str = "walmart-guest-profile.json";
const DEFAULT_INTERVAL: Duration = Duration::from_millis(10);

/// What `--profile guest...` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct GuestProfileArgs {
    pub path: PathBuf,
    pub interval: Duration,
}

/// Parses the part of `--profile` after `guest`: `""`, `,PATH` or
/// `,PATH,INTERVAL`.
pub fn parse(rest: &str) -> anyhow::Result<GuestProfileArgs> {
    let usage = || {
        anyhow!("--profile guest{rest}: expected guest[,PATH[,INTERVAL]] (INTERVAL as 10ms, 500us)")
    };
    if rest.is_empty() {
        return Ok(GuestProfileArgs {
            path: PathBuf::from(DEFAULT_PATH),
            interval: DEFAULT_INTERVAL,
        });
    }
    let mut parts = rest.strip_prefix(',').ok_or_else(usage)?.split(',');
    let path = match parts.next() {
        Some("") | None => return Err(usage()),
        Some(p) => PathBuf::from(p),
    };
    let interval = match parts.next() {
        // With its unit: a bare number would be seconds to `-W timeout`,
        // milliseconds to a reader of wasmtime's `10ms`.
        Some(i) if i.ends_with(|c: char| c.is_ascii_alphabetic()) => {
            crate::features::parse_duration(i)
                .filter(|d| !d.is_zero())
                .ok_or_else(usage)?
        }
        Some(_) => return Err(usage()),
        None => DEFAULT_INTERVAL,
    };
    if parts.next().is_some() {
        return Err(usage());
    }
    Ok(GuestProfileArgs { path, interval })
}

/// What the store's epoch callback and call hook share.
struct Sampling {
    /// Taken when the profile is written.
    profiler: Option<GuestProfiler>,
    /// When the time the next Wasm sample stands for began.
    last: Instant,
    /// When each host call running began (innermost last).
    in_host: Vec<Instant>,
}

/// A run being profiled: the profiler the store's epoch callback feeds,
/// and the thread that moves the epoch at each interval.
pub struct GuestProfiling {
    sampling: Arc<Mutex<Sampling>>,
    stop: Sender<()>,
    ticker: JoinHandle<()>,
    path: PathBuf,
    /// Created before the run, so that a path that cannot be written
    /// fails before the guest's work, not after.
    file: std::fs::File,
}

/// Starts sampling `store`'s Wasm stack (the engine must interrupt at
/// epochs), naming the frames of `modules` after the names given;
/// `timeout` is `-W timeout`'s, which the sampling callback then keeps
/// (the deadline it moves is the one a timeout uses).
pub fn start(
    args: &GuestProfileArgs,
    engine: &Engine,
    store: &mut Store<WasiCtx>,
    main: &str,
    modules: Vec<(String, Module)>,
    timeout: Option<Duration>,
) -> anyhow::Result<GuestProfiling> {
    let file = std::fs::File::create(&args.path).map_err(|e| {
        anyhow!(
            "--profile guest: cannot create {}: {e}",
            args.path.display()
        )
    })?;
    let profiler = GuestProfiler::new(main, args.interval, modules)?;
    let began = Instant::now();
    let sampling = Arc::new(Mutex::new(Sampling {
        profiler: Some(profiler),
        last: began,
        in_host: Vec::new(),
    }));
    let deadline = timeout.map(|t| began + t);
    let feed = sampling.clone();
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |store| {
        let now = Instant::now();
        let mut s = feed.lock().unwrap_or_else(|e| e.into_inner());
        let delta = now.saturating_duration_since(s.last);
        if let Some(p) = s.profiler.as_mut() {
            p.sample(&*store, delta);
        }
        s.last = now;
        if deadline.is_some_and(|d| now >= d) {
            return Ok(UpdateDeadline::Interrupt);
        }
        Ok(UpdateDeadline::Continue(1))
    });
    // A host call that lasts half an interval or more (a read that
    // waits, a sleep) is a sample of its own under a `host` frame, and
    // its time is taken out of the Wasm samples'; shorter ones stay in
    // the time of the Wasm that made them.
    let feed = sampling.clone();
    let long = args.interval / 2;
    store.call_hook(move |store, kind| {
        let mut s = feed.lock().unwrap_or_else(|e| e.into_inner());
        match kind {
            CallHook::CallingHost => s.in_host.push(Instant::now()),
            CallHook::ReturningFromHost => {
                let Some(since) = s.in_host.pop() else {
                    return Ok(());
                };
                let took = since.elapsed();
                if took >= long {
                    if let Some(p) = s.profiler.as_mut() {
                        p.sample_in_host(&*store, took);
                    }
                    // Not past now: a host call that ran Wasm (sampled
                    // meanwhile) is not taken out twice.
                    s.last = (s.last + took).min(Instant::now());
                }
            }
            CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
        }
        Ok(())
    });
    // The ticker moves the epoch at each interval, and at the timeout's
    // moment if one comes first; told to stop, it stops at once.
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let (engine, interval) = (engine.clone(), args.interval);
    let ticker = std::thread::Builder::new()
        .name("walmart-profile".into())
        .spawn(move || loop {
            let now = Instant::now();
            let wait = match deadline {
                Some(d) if d > now => interval.min(d - now),
                _ => interval,
            };
            match stopped.recv_timeout(wait) {
                Err(RecvTimeoutError::Timeout) => engine.increment_epoch(),
                _ => return,
            }
        })
        .map_err(|e| anyhow!("--profile guest: cannot start the sampling thread: {e}"))?;
    Ok(GuestProfiling {
        sampling,
        stop,
        ticker,
        path: args.path.clone(),
        file,
    })
}

impl GuestProfiling {
    /// Stops sampling and writes the profile.
    pub fn finish(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        let _ = self.ticker.join();
        let profiler = self
            .sampling
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .profiler
            .take()
            .expect("the profile is finished once");
        profiler
            .finish(self.file)
            .map_err(|e| anyhow!("--profile guest: {}: {e}", self.path.display()))
    }
}

/// The name a run's main module goes by in its profile: its file's stem.
pub fn module_name(file: &Path) -> String {
    file.file_stem()
        .map_or_else(|| "module".into(), |s| s.to_string_lossy().into_owned())
}

/// Refuses what the profiler cannot sample: a wasi-threads program's
/// other threads would run with the sampled deadline and no callback.
pub fn check_supported(module: &Module, file: &Path) -> anyhow::Result<()> {
    if walmart::wasi::threads::uses_threads(module) {
        bail!(
            "{}: --profile guest does not support wasi-threads programs (only the main \
             thread would be sampled, and the others interrupted)",
            file.display()
        );
    }
    Ok(())
}
