//! The store: owner of instances, functions, memories, tables, globals and
//! the embedder's data. Handles (`Func`, `Memory`, ...) index into it.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use walmart_jit::vmctx::{VMFuncRef, VMRuntimeLimits};

use crate::attest::session::AttestSession;
use crate::attest::{AttestOptions, AttestStats, Policy};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::func::FuncData;
use crate::global::GlobalData;
use crate::instance::InstanceData;
use crate::memory::MemoryData;
use crate::table::TableData;

/// Hashes addresses by multiplication: SipHash's DoS resistance buys
/// nothing for keys the runtime allocates itself, and instantiation inserts
/// one per host function.
pub(crate) type PtrHash = std::hash::BuildHasherDefault<PtrHasher>;

/// The hasher behind [`PtrHash`].
#[derive(Default)]
pub(crate) struct PtrHasher(u64);

impl std::hash::Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        // Fibonacci hashing; the low bits of an address are alignment.
        self.0 = ((n as u64) >> 3).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The type-independent part of a store.
///
/// Entities are boxed: generated code holds pointers to them, so they must
/// not move when the vectors grow.
#[allow(clippy::vec_box)]
pub struct StoreOpaque {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) limits: Box<VMRuntimeLimits>,
    /// Nesting of host-to-Wasm calls currently active on this store.
    pub(crate) wasm_depth: u32,
    /// Where Wasm last left for a host function or epoch callback still
    /// running ([`crate::wasm_backtrace::Exit`], linked to the ones
    /// around it); null when none runs.
    pub(crate) wasm_exit: *const crate::wasm_backtrace::Exit,
    pub(crate) instances: Vec<Box<InstanceData>>,
    pub(crate) funcs: Vec<FuncData>,
    /// `*const VMFuncRef` to the function handle that owns it.
    pub(crate) func_by_ref: HashMap<usize, u32, PtrHash>,
    pub(crate) memories: Vec<Box<MemoryData>>,
    pub(crate) tables: Vec<Box<TableData>>,
    pub(crate) globals: Vec<Box<GlobalData>>,
    /// Payloads of externref values; raw handle = index + 1.
    pub(crate) externrefs: Vec<u64>,
    /// The raw handle each payload has: a host reference handed in again
    /// (a host function returning the same one in a loop) takes no new
    /// entry. Host references are their ids (`ExternRef`'s equality).
    pub(crate) externref_handles: rustc_hash::FxHashMap<u64, u64>,
    /// Exception tags (boxed: generated code compares their addresses).
    pub(crate) tags: Vec<Box<crate::exception::TagData>>,
    /// Every exception thrown or made in the store
    /// (`crate::exception::new_exception`), for as long as it lives.
    pub(crate) exceptions: Vec<Box<[u128]>>,
    /// The store's GC objects (structs and arrays).
    pub(crate) gc_heap: crate::gc::GcHeap,
    /// The GC objects the host holds ([`crate::gc::roots`]).
    pub(crate) gc_roots: crate::gc::roots::GcRoots,
    /// The `Val`s of host functions over values (`Func::new`), kept
    /// between calls so that a call allocates none; taken by a call while
    /// it runs (a nested one makes its own).
    pub(crate) host_vals: Vec<crate::Val>,
    /// While Wasm runs: an address in the frame of the host's outermost
    /// call into it, above every Wasm frame (where the collector's scan of
    /// the stack ends).
    pub(crate) gc_stack_top: usize,
    /// Bytes of exception records made since the last collection, and in
    /// all ([`crate::exception::records_want_collection`]).
    pub(crate) new_record_bytes: usize,
    pub(crate) record_bytes: usize,
    /// Indices of exceptions free for reuse, by payload size
    /// (`crate::exception::exception_done`).
    pub(crate) free_exceptions: HashMap<usize, Vec<u32>>,
    /// Host-function contexts, kept alive with the store.
    pub(crate) host_contexts: Vec<Box<dyn Any>>,
    /// Attestation, started with the first memory or instance when the
    /// engine's policy is not `off`.
    pub(crate) attest: Option<Box<AttestSession>>,
    /// Options for that session, if the embedder chose them.
    pub(crate) attest_options: Option<AttestOptions>,
    /// The module's heap, when the engine tracks allocations.
    pub(crate) heap: crate::attest::heap::HeapTracker,
    /// The tag monitor's trace (`--trace`).
    pub(crate) tag_trace: Option<crate::attest::tags::trace::TraceWriter>,
    /// What Wasm reaching the epoch deadline calls; `None`: it traps.
    pub(crate) epoch_callback: Option<crate::interrupts::EpochCallback>,
    /// What bounds growth and counts ([`crate::ResourceLimiter`]).
    pub(crate) limiter: Option<crate::limits::Limiter>,
    /// What every crossing between the host and Wasm runs
    /// ([`crate::CallHook`]).
    pub(crate) call_hook: Option<crate::call_hook::CallHookFn>,
    /// Whether host calls have steps around them: attestation's
    /// transitions or a call hook (one test on every host call's path;
    /// kept by `ensure_attest` and the hook's setters).
    pub(crate) host_call_steps: bool,
    /// A trusted host function (walmart's own WASI) is running, outside
    /// any Wasm it called: a call it makes into Wasm (the canonical ABI's
    /// `realloc`) is part of its work, not a boundary of its own
    /// (`attest::session::to_host`). Kept only where host calls have
    /// steps.
    pub(crate) in_trusted_host: bool,
    /// Memories and tables the store's instantiations defined, as the
    /// limiter counts them.
    pub(crate) defined_memories: usize,
    pub(crate) defined_tables: usize,
    /// The running asynchronous call's fiber, if Wasm runs on one
    /// (`crate::fiber`); null otherwise.
    pub(crate) async_cx: *mut crate::fiber::AsyncCx,
    /// The asynchronous call's fiber has not entered Wasm yet: its one
    /// entry is allowed, no other while it runs.
    pub(crate) fiber_entry: bool,
    /// The component runtime is calling into Wasm from its own frames
    /// during an asynchronous call (a `realloc`, a `post-return`, a
    /// lifted callee inside a lowered import): allowed once, as the
    /// fiber's entry is, but on the same stack.
    pub(crate) runtime_reentry: bool,
    /// The entry `fiber_entry` allowed is on its way into Wasm (from
    /// `Func::call_raw` to `invoke`): the call starts a new stack.
    pub(crate) fiber_stack_entry: bool,
    /// The lowest address of the stack the outermost call's frames (from
    /// `gc_stack_top` down) lie on.
    pub(crate) gc_stack_low: usize,
    /// For each asynchronous call nested in another call of this store
    /// (innermost last): its fiber, and the bounds of the outer call's
    /// frames (its stack's lowest address, the top of its Wasm frames),
    /// which the collector scans from the fiber's `parent_sp` up.
    pub(crate) gc_outer_stacks: Vec<(*mut crate::fiber::AsyncCx, usize, usize)>,
    /// An asynchronous call nested in a call of this store was leaked
    /// while the outer call ran on: the store's call state is lost, and
    /// the store refuses to run anything again.
    pub(crate) poisoned: bool,
    /// Fuel set but not yet handed to Wasm (its count holds at most an
    /// interval of it under `fuel_async_yield_interval`).
    pub(crate) fuel_reserve: u64,
    /// `fuel_async_yield_interval`'s interval.
    pub(crate) fuel_yield_interval: Option<u64>,
}

