//! The same record as [`super::observe`], made by wasmtime: where walmart
//! without attestation and wasmtime disagree on a generated module, one
//! of them miscompiles it (the module is made so that the spec leaves
//! neither a choice: NaNs canonical, no relaxed SIMD).

use std::fmt::Write as _;
use std::sync::OnceLock;

use wasmtime::{Engine, Extern, Instance, Module, Store, Trap, Val, ValType};

use super::record::{host_write, memory_entry, show, table_entry, two_calls, Calls};

/// wasmtime reports `call_indirect`'s index past the table's end as any
/// table access past it ([`Trap::TableOutOfBounds`]): walmart's record
/// line as wasmtime's would read.
pub(super) fn as_wasmtime_reads(line: &str) -> String {
    line.replace(
        "trap: undefined element",
        "trap: out of bounds table access",
    )
}

/// The text walmart's trap of the same kind carries (the spec
/// testsuite's).
fn trap_text(t: &Trap) -> String {
    let text = match t {
        Trap::StackOverflow => "call stack exhausted",
        Trap::MemoryOutOfBounds => "out of bounds memory access",
        Trap::HeapMisaligned => "unaligned atomic",
        Trap::AtomicWaitNonSharedMemory => "atomic wait on non-shared memory",
        Trap::TableOutOfBounds => "out of bounds table access",
        Trap::IndirectCallToNull => "uninitialized element",
        Trap::BadSignature => "indirect call type mismatch",
        Trap::IntegerOverflow => "integer overflow",
        Trap::IntegerDivisionByZero => "integer divide by zero",
        Trap::BadConversionToInteger => "invalid conversion to integer",
        Trap::UnreachableCodeReached => "unreachable executed",
        // Every null wasmtime traps on (walmart's record says which
        // access it was only as this, see `record::failure`).
        Trap::NullReference => "null reference",
        Trap::CastFailure => "cast failure",
        Trap::ArrayOutOfBounds => "out of bounds array access",
        // An array larger than the GC heap could hold.
        Trap::AllocationTooLarge => "GC heap exhausted",
        Trap::OutOfFuel => "all fuel consumed by WebAssembly",
        Trap::Interrupt => "interrupt",
        other => return format!("trap: wasmtime's {other:?}"),
    };
    format!("trap: {text}")
}

fn failure(e: &wasmtime::Error) -> String {
    if e.is::<wasmtime::ThrownException>() {
        return super::record::UNCAUGHT.into();
    }
    let first = e.to_string().lines().next().unwrap_or("").to_string();
    match e.downcast_ref::<Trap>() {
        Some(t) => trap_text(t),
        // An allocation past the GC heap: walmart's trap for it.
        None if first.starts_with("GC heap out of memory") => "trap: GC heap exhausted".into(),
        None => format!("error: {first}"),
    }
}

/// A wasmtime value as [`show`] writes walmart's.
fn shown(v: &Val) -> String {
    match v {
        Val::I32(x) => show(&walmart::Val::I32(*x)),
        Val::I64(x) => show(&walmart::Val::I64(*x)),
        Val::F32(b) => show(&walmart::Val::F32(*b)),
        Val::F64(b) => show(&walmart::Val::F64(*b)),
        Val::V128(b) => show(&walmart::Val::V128(b.as_u128())),
        Val::FuncRef(f) => format!("funcref:{}", if f.is_some() { "func" } else { "null" }),
        Val::ExternRef(None) => "externref:null".into(),
        // Generated modules hold no host references: a non-null one is an
        // `anyref` made external.
        Val::ExternRef(Some(_)) => "externref:any".into(),
        Val::ExnRef(e) => format!("exnref:{}", if e.is_some() { "exn" } else { "null" }),
        Val::AnyRef(a) => format!("anyref:{}", if a.is_some() { "any" } else { "null" }),
        other => format!("{other:?}"),
    }
}

