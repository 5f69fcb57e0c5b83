//! What a program could observe of a module under one variant, one line
//! per event (`observe`), and what attestation must add nothing to.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use walmart::attest::{
    EventKind, PageKind, PageSnapshot, Policy, Verdict, Verifier, ViolationKind, PAGE_SIZE,
};
use walmart::{AttestOptions, Error, Extern, ExternType, Instance, Module, Store, Val, ValType};

use super::{seed_bytes, Variant, FUEL_BUDGET};

/// The record of a call that ran out of stack.
pub(crate) const STACK_EXHAUSTED: &str = "trap: call stack exhausted";

/// The line that ends each instance's part of a record.
const DETECTIONS: &str = "detections ";

/// A value as a program could tell it apart: floats by their bits, a
/// reference by whether it is null.
pub(crate) fn show(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32:{x}"),
        Val::I64(x) => format!("i64:{x}"),
        Val::F32(b) => format!("f32:{b:#010x}"),
        Val::F64(b) => format!("f64:{b:#018x}"),
        Val::V128(b) => format!("v128:{b:#034x}"),
        Val::FuncRef(f) => format!("funcref:{}", if f.is_some() { "func" } else { "null" }),
        Val::ExternRef(r) => match r {
            Some(r) => match r.id() {
                Some(id) => format!("externref:{id}"),
                None => "externref:any".into(),
            },
            None => "externref:null".into(),
        },
        Val::ExnRef(e) => format!("exnref:{}", if e.is_some() { "exn" } else { "null" }),
        Val::AnyRef(r) => format!("anyref:{}", if r.is_some() { "any" } else { "null" }),
    }
}

/// The record of a function the host cannot call: one of its parameters
/// is a non-nullable reference.
pub(crate) const NOT_CALLED: &str = "not called: a non-nullable reference parameter";

/// The record of a call whose exception nothing caught.
pub(crate) const UNCAUGHT: &str = "uncaught exception";

/// What a call's failure says a program could observe: the trap's kind,
/// an uncaught exception, or the error's first line.
fn failure(e: &Error) -> String {
    match e {
        Error::Exception(_) => UNCAUGHT.into(),
        Error::Trap(t) => {
            use walmart::TrapKind as K;
            // Which access met the null, as wasmtime tells it: not at all.
            let text = match t.kind() {
                K::NullStructReference
                | K::NullArrayReference
                | K::NullI31Reference
                | K::NullFunctionReference => K::NullReference.message(),
                other => other.message(),
            };
            format!("trap: {text}")
        }
        other => format!("error: {}", other.to_string().lines().next().unwrap_or("")),
    }
}

/// Whether a record's line says walmart failed where a valid module
/// leaves no room to: an engine, compile or attestation error, an
/// instantiation or call that failed but not by a trap or an uncaught
/// exception, a host write refused.
pub(crate) fn is_failure(line: &str) -> bool {
    ["engine:", "compile:", "attestation:", "host write:"]
        .iter()
        .any(|p| line.starts_with(p))
        || (line.starts_with("instantiate:")
            && !line.contains("trap:")
            && !line.ends_with(UNCAUGHT))
        || line.contains("-> error:")
}

/// Arguments for a call: zeros on the first call, values from the seed
/// (small, edges and bit patterns) on the second.
pub(crate) fn arguments(params: &[ValType], seed: u64, second: bool) -> Vec<Val> {
    let words = seed_bytes(seed ^ 0x5eed, params.len() * 16 + 16);
    params
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            if !second {
                return Val::default_for(*ty);
            }
            let mut w = [0u8; 8];
            w.copy_from_slice(&words[i * 16..i * 16 + 8]);
            let w = u64::from_le_bytes(w);
            let pick = words[i * 16 + 8] % 4;
            let small = (w % 64) as i64 - 8;
            let x = match pick {
                0 => small as u64,
                1 => u64::MAX,
                2 => 1 << (w % 64),
                _ => w,
            };
            match ty {
                ValType::I32 => Val::I32(x as i32),
                ValType::I64 => Val::I64(x as i64),
                ValType::F32 => Val::F32(if pick == 0 {
                    (small as f32).to_bits()
                } else {
                    x as u32
                }),
                ValType::F64 => Val::F64(if pick == 0 {
                    (small as f64).to_bits()
                } else {
                    x
                }),
                ValType::V128 => Val::V128(u128::from(x) << 64 | u128::from(w)),
                other => Val::default_for(*other),
            }
        })
        .collect()
}

