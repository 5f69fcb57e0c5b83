//! Bounds on what a store's guests may take: memory and table growth, and
//! the number of instances, memories and tables, decided by the
//! embedder's [`ResourceLimiter`] (wasmtime's shape), for example
//! [`StoreLimits`].

use std::panic::{self, AssertUnwindSafe};

use crate::error::{Error, Result};
use crate::store::{StoreInner, StoreOpaque};
use crate::vm::traphandlers::HostFailure;

/// Decides whether a store's memories and tables may grow, and how many
/// instances, memories and tables it may hold
/// ([`crate::Store::limiter`]; fixed bounds: [`crate::Store::set_limits`]).
///
/// Growth is asked before it happens: at `memory.grow` and `table.grow`
/// (whose answer, refused, is -1 to the guest), at [`crate::Memory::grow`]
/// and [`crate::Table::grow`], and as memories and tables are made (from
/// nothing to their minimum: refused, the instantiation or the call
/// fails). An error instead of an answer traps the guest with it (or is
/// the API call's error).
pub trait ResourceLimiter {
    /// May a memory of `current` bytes grow to `desired` bytes?
    /// `maximum`: the most it may have (its type's maximum, or its index
    /// type's). Asked only for growth within it.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// May a table of `current` elements grow to `desired`? `maximum`:
    /// the most it may have (its type's maximum, or its index type's).
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// A memory's growth failed for a reason of its own (past its
    /// maximum, or the system refused the pages): an error here traps the
    /// guest with it; by default the growth just fails (-1).
    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// A table's growth failed for a reason of its own; as
    /// [`Self::memory_grow_failed`].
    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// The most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_COUNT
    }

    /// The most memories the store's instances may define (memories the
    /// host makes are not counted).
    fn memories(&self) -> usize {
        DEFAULT_COUNT
    }

    /// The most tables the store's instances may define.
    fn tables(&self) -> usize {
        DEFAULT_COUNT
    }
}

/// A [`ResourceLimiter`] whose answers about growth are futures
/// (wasmtime's `ResourceLimiterAsync`; implement it with
/// `#[async_trait::async_trait]`), set with
/// [`crate::Store::limiter_async`]: a growth it is asked about suspends
/// the asynchronous call that makes it until the future is ready. Wasm
/// that grows memory or tables, and instantiations that make them, must
/// then run in asynchronous calls ([`crate::Func::call_async`],
/// [`crate::Linker::instantiate_async`]), and the host grows them with
/// [`crate::Memory::grow_async`] and [`crate::Table::grow_async`]; a
/// synchronous one fails, naming why.
#[async_trait::async_trait]
pub trait ResourceLimiterAsync: Send {
    /// [`ResourceLimiter::memory_growing`], answered by a future.
    async fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// [`ResourceLimiter::table_growing`], answered by a future.
    async fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// [`ResourceLimiter::memory_grow_failed`].
    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// [`ResourceLimiter::table_grow_failed`].
    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        let _ = error;
        Ok(())
    }

    /// [`ResourceLimiter::instances`].
    fn instances(&self) -> usize {
        DEFAULT_COUNT
    }

    /// [`ResourceLimiter::memories`].
    fn memories(&self) -> usize {
        DEFAULT_COUNT
    }

    /// [`ResourceLimiter::tables`].
    fn tables(&self) -> usize {
        DEFAULT_COUNT
    }
}

/// An asynchronous limiter asked from the fiber of the asynchronous call
/// that grows (its futures polled there, suspending the call), or, with
/// no such call, failing to answer.
struct OnFiber<'a> {
    limiter: &'a mut dyn ResourceLimiterAsync,
    /// The store's published fiber, or why its futures cannot be waited
    /// on here.
    acx: std::result::Result<*mut crate::fiber::AsyncCx, String>,
}

impl OnFiber<'_> {
    /// Polls a limiter's `future` to its answer on the fiber `acx`.
    fn wait_with(
        acx: std::result::Result<*mut crate::fiber::AsyncCx, String>,
        mut future: std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + '_>>,
    ) -> Result<bool> {
        let acx = acx.map_err(Error::Usage)?;
        // SAFETY: the store publishes the fiber this code runs on while
        // its asynchronous call runs.
        unsafe { crate::fiber::block_on(acx, future.as_mut()) }?
    }
}