// SAFETY: a store owns what its pointers reach (its instances, memories,
// tables, host contexts; the engine's code, immutable and shared), and its
// boxed callbacks and host functions are `Send`. Nothing in it is tied to
// the thread that made it: per-thread trap state lives in thread-locals
// for the duration of a call, and moves with an asynchronous call's fiber
// (as do the notes `wasm_exit` links, which live on the call's stack).
unsafe impl Send for StoreOpaque {}

impl StoreOpaque {
    /// The whole store this is the runtime part of, for the embedder's
    /// callbacks that take it (epoch deadlines, limiters in host data).
    ///
    /// # Safety
    /// `T` must be the host data type of the `Store<T>` this belongs to.
    pub(crate) unsafe fn inner_mut<T>(&mut self) -> &mut StoreInner<T> {
        // SAFETY: every StoreOpaque is the first field of its store's
        // `repr(C)` StoreInner<T>, whose `T` the caller vouches for.
        unsafe { &mut *(self as *mut StoreOpaque as *mut StoreInner<T>) }
    }

    /// Sets the deadline `ticks` epochs past the engine's current one.
    pub(crate) fn set_epoch_deadline(&mut self, ticks: u64) {
        let now = self.engine.current_epoch();
        self.limits.epoch_deadline = now.saturating_add(ticks);
    }