/// What the host writes into each exported memory of `len` bytes
/// between a function's two calls (through the embedding API, as WASI's
/// reads do): bytes from the seed, a run of one byte among them, at an
/// offset from the seed. Attestation must take it as the host's input: no
/// detection, and its pages shown to a verifier.
pub(crate) fn host_write(seed: u64, len: usize) -> Option<(usize, Vec<u8>)> {
    if len < 64 {
        return None;
    }
    let mut bytes = seed_bytes(seed ^ 0x4057, 48);
    let mut at = [0u8; 8];
    at.copy_from_slice(&bytes[..8]);
    let at = u64::from_le_bytes(at) as usize % (len - 48);
    bytes[16..32].fill(b'A');
    Some((at, bytes))
}

/// An exported memory in a state line: its size and a hash of its bytes.
pub(crate) fn memory_entry(name: &str, bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!(" {name}=mem[{}:{:016x}]", bytes.len(), h.finish())
}

/// An exported table in a state line: its size and which elements are
/// null (which function an element holds is not comparable across
/// engines, and a variant cannot change it without changing a call's
/// result).
pub(crate) fn table_entry(name: &str, nulls: impl Iterator<Item = bool>) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut size = 0u64;
    for null in nulls {
        null.hash(&mut h);
        size += 1;
    }
    format!(" {name}=table[{size}:{:016x}]", h.finish())
}

/// The state a program could read after a call: every exported memory's
/// size and bytes (hashed), every exported table's size and null
/// elements, and every exported global's value.
fn state(store: &mut Store<()>, instance: &Instance, exports: &[String]) -> String {
    let mut out = String::new();
    for name in exports {
        match instance.get_export(&mut *store, name) {
            Some(Extern::Memory(m)) => out.push_str(&memory_entry(name, m.data(store))),
            Some(Extern::Table(t)) => {
                let size = t.size(&*store);
                let nulls: Vec<bool> = (0..size)
                    .map(|i| match t.get(&mut *store, i) {
                        Some(Val::FuncRef(f)) => f.is_none(),
                        Some(Val::ExternRef(r)) => r.is_none(),
                        Some(Val::AnyRef(r)) => r.is_none(),
                        _ => true,
                    })
                    .collect();
                out.push_str(&table_entry(name, nulls.into_iter()));
            }
            Some(Extern::Global(g)) => {
                let _ = write!(out, " {name}={}", show(&g.get(&mut *store)));
            }
            _ => {}
        }
    }
    out
}

/// A function of an instance in some engine, as [`two_calls`] calls it.
pub(crate) trait Calls {
    /// Writes [`host_write`]'s bytes into each exported memory through
    /// the embedding API; a line for each write refused.
    fn host_writes(&mut self, seed: u64) -> Vec<String>;
    /// Calls the function with `args`: its results shown, or its failure.
    fn call(&mut self, args: &[Val]) -> String;
    /// The instance's exported state, as [`state`] writes it.
    fn state(&mut self) -> String;
}

