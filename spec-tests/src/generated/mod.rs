//! Programs nobody wrote by hand, run under every way walmart can compile
//! them and compared. `wasm-smith` makes a valid module from a seed (the
//! features walmart accepts, loops and calls bounded by fuel so every
//! call ends); each [`Variant`] compiles it and runs it ([`observe`]),
//! recording what a program could observe: results (floats by their
//! bits), traps, and after each call the exported memories' bytes and
//! globals' values. Attestation must not change any of it, nor may a
//! verifier report anything on a module that only computes, and every
//! page the module wrote must reach a verifier as it ended; so every
//! variant's record must equal the first's.
//!
//! Why: the spec testsuite checks each instruction on small scripts; the
//! attestation policies rewrite every store and every function's exits,
//! and the bugs such rewriting makes show in larger programs (values
//! held across a hook, a store of a vector, a `memory.copy` over the
//! bitmap's pages), which these modules are. With the `wasmtime` feature
//! wasmtime runs them too, which checks the compiler itself.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use arbitrary::Unstructured;
use walmart::attest::{EventKind, PageSnapshot, Policy, Verdict, Verifier};
use walmart::{
    AttestOptions, Config, Engine, Error, Extern, ExternType, Instance, Module, Store, Val, ValType,
};

#[cfg(feature = "wasmtime")]
mod wasmtime;

/// Fuel each generated module starts with: every loop iteration and
/// function entry spends one, and a call that runs out traps
/// (`unreachable`), so every call ends within a few thousand steps.
const FUEL: u32 = 4000;

/// The most bytes a memory of a generated module may have, grown or not:
/// a 4 GiB one costs little to reserve but much to fill and compare.
const MEMORY_MAX: u64 = 16 << 16;

/// The record of a call that ran out of stack.
const STACK_EXHAUSTED: &str = "trap: call stack exhausted";

/// wasmtime reports `call_indirect`'s index past the table's end as any
/// table access past it: walmart's record is read so before comparing.
#[cfg(feature = "wasmtime")]
const TABLE_TRAPS: (&str, &str) = (
    "trap: undefined element",
    "trap: out of bounds table access",
);

/// One way of compiling and running a module.
pub struct Variant {
    /// Its name in reports: `off`, `coarse`, `fine-barrier`, ...
    pub name: &'static str,
    /// The engine's settings.
    pub config: Config,
    /// Whether its stores attest (and so must show a verifier every page
    /// the module wrote).
    pub attested: bool,
}

/// Every variant compared: without attestation (guarded and with explicit
/// bounds checks), each policy, each with the store barrier instead of
/// the kernel's written-page tracking, synchronous `fine`, and `fine`
/// bounds-checked. The first is the reference. Not `tags`: it needs the
/// module's allocator, which a generated module does not have.
pub fn variants() -> Vec<Variant> {
    let base = || {
        let mut c = Config::new();
        c.wasm_multi_memory(true);
        c
    };
    let with = |name, f: &dyn Fn(&mut Config)| {
        let mut config = base();
        f(&mut config);
        Variant {
            name,
            config,
            attested: name.starts_with("coarse") || name.starts_with("fine"),
        }
    };
    vec![
        with("off", &|_| {}),
        with("off-bounds-checked", &|c| {
            c.guarded_memory(false);
        }),
        with("coarse", &|c| {
            c.attest(Policy::Coarse);
        }),
        with("coarse-barrier", &|c| {
            c.attest(Policy::Coarse).attest_kernel_dirty(false);
        }),
        with("fine", &|c| {
            c.attest(Policy::Fine);
        }),
        with("fine-barrier", &|c| {
            c.attest(Policy::Fine).attest_kernel_dirty(false);
        }),
        with("fine-sync", &|c| {
            c.attest(Policy::Fine).attest_sync(true);
        }),
        with("fine-bounds-checked", &|c| {
            c.attest(Policy::Fine).guarded_memory(false);
        }),
    ]
}

