//! Programs nobody wrote by hand, run under every way walmart can compile
//! them and compared. `wasm-smith` makes a valid module from a seed (the
//! features walmart accepts, loops and calls bounded by fuel so every
//! call ends); each [`Variant`] compiles it and runs it
//! ([`record::observe`]), recording what a program could observe:
//! results, traps, and after each call the exported memories, tables and
//! globals. Attestation must not change any of it, nor may a verifier
//! report anything on a module that only computes, and every page the
//! module wrote must reach a verifier as it ended; so every variant's
//! record must equal the first's.
//!
//! Why: the spec testsuite checks each instruction on small scripts; the
//! attestation policies rewrite every store and every function's exits,
//! and the bugs such rewriting makes show in larger programs (values
//! held across a hook, a store of a vector, a `memory.copy` over the
//! bitmap's pages), which these modules are. With the `wasmtime` feature
//! wasmtime runs them too, which checks the compiler itself.

use arbitrary::Unstructured;
use walmart::attest::Policy;
use walmart::{Config, Engine};
use walmart_kernels::rng::Rng;

mod mutants;
pub mod record;
#[cfg(feature = "wasmtime")]
mod wasmtime;

pub use mutants::compile_mutants;
pub use record::observe;

/// Fuel each generated module starts with: every loop iteration and
/// function entry spends one, and a call that runs out traps
/// (`unreachable`), so every call ends within a few thousand steps.
const FUEL: u32 = 4000;

/// The most bytes a memory of a generated module may have, grown or not:
/// a 4 GiB one costs little to reserve but much to fill and compare.
const MEMORY_MAX: u64 = 16 << 16;

/// Whether seed `seed`'s module runs with fuel counted and epoch checks
/// compiled in (one seed in four, among those that draw every kind of
/// instruction): each call's record then says the fuel it spent, which
/// every variant, and wasmtime, must agree on.
pub fn counts_fuel(seed: u64) -> bool {
    seed % 4 == 2
}

/// The fuel a store starts each call with when its seed
/// [`counts_fuel`]: more than any generated call spends.
pub(crate) const FUEL_BUDGET: u64 = i64::MAX as u64;

/// One way of compiling and running a module.
pub struct Variant {
    /// Its name in reports: `off`, `coarse`, `fine-barrier`, ...
    pub name: &'static str,
    /// The engine every module of the variant compiles with (made once:
    /// making one builds its compiler).
    pub engine: Engine,
    /// The same with fuel counted and epoch checks, for the seeds that
    /// [`counts_fuel`].
    pub fuel_engine: Engine,
    /// The attestation policy its stores run.
    pub policy: Policy,
}

impl Variant {
    /// A variant under `policy` with `tune`'s further settings (several
    /// memories, wide arithmetic, one-byte pages and custom descriptors
    /// allowed in all).
    fn new(
        name: &'static str,
        policy: Policy,
        tune: impl Fn(&mut Config),
    ) -> Result<Variant, CheckError> {
        let mut config = Config::new();
        config
            .wasm_multi_memory(true)
            .wasm_wide_arithmetic(true)
            .wasm_custom_page_sizes(true)
            .wasm_custom_descriptors(true)
            .attest(policy);
        tune(&mut config);
        let engine = Engine::new(&config)
            .map_err(|e| CheckError::Usage(format!("variant `{name}`: {e}")))?;
        config.consume_fuel(true).epoch_interruption(true);
        let fuel_engine = Engine::new(&config)
            .map_err(|e| CheckError::Usage(format!("variant `{name}` with fuel: {e}")))?;
        Ok(Variant {
            name,
            engine,
            fuel_engine,
            policy,
        })
    }

    /// The engine seed `seed`'s module runs in.
    pub fn engine_for(&self, seed: u64) -> &Engine {
        if counts_fuel(seed) {
            &self.fuel_engine
        } else {
            &self.engine
        }
    }

    /// Whether its stores snapshot written pages, and so must show a
    /// verifier every page the module wrote (the tag monitor checks
    /// accesses, and shows verifiers no page).
    pub fn snapshots(&self) -> bool {
        matches!(self.policy, Policy::Coarse | Policy::Fine)
    }
}