impl ResourceLimiter for OnFiber<'_> {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let acx = self.acx.clone();
        let future = self.limiter.memory_growing(current, desired, maximum);
        OnFiber::wait_with(acx, future)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let acx = self.acx.clone();
        let future = self.limiter.table_growing(current, desired, maximum);
        OnFiber::wait_with(acx, future)
    }

    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        self.limiter.memory_grow_failed(error)
    }

    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        self.limiter.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limiter.instances()
    }

    fn memories(&self) -> usize {
        self.limiter.memories()
    }

    fn tables(&self) -> usize {
        self.limiter.tables()
    }
}

/// The limiter's stand-in while it is asked ([`Limiter::Busy`]): fails
/// every question.
struct BusyLimiter;

impl BusyLimiter {
    fn busy() -> Error {
        Error::Usage(
            "the store's resource limiter is in use (asked again while answering, or a call \
             waiting on it was leaked)"
                .into(),
        )
    }
}

impl ResourceLimiter for BusyLimiter {
    fn memory_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
        Err(BusyLimiter::busy())
    }

    fn table_growing(&mut self, _: usize, _: usize, _: Option<usize>) -> Result<bool> {
        Err(BusyLimiter::busy())
    }

    fn memory_grow_failed(&mut self, _: Error) -> Result<()> {
        Err(BusyLimiter::busy())
    }

    fn table_grow_failed(&mut self, _: Error) -> Result<()> {
        Err(BusyLimiter::busy())
    }

    fn instances(&self) -> usize {
        0
    }

    fn memories(&self) -> usize {
        0
    }

    fn tables(&self) -> usize {
        0
    }
}

/// What [`ResourceLimiter`]'s counts allow unless told otherwise
/// (wasmtime's figure).
pub const DEFAULT_COUNT: usize = 10_000;

/// A [`ResourceLimiter`] of fixed bounds, made with
/// [`StoreLimitsBuilder`].
#[derive(Clone, Debug)]
pub struct StoreLimits {
    memory_size: Option<usize>,
    table_elements: Option<usize>,
    instances: usize,
    memories: usize,
    tables: usize,
    trap_on_grow_failure: bool,
}

impl Default for StoreLimits {
    fn default() -> StoreLimits {
        StoreLimits {
            memory_size: None,
            table_elements: None,
            instances: DEFAULT_COUNT,
            memories: DEFAULT_COUNT,
            tables: DEFAULT_COUNT,
            trap_on_grow_failure: false,
        }
    }
}

/// Builds [`StoreLimits`]; each bound is unset (unbounded, or for counts
/// [`DEFAULT_COUNT`]) until given.
#[derive(Clone, Debug, Default)]
pub struct StoreLimitsBuilder(StoreLimits);

impl StoreLimitsBuilder {
    /// Bounds with nothing set.
    pub fn new() -> StoreLimitsBuilder {
        StoreLimitsBuilder::default()
    }

    /// No memory may be larger than `bytes`.
    pub fn memory_size(mut self, bytes: usize) -> StoreLimitsBuilder {
        self.0.memory_size = Some(bytes);
        self
    }

    /// No table may have more than `elements`.
    pub fn table_elements(mut self, elements: usize) -> StoreLimitsBuilder {
        self.0.table_elements = Some(elements);
        self
    }

    /// At most `n` instances.
    pub fn instances(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.instances = n;
        self
    }

    /// At most `n` memories.
    pub fn memories(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.memories = n;
        self
    }

    /// At most `n` tables.
    pub fn tables(mut self, n: usize) -> StoreLimitsBuilder {
        self.0.tables = n;
        self
    }

    /// Growth past a bound traps the guest (an error from the API)
    /// instead of failing as `memory.grow` and `table.grow` fail (-1).
    pub fn trap_on_grow_failure(mut self, trap: bool) -> StoreLimitsBuilder {
        self.0.trap_on_grow_failure = trap;
        self
    }

    /// The bounds.
    pub fn build(self) -> StoreLimits {
        self.0
    }
}

impl StoreLimits {
    /// `desired` against `bound` and `maximum`: allowed, refused, or
    /// (trapping on refusal) an error naming what was asked.
    fn decide(
        &self,
        what: &str,
        desired: usize,
        bound: Option<usize>,
        maximum: Option<usize>,
    ) -> Result<bool> {
        let over = |b: Option<usize>| b.is_some_and(|b| desired > b);
        if !(over(bound) || over(maximum)) {
            return Ok(true);
        }
        if self.trap_on_grow_failure {
            return Err(Error::msg(format!(
                "forcing trap when growing {what} to {desired}"
            )));
        }
        Ok(false)
    }

