//! A sampling profiler of the guest's own functions, as wasmtime's
//! `GuestProfiler`: each sample is the Wasm stack at that moment
//! ([`WasmBacktrace`]), and the profile is written in the Firefox
//! profiler's format (open it at <https://profiler.firefox.com/>).
//!
//! It needs no profiler of the host's and no symbols: the frames are the
//! module's functions, named by its name section. Samples are taken where
//! the embedder asks, usually from the epoch deadline's callback with a
//! thread moving the engine's epoch at the sampling interval (what
//! `walmart run --profile guest` does); Wasm notices the epoch only at
//! function entries and loop heads, so time spent in a host function is
//! counted in the sample taken when Wasm next checks, unless the embedder
//! samples it apart ([`GuestProfiler::sample_in_host`], from a call hook,
//! as `walmart run --profile guest` does for host calls that last).

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use fxprof_processed_profile::{
    CategoryColor, CategoryPairHandle, CpuDelta, Frame, FrameFlags, FrameHandle, FrameInfo,
    Profile, ReferenceTimestamp, SamplingInterval, ThreadHandle, Timestamp,
};

use crate::store::AsContext;
use crate::vm::backtrace;
use crate::{Error, Module, Result, WasmBacktrace};

/// Collects samples of a store's Wasm stacks into a profile.
pub struct GuestProfiler {
    profile: Profile,
    thread: ThreadHandle,
    category: CategoryPairHandle,
    interval: Duration,
    /// The category of the frame that stands for a host function.
    host_category: CategoryPairHandle,
    /// That frame, once made.
    host_frame: Option<FrameHandle>,
    start: Instant,
    /// The names the embedder gave modules, by where their code starts;
    /// the modules are kept, so that no other code takes their place.
    names: HashMap<usize, (String, Module)>,
    /// The name of the profile's main module: its functions' frames are
    /// not prefixed with it.
    main: String,
    /// Frames already in the profile, by (code, function index).
    frames: HashMap<(usize, u32), FrameHandle>,
    samples: u64,
}

impl GuestProfiler {
    /// A profiler of a run of `module_name` sampled every `interval`,
    /// whose frames in `modules` are named after the names given there
    /// (frames of other modules are named after their name sections).
    /// Frames of modules other than `module_name` are labelled
    /// `module!function`, the main module's `function`.
    pub fn new(
        module_name: &str,
        interval: Duration,
        modules: impl IntoIterator<Item = (String, Module)>,
    ) -> Result<GuestProfiler> {
        if interval.is_zero() {
            return Err(Error::msg("a guest profile's interval must not be zero"));
        }
        let reference = ReferenceTimestamp::from_system_time(SystemTime::now());
        let mut profile = Profile::new(
            module_name,
            reference,
            SamplingInterval::from_nanos(interval.as_nanos().min(u64::MAX as u128) as u64),
        );
        let category = profile.add_category("Wasm", CategoryColor::Yellow).into();
        let host_category = profile.add_category("Host", CategoryColor::Blue).into();
        let process = profile.add_process(
            module_name,
            std::process::id(),
            Timestamp::from_nanos_since_reference(0),
        );
        let thread = profile.add_thread(process, 0, Timestamp::from_nanos_since_reference(0), true);
        profile.set_thread_name(thread, "main");
        let names = modules
            .into_iter()
            .map(|(name, module)| (module.inner.compiled.code.start(), (name, module)))
            .collect();
        Ok(GuestProfiler {
            profile,
            thread,
            category,
            interval,
            host_category,
            host_frame: None,
            start: Instant::now(),
            names,
            main: module_name.to_string(),
            frames: HashMap::new(),
            samples: 0,
        })
    }

    /// Takes a sample: the Wasm stack of `store` now (nothing when no Wasm
    /// runs), which stands for the `delta` of time since the last sample
    /// (weighted by how many intervals it spans, so that a long wait
    /// counts for its length in the call tree).
    pub fn sample(&mut self, store: impl AsContext, delta: Duration) {
        self.add_sample(store, delta, false);
    }

    /// Takes a sample of time spent in a host function: the Wasm stack
    /// that called it (the host function running, or just returned, from
    /// a call hook), under a `host` frame of its own category, standing
    /// for `delta`, the time the host function took.
    pub fn sample_in_host(&mut self, store: impl AsContext, delta: Duration) {
        self.add_sample(store, delta, true);
    }

    fn add_sample(&mut self, store: impl AsContext, delta: Duration, in_host: bool) {
        let frames = WasmBacktrace::capture(store);
        let now = self.timestamp();
        let mut stack = None;
        // Outermost first.
        for f in frames.frames().iter().rev() {
            let frame = self.frame(f);
            stack = Some(self.profile.intern_stack(self.thread, stack, frame));
        }
        if in_host {
            let host = self.host_frame();
            stack = Some(self.profile.intern_stack(self.thread, stack, host));
        }
        let cpu = CpuDelta::from_nanos(delta.as_nanos().min(u64::MAX as u128) as u64);
        let spans = (delta.as_nanos() + self.interval.as_nanos() / 2) / self.interval.as_nanos();
        let weight = spans.clamp(1, i32::MAX as u128) as i32;
        self.profile
            .add_sample(self.thread, now, stack, cpu, weight);
        self.samples += 1;
    }

    /// Samples taken so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Writes the profile as JSON (the Firefox profiler's processed
    /// format) to `output`.
    pub fn finish(self, output: impl Write) -> Result<()> {
        let mut output = std::io::BufWriter::new(output);
        serde_json::to_writer(&mut output, &self.profile)
            .map_err(|e| Error::msg(format!("cannot write the guest profile: {e}")))?;
        output
            .flush()
            .map_err(|e| Error::msg(format!("cannot write the guest profile: {e}")))
    }

    fn timestamp(&self) -> Timestamp {
        let nanos = self.start.elapsed().as_nanos().min(u64::MAX as u128) as u64;
        Timestamp::from_nanos_since_reference(nanos)
    }

    /// The frame that stands for host code.
    fn host_frame(&mut self) -> FrameHandle {
        if let Some(h) = self.host_frame {
            return h;
        }
        let h = self.label_frame("host", self.host_category);
        self.host_frame = Some(h);
        h
    }

    /// A frame labelled `label`, of `category`.
    fn label_frame(&mut self, label: &str, category: CategoryPairHandle) -> FrameHandle {
        let label = self.profile.intern_string(label);
        self.profile.intern_frame(
            self.thread,
            FrameInfo {
                frame: Frame::Label(label),
                category_pair: category,
                flags: FrameFlags::empty(),
            },
        )
    }

    /// The profile's frame for `f`'s function, added the first time.
    fn frame(&mut self, f: &backtrace::Frame) -> FrameHandle {
        let key = (f.code, f.func_index);
        if let Some(&h) = self.frames.get(&key) {
            return h;
        }
        let function = f
            .func_name
            .clone()
            .unwrap_or_else(|| format!("wasm-function[{}]", f.func_index));
        let module = self
            .names
            .get(&f.code)
            .map(|(name, _)| name.clone())
            .or_else(|| f.module_name.clone());
        let label = match module {
            Some(m) if m != self.main => format!("{m}!{function}"),
            _ => function,
        };
        let h = self.label_frame(&label, self.category);
        self.frames.insert(key, h);
        h
    }
}
