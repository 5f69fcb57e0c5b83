//! wasi-threads: `wasi::thread-spawn`, as toolchains for
//! `wasm32-wasip1-threads` emit it. A spawned thread is an OS thread with
//! a store of its own, a new instance of the same module that imports the
//! same shared memories, and a handle on the spawning store's WASI
//! context ([`WasiCtx::share`]); it runs the module's
//! `wasi_thread_start(tid, start_arg)`.
//!
//! As the proposal asks, a thread that traps, or calls `proc_exit`, ends
//! the whole process: the error is printed on standard error and the
//! process exits (with `proc_exit`'s status, or [`TRAP_EXIT`]).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use super::WasiCtx;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::func::Caller;
use crate::linker::Linker;
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
/// Stack of a spawned thread: room for the Wasm stack limit and the
/// host's own frames.
const THREAD_STACK: usize = 8 << 20;

/// What every thread of one program needs to start another.
struct Spawner {
    engine: Engine,
    module: Module,
    /// The shared memories the module imports, by import name.
    memories: Vec<(String, String, SharedMemory)>,
    next_tid: AtomicI32,
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
/// memory cannot be attested) and where the module exports no
/// `wasi_thread_start(i32, i32)`.
pub fn add_to_linker(
    linker: &mut Linker<WasiCtx>,
    store: &mut Store<WasiCtx>,
    module: &Module,
) -> Result<()> {
    let start_ok = module.exports().any(|(name, ty)| {
        name == START_EXPORT
            && matches!(&ty, ExternType::Func(f)
                if f.params() == [ValType::I32, ValType::I32] && f.results().is_empty())
    });
    if !start_ok {
        return Err(Error::Usage(format!(
            "the module imports {SPAWN_MODULE}::{SPAWN_NAME} but exports no \
             `{START_EXPORT}(i32, i32)` for its threads to run"
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
        memories,
        next_tid: AtomicI32::new(1),
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
        move |caller: Caller<'_, WasiCtx>, params, results| {
            let start_arg = params[0].i32().unwrap_or_default();
            results[0] = Val::I32(spawn(&spawner, caller.data(), start_arg));
            Ok(())
        },
    )?;
    Ok(())
}

/// Starts a thread; its id, or a negative number where none could start.
fn spawn(spawner: &Arc<Spawner>, ctx: &WasiCtx, start_arg: i32) -> i32 {
    let Some(ctx) = ctx.share() else {
        return -1;
    };
    let tid = spawner.next_tid.fetch_add(1, Ordering::Relaxed);
    if !(1..=MAX_TID).contains(&tid) {
        return -1;
    }
    let spawner = spawner.clone();
    let started = std::thread::Builder::new()
        .name(format!("wasi-thread-{tid}"))
        .stack_size(THREAD_STACK)
        .spawn(move || {
            if let Err(e) = run_thread(&spawner, ctx, tid, start_arg) {
                let status = match e.exit_status() {
                    Some(status) => status,
                    None => {
                        eprintln!("error: thread {tid}: {e}");
                        TRAP_EXIT
                    }
                };
                std::process::exit(status);
            }
        });
    match started {
        Ok(_) => tid,
        Err(_) => -1,
    }
}

/// A new thread's store and instance, and its call of the start export.
fn run_thread(spawner: &Arc<Spawner>, ctx: WasiCtx, tid: i32, start_arg: i32) -> Result<()> {
    let mut store = Store::new(&spawner.engine, ctx);
    let mut linker = Linker::new(&spawner.engine);
    super::add_to_linker(&mut linker, |ctx| ctx)?;
    define(&mut linker, &mut store, spawner)?;
    let instance = linker.instantiate(&mut store, &spawner.module)?;
    let start = instance
        .get_func(&mut store, START_EXPORT)
        .ok_or_else(|| Error::Usage(format!("no `{START_EXPORT}` export")))?;
    start.call(&mut store, &[Val::I32(tid), Val::I32(start_arg)], &mut [])
}
