//! Bounds on what a store's guests may take: memory and table growth, and
//! the number of instances, memories and tables, decided by the
//! embedder's [`ResourceLimiter`] (wasmtime's shape), for example
//! [`StoreLimits`].

use std::panic::{self, AssertUnwindSafe};

use crate::error::{Error, Result};
use crate::store::{StoreInner, StoreOpaque};

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
    /// `maximum`: the most its type allows, if it says.
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// May a table of `current` elements grow to `desired`? `maximum`:
    /// the most its type allows, if it says.
    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool>;

    /// The most instances the store may hold.
    fn instances(&self) -> usize {
        DEFAULT_COUNT
    }

    /// The most memories the store may hold (imported ones are counted
    /// in the store that made them).
    fn memories(&self) -> usize {
        DEFAULT_COUNT
    }

    /// The most tables the store may hold.
    fn tables(&self) -> usize {
        DEFAULT_COUNT
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
    /// `desired` against `bound`: allowed, refused, or (trapping on
    /// refusal) an error naming what was asked.
    fn decide(&self, what: &str, desired: usize, bound: Option<usize>) -> Result<bool> {
        match bound {
            Some(bound) if desired > bound => {
                if self.trap_on_grow_failure {
                    Err(Error::msg(format!(
                        "{what} of {desired} exceeds the store's limit of {bound}"
                    )))
                } else {
                    Ok(false)
                }
            }
            _ => Ok(true),
        }
    }
}

impl ResourceLimiter for StoreLimits {
    fn memory_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        self.decide("a memory of bytes", desired, self.memory_size)
    }

    fn table_growing(&mut self, _: usize, desired: usize, _: Option<usize>) -> Result<bool> {
        self.decide("a table of elements", desired, self.table_elements)
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
}

/// Finds the limiter in a store's host data (the type erased).
pub(crate) type InData =
    Box<dyn for<'a> FnMut(&'a mut StoreOpaque) -> &'a mut (dyn ResourceLimiter + 'a) + Send + Sync>;

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
                // SAFETY: every StoreOpaque is the first field of the
                // `repr(C)` StoreInner<T> of its store, and this closure is
                // only ever installed in a store of host data `T`.
                let store = unsafe { &mut *(opaque as *mut StoreOpaque as *mut StoreInner<T>) };
                get(&mut store.data)
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
    Failed(crate::vm::traphandlers::HostFailure),
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
        let mut limiter = self.limiter.take()?;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| match &mut limiter {
            Limiter::Fixed(l) => ask(l),
            Limiter::InData(get) => ask(get(self)),
        }));
        // Unless it put another in its place.
        if self.limiter.is_none() {
            self.limiter = Some(limiter);
        }
        Some(outcome)
    }

    /// May a memory (`table`: a table) of `current` units grow to
    /// `desired`?
    pub(crate) fn may_grow(
        &mut self,
        table: bool,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Answer {
        use crate::vm::traphandlers::HostFailure;
        let outcome = self.ask_limiter(|l| {
            if table {
                l.table_growing(current, desired, maximum)
            } else {
                l.memory_growing(current, desired, maximum)
            }
        });
        match outcome {
            None | Some(Ok(Ok(true))) => Answer::Allowed,
            Some(Ok(Ok(false))) => Answer::Refused,
            Some(Ok(Err(e))) => Answer::Failed(HostFailure::Error(e)),
            Some(Err(payload)) => Answer::Failed(HostFailure::Panic(payload)),
        }
    }

    /// Fails unless the store may hold one more instance, with `memories`
    /// and `tables` more of those.
    pub(crate) fn check_counts(&mut self, memories: usize, tables: usize) -> Result<()> {
        let (instances_now, memories_now, tables_now) = (
            self.instances.len() + 1,
            self.memories.len() + memories,
            self.tables.len() + tables,
        );
        let Some(outcome) = self.ask_limiter(|l| (l.instances(), l.memories(), l.tables())) else {
            return Ok(());
        };
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
        Ok(())
    }
}

/// `units` of `log2`-sized units in bytes (saturating: only compared).
fn bytes(units: u64, log2: u8) -> usize {
    usize::try_from(units)
        .ok()
        .and_then(|u| u.checked_mul(1usize << log2))
        .unwrap_or(usize::MAX)
}

impl StoreOpaque {
    /// The limiter's answer to a memory of type `ty` and `current_pages`
    /// growing by `delta` pages (allowed where it has no limiter, and for
    /// a growth by nothing).
    pub(crate) fn memory_may_grow(
        &mut self,
        ty: &crate::MemoryType,
        current_pages: u64,
        delta: u64,
    ) -> Answer {
        if delta == 0 || self.limiter.is_none() {
            return Answer::Allowed;
        }
        let log2 = ty.page_size_log2;
        let desired = current_pages.saturating_add(delta);
        self.may_grow(
            false,
            bytes(current_pages, log2),
            bytes(desired, log2),
            ty.max.map(|m| bytes(m, log2)),
        )
    }

    /// The limiter's answer to a table of type `ty` and `current`
    /// elements growing by `delta`.
    pub(crate) fn table_may_grow(
        &mut self,
        ty: &crate::TableType,
        current: u64,
        delta: u64,
    ) -> Answer {
        if delta == 0 || self.limiter.is_none() {
            return Answer::Allowed;
        }
        let desired = current.saturating_add(delta);
        self.may_grow(
            true,
            bytes(current, 0),
            bytes(desired, 0),
            ty.max.map(|m| bytes(m, 0)),
        )
    }

    /// Asks before a memory of type `ty` is made (from nothing to its
    /// minimum); a refusal is the error.
    pub(crate) fn memory_may_be_made(&mut self, ty: &crate::MemoryType) -> Result<()> {
        let answer = self.memory_may_grow(ty, 0, ty.min);
        api_answer(answer, || {
            format!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.min
            )
        })
    }

    /// Asks before a table of type `ty` is made; a refusal is the error.
    pub(crate) fn table_may_be_made(&mut self, ty: &crate::TableType) -> Result<()> {
        let answer = self.table_may_grow(ty, 0, ty.min);
        api_answer(answer, || {
            format!(
                "table minimum size of {} elements exceeds table limits",
                ty.min
            )
        })
    }
}

/// An answer as the embedding API gives it: a refusal is an error saying
/// `refused`, a panic resumes.
pub(crate) fn api_answer(answer: Answer, refused: impl FnOnce() -> String) -> Result<()> {
    use crate::vm::traphandlers::HostFailure;
    match answer {
        Answer::Allowed => Ok(()),
        Answer::Refused => Err(Error::Resource(refused())),
        Answer::Failed(HostFailure::Error(e)) => Err(e),
        Answer::Failed(HostFailure::Panic(payload)) => panic::resume_unwind(payload),
    }
}

/// An answer as a builtin gives it: `None` to go on and grow; else what
/// to answer generated code (`refused`, or `failed` after recording the
/// limiter's failure for the trap).
pub(crate) fn builtin_answer<R>(answer: Answer, refused: R, failed: R) -> Option<R> {
    match answer {
        Answer::Allowed => None,
        Answer::Refused => Some(refused),
        Answer::Failed(f) => {
            crate::vm::traphandlers::set_host_failure(f);
            Some(failed)
        }
    }
}