/// Walmart's value type of `ty` (generated modules use no others).
fn walmart_type(ty: &ValType) -> walmart::ValType {
    match ty {
        ValType::I32 => walmart::ValType::I32,
        ValType::I64 => walmart::ValType::I64,
        ValType::F32 => walmart::ValType::F32,
        ValType::F64 => walmart::ValType::F64,
        ValType::V128 => walmart::ValType::V128,
        ValType::Ref(r) if r.heap_type().top().is_extern() => walmart::ValType::ExternRef,
        ValType::Ref(r) if r.heap_type().top().is_exn() => walmart::ValType::ExnRef,
        ValType::Ref(r) if r.heap_type().top().is_func() => walmart::ValType::FuncRef,
        ValType::Ref(_) => walmart::ValType::AnyRef,
    }
}

/// Walmart's argument as wasmtime's.
fn argument(v: &walmart::Val) -> Val {
    match v {
        walmart::Val::I32(x) => Val::I32(*x),
        walmart::Val::I64(x) => Val::I64(*x),
        walmart::Val::F32(b) => Val::F32(*b),
        walmart::Val::F64(b) => Val::F64(*b),
        walmart::Val::V128(b) => Val::V128((*b).into()),
        walmart::Val::ExternRef(_) => Val::ExternRef(None),
        walmart::Val::FuncRef(_) => Val::FuncRef(None),
        walmart::Val::ExnRef(_) => Val::ExnRef(None),
        walmart::Val::AnyRef(_) => Val::AnyRef(None),
    }
}

fn state(store: &mut Store<()>, instance: &Instance, exports: &[String]) -> String {
    let mut out = String::new();
    for name in exports {
        match instance.get_export(&mut *store, name) {
            Some(Extern::Memory(m)) => out.push_str(&memory_entry(name, m.data(&*store))),
            Some(Extern::SharedMemory(m)) => out.push_str(&memory_entry(name, &shared_bytes(&m))),
            Some(Extern::Table(t)) => {
                let size = t.size(&*store);
                let nulls: Vec<bool> = (0..size)
                    .map(|i| t.get(&mut *store, i).is_none_or(|r| r.is_null()))
                    .collect();
                out.push_str(&table_entry(name, nulls.into_iter()));
            }
            Some(Extern::Global(g)) => {
                let v = g.get(&mut *store);
                let _ = write!(out, " {name}={}", shown(&v));
            }
            _ => {}
        }
    }
    out
}

/// A shared memory's bytes (no Wasm runs while they are read).
fn shared_bytes(m: &wasmtime::SharedMemory) -> Vec<u8> {
    // SAFETY: no Wasm runs meanwhile, and no other thread holds it.
    m.data().iter().map(|cell| unsafe { *cell.get() }).collect()
}

/// An exported function of a wasmtime instance.
struct Wasmtime<'a> {
    store: &'a mut Store<()>,
    instance: Instance,
    func: wasmtime::Func,
    exports: &'a [String],
    /// As walmart's: each call's record says the fuel it spent.
    fuel: bool,
}

impl Calls for Wasmtime<'_> {
    fn host_writes(&mut self, seed: u64) -> Vec<String> {
        let mut refused = Vec::new();
        for name in self.exports {
            match self.instance.get_export(&mut *self.store, name) {
                Some(Extern::Memory(m)) => {
                    if let Some((at, bytes)) = host_write(seed, m.data(&*self.store).len()) {
                        if let Err(e) = m.write(&mut *self.store, at, &bytes) {
                            refused.push(format!("host write: {e}"));
                        }
                    }
                }
                Some(Extern::SharedMemory(m)) => {
                    let cells = m.data();
                    if let Some((at, bytes)) = host_write(seed, cells.len()) {
                        for (cell, byte) in cells[at..at + bytes.len()].iter().zip(bytes) {
                            // SAFETY: no Wasm runs while the host writes,
                            // and no other thread holds the memory.
                            unsafe { *cell.get() = byte };
                        }
                    }
                }
                _ => {}
            }
        }
        refused
    }

    fn call(&mut self, args: &[walmart::Val]) -> String {
        let theirs: Vec<Val> = args.iter().map(argument).collect();
        let ty = self.func.ty(&*self.store);
        let non_nullable = |t: ValType| matches!(t, ValType::Ref(r) if !r.is_nullable());
        if ty.params().any(non_nullable) {
            return super::record::NOT_CALLED.into();
        }
        let mut results: Vec<Val> = ty
            .results()
            .map(|t| Val::default_for_ty(&t).unwrap_or(Val::I32(0)))
            .collect();
        if self.fuel {
            if let Err(e) = self.store.set_fuel(super::FUEL_BUDGET) {
                return failure(&e);
            }
            self.store.set_epoch_deadline(super::FUEL_BUDGET);
        }
        match self.func.call(&mut *self.store, &theirs, &mut results) {
            Ok(()) => {
                let text = results.iter().map(shown).collect::<Vec<_>>().join(" ");
                match self.store.get_fuel() {
                    Ok(left) if self.fuel => {
                        format!("{text} [fuel {}]", super::FUEL_BUDGET - left)
                    }
                    _ => text,
                }
            }
            Err(e) => {
                // Wasmtime keeps an uncaught exception on the store.
                let _ = self.store.take_pending_exception();
                failure(&e)
            }
        }
    }

    fn state(&mut self) -> String {
        state(self.store, &self.instance, self.exports)
    }
}