/// The record of function `name`'s two calls: zeros; then, after the
/// host wrote each memory, arguments `seed` picks; each with the state
/// after it.
pub(crate) fn two_calls(
    f: &mut impl Calls,
    name: &str,
    params: &[ValType],
    seed: u64,
    lines: &mut Vec<String>,
) {
    for second in [false, true] {
        if second {
            lines.extend(f.host_writes(seed));
        }
        let args = arguments(params, seed, second);
        let outcome = f.call(&args);
        lines.push(format!(
            "{name}({}) -> {outcome};{}",
            args.iter().map(show).collect::<Vec<_>>().join(" "),
            f.state()
        ));
    }
}

/// An exported function of a walmart instance.
struct Walmart<'a> {
    store: &'a mut Store<()>,
    instance: Instance,
    func: walmart::Func,
    exports: &'a [String],
    memories: &'a [(u32, String)],
    /// Each call starts with [`FUEL_BUDGET`] and its record says what it
    /// spent ([`super::counts_fuel`]).
    fuel: bool,
}

impl Calls for Walmart<'_> {
    fn host_writes(&mut self, seed: u64) -> Vec<String> {
        let mut refused = Vec::new();
        for (_, name) in self.memories {
            if let Some(Extern::Memory(m)) = self.instance.get_export(&mut *self.store, name) {
                if let Some((at, bytes)) = host_write(seed, m.data(&*self.store).len()) {
                    if let Err(e) = m.write(&mut *self.store, at, &bytes) {
                        refused.push(format!("host write: {e}"));
                    }
                }
            }
        }
        refused
    }

    fn call(&mut self, args: &[Val]) -> String {
        let ty = self.func.ty(&*self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        if self.fuel {
            if let Err(e) = self.store.set_fuel(FUEL_BUDGET) {
                return failure(&e);
            }
            self.store.set_epoch_deadline(FUEL_BUDGET);
        }
        match self.func.call(&mut *self.store, args, &mut results) {
            Ok(()) => {
                let shown = results.iter().map(show).collect::<Vec<_>>().join(" ");
                match self.store.get_fuel() {
                    Ok(left) if self.fuel => format!("{shown} [fuel {}]", FUEL_BUDGET - left),
                    _ => shown,
                }
            }
            // The host has no value for a non-nullable reference
            // parameter (arguments are null or numbers).
            Err(Error::Usage(e)) if e.contains("non-nullable") => NOT_CALLED.into(),
            Err(e) => failure(&e),
        }
    }

    fn state(&mut self) -> String {
        state(self.store, &self.instance, self.exports)
    }
}

/// A record's lines instance by instance: each part ends with the
/// instance's `detections` line (and a record cut short by a compile
/// error is one part).
pub(crate) fn instances(record: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, line) in record.iter().enumerate() {
        if line.starts_with(DETECTIONS) {
            out.push(&record[start..=i]);
            start = i + 1;
        }
    }
    if start < record.len() {
        out.push(&record[start..]);
    }
    out
}

