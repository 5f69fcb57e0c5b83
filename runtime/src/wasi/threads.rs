//! wasi-threads: `wasi::thread-spawn`, as toolchains for
//! `wasm32-wasip1-threads` emit it. A spawned thread is an OS thread with
//! a store of its own, a new instance of the same module that imports the
//! same shared memories, and a handle on the spawning store's WASI
//! context ([`WasiCtx::share`]); it runs the module's
//! `wasi_thread_start(tid, start_arg)`.
//!
//! As the proposal asks, a thread that traps, or calls `proc_exit`, ends
//! the whole process: the error is printed on standard error and the
//! process exits (with `proc_exit`'s status, or [`TRAP_EXIT`], walmart's
//! status for a trap in the main thread too; wasmtime exits with 1).
//!
//! Each new instance initialises the shared memory as any instantiation
//! does: active data segments are written again and a start function
//! runs again. Toolchains for `wasm32-wasip1-threads` make their segments
//! passive and initialise memory once, behind an atomic flag.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use super::WasiCtx;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::func::Caller;
use crate::linker::{Linker, UnknownImports};
use crate::memory::Memory;
use crate::module::{ExternType, Module};
use crate::shared_memory::SharedMemory;
use crate::store::Store;
use crate::types::{FuncType, ValType};
use crate::values::Val;

/// The import module and name of the spawn function.
pub const SPAWN_MODULE: &str = "wasi";
/// See [`SPAWN_MODULE`].
pub const SPAWN_NAME: &str = "thread-spawn";
/// The export each new thread runs.
pub const START_EXPORT: &str = "wasi_thread_start";
/// The status the process exits with when a thread traps.
pub const TRAP_EXIT: i32 = 134;

/// Thread ids run from 1 to this (the proposal's 29-bit range).
const MAX_TID: i32 = 0x1fff_ffff;
/// Stack of a spawned thread beyond the Wasm stack limit: the host's own
/// frames (8 MiB at least in all, as a main thread has).
const HOST_FRAMES: usize = 2 << 20;

/// What every thread of one program needs to start another.
struct Spawner {
    engine: Engine,
    module: Module,
    /// Whether the module exports `wasi_thread_start(i32, i32)`.
    has_start: bool,
    /// The shared memories the module imports, by import name.
    memories: Vec<(String, String, SharedMemory)>,
    next_tid: AtomicI32,
    /// How each thread's linker defines the function imports WASI and
    /// the spawner do not ([`add_to_linker_with`]).
    unknown_imports: Option<UnknownImports>,
}

/// Whether `module` is a wasi-threads program: it imports
/// `wasi::thread-spawn`.
pub fn uses_threads(module: &Module) -> bool {
    module
        .imports()
        .any(|(m, n, _)| m == SPAWN_MODULE && n == SPAWN_NAME)
}

/// Prepares `linker` and `store` to run `module` with threads: each
/// shared memory the module imports is made ([`SharedMemory`], of the
/// import's type) and defined under its import name, `wasi::thread-spawn`
/// is defined, and the store's WASI context is made shared
/// ([`WasiCtx::into_shared`]). WASI itself must be defined too
/// ([`super::add_to_linker`]). Refused where the engine attests (a shared
/// memory cannot be attested) and where the module imports no shared
/// memory (its threads would share nothing). A module that exports no
/// `wasi_thread_start(i32, i32)` runs, but its spawns fail (-1), as in
/// wasmtime.
pub fn add_to_linker(
    linker: &mut Linker<WasiCtx>,
    store: &mut Store<WasiCtx>,
    module: &Module,
) -> Result<()> {
    add_to_linker_with(linker, store, module, None)
}

/// [`add_to_linker`], each thread's linker also defining the function
/// imports that WASI and the spawner do not as `unknown_imports` says
/// (as the embedder does for the main thread's with
/// [`Linker::define_unknown_imports`]).
pub fn add_to_linker_with(
    linker: &mut Linker<WasiCtx>,
    store: &mut Store<WasiCtx>,
    module: &Module,
    unknown_imports: Option<UnknownImports>,
) -> Result<()> {
    let has_start = module.exports().any(|(name, ty)| {
        name == START_EXPORT
            && matches!(&ty, ExternType::Func(f)
                if f.params() == [ValType::I32, ValType::I32] && f.results().is_empty())
    });
    let shared_import = module
        .imports()
        .any(|(_, _, ty)| matches!(ty, ExternType::Memory(m) if m.is_shared()));
    if !shared_import {
        return Err(Error::Usage(format!(
            "the module imports {SPAWN_MODULE}::{SPAWN_NAME} but no shared memory: a \
             wasi-threads program imports its memory as shared (`(import \"env\" \"memory\" \
             (memory MIN MAX shared))`), so that its threads use one"
        )));
    }
    let engine = store.engine().clone();
    let mut memories = Vec::new();
    for (m, n, ty) in module.imports() {
        if let ExternType::Memory(ty) = ty {
            if ty.is_shared() {
                let shared = SharedMemory::new(&engine, ty)?;
                memories.push((m.to_string(), n.to_string(), shared));
            }
        }
    }
    let spawner = Arc::new(Spawner {
        engine,
        module: module.clone(),
        has_start,
        memories,
        next_tid: AtomicI32::new(1),
        unknown_imports,
    });
    define(linker, store, &spawner)?;
    let ctx = std::mem::take(store.data_mut());
    *store.data_mut() = ctx.into_shared();
    Ok(())
}