    /// What a memory created now attests with (where its dirty pages come
    /// from, the record of the input's runs), or `None` when the store
    /// does not attest.
    pub(crate) fn memory_source(&self) -> Option<crate::attest::session::MemorySource> {
        let tracked = matches!(self.engine.config().attest, Policy::Coarse | Policy::Fine);
        let session = self.attest.as_deref().filter(|_| tracked)?;
        Some(crate::attest::session::MemorySource {
            dirty: self.engine.dirty_source(),
            input_runs: session.input_runs.clone(),
        })
    }

    /// Starts the attestation session if the engine attests and it has not
    /// started yet.
    pub(crate) fn ensure_attest(&mut self) -> Result<()> {
        let config = self.engine.config();
        if config.attest == Policy::Off || self.attest.is_some() {
            return Ok(());
        }
        let mut opts = self.attest_options.take().unwrap_or_default();
        if let Some(t) = opts.tag_trace.take() {
            let path = t.path.display().to_string();
            self.tag_trace = Some(crate::attest::tags::trace::TraceWriter::create(t).map_err(
                |e| crate::error::Error::Usage(format!("cannot create the tag trace {path}: {e}")),
            )?);
        }
        self.attest = Some(Box::new(AttestSession::start(
            config.attest,
            config.attest_sync,
            opts,
        )?));
        self.host_call_steps = true;
        Ok(())
    }
}

impl Drop for StoreOpaque {
    fn drop(&mut self) {
        // A store dropped without its final verdict still has a
        // command's last pages judged, as when its exit took them: the
        // snapshot is queued here, before the memories are unmapped, and
        // the session's end waits for the verifier to drain its queue.
        crate::attest::session::settle_exit(self);
    }
}

/// Figures of a store's GC heap ([`Store::gc_stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcStats {
    /// Bytes of memory the heap holds (chunks and large objects), counted
    /// against [`crate::Config::max_gc_heap`].
    pub heap_bytes: usize,
    /// Bytes of objects the last collection found live.
    pub live_bytes: usize,
    /// Collections run.
    pub collections: u64,
    /// Host handles on GC objects whose roots are held.
    pub roots: usize,
}

/// The store's contents: the embedder's data beside the runtime's.
/// `repr(C)` with `opaque` first: internal code views a `StoreOpaque` as a
/// `StoreInner<()>`.
#[repr(C)]
pub struct StoreInner<T> {
    pub(crate) opaque: StoreOpaque,
    pub(crate) data: T,
}

impl<T> StoreInner<T> {
    /// The store's `StoreOpaque`, reached through a pointer to the whole
    /// store rather than by its field: code that views it as the store
    /// again ([`StoreOpaque::inner_mut`], the call hook) stays inside what
    /// the reference covers.
    pub(crate) fn opaque_whole(&mut self) -> &mut StoreOpaque {
        // SAFETY: `repr(C)` with `opaque` first: the store's address is
        // its `StoreOpaque`'s, and the reference borrows the whole store.
        unsafe { &mut *(self as *mut StoreInner<T> as *mut StoreOpaque) }
    }
}

/// A store of Wasm objects with host data `T`. Objects live as long as
/// their store.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("id", &self.inner.opaque.id)
            .finish()
    }
}