    /// A growth that failed: an error when growth failures trap.
    fn failed(&self, error: Error) -> Result<()> {
        if self.trap_on_grow_failure {
            Err(error)
        } else {
            Ok(())
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&mut self, _: usize, desired: usize, max: Option<usize>) -> Result<bool> {
        self.decide("memory (bytes)", desired, self.memory_size, max)
    }

    fn table_growing(&mut self, _: usize, desired: usize, max: Option<usize>) -> Result<bool> {
        self.decide("table (elements)", desired, self.table_elements, max)
    }

    fn memory_grow_failed(&mut self, error: Error) -> Result<()> {
        self.failed(error)
    }

    fn table_grow_failed(&mut self, error: Error) -> Result<()> {
        self.failed(error)
    }

    fn instances(&self) -> usize {
        self.instances
    }

    fn memories(&self) -> usize {
        self.memories
    }

    fn tables(&self) -> usize {
        self.tables
    }
}

/// A store's limiter: fixed bounds it holds, or one its host data holds.
pub(crate) enum Limiter {
    Fixed(StoreLimits),
    InData(InData),
    InDataAsync(InDataAsync),
    /// In the store while its limiter is being asked (taken out): a
    /// question asked meanwhile (the limiter's own, or any after a call
    /// that waited on it was leaked) fails rather than go unasked.
    Busy,
}

/// Finds the limiter in a store's host data (the type erased).
pub(crate) type InData =
    Box<dyn for<'a> FnMut(&'a mut StoreOpaque) -> &'a mut (dyn ResourceLimiter + 'a) + Send + Sync>;

/// Finds the asynchronous limiter in a store's host data.
pub(crate) type InDataAsync = Box<
    dyn for<'a> FnMut(&'a mut StoreOpaque) -> &'a mut (dyn ResourceLimiterAsync + 'a) + Send + Sync,
>;

impl<T> StoreInner<T> {
    /// Bounds this store's guests by the limiter `get` finds in the host
    /// data (as wasmtime's `Store::limiter`), replacing any other.
    pub fn limiter(
        &mut self,
        mut get: impl (FnMut(&mut T) -> &mut dyn ResourceLimiter) + Send + Sync + 'static,
    ) where
        T: 'static,
    {
        self.opaque.limiter = Some(Limiter::InData(Box::new(
            move |opaque: &mut StoreOpaque| {
                // SAFETY: installed in this store of host data `T`, and
                // only ever called with it.
                get(&mut unsafe { opaque.inner_mut::<T>() }.data)
            },
        )));
    }

    /// Bounds this store's guests by the asynchronous limiter `get` finds
    /// in the host data (as wasmtime's `Store::limiter_async`; see
    /// [`ResourceLimiterAsync`]), replacing any other.
    pub fn limiter_async(
        &mut self,
        mut get: impl (FnMut(&mut T) -> &mut dyn ResourceLimiterAsync) + Send + Sync + 'static,
    ) where
        T: 'static,
    {
        self.opaque.limiter = Some(Limiter::InDataAsync(Box::new(
            move |opaque: &mut StoreOpaque| {
                // SAFETY: installed in this store of host data `T`, and
                // only ever called with it.
                get(&mut unsafe { opaque.inner_mut::<T>() }.data)
            },
        )));
    }

    /// Bounds this store's guests by `limits`, which the store holds (for
    /// host data that has no room for a limiter), replacing any other. A
    /// wasi-threads program's threads inherit them.
    pub fn set_limits(&mut self, limits: StoreLimits) {
        self.opaque.limiter = Some(Limiter::Fixed(limits));
    }
}

/// What a limiter's question came to.
pub(crate) enum Answer {
    Allowed,
    Refused,
    /// The limiter failed (or panicked: the payload, to resume or carry
    /// across Wasm frames).
    Failed(HostFailure),
}

/// What a growth the limiter was asked about came to.
pub(crate) enum Grown {
    /// It grew from this size.
    From(u64),
    /// It did not (the limiter refused, or it could not grow).
    No,
    /// The limiter failed: the guest traps, the API fails.
    Failed(HostFailure),
}

impl Grown {
    /// As the embedding API gives it: the old size, or an error (a
    /// refusal saying `refused`); a panic resumes.
    pub(crate) fn api(self, refused: impl FnOnce() -> String) -> Result<u64> {
        match self {
            Grown::From(old) => Ok(old),
            Grown::No => Err(Error::Resource(refused())),
            Grown::Failed(HostFailure::Error(e)) => Err(e),
            Grown::Failed(HostFailure::Panic(payload)) => panic::resume_unwind(payload),
        }
    }