/// Runs `wasm` under `variant` and records what a program could observe,
/// one line per event: the instance's exported state once instantiated,
/// then, for each exported function, in an instance of its own (the
/// fuel is the instance's, and a call that spends it all would leave
/// none to the next function), two calls (zeros; then, after the host
/// wrote each memory ([`host_write`]), arguments `seed` picks) and the
/// state after each. Each instance's part ends, under a variant that
/// snapshots written pages, with the pages written that no verifier was shown as they
/// ended (`unattested`, never in a sound run), then with its
/// attestation's detections.
pub fn observe(variant: &Variant, wasm: &[u8], seed: u64) -> Vec<String> {
    let engine = variant.engine_for(seed);
    let module = match Module::new(engine, wasm) {
        Ok(m) => m,
        Err(e) => return vec![format!("compile: {}", failure(&e))],
    };
    let memories = exported_memories(wasm);
    let instance_for = |function: Option<&str>, lines: &mut Vec<String>| -> bool {
        let mut store = Store::new(engine, ());
        // Instantiation runs the start function: it gets the budget too.
        if super::counts_fuel(seed) {
            let _ = store.set_fuel(FUEL_BUDGET);
            store.set_epoch_deadline(FUEL_BUDGET);
        }
        let seen = SeenPages::default();
        let beyond = Arc::new(AtomicU64::new(0));
        if variant.policy != Policy::Off {
            let count = beyond.clone();
            let options = AttestOptions::default()
                .also_verify(seen.clone())
                .on_event(move |e| {
                    if e.tag.as_ref().map(|t| t.violation) == Some(ViolationKind::BeyondMemory) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                });
            if let Err(e) = store.configure_attestation(options) {
                lines.push(format!("attestation: {e}"));
                return false;
            }
        }
        let instance = match Instance::new(&mut store, &module, &[]) {
            Ok(i) => i,
            Err(e) => {
                lines.push(format!("instantiate: {}", failure(&e)));
                lines.push(finish(&mut store, &beyond));
                return false;
            }
        };
        let exports = instance.exports(&store);
        match function.and_then(|name| Some((name, instance.get_func(&mut store, name)?))) {
            None => lines.push(format!(
                "instantiated:{}",
                state(&mut store, &instance, &exports)
            )),
            Some((name, func)) => {
                let params = func.ty(&store).params().to_vec();
                let mut one = Walmart {
                    store: &mut store,
                    instance,
                    func,
                    exports: &exports,
                    memories: &memories,
                    fuel: super::counts_fuel(seed),
                };
                two_calls(&mut one, name, &params, seed, lines);
            }
        }
        let detections = finish(&mut store, &beyond);
        if variant.snapshots() {
            for (index, name) in &memories {
                let after = memory_bytes(&mut store, &instance, name);
                lines.extend(seen.unattested(*index, &after));
            }
        }
        lines.push(detections);
        true
    };
    let mut lines = Vec::new();
    if !instance_for(None, &mut lines) {
        return lines;
    }
    let functions: Vec<&str> = module
        .exports()
        .filter(|(_, ty)| matches!(ty, ExternType::Func(_)))
        .map(|(name, _)| name)
        .collect();
    for name in functions {
        instance_for(Some(name), &mut lines);
    }
    lines
}

/// Every page a verifier was shown as written (by the module, the host's
/// API or instantiation), by memory and page: the bytes it saw last. A
/// page must end as its verifier last saw it, or, never shown, as zeros
/// (a fresh memory's bytes): else a write was not marked (a store
/// barrier, a bulk operation, the kernel's tracking, instantiation's
/// data segments missed it). Pages shown for an audit do not count: an
/// audit re-reads a page the tracking calls clean, so it would cover up
/// exactly such a write.
#[derive(Clone, Default)]
pub(crate) struct SeenPages(Arc<Mutex<PageBytes>>);

/// Bytes by (memory, page).
type PageBytes = HashMap<(u32, u32), Vec<u8>>;

impl Verifier for SeenPages {
    fn name(&self) -> &str {
        "seen"
    }

    fn event_kind(&self) -> EventKind {
        EventKind::HostTamper
    }

    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for p in pages {
            if p.kind != PageKind::Audit {
                seen.insert((p.memory, p.page), p.bytes.to_vec());
            }
            out.push(Verdict::CLEAN);
        }
    }
}

impl SeenPages {
    /// A line for each page of memory `index` whose bytes `after` differ
    /// from what a verifier last saw of it, or, never shown one, from
    /// zeros.
    pub(crate) fn unattested(&self, index: u32, after: &[u8]) -> Vec<String> {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let zeros = [0u8; PAGE_SIZE];
        let mut out = Vec::new();
        for (page, bytes) in after.chunks(PAGE_SIZE).enumerate() {
            let expected = seen
                .get(&(index, page as u32))
                .map_or(&zeros[..bytes.len()], |s| &s[..]);
            if expected != bytes {
                let first = expected
                    .iter()
                    .zip(bytes)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                out.push(format!(
                    "unattested: memory {index} page {page} ended unlike its last snapshot (first at byte {:#x})",
                    page * PAGE_SIZE + first
                ));
            }
        }
        out
    }
}