/// A stream of bytes from `seed` (splitmix64): what `wasm-smith` builds a
/// module from.
fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The module seed `seed` makes: valid, with the features walmart
/// accepts (WebAssembly 2.0, SIMD, relaxed SIMD, several memories), no
/// imports, everything exported, and fuel in every loop and function.
/// `for_other_engine`: a module whose results do not depend on the
/// engine's permitted choices, to compare with another engine (NaNs made
/// canonical, no relaxed SIMD).
pub fn generate(seed: u64, for_other_engine: bool) -> Result<Vec<u8>, String> {
    // Sizes vary with the seed: a few small modules for each large one.
    let len = 1000 + (seed % 7) as usize * 3000;
    let bytes = seed_bytes(seed, len);
    let mut u = Unstructured::new(&bytes);
    // One seed in two draws only from memory, integer and local
    // instructions (straight-line code): what attestation rewrites is
    // memory's writes, and among every instruction they are few.
    let allowed_instructions = if seed % 2 == 1 {
        use wasm_smith::InstructionKind as K;
        wasm_smith::InstructionKinds::new(&[K::Memory, K::NumericInt, K::Variable, K::VectorInt])
    } else {
        wasm_smith::InstructionKinds::all()
    };
    let config = wasm_smith::Config {
        allowed_instructions,
        max_imports: 0,
        min_types: 1,
        min_funcs: 2,
        max_funcs: 12,
        max_instructions: 1000,
        min_memories: 1,
        max_memories: 2,
        max_memory32_bytes: MEMORY_MAX,
        // A maximum on every memory and table, so `memory.grow` and
        // `table.grow` stay under it too: how far past the declared sizes
        // an engine lets them grow is its own choice (wasmtime grows a
        // table where walmart refuses), and large ones cost much.
        memory_max_size_required: true,
        table_max_size_required: true,
        max_tables: 2,
        max_table_elements: 1000,
        export_everything: true,
        memory64_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        tail_call_enabled: false,
        wide_arithmetic_enabled: false,
        custom_page_sizes_enabled: false,
        extended_const_enabled: false,
        compact_imports_enabled: false,
        // Three seeds in four keep every access in bounds and every
        // division defined, so calls run on (and store) instead of
        // trapping early.
        disallow_traps: !seed.is_multiple_of(4),
        canonicalize_nans: for_other_engine,
        relaxed_simd_enabled: !for_other_engine,
        ..wasm_smith::Config::default()
    };
    let mut module =
        wasm_smith::Module::new(config, &mut u).map_err(|e| format!("seed {seed}: {e}"))?;
    module
        .ensure_termination(FUEL)
        .map_err(|e| format!("seed {seed}: {e}"))?;
    Ok(module.to_bytes())
}

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
            Some(r) => format!("externref:{}", r.id()),
            None => "externref:null".into(),
        },
    }
}

/// What a call's failure says a program could observe: the trap's kind,
/// or the error's first line.
fn failure(e: &Error) -> String {
    match e {
        Error::Trap(t) => format!("trap: {}", t.kind().message()),
        other => format!("error: {}", other.to_string().lines().next().unwrap_or("")),
    }
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
            let w = u64::from_le_bytes(words[i * 16..i * 16 + 8].try_into().unwrap());
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
    let at = u64::from_le_bytes(bytes[..8].try_into().ok()?) as usize % (len - 48);
    bytes[16..32].fill(b'A');
    Some((at, bytes))
}

/// The state a program could read after a call: every exported memory's
/// size and bytes (hashed) and every exported global's value.
fn state(store: &mut Store<()>, instance: &Instance, exports: &[String]) -> String {
    let mut out = String::new();
    for name in exports {
        match instance.get_export(&mut *store, name) {
            Some(Extern::Memory(m)) => out.push_str(&memory_entry(name, m.data(store))),
            Some(Extern::Global(g)) => {
                let _ = write!(out, " {name}={}", show(&g.get(&mut *store)));
            }
            _ => {}
        }
    }
    out
}