/// Defines the shared memories and `thread-spawn` in a linker for `store`.
fn define(
    linker: &mut Linker<WasiCtx>,
    store: &mut Store<WasiCtx>,
    spawner: &Arc<Spawner>,
) -> Result<()> {
    for (m, n, shared) in &spawner.memories {
        let memory = Memory::from_shared(&mut *store, shared)?;
        linker.define(&mut *store, m, n, memory)?;
    }
    let spawner = spawner.clone();
    linker.func_new(
        SPAWN_MODULE,
        SPAWN_NAME,
        FuncType::new([ValType::I32], [ValType::I32]),
        move |mut caller: Caller<'_, WasiCtx>, params, results| {
            let start_arg = params[0].i32().unwrap_or_default();
            // A thread runs under its spawner's bounds: its deadline, and
            // half the fuel it has left (taken from it, so that the
            // program's threads together spend no more than it was given).
            let fuel = match caller.get_fuel() {
                Ok(left) => {
                    caller.set_fuel(left - left / 2)?;
                    Some(left / 2)
                }
                Err(_) => None,
            };
            let bounds = Bounds {
                fuel,
                epoch_deadline: caller.epoch_deadline(),
                limits: caller.fixed_limits(),
            };
            let tid = spawn(&spawner, caller.data(), start_arg, bounds);
            // A thread that did not start gives its share back.
            if let (true, Some(share)) = (tid < 0, fuel) {
                let left = caller.get_fuel()?;
                caller.set_fuel(left.saturating_add(share))?;
            }
            results[0] = Val::I32(tid);
            Ok(())
        },
    )?;
    Ok(())
}

/// Writes one line on standard error; a closed stderr loses it (no
/// panic: a thread must still end the process as it should).
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// What bounds a new thread's run ([`crate::Config::consume_fuel`],
/// [`crate::Config::epoch_interruption`], [`Store::set_limits`]).
struct Bounds {
    /// Its fuel, where the engine counts fuel.
    fuel: Option<u64>,
    /// The epoch at which it stops.
    epoch_deadline: u64,
    /// Its spawner's bounds on growth and counts ([`Store::set_limits`]).
    limits: Option<crate::StoreLimits>,
}

/// Starts a thread; its id, or a negative number where none could start.
fn spawn(spawner: &Arc<Spawner>, ctx: &WasiCtx, start_arg: i32, bounds: Bounds) -> i32 {
    if !spawner.has_start {
        say(format_args!(
            "walmart: {SPAWN_MODULE}::{SPAWN_NAME}: the module exports no \
             `{START_EXPORT}(i32, i32)` for a thread to run"
        ));
        return -1;
    }
    let Some(ctx) = ctx.share() else {
        return -1;
    };
    // Ids are never reused: past the last one, spawns fail.
    let Ok(tid) = spawner
        .next_tid
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
            (t <= MAX_TID).then_some(t + 1)
        })
    else {
        return -1;
    };
    let stack = spawner
        .engine
        .config()
        .max_wasm_stack
        .saturating_add(HOST_FRAMES)
        .max(8 << 20);
    let spawner = spawner.clone();
    let started = std::thread::Builder::new()
        .name(format!("wasi-thread-{tid}"))
        .stack_size(stack)
        .spawn(move || {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_thread(&spawner, ctx, tid, start_arg, bounds)
            }));
            let status = match run {
                Ok(Ok(())) => return,
                Ok(Err(e)) => match e.exit_status() {
                    Some(status) => status,
                    None => {
                        say(format_args!("error: thread {tid}: {e}"));
                        TRAP_EXIT
                    }
                },
                Err(_) => {
                    say(format_args!("error: thread {tid}: walmart panicked"));
                    TRAP_EXIT
                }
            };
            std::process::exit(status);
        });
    match started {
        Ok(_) => tid,
        Err(_) => -1,
    }
}

/// A new thread's store and instance, and its call of the start export.
fn run_thread(
    spawner: &Arc<Spawner>,
    ctx: WasiCtx,
    tid: i32,
    start_arg: i32,
    bounds: Bounds,
) -> Result<()> {
    let mut store = Store::new(&spawner.engine, ctx);
    if let Some(fuel) = bounds.fuel {
        store.set_fuel(fuel)?;
    }
    store.inner.opaque.limits.epoch_deadline = bounds.epoch_deadline;
    if let Some(limits) = bounds.limits {
        store.set_limits(limits);
    }
    let mut linker = Linker::new(&spawner.engine);
    super::add_to_linker(&mut linker, |ctx| ctx)?;
    define(&mut linker, &mut store, spawner)?;
    if let Some(how) = spawner.unknown_imports {
        linker.define_unknown_imports(&spawner.module, how)?;
    }
    let instance = linker.instantiate(&mut store, &spawner.module)?;
    let start = instance
        .get_func(&mut store, START_EXPORT)
        .ok_or_else(|| Error::Usage(format!("no `{START_EXPORT}` export")))?;
    start.call(&mut store, &[Val::I32(tid), Val::I32(start_arg)], &mut [])
}