    /// As a builtin answers generated code: the old size, `refused`, or
    /// `failed` with the failure recorded for the trap.
    pub(crate) fn builtin<R>(self, old: impl FnOnce(u64) -> R, refused: R, failed: R) -> R {
        match self {
            Grown::From(o) => old(o),
            Grown::No => refused,
            Grown::Failed(f) => {
                crate::vm::traphandlers::set_host_failure(f);
                failed
            }
        }
    }
}

/// `units` of `log2`-sized units in bytes (saturating: only compared).
fn bytes(units: u64, log2: u8) -> usize {
    usize::try_from(units)
        .ok()
        .and_then(|u| u.checked_mul(1usize << log2))
        .unwrap_or(usize::MAX)
}

/// The most elements a table of type `ty` may have: its maximum, or its
/// index type's.
fn table_maximum(ty: &crate::TableType) -> u64 {
    ty.max.unwrap_or(if ty.table64 {
        u64::MAX
    } else {
        u64::from(u32::MAX)
    })
}

impl StoreOpaque {
    /// The store's fixed bounds, if it holds some
    /// ([`StoreInner::set_limits`]).
    pub(crate) fn fixed_limits(&self) -> Option<StoreLimits> {
        match &self.limiter {
            Some(Limiter::Fixed(l)) => Some(l.clone()),
            _ => None,
        }
    }