/// An exported memory in a state line: its size and a hash of its bytes.
pub(crate) fn memory_entry(name: &str, bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    format!(" {name}=mem[{}:{:016x}]", bytes.len(), h.finish())
}

/// Runs `wasm` under `variant` and records what a program could observe,
/// one line per event: the instance's exported state once instantiated,
/// then, for each exported function, in an instance of its own (the
/// fuel is the instance's, and a call that spends it all would leave
/// none to the next function), two calls (zeros; then, after the host
/// wrote each memory ([`host_write`]), arguments `seed` picks) and the
/// state after each. Each instance's record ends with its
/// attestation's detections and, under an attested variant, the pages
/// written that no verifier was shown as they ended (`unattested`, never
/// in a sound run).
pub fn observe(variant: &Variant, wasm: &[u8], seed: u64) -> Vec<String> {
    let engine = match Engine::new(&variant.config) {
        Ok(e) => e,
        Err(e) => return vec![format!("engine: {e}")],
    };
    let module = match Module::new(&engine, wasm) {
        Ok(m) => m,
        Err(e) => return vec![format!("compile: {}", failure(&e))],
    };
    let memories = exported_memories(wasm);
    let mut lines = Vec::new();
    let instance_for = |function: Option<&str>, lines: &mut Vec<String>| -> bool {
        let mut store = Store::new(&engine, ());
        let seen = SeenPages::default();
        if variant.attested {
            let options = AttestOptions::default().also_verify(seen.clone());
            if let Err(e) = store.configure_attestation(options) {
                lines.push(format!("attestation: {e}"));
                return false;
            }
        }
        let instance = match Instance::new(&mut store, &module, &[]) {
            Ok(i) => i,
            Err(e) => {
                lines.push(format!("instantiate: {}", failure(&e)));
                finish(&mut store, lines);
                return false;
            }
        };
        let exports = instance.exports(&store);
        let initial: Vec<Vec<u8>> = memories
            .iter()
            .map(|(_, name)| memory_bytes(&mut store, &instance, name))
            .collect();
        match function.and_then(|name| Some((name, instance.get_func(&mut store, name)?))) {
            None => lines.push(format!(
                "instantiated:{}",
                state(&mut store, &instance, &exports)
            )),
            Some((name, func)) => {
                let ty = func.ty(&store);
                for second in [false, true] {
                    if second {
                        for (_, name) in &memories {
                            if let Some(Extern::Memory(m)) = instance.get_export(&mut store, name) {
                                if let Some((at, bytes)) = host_write(seed, m.data(&store).len()) {
                                    // In bounds by construction.
                                    let _ = m.write(&mut store, at, &bytes);
                                }
                            }
                        }
                    }
                    let args = arguments(ty.params(), seed, second);
                    let mut results: Vec<Val> =
                        ty.results().iter().map(|t| Val::default_for(*t)).collect();
                    let outcome = match func.call(&mut store, &args, &mut results) {
                        Ok(()) => results.iter().map(show).collect::<Vec<_>>().join(" "),
                        Err(e) => failure(&e),
                    };
                    lines.push(format!(
                        "{name}({}) -> {outcome};{}",
                        args.iter().map(show).collect::<Vec<_>>().join(" "),
                        state(&mut store, &instance, &exports)
                    ));
                }
            }
        }
        finish(&mut store, lines);
        if variant.attested {
            for ((index, name), before) in memories.iter().zip(&initial) {
                let after = memory_bytes(&mut store, &instance, name);
                lines.extend(seen.unattested(*index, before, &after));
            }
        }
        true
    };
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

/// Every page a verifier was shown, by memory and page: the bytes it saw
/// last. A page the module wrote must end as its verifier last saw it:
/// else a write was not marked (a store barrier, a bulk operation, the
/// kernel's tracking missed it).
#[derive(Clone, Default)]
struct SeenPages(Arc<Mutex<PageBytes>>);

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
            seen.insert((p.memory, p.page), p.bytes.to_vec());
            out.push(Verdict::CLEAN);
        }
    }
}