impl<T> Store<T> {
    /// A new empty store.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Store {
            inner: Box::new(StoreInner {
                opaque: StoreOpaque {
                    id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                    engine: engine.clone(),
                    limits: Box::new(VMRuntimeLimits {
                        epoch_counter: engine.epoch_counter() as usize,
                        ..Default::default()
                    }),
                    wasm_depth: 0,
                    wasm_exit: std::ptr::null(),
                    instances: Vec::new(),
                    funcs: Vec::new(),
                    func_by_ref: HashMap::default(),
                    memories: Vec::new(),
                    tables: Vec::new(),
                    globals: Vec::new(),
                    heap: Default::default(),
                    tag_trace: None,
                    externrefs: Vec::new(),
                    externref_handles: Default::default(),
                    tags: Vec::new(),
                    exceptions: Vec::new(),
                    free_exceptions: HashMap::new(),
                    gc_heap: Default::default(),
                    gc_roots: Default::default(),
                    host_vals: Vec::new(),
                    gc_stack_top: 0,
                    new_record_bytes: 0,
                    record_bytes: 0,
                    host_contexts: Vec::new(),
                    attest: None,
                    attest_options: None,
                    epoch_callback: None,
                    limiter: None,
                    call_hook: None,
                    host_call_steps: false,
                    in_trusted_host: false,
                    defined_memories: 0,
                    defined_tables: 0,
                    async_cx: std::ptr::null_mut(),
                    fiber_entry: false,
                    runtime_reentry: false,
                    fiber_stack_entry: false,
                    gc_stack_low: 0,
                    gc_outer_stacks: Vec::new(),
                    poisoned: false,
                    fuel_reserve: 0,
                    fuel_yield_interval: None,
                },
                data,
            }),
        }
    }

    /// Chooses how this store attests (verifier, events, what a detection
    /// does). Only before the store's first memory or instance: the session
    /// starts with it. Without this call a store of an attesting engine
    /// uses [`AttestOptions::default`].
    pub fn configure_attestation(&mut self, options: AttestOptions) -> Result<()> {
        let opaque = &mut self.inner.opaque;
        if opaque.engine.config().attest == Policy::Off {
            return Err(Error::Usage(
                "attestation options need an engine with an attestation policy (Config::attest)"
                    .into(),
            ));
        }
        if opaque.attest.is_some() {
            return Err(Error::Usage(
                "attestation options must be set before the store's first memory or instance"
                    .into(),
            ));
        }
        if options.allocator_call_mark != 0 && opaque.engine.config().tag_monitor().is_some() {
            return Err(Error::Usage(
                "AttestOptions::mark_allocator_call: not under the tag monitor, whose wrappers \
                 count the allocator calls"
                    .into(),
            ));
        }
        opaque.attest_options = Some(options);
        Ok(())
    }

    /// Attestation counters so far, or `None` without attestation.
    pub fn attestation_stats(&self) -> Option<AttestStats> {
        self.inner.opaque.attest.as_ref().map(|s| s.stats())
    }

    /// Pages (memory, page) written by the host-tamper injector so far.
    pub fn attestation_injected_pages(&self) -> Vec<(u32, u32)> {
        self.inner
            .opaque
            .attest
            .as_ref()
            .map(|s| s.injected.clone())
            .unwrap_or_default()
    }

    /// Ends attestation for the run: checks for host tampering since the
    /// last call, flushes every dirty page through the verifier and waits
    /// for its verdicts. An `Err` is a detection with `OnDetect::Trap`, or
    /// an event log that could not be written. Memory the last call left
    /// write-protected stays so: raw writes through [`Memory::data_mut`]
    /// before the next call are reported then as host tampering
    /// ([`Memory::write`] is the legitimate way), and system calls that
    /// would write it (`read(2)` into guest memory) fail with `EFAULT`.
    ///
    /// [`Memory::data_mut`]: crate::Memory::data_mut
    /// [`Memory::write`]: crate::Memory::write
    pub fn finish_attestation(&mut self) -> Result<Option<AttestStats>> {
        crate::attest::session::finish(&mut self.inner.opaque)
    }

    /// The fuel left ([`StoreInner::get_fuel`]); an error unless the
    /// engine counts fuel ([`crate::Config::consume_fuel`]).
    pub fn get_fuel(&self) -> Result<u64> {
        self.inner.get_fuel()
    }

    /// Sets the fuel left ([`StoreInner::set_fuel`]); a store starts with
    /// none.
    pub fn set_fuel(&mut self, fuel: u64) -> Result<()> {
        self.inner.set_fuel(fuel)
    }

    /// Yields asynchronous calls every `interval` units of fuel
    /// ([`StoreInner::fuel_async_yield_interval`]).
    pub fn fuel_async_yield_interval(&mut self, interval: Option<u64>) -> Result<()> {
        self.inner.fuel_async_yield_interval(interval)
    }

    /// Sets the deadline `ticks` epochs past the engine's current one
    /// ([`StoreInner::set_epoch_deadline`]); a store's starts at epoch 0.
    pub fn set_epoch_deadline(&mut self, ticks: u64) {
        self.inner.set_epoch_deadline(ticks)
    }

    /// Wasm reaching the deadline traps ([`StoreInner::epoch_deadline_trap`]).
    pub fn epoch_deadline_trap(&mut self) {
        self.inner.epoch_deadline_trap()
    }

    /// Wasm reaching the deadline calls `callback`
    /// ([`StoreInner::epoch_deadline_callback`]).
    pub fn epoch_deadline_callback(
        &mut self,
        callback: impl FnMut(&mut StoreInner<T>) -> Result<crate::UpdateDeadline>
            + Send
            + Sync
            + 'static,
    ) {
        self.inner.epoch_deadline_callback(callback)
    }

    /// Wasm reaching the deadline yields its asynchronous call and goes
    /// on `delta` epochs later
    /// ([`StoreInner::epoch_deadline_async_yield_and_update`]).
    pub fn epoch_deadline_async_yield_and_update(&mut self, delta: u64) {
        self.inner.epoch_deadline_async_yield_and_update(delta)
    }

    /// Bounds this store's guests by the limiter `get` finds in the host
    /// data ([`StoreInner::limiter`]).
    pub fn limiter(
        &mut self,
        get: impl (FnMut(&mut T) -> &mut dyn crate::ResourceLimiter) + Send + Sync + 'static,
    ) where
        T: 'static,
    {
        self.inner.limiter(get)
    }

    /// Bounds this store's guests by the asynchronous limiter `get` finds
    /// in the host data ([`StoreInner::limiter_async`]).
    pub fn limiter_async(
        &mut self,
        get: impl (FnMut(&mut T) -> &mut dyn crate::ResourceLimiterAsync) + Send + Sync + 'static,
    ) where
        T: 'static,
    {
        self.inner.limiter_async(get)
    }

    /// Bounds this store's guests by `limits`, which the store holds
    /// ([`StoreInner::set_limits`]).
    pub fn set_limits(&mut self, limits: crate::StoreLimits) {
        self.inner.set_limits(limits)
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// Takes the host data out, dropping the store.
    pub fn into_data(self) -> T {
        self.inner.data
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.opaque.engine
    }

    /// The tag monitor's counters over the store's instances, or `None`
    /// when no instance is monitored.
    pub fn tag_stats(&self) -> Option<crate::attest::tags::TagStats> {
        let mut out = None;
        for inst in &self.inner.opaque.instances {
            if let Some(h) = inst.tags.as_deref() {
                let t: &mut crate::attest::tags::TagStats =
                    out.get_or_insert_with(Default::default);
                t.allocations += h.stats.allocations;
                t.frees += h.stats.frees;
                t.violations += h.stats.violations;
            }
        }
        out
    }

    /// How many distinct host references (`ExternRef` ids) the store has
    /// been handed: one entry each, however often.
    pub fn externrefs_held(&self) -> usize {
        self.inner.opaque.externrefs.len()
    }

    /// How many exception records the store holds: every exception an
    /// `exnref` may refer to, and the records kept for reuse (a loop that
    /// throws and catches with `catch` or `catch_all` reuses one).
    pub fn exceptions_held(&self) -> usize {
        self.inner.opaque.exceptions.len()
    }

    /// Collects the store's GC heap now: every object neither Wasm, the
    /// store's globals, tables, element segments and exceptions, nor a
    /// host handle still rooted reaches is freed. Wasm's allocations
    /// collect by themselves; this is for a host that wants memory back
    /// at a moment of its choosing.
    pub fn gc(&mut self) {
        crate::gc::collect(&mut self.inner.opaque, crate::gc::ScanFrom::Here);
    }

    /// Runs `f`, then releases the roots of the GC object handles
    /// ([`crate::AnyRef`]) made inside it: the objects they name may then
    /// be collected, and the handles are refused if used (one `f` returns
    /// included). A host that
    /// calls Wasm in a loop and reads references back wraps each round
    /// in one, or its handles keep their objects as long as the store.
    pub fn gc_scope<R>(&mut self, f: impl FnOnce(&mut Store<T>) -> R) -> R {
        let mark = self.inner.opaque.gc_roots.mark();
        let r = f(self);
        self.inner.opaque.gc_roots.release_to(mark);
        r
    }

    /// Figures of the store's GC heap.
    pub fn gc_stats(&self) -> GcStats {
        let o = &self.inner.opaque;
        GcStats {
            heap_bytes: o.gc_heap.bytes,
            live_bytes: o.gc_heap.live_bytes(),
            collections: o.gc_heap.collections,
            roots: o.gc_roots.len(),
        }
    }

    /// The module's heap chunks, as its allocator reported them (empty
    /// unless the engine has [`crate::Config::track_allocations`]).
    pub fn heap(&self) -> &crate::attest::heap::HeapTracker {
        &self.inner.opaque.heap
    }
}