/// [`super::observe`]'s record of `wasm`, from wasmtime.
pub(super) fn observe(wasm: &[u8], seed: u64) -> Vec<String> {
    // One engine for every module (and one counting fuel): making one
    // costs more than a module.
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    static FUEL_ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    let fuel = super::counts_fuel(seed);
    let cell = if fuel { &FUEL_ENGINE } else { &ENGINE };
    let engine = match cell.get_or_init(|| {
        let mut config = wasmtime::Config::new();
        config.consume_fuel(fuel).epoch_interruption(fuel);
        config
            .wasm_multi_memory(true)
            .wasm_tail_call(true)
            .wasm_extended_const(true)
            .wasm_memory64(true)
            .wasm_exceptions(true)
            .wasm_function_references(true)
            .wasm_gc(true)
            .wasm_threads(true)
            .shared_memory(true)
            .wasm_wide_arithmetic(true)
            .wasm_custom_page_sizes(true)
            .wasm_relaxed_simd(false);
        Engine::new(&config).map_err(|e| e.to_string())
    }) {
        Ok(e) => e,
        Err(e) => return vec![format!("engine: {e}")],
    };
    let module = match Module::new(engine, wasm) {
        Ok(m) => m,
        Err(e) => return vec![format!("compile: {}", failure(&e))],
    };
    let exports: Vec<String> = module.exports().map(|e| e.name().to_string()).collect();
    // An instance for the state, then one for each function, as
    // `super::observe` records them.
    let instance_for = |function: Option<&str>, lines: &mut Vec<String>| -> bool {
        let mut store = Store::new(engine, ());
        // Instantiation runs the start function: it gets the budget too.
        if fuel {
            let _ = store.set_fuel(super::FUEL_BUDGET);
            store.set_epoch_deadline(super::FUEL_BUDGET);
        }
        let instance = match Instance::new(&mut store, &module, &[]) {
            Ok(i) => i,
            Err(e) => {
                lines.push(format!("instantiate: {}", failure(&e)));
                lines.push("detections 0".into());
                return false;
            }
        };
        match function.and_then(|name| Some((name, instance.get_func(&mut store, name)?))) {
            None => lines.push(format!(
                "instantiated:{}",
                state(&mut store, &instance, &exports)
            )),
            Some((name, func)) => {
                let params: Vec<walmart::ValType> =
                    func.ty(&store).params().map(|t| walmart_type(&t)).collect();
                let mut one = Wasmtime {
                    store: &mut store,
                    instance,
                    func,
                    exports: &exports,
                    fuel,
                };
                two_calls(&mut one, name, &params, seed, lines);
            }
        }
        lines.push("detections 0".into());
        true
    };
    let mut lines = Vec::new();
    if !instance_for(None, &mut lines) {
        return lines;
    }
    let functions = module.exports().filter(|e| e.ty().func().is_some());
    for name in functions.map(|e| e.name().to_string()).collect::<Vec<_>>() {
        instance_for(Some(&name), &mut lines);
    }
    lines
}