impl SeenPages {
    /// A line for each page of memory `index` whose bytes `after` differ
    /// from what a verifier last saw of it, or, never shown one, from
    /// `before` (the memory as instantiation left it; zeros past it).
    fn unattested(&self, index: u32, before: &[u8], after: &[u8]) -> Vec<String> {
        let seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // The snapshots' page size; with none seen, any size compares
        // the whole memory with `before`.
        let size = seen.values().next().map_or(1 << 12, Vec::len);
        let mut out = Vec::new();
        for (page, bytes) in after.chunks(size).enumerate() {
            let at = page * size;
            let expected: Vec<u8> = match seen.get(&(index, page as u32)) {
                Some(s) => s.clone(),
                None => {
                    let mut b = before.get(at..).unwrap_or(&[]).to_vec();
                    b.resize(bytes.len(), 0);
                    b.truncate(bytes.len());
                    b
                }
            };
            if expected.as_slice() != bytes {
                let first = expected
                    .iter()
                    .zip(bytes)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                out.push(format!(
                    "unattested: memory {index} page {page} ended unlike its last snapshot (first at byte {:#x})",
                    at + first
                ));
            }
        }
        out
    }
}

/// The module's exported memories: (memory index, an export name).
/// A generated module imports none, so a memory's index in the module is
/// its index among the store's memories.
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

/// Ends the store's attestation: a module that only computes must end
/// with nothing detected (a run without attestation records the same).
fn finish(store: &mut Store<()>, lines: &mut Vec<String>) {
    let detections = match store.finish_attestation() {
        Ok(stats) => stats.map_or(0, |s| s.detections),
        Err(e) => {
            lines.push(format!("attestation: {}", failure(&e)));
            return;
        }
    };
    lines.push(format!("detections {detections}"));
}

/// Where two variants' records of one module part.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The module's seed.
    pub seed: u64,
    /// The variant that differs from the reference.
    pub variant: &'static str,
    /// The first line that differs, the reference's then the variant's
    /// (`<none>` where one record is shorter).
    pub expected: String,
    pub found: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {}: `{}` differs from `off`:\n  off: {}\n  {}: {}",
            self.seed, self.variant, self.expected, self.variant, self.found
        )
    }
}

/// The first line where `found` parts from `expected`, as a mismatch of
/// `variant`.
fn first_difference(
    seed: u64,
    variant: &'static str,
    expected: &[String],
    found: &[String],
) -> Option<Mismatch> {
    let n = expected.len().max(found.len());
    let i = (0..n).find(|&i| expected.get(i) != found.get(i))?;
    let line = |r: &[String]| r.get(i).cloned().unwrap_or_else(|| "<none>".into());
    // How deep a program may call is the engine's to choose, and hooks
    // make frames larger: a call that ran out of stack under either
    // ends the comparison (what follows depends on how far it got).
    if [line(expected), line(found)]
        .iter()
        .any(|l| l.contains(STACK_EXHAUSTED))
    {
        return None;
    }
    Some(Mismatch {
        seed,
        variant,
        expected: line(expected),
        found: line(found),
    })
}