/// The module's exported memories: (memory index, an export name).
/// A generated module imports none, so a memory's index in the module is
/// its index among its store's memories ([`PageSnapshot::memory`]).
fn exported_memories(wasm: &[u8]) -> Vec<(u32, String)> {
    let mut out: Vec<(u32, String)> = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let Ok(wasmparser::Payload::ExportSection(reader)) = payload else {
            continue;
        };
        for export in reader.into_iter().flatten() {
            if export.kind == wasmparser::ExternalKind::Memory
                && !out.iter().any(|(i, _)| *i == export.index)
            {
                out.push((export.index, export.name.to_string()));
            }
        }
    }
    out
}

/// The bytes of the memory exported as `name`.
fn memory_bytes(store: &mut Store<()>, instance: &Instance, name: &str) -> Vec<u8> {
    match instance.get_export(&mut *store, name) {
        Some(Extern::Memory(m)) => m.data(store).to_vec(),
        _ => Vec::new(),
    }
}

/// Ends the store's attestation and says what it detected: a module
/// that only computes must end with nothing detected (a run without
/// attestation records the same). The tag monitor reports an access past
/// the memory's end, which trapped, as a violation too (a pointer into
/// no memory, as ASan reports a wild address): the trap is in the record
/// already, so `beyond`, the count of those reports, is not.
fn finish(store: &mut Store<()>, beyond: &AtomicU64) -> String {
    match store.finish_attestation() {
        Ok(stats) => {
            let all = stats.map_or(0, |s| s.detections);
            format!(
                "{DETECTIONS}{}",
                all.saturating_sub(beyond.load(Ordering::Relaxed))
            )
        }
        Err(e) => format!("attestation: {}", failure(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_ended_unlike_its_snapshot_is_unattested() {
        let mut seen = SeenPages::default();
        let mut after = vec![0u8; 3 * PAGE_SIZE];
        after[PAGE_SIZE + 9] = 1;
        // Written, never shown to a verifier.
        let lines = seen.unattested(0, &after);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("page 1") && lines[0].contains("0x1009"));
        // Shown for an audit only: still unattested.
        let page = &after[PAGE_SIZE..2 * PAGE_SIZE];
        let mut out = Vec::new();
        seen.verify(
            &[PageSnapshot::new(0, 1, 1, PageKind::Audit, page)],
            &mut out,
        );
        assert_eq!(seen.unattested(0, &after).len(), 1);
        // Shown as written, as it ended: sound.
        seen.verify(
            &[PageSnapshot::new(0, 1, 2, PageKind::Dirty, page)],
            &mut out,
        );
        assert!(seen.unattested(0, &after).is_empty());
        // Written again after it was shown; and another memory's page of
        // the same number is not this one's.
        after[PAGE_SIZE + 10] = 2;
        assert_eq!(seen.unattested(0, &after).len(), 1);
        assert_eq!(seen.unattested(1, &after).len(), 1);
    }

    #[test]
    fn a_changed_program_is_told_apart() {
        // The comparison must see a difference a variant would make: the
        // same module with one constant changed records another result.
        let module = |k: i32| {
            wat::parse_str(format!(
                r#"(module (func (export "f") (result i32) i32.const {k}))"#
            ))
            .unwrap()
        };
        let off = &super::super::variants().unwrap()[0];
        assert_ne!(observe(off, &module(1), 0), observe(off, &module(2), 0));
    }

    #[test]
    fn records_split_by_instance() {
        let r: Vec<String> = [
            "a",
            "detections 0",
            "b",
            "unattested: x",
            "detections 0",
            "c",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let parts = instances(&r);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], &r[2..5]);
        assert!(is_failure("compile: error: x") && is_failure("f() -> error: y;"));
        assert!(!is_failure("instantiate: trap: unreachable executed"));
    }
}