impl StoreOpaque {
    /// Panics unless `store_id` is this store's: handles never cross stores.
    pub(crate) fn check(&self, store_id: u64) {
        assert_eq!(
            self.id, store_id,
            "walmart: object used with a store that does not own it"
        );
    }

    /// Room for `n` more host functions, made one after the other (an
    /// instantiation's imports).
    pub(crate) fn reserve_host_funcs(&mut self, n: usize) {
        self.funcs.reserve(n);
        self.func_by_ref.reserve(n);
        self.host_contexts.reserve(n);
    }

    pub(crate) fn push_func(&mut self, data: FuncData) -> u32 {
        let idx = self.funcs.len() as u32;
        self.func_by_ref.insert(data.func_ref as usize, idx);
        self.funcs.push(data);
        idx
    }

    /// The function handle behind a raw funcref, registering functions of
    /// instances lazily.
    pub(crate) fn func_from_ref(&mut self, ptr: *const VMFuncRef) -> Option<crate::Func> {
        if ptr.is_null() {
            return None;
        }
        if let Some(idx) = self.func_by_ref.get(&(ptr as usize)) {
            return Some(crate::Func::from_parts(self.id, *idx));
        }
        let (instance, func_index) = self
            .instances
            .iter()
            .enumerate()
            .find_map(|(i, inst)| inst.defined_func_of_ref(ptr).map(|f| (i, f)))?;
        Some(crate::Func::for_instance_func(self, instance, func_index))
    }