/// Every variant compared: without attestation (guarded and with explicit
/// bounds checks), each policy, each with the store barrier instead of
/// the kernel's written-page tracking, synchronous `fine`, and `fine`
/// bounds-checked, and `tags` (whose monitor checks every access; a
/// generated module never allocates, so no access is a violation). The
/// first is the reference. Where the kernel cannot track written pages,
/// its variants take the barrier (as users' stores do).
pub fn variants() -> Result<Vec<Variant>, CheckError> {
    use Policy::{Coarse, Fine, Off, Tags};
    [
        Variant::new("off", Off, |_| {}),
        Variant::new("off-bounds-checked", Off, |c| {
            c.guarded_memory(false);
        }),
        Variant::new("coarse", Coarse, |_| {}),
        Variant::new("coarse-barrier", Coarse, |c| {
            c.attest_kernel_dirty(false);
        }),
        Variant::new("fine", Fine, |_| {}),
        Variant::new("fine-barrier", Fine, |c| {
            c.attest_kernel_dirty(false);
        }),
        Variant::new("fine-sync", Fine, |c| {
            c.attest_sync(true);
        }),
        Variant::new("fine-bounds-checked", Fine, |c| {
            c.guarded_memory(false);
        }),
        Variant::new("tags", Tags, |_| {}),
        Variant::new("off-gc-stress", Off, |c| {
            c.gc_stress(true);
        }),
    ]
    .into_iter()
    .collect()
}

/// `len` bytes from `seed`: what `wasm-smith` builds a module from, and
/// what arguments and host writes are drawn from.
pub(crate) fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<u8> = (0..len.div_ceil(8))
        .flat_map(|_| rng.next_u64().to_le_bytes())
        .collect();
    out.truncate(len);
    out
}

/// The module seed `seed` makes: valid, with the features walmart
/// accepts (WebAssembly 2.0, SIMD, relaxed SIMD, several memories, 64-bit
/// memories, tail calls, extended constant expressions, exceptions, GC),
/// no
/// imports, everything exported, and fuel in every loop and function.
/// NaNs are made canonical: which NaN an operation on two NaNs returns is
/// the engine's choice, and instrumentation may change it (Cranelift
/// orders an addition's operands by which one is a load it can fold).
/// `for_other_engine`: no relaxed SIMD either, whose results are the
/// engine's choice, to compare with wasmtime.
pub fn generate(seed: u64, for_other_engine: bool) -> Result<Vec<u8>, CheckError> {
    // Sizes vary with the seed: a few small modules for each large one.
    let len = 1000 + (seed % 7) as usize * 3000;
    let bytes = seed_bytes(seed, len);
    let mut u = Unstructured::new(&bytes);
    // Exact reference types with GC's (wasm-smith draws no descriptors),
    // where only walmart runs the module: wasmtime has not the proposal.
    let exact = !for_other_engine && seed.is_multiple_of(3);
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
        memory64_enabled: true,
        max_memory64_bytes: MEMORY_MAX as u128,
        // Shared memories and atomic instructions; every wait's timeout
        // is made 0 below.
        threads_enabled: true,
        shared_everything_threads_enabled: false,
        exceptions_enabled: true,
        // One seed in three has GC's types and instructions (typed
        // function references with them).
        gc_enabled: seed.is_multiple_of(3),
        tail_call_enabled: true,
        wide_arithmetic_enabled: true,
        custom_page_sizes_enabled: true,
        extended_const_enabled: true,
        compact_imports_enabled: false,
        // Three seeds in four keep every access in bounds and every
        // division defined, so calls run on (and store) instead of
        // trapping early.
        disallow_traps: !seed.is_multiple_of(4),
        canonicalize_nans: true,
        relaxed_simd_enabled: !for_other_engine,
        custom_descriptors_enabled: exact,
        ..wasm_smith::Config::default()
    };
    let unbuilt = |e: &dyn std::fmt::Display| CheckError::Unbuilt(format!("seed {seed}: {e}"));
    let mut module = wasm_smith::Module::new(config, &mut u).map_err(|e| unbuilt(&e))?;
    module.ensure_termination(FUEL).map_err(|e| unbuilt(&e))?;
    let mut wasm = zero_wait_timeouts(&module.to_bytes()).map_err(|e| unbuilt(&e))?;
    if exact {
        // wasm-smith 0.263 sometimes gives an inexact reference where it
        // typed an exact one: such a module is its mistake, not one to
        // hold against walmart.
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
            .validate_all(&wasm)
            .map_err(|e| unbuilt(&format!("wasm-smith made an invalid module: {e}")))?;
    }
    wasm.extend_from_slice(&NAME_SECTION);
    Ok(wasm)
}