/// Generates seed `seed`'s module, runs it under every variant (and
/// under wasmtime when `against_wasmtime`, with the `wasmtime` feature)
/// and returns the first difference from the reference for each that
/// differs. A seed `wasm-smith` cannot build from is an error.
pub fn check(
    seed: u64,
    variants: &[Variant],
    against_wasmtime: bool,
) -> Result<Vec<Mismatch>, String> {
    let wasm = generate(seed, against_wasmtime)?;
    let (reference, rest) = variants.split_first().ok_or("no variants")?;
    let expected = observe(reference, &wasm, seed);
    #[cfg_attr(not(feature = "wasmtime"), allow(unused_mut))]
    let mut out: Vec<Mismatch> = rest
        .iter()
        .filter_map(|v| {
            let found = observe(v, &wasm, seed);
            first_difference(seed, v.name, &expected, &found)
        })
        .collect();
    if against_wasmtime {
        #[cfg(feature = "wasmtime")]
        {
            let found = wasmtime::observe(&wasm, seed);
            let (from, to) = TABLE_TRAPS;
            let expected: Vec<String> = expected.iter().map(|l| l.replace(from, to)).collect();
            out.extend(first_difference(seed, "wasmtime", &expected, &found));
        }
        #[cfg(not(feature = "wasmtime"))]
        return Err("comparing with wasmtime needs the `wasmtime` feature".into());
    }
    Ok(out)
}

/// Seed `seed`'s module with a few bytes changed (from the seed), which
/// every variant must compile or refuse with an error, never a panic.
/// Returns how many of the mutants compiled under the reference, or the
/// variant and mutant that panicked. Mutants are only compiled: a changed
/// byte may take a loop's fuel away.
pub fn compile_mutants(seed: u64, variants: &[Variant], mutants: u32) -> Result<u32, String> {
    let wasm = generate(seed, false)?;
    let mut compiled = 0;
    for m in 0..mutants {
        let noise = seed_bytes(seed ^ (u64::from(m) << 32) ^ 0x3117, 64);
        let mut mutant = wasm.clone();
        for pair in noise.chunks(8).take(1 + (noise[0] % 4) as usize) {
            let at =
                u64::from_le_bytes(pair.try_into().map_err(|_| "noise")?) as usize % mutant.len();
            mutant[at] ^= pair[0] | 1;
        }
        for (i, v) in variants.iter().enumerate() {
            let outcome = std::panic::catch_unwind(|| {
                Engine::new(&v.config).map(|engine| Module::new(&engine, &mutant).is_ok())
            });
            match outcome {
                Ok(Ok(true)) if i == 0 => compiled += 1,
                Ok(_) => {}
                Err(_) => {
                    return Err(format!(
                        "seed {seed} mutant {m}: `{}` panicked compiling it",
                        v.name
                    ))
                }
            }
        }
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_makes_the_same_module_every_time() {
        assert_eq!(generate(7, false).unwrap(), generate(7, false).unwrap());
        assert_ne!(generate(7, false).unwrap(), generate(8, false).unwrap());
    }

    #[test]
    fn a_page_that_ended_unlike_its_snapshot_is_unattested() {
        let seen = SeenPages::default();
        let before = vec![0u8; 3 * 4096];
        let mut after = before.clone();
        after[4096 + 9] = 1;
        // Written, never shown to a verifier.
        let lines = seen.unattested(0, &before, &after);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("page 1") && lines[0].contains("0x1009"));
        // Shown as it ended: sound.
        seen.0
            .lock()
            .unwrap()
            .insert((0, 1), after[4096..8192].to_vec());
        assert!(seen.unattested(0, &before, &after).is_empty());
        // Written again after it was shown; and another memory's page
        // of the same number is not this one's.
        after[4096 + 10] = 2;
        assert_eq!(seen.unattested(0, &before, &after).len(), 1);
        assert_eq!(seen.unattested(1, &before, &after).len(), 1);
    }

    #[test]
    fn a_changed_program_is_told_apart() {
        // The comparison must see a difference a variant would make: the
        // same module with one constant changed records another result.
        let a = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 1))"#).unwrap();
        let b = wat::parse_str(r#"(module (func (export "f") (result i32) i32.const 2))"#).unwrap();
        let off = &variants()[0];
        assert_ne!(observe(off, &a, 0), observe(off, &b, 0));
    }
}