    /// Asks the store's limiter `ask`, if it has one (`None` without).
    /// A panic in it is caught: it may be called with Wasm frames below.
    fn ask_limiter<R>(
        &mut self,
        ask: impl FnOnce(&mut dyn ResourceLimiter) -> R,
    ) -> Option<std::thread::Result<R>> {
        let mut limiter = std::mem::replace(self.limiter.as_mut()?, Limiter::Busy);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| match &mut limiter {
            Limiter::Fixed(l) => ask(l),
            Limiter::InData(get) => ask(get(self)),
            Limiter::InDataAsync(get) => {
                let acx = self.async_limiter_fiber();
                ask(&mut OnFiber {
                    limiter: get(self),
                    acx,
                })
            }
            Limiter::Busy => ask(&mut BusyLimiter),
        }));
        // Unless it put another in its place.
        if matches!(self.limiter, Some(Limiter::Busy)) {
            self.limiter = Some(limiter);
        }
        Some(outcome)
    }

    /// The fiber an asynchronous limiter's futures are waited on, or why
    /// there is none to wait on.
    fn async_limiter_fiber(&self) -> std::result::Result<*mut crate::fiber::AsyncCx, String> {
        crate::fiber::fiber_to_wait_on(
            self,
            "an asynchronous resource limiter (Store::limiter_async), asked about a growth,",
        )
        .map_err(|e| e.to_string())
    }

    /// May a memory (`table`: a table) of `current` units grow to
    /// `desired`?
    fn may_grow(&mut self, table: bool, current: usize, desired: usize, maximum: usize) -> Answer {
        let outcome = self.ask_limiter(|l| {
            if table {
                l.table_growing(current, desired, Some(maximum))
            } else {
                l.memory_growing(current, desired, Some(maximum))
            }
        });
        match outcome {
            None | Some(Ok(Ok(true))) => Answer::Allowed,
            Some(Ok(Ok(false))) => Answer::Refused,
            Some(Ok(Err(e))) => Answer::Failed(HostFailure::Error(e)),
            Some(Err(payload)) => Answer::Failed(HostFailure::Panic(payload)),
        }
    }

    /// Tells the limiter a growth failed for a reason of its own (`why`).
    fn grow_failed(&mut self, table: bool, why: String) -> Grown {
        let error = Error::Resource(why);
        match self.ask_limiter(|l| {
            if table {
                l.table_grow_failed(error)
            } else {
                l.memory_grow_failed(error)
            }
        }) {
            None | Some(Ok(Ok(()))) => Grown::No,
            Some(Ok(Err(e))) => Grown::Failed(HostFailure::Error(e)),
            Some(Err(payload)) => Grown::Failed(HostFailure::Panic(payload)),
        }
    }

    /// Grows memory `m` by `delta` pages as the store's limiter allows
    /// (`memory.grow` and [`crate::Memory::grow`]).
    pub(crate) fn grow_memory(&mut self, m: crate::Memory, delta: u64) -> Grown {
        loop {
            let data = m.data_in(self);
            let (log2, pages, max) = (data.ty.page_size_log2, data.pages(), data.max_pages());
            if delta == 0 {
                return Grown::From(pages);
            }
            if pages.checked_add(delta).is_none_or(|d| d > max) {
                return self.grow_failed(
                    false,
                    format!("memory maximum size exceeded (growing by {delta} pages)"),
                );
            }
            if self.limiter.is_some() {
                let (current, desired) = (bytes(pages, log2), bytes(pages + delta, log2));
                match self.may_grow(false, current, desired, bytes(max, log2)) {
                    Answer::Allowed => {}
                    Answer::Refused => return Grown::No,
                    Answer::Failed(f) => return Grown::Failed(f),
                }
            }
            // A shared memory may have grown meanwhile (another thread):
            // then the limiter is asked again, about its new size.
            match m.data_in_mut(self).grow_from(pages, delta) {
                Some(Some(old)) => return Grown::From(old),
                Some(None) => {
                    return self.grow_failed(false, format!("cannot grow memory by {delta} pages"))
                }
                None => continue,
            }
        }
    }

    /// Grows table `t` by `delta` elements of `init` as the store's
    /// limiter allows (`table.grow` and [`crate::Table::grow`]).
    pub(crate) fn grow_table(&mut self, t: crate::Table, delta: u64, init: u64) -> Grown {
        let data = t.data_in(self);
        let (len, max) = (data.elements().len() as u64, data.max_elements());
        if delta == 0 {
            return Grown::From(len);
        }
        if len.checked_add(delta).is_none_or(|d| d > max) {
            return self.grow_failed(
                true,
                format!("table maximum size exceeded (growing by {delta})"),
            );
        }
        if self.limiter.is_some() {
            let maximum = bytes(table_maximum(&data.ty), 0);
            match self.may_grow(true, bytes(len, 0), bytes(len + delta, 0), maximum) {
                Answer::Allowed => {}
                Answer::Refused => return Grown::No,
                Answer::Failed(f) => return Grown::Failed(f),
            }
        }
        match t.data_in_mut(self).grow(delta, init) {
            Some(old) => Grown::From(old),
            None => self.grow_failed(true, format!("cannot grow table by {delta}")),
        }
    }

    /// Asks before a memory of type `ty` is made (from nothing to its
    /// minimum); a refusal is the error.
    pub(crate) fn memory_may_be_made(&mut self, ty: &crate::MemoryType) -> Result<()> {
        if self.limiter.is_none() {
            return Ok(());
        }
        let log2 = ty.page_size_log2;
        let maximum = bytes(crate::memory::max_pages_of(ty), log2);
        let answer = self.may_grow(false, 0, bytes(ty.min, log2), maximum);
        made(answer, || {
            format!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.min
            )
        })
    }

    /// Asks before a table of type `ty` is made; a refusal is the error.
    pub(crate) fn table_may_be_made(&mut self, ty: &crate::TableType) -> Result<()> {
        if self.limiter.is_none() {
            return Ok(());
        }
        let maximum = bytes(table_maximum(ty), 0);
        let answer = self.may_grow(true, 0, bytes(ty.min, 0), maximum);
        made(answer, || {
            format!(
                "table minimum size of {} elements exceeds table limits",
                ty.min
            )
        })
    }

    /// Fails unless the store may hold one more instance, defining
    /// `memories` and `tables` more of those; counts them if it may (as
    /// wasmtime, whether the instantiation then succeeds or not).
    pub(crate) fn check_counts(&mut self, memories: usize, tables: usize) -> Result<()> {
        let (instances_now, memories_now, tables_now) = (
            self.instances.len() + 1,
            self.defined_memories + memories,
            self.defined_tables + tables,
        );
        if let Some(outcome) = self.ask_limiter(|l| (l.instances(), l.memories(), l.tables())) {
            let (instances, max_memories, max_tables) =
                outcome.unwrap_or_else(|payload| panic::resume_unwind(payload));
            let over = |what: &str, n: usize| {
                Err(Error::Resource(format!(
                    "resource limit exceeded: {what} count too high at {n}"
                )))
            };
            if instances_now > instances {
                return over("instance", instances_now);
            }
            if memories > 0 && memories_now > max_memories {
                return over("memory", memories_now);
            }
            if tables > 0 && tables_now > max_tables {
                return over("table", tables_now);
            }
        }
        self.defined_memories = memories_now;
        self.defined_tables = tables_now;
        Ok(())
    }
}

/// A limiter's answer about making a memory or table: a refusal is the
/// error saying `refused`, a panic resumes.
fn made(answer: Answer, refused: impl FnOnce() -> String) -> Result<()> {
    match answer {
        Answer::Allowed => Ok(()),
        Answer::Refused => Err(Error::Resource(refused())),
        Answer::Failed(HostFailure::Error(e)) => Err(e),
        Answer::Failed(HostFailure::Panic(payload)) => panic::resume_unwind(payload),
    }
}