/// `wasm` with every `memory.atomic.wait32`/`wait64`'s timeout replaced
/// by 0: a wait on a shared memory whose cell holds the expected value
/// sleeps until its timeout, and no other thread would notify it (a
/// negative timeout is forever, in every engine).
fn zero_wait_timeouts(wasm: &[u8]) -> Result<Vec<u8>, String> {
    use wasm_encoder::reencode::{Error, Reencode};
    use wasm_encoder::Instruction;
    use wasmparser::Operator;

    struct ZeroTimeouts;
    impl Reencode for ZeroTimeouts {
        type Error = std::convert::Infallible;

        fn parse_function_body(
            &mut self,
            code: &mut wasm_encoder::CodeSection,
            func: wasmparser::FunctionBody<'_>,
        ) -> Result<(), Error<Self::Error>> {
            let mut f = self.new_function_with_parsed_locals(&func)?;
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                let op = reader.read()?;
                if let Operator::MemoryAtomicWait32 { .. } | Operator::MemoryAtomicWait64 { .. } =
                    op
                {
                    // The timeout is the top operand.
                    f.instruction(&Instruction::Drop);
                    f.instruction(&Instruction::I64Const(0));
                }
                f.instruction(&self.instruction(op)?);
            }
            code.function(&f);
            Ok(())
        }
    }
    let mut module = wasm_encoder::Module::new();
    ZeroTimeouts
        .parse_core_module(&mut module, wasmparser::Parser::new(0), wasm)
        .map_err(|e| e.to_string())?;
    Ok(module.finish())
}

/// A `name` section naming function 0 `f0`: the tag monitor takes a
/// module with names and no allocator as one that never allocates (it
/// refuses a module without either), so `tags` runs generated modules
/// too. A custom section may close any module.
const NAME_SECTION: [u8; 14] = [
    0, 12, // custom section, 12 bytes
    4, b'n', b'a', b'm', b'e', // "name"
    1, 5, // function names, 5 bytes
    1, 0, 2, b'f', b'0', // one: function 0 is "f0"
];

/// Why a seed could not be compared.
#[derive(Debug, Clone)]
pub enum CheckError {
    /// `wasm-smith` built no module from the seed's bytes.
    Unbuilt(String),
    /// The reference compiled, instantiated or ran a valid module with an
    /// error that is not a trap, or a mutant made a variant panic or two
    /// variants disagree: a walmart bug every variant may share.
    Failed(String),
    /// Asked for something this build cannot do.
    Usage(String),
}

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckError::Unbuilt(e) | CheckError::Failed(e) | CheckError::Usage(e) => f.write_str(e),
        }
    }
}

/// Where a variant's record of one module parts from the reference's.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The module's seed.
    pub seed: u64,
    /// The variant that differs from the reference.
    pub variant: &'static str,
    /// The reference's first line that differs (`<none>` where its record
    /// is shorter).
    pub expected: String,
    /// The variant's line there.
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
/// `variant`, instance by instance ([`record::instances`]): how deep a
/// program may call is the engine's to choose, and hooks make frames
/// larger, so an instance where either ran out of stack is passed over
/// (what follows in it depends on how far the call got).
fn first_difference(
    seed: u64,
    variant: &'static str,
    expected: &[String],
    found: &[String],
) -> Option<Mismatch> {
    let (ours, theirs) = (record::instances(expected), record::instances(found));
    let none = [];
    for i in 0..ours.len().max(theirs.len()) {
        let a: &[String] = ours.get(i).copied().unwrap_or(&none);
        let b: &[String] = theirs.get(i).copied().unwrap_or(&none);
        let exhausted = |r: &[String]| r.iter().any(|l| l.contains(record::STACK_EXHAUSTED));
        if a == b || (!a.is_empty() && !b.is_empty() && (exhausted(a) || exhausted(b))) {
            continue;
        }
        let at = (0..a.len().max(b.len())).find(|&j| a.get(j) != b.get(j))?;
        let line = |r: &[String]| r.get(at).cloned().unwrap_or_else(|| "<none>".into());
        return Some(Mismatch {
            seed,
            variant,
            expected: line(a),
            found: line(b),
        });
    }
    None
}