    /// The externref handle for a payload.
    pub(crate) fn externref_raw(&mut self, payload: u64) -> u64 {
        let payloads = &mut self.externrefs;
        *self.externref_handles.entry(payload).or_insert_with(|| {
            payloads.push(payload);
            (payloads.len() as u64) << 2
        })
    }

    /// The payload of a raw host reference ([`StoreOpaque::externref_raw`]'s
    /// word, bit 1 aside).
    pub(crate) fn externref_payload(&self, raw: u64) -> u64 {
        self.externrefs[(raw >> 2) as usize - 1]
    }
}

/// Read access to a store, for API functions that take one.
pub trait AsContext {
    /// The host data type.
    type Data;
    /// The store's contents.
    fn as_context(&self) -> &StoreInner<Self::Data>;
}

/// Write access to a store.
pub trait AsContextMut: AsContext {
    /// The store's contents, mutably.
    fn as_context_mut(&mut self) -> &mut StoreInner<Self::Data>;
}

impl<T> AsContext for Store<T> {
    type Data = T;
    fn as_context(&self) -> &StoreInner<T> {
        &self.inner
    }
}

impl<T> AsContextMut for Store<T> {
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        &mut self.inner
    }
}

impl<T> AsContext for StoreInner<T> {
    type Data = T;
    fn as_context(&self) -> &StoreInner<T> {
        self
    }
}

impl<T> AsContextMut for StoreInner<T> {
    fn as_context_mut(&mut self) -> &mut StoreInner<T> {
        self
    }
}

impl<S: AsContext> AsContext for &S {
    type Data = S::Data;
    fn as_context(&self) -> &StoreInner<S::Data> {
        (**self).as_context()
    }
}

impl<S: AsContext> AsContext for &mut S {
    type Data = S::Data;
    fn as_context(&self) -> &StoreInner<S::Data> {
        (**self).as_context()
    }
}

impl<S: AsContextMut> AsContextMut for &mut S {
    fn as_context_mut(&mut self) -> &mut StoreInner<S::Data> {
        (**self).as_context_mut()
    }
}