/// Generates seed `seed`'s module, runs it under every variant (and
/// under wasmtime when `against_wasmtime`, with the `wasmtime` feature)
/// and returns the first difference from the reference for each that
/// differs. The module is valid, so a reference that could not compile,
/// instantiate or call it but for a trap is a failure of its own.
pub fn check(
    seed: u64,
    variants: &[Variant],
    against_wasmtime: bool,
) -> Result<Vec<Mismatch>, CheckError> {
    if against_wasmtime && !cfg!(feature = "wasmtime") {
        return Err(CheckError::Usage(
            "comparing with wasmtime needs the `wasmtime` feature".into(),
        ));
    }
    let wasm = generate(seed, against_wasmtime)?;
    let (reference, rest) = variants
        .split_first()
        .ok_or_else(|| CheckError::Usage("no variants".into()))?;
    let expected = observe(reference, &wasm, seed);
    if let Some(e) = expected.iter().find(|l| record::is_failure(l)) {
        return Err(CheckError::Failed(format!(
            "seed {seed}: `{}` failed on a valid module: {e}",
            reference.name
        )));
    }
    // The tag monitor refuses a module whose first memory is 64-bit (it
    // could watch none of its accesses), and one that uses exception
    // handling (unwinding skips the epilogues that clear its guards).
    let unwatched = first_memory_is_64(&wasm) || uses_exceptions(&wasm);
    // Attestation refuses memories of one-byte pages: such a module runs
    // only without it.
    let byte_pages = has_byte_pages(&wasm);
    #[cfg_attr(not(feature = "wasmtime"), allow(unused_mut))]
    let mut out: Vec<Mismatch> = rest
        .iter()
        .filter(|v| !(v.policy == Policy::Tags && unwatched))
        .filter(|v| !(v.policy != Policy::Off && byte_pages))
        .filter_map(|v| first_difference(seed, v.name, &expected, &observe(v, &wasm, seed)))
        .collect();
    #[cfg(feature = "wasmtime")]
    if against_wasmtime {
        let found = wasmtime::observe(&wasm, seed);
        let expected: Vec<String> = expected
            .iter()
            .map(|l| wasmtime::as_wasmtime_reads(l))
            .collect();
        out.extend(first_difference(seed, "wasmtime", &expected, &found));
    }
    Ok(out)
}

/// Whether the module uses exception handling: declares or imports a
/// tag, or holds a `try_table` or a `throw_ref`.
fn uses_exceptions(wasm: &[u8]) -> bool {
    use wasmparser::{Operator, Payload, TypeRef};
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::TagSection(_)) => return true,
            Ok(Payload::ImportSection(imports)) => {
                if imports
                    .into_imports()
                    .flatten()
                    .any(|i| matches!(i.ty, TypeRef::Tag(_)))
                {
                    return true;
                }
            }
            Ok(Payload::CodeSectionEntry(body)) => {
                let Ok(mut ops) = body.get_operators_reader() else {
                    return true;
                };
                while !ops.eof() {
                    match ops.read() {
                        Ok(Operator::TryTable { .. } | Operator::ThrowRef) | Err(_) => return true,
                        Ok(_) => {}
                    }
                }
            }
            Ok(_) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Whether the module's first memory (imported or defined) is 64-bit.
/// Whether a memory of `wasm` has one-byte pages, which attestation
/// refuses (generated modules import nothing).
fn has_byte_pages(wasm: &[u8]) -> bool {
    use wasmparser::Payload;
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .any(|payload| match payload {
            Ok(Payload::MemorySection(memories)) => memories
                .into_iter()
                .flatten()
                .any(|m| m.page_size_log2 == Some(0)),
            _ => false,
        })
}

fn first_memory_is_64(wasm: &[u8]) -> bool {
    use wasmparser::{Payload, TypeRef};
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        match payload {
            Ok(Payload::ImportSection(imports)) => {
                for import in imports.into_imports().flatten() {
                    if let TypeRef::Memory(m) = import.ty {
                        return m.memory64;
                    }
                }
            }
            Ok(Payload::MemorySection(memories)) => {
                return memories
                    .into_iter()
                    .flatten()
                    .next()
                    .is_some_and(|m| m.memory64);
            }
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_makes_the_same_module_every_time() {
        let module = |seed| generate(seed, false).unwrap();
        assert_eq!(module(7), module(7));
        assert_ne!(module(7), module(8));
    }

    #[test]
    fn an_instance_that_ran_out_of_stack_is_passed_over_and_no_other() {
        let lines = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let off = lines(&[
            "instantiated: g=i32:0",
            "detections 0",
            "f() -> trap: unreachable executed; g=i32:1",
            "detections 0",
            "h() -> i32:2;",
            "detections 0",
        ]);
        let deep = lines(&[
            "instantiated: g=i32:0",
            "detections 0",
            "f() -> trap: call stack exhausted; g=i32:7",
            "detections 0",
            "h() -> i32:2;",
            "detections 0",
        ]);
        assert!(first_difference(0, "v", &off, &deep).is_none());
        let mut wrong = deep.clone();
        wrong[4] = "h() -> i32:3;".into();
        let m = first_difference(0, "v", &off, &wrong).expect("the next instance is compared");
        assert_eq!(
            (m.expected.as_str(), m.found.as_str()),
            ("h() -> i32:2;", "h() -> i32:3;")
        );
        let mut short = off.clone();
        short.truncate(4);
        assert!(
            first_difference(0, "v", &off, &short).is_some(),
            "a missing instance differs"
        );
    }
}
