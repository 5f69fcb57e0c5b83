//! The engine: compiler configuration, the signature registry shared by
//! all modules, and the trampolines compiled per signature.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use walmart_attest::Policy;
use walmart_jit::module_info::{HeapTy, ModuleInfo, TypeDef};
use walmart_jit::vmctx;
use walmart_jit::{AttestCodegen, CodeMemory, Compiler, FuncSig, TranslateConfig};

use crate::error::{Error, Result};
use crate::Module;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest stack, in bytes, Wasm code may use before `call stack exhausted`.
    pub max_wasm_stack: usize,
    /// Allows asynchronous calls (`Func::call_async`, `Linker::instantiate_async`,
    /// host functions from `Linker::func_wrap_async`), each run on a stack
    /// of its own that suspends while a host future is pending.
    pub async_support: bool,
    /// Bytes of each asynchronous call's stack: Wasm's (at most
    /// `max_wasm_stack`) and the host functions' it calls.
    pub async_stack_size: usize,
    /// Bytes of GC heap (the 1 MiB chunks small structs and arrays are
    /// carved from, and larger objects) a store may hold; an allocation
    /// that does not fit after a collection traps (`GC heap exhausted`).
    pub max_gc_heap: usize,
    /// Collect at every allocation that needs memory beyond the current
    /// range, and hand out ranges one object long, so that Wasm code is
    /// interrupted by the collector as often as it can be. Slow: for
    /// testing that what a program keeps survives collections.
    pub gc_stress: bool,
    /// Reserve 4 GiB plus a 2 GiB guard region for every 32-bit memory and
    /// compile loads and stores without bounds checks (the guard page
    /// faults). Off: memories reserve only their declared maximum, may move
    /// when they grow, and every access is checked explicitly.
    pub guarded_memory: bool,
    /// 128-bit SIMD (Wasm 2.0). On by default.
    pub simd: bool,
    /// Relaxed SIMD (Wasm 3.0); off whenever `simd` is. On by default.
    pub relaxed_simd: bool,
    /// Bulk memory and table operations (Wasm 2.0). On by default.
    pub bulk_memory: bool,
    /// Reference types and several tables (Wasm 2.0); off, function
    /// references, GC and exceptions are off too. On by default.
    pub reference_types: bool,
    /// Several results and block parameters (Wasm 2.0). On by default.
    pub multi_value: bool,
    /// GC (Wasm 3.0): structs, arrays, `i31`, subtyping, and GC's
    /// validation rules; off whenever `function_references` is. On by
    /// default.
    pub gc: bool,
    /// Accept modules with several memories (the multi-memory proposal,
    /// part of Wasm 3.0). On by default.
    pub multi_memory: bool,
    /// Accept `return_call` and `return_call_indirect` (the tail-call
    /// proposal, part of Wasm 3.0): a call that replaces its caller's
    /// frame, so a chain of them runs in constant stack. On by default.
    pub tail_call: bool,
    /// Accept `i32`/`i64` `add`, `sub` and `mul` in constant expressions
    /// (the extended-const proposal, part of Wasm 3.0). On by default.
    pub extended_const: bool,
    /// Accept typed function references (the function-references
    /// proposal, part of Wasm 3.0): `call_ref`, `return_call_ref`,
    /// `ref.as_non_null`, `br_on_null`, `br_on_non_null`, non-nullable and
    /// concrete reference types, tables with an initial element. On by
    /// default.
    pub function_references: bool,
    /// Exception handling: tags, `throw`, `throw_ref`, `try_table` and
    /// `exnref` (on by default). Off, modules with tags are refused and
    /// calls are not followed by the test for a thrown exception.
    pub exceptions: bool,
    /// The threads proposal (on by default): shared memories, atomic
    /// loads, stores, read-modify-writes and compare-exchanges,
    /// `memory.atomic.wait32`/`wait64`/`notify` and `atomic.fence`.
    /// Threads share a memory through [`crate::SharedMemory`], each with
    /// a store of its own; a shared memory never moves.
    pub threads: bool,
    /// The wide-arithmetic proposal (off by default, as in wasmtime):
    /// `i64.add128`, `i64.sub128`, `i64.mul_wide_s`, `i64.mul_wide_u`.
    pub wide_arithmetic: bool,
    /// The custom-page-sizes proposal (off by default, as in wasmtime):
    /// memories of one-byte pages (`(pagesize 1)`), bounds-checked on
    /// every access. Attestation does not cover them.
    pub custom_page_sizes: bool,
    /// The custom-descriptors proposal (off by default; wasmtime has it
    /// not yet): exact reference types (`(ref exact $t)`), struct types
    /// with a descriptor (`descriptor`/`describes`), `struct.new_desc`,
    /// `struct.new_default_desc`, `ref.get_desc`, `ref.cast_desc_eq` and
    /// `br_on_cast_desc_eq`/`br_on_cast_desc_eq_fail`.
    pub custom_descriptors: bool,
    /// The legacy exception-handling instructions (off by default; wasmtime
    /// has them not): `try`, `catch`, `catch_all`, `delegate`, `rethrow`,
    /// as LLVM emits for C++ exceptions (`-fwasm-exceptions`), on the same
    /// tags and records as `try_table`. Needs [`Config::exceptions`].
    pub legacy_exceptions: bool,
    /// Accept memories indexed by `i64` (the memory64 proposal, part of
    /// Wasm 3.0): every access to them is bounds-checked explicitly.
    pub memory64: bool,
    /// Where generated code gets attestation hooks.
    pub attest: Policy,
    /// Synchronous attestation: every function hook after a write
    /// snapshots and waits for the verdict (exact blame, slower).
    pub attest_sync: bool,
    /// Under `coarse` and asynchronous `fine`, let the kernel track written
    /// pages (userfaultfd write-protection, Linux 6.7+) instead of
    /// compiling a store barrier, where the kernel offers it. Off: always
    /// the barrier. Synchronous `fine` always has the barrier, which arms
    /// its hooks after each write.
    pub attest_kernel_dirty: bool,
    /// Interpose on the module's allocator (`malloc`, `free`, `calloc`,
    /// `realloc`, `aligned_alloc`, `posix_memalign`, found by name): every
    /// store keeps a [`crate::attest::heap::HeapTracker`] of live and
    /// freed chunks. For dataset collection.
    pub track_allocations: bool,
    /// Wasm counts the operators it runs against its store's fuel
    /// ([`Store::set_fuel`](crate::Store::set_fuel)) and traps with
    /// [`crate::TrapKind::OutOfFuel`] when none is left (off by default).
    pub consume_fuel: bool,
    /// Wasm checks the engine's epoch ([`Engine::increment_epoch`])
    /// against its store's deadline
    /// ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline))
    /// at function entries and loop headers (off by default).
    pub epoch_interruption: bool,
    /// Under `coarse` and `fine`, check the chain of the module's heap
    /// chunks as control leaves the module and when a run's attestation
    /// ends, for modules whose allocator is dlmalloc (wasi-libc's
    /// `malloc`; told by its function names, or in a module without names
    /// by dlmalloc's state found in its statics): an exact check that
    /// finds writes over the allocator's chunk headers and freed chunks'
    /// links, the usual marks of a heap overflow and a use after free
    /// (`runtime/src/attest/heap_walk.rs`). On by default.
    pub attest_heap_check: bool,
    /// Guards above the C shadow stack's frames, for functions whose frame
    /// has clang's shape (`walmart_jit::translate::stack_guard`): each
    /// frame gets 16 bytes more above it. Under `tags` they are a redzone
    /// (a write there is a `stack-buffer-overflow` at the faulting
    /// access); under `coarse` and `fine`, 16 zero bytes checked as the
    /// function returns (a `stack-smash` event). Off: frames as the
    /// module has them. On by default.
    pub attest_stack_guards: bool,
    /// The colour-tag monitor's settings, used under `Policy::Tags`.
    pub tags: crate::attest::tags::TagConfig,
    /// Run the colour-tag monitor alongside `coarse` or `fine` too: its
    /// violations label the pages they write when collecting datasets
    /// (`walmart attest collect --policy tags`).
    pub tags_alongside: bool,
    /// How hard Cranelift optimises (`OptLevel::Speed` by default).
    pub opt_level: walmart_jit::OptLevel,
    /// Float operators make only the canonical NaN (off by default).
    pub nan_canonicalization: bool,
    /// How instances' memories are allocated (on demand by default).
    pub allocation_strategy: crate::InstanceAllocationStrategy,
    /// Whether backtraces carry source positions from the module's DWARF
    /// (`Environment` by default).
    pub wasm_backtrace_details: WasmBacktraceDetails,
    /// How generated code is made known to profilers (none by default).
    pub profiler: ProfilingStrategy,
    /// Compiled code listed for native debuggers ([`Config::debug_info`]).
    pub debug_info: bool,
    /// Cranelift's IR verifier on ([`Config::cranelift_debug_verifier`]).
    pub debug_verifier: bool,
    /// A trap carries a snapshot of its store (off by default).
    pub coredump_on_trap: bool,
    /// Where each compiled function's text is written
    /// ([`Config::emit_clif`], [`Config::emit_asm`]; nowhere by default).
    pub emit_text: walmart_jit::EmitText,
    /// Whether a module's functions compile on every core (true by
    /// default; [`Config::parallel_compilation`]).
    pub parallel_compilation: bool,
}

/// How generated code is made known to profilers ([`Config::profiler`],
/// as wasmtime's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProfilingStrategy {
    /// Not at all (`WALMART_PERFMAP=1` in the environment still writes
    /// the perf map).
    #[default]
    None,
    /// Every compiled function's address, size and name appended to
    /// `/tmp/perf-PID.map`, which `perf report` reads to name the
    /// addresses of code it found in no ELF file.
    PerfMap,
    /// Every compiled function with its machine code appended to
    /// `./jit-PID.dump` (perf's jitdump format, the file mapped so that
    /// `perf record -k mono` notes it): `perf inject --jit` turns it into
    /// ELF images, and `perf annotate` shows the functions' instructions.
    JitDump,
}

/// Whether traps' backtraces carry file, line and column from a module's
/// DWARF debug information ([`Config::wasm_backtrace_details`], as
/// wasmtime's, though on where wasmtime's is off unless asked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WasmBacktraceDetails {
    /// Always.
    Enable,
    /// Never: modules compiled by the engine keep no DWARF and read none
    /// (tag monitor reports included).
    Disable,
    /// As `WALMART_BACKTRACE_DETAILS` (or wasmtime's
    /// `WASMTIME_BACKTRACE_DETAILS`) says when the engine is made: `0`
    /// for never, anything else or unset for always.
    #[default]
    Environment,
}

impl WasmBacktraceDetails {
    fn enabled(self) -> bool {
        match self {
            WasmBacktraceDetails::Enable => true,
            WasmBacktraceDetails::Disable => false,
            WasmBacktraceDetails::Environment => {
                ["WALMART_BACKTRACE_DETAILS", "WASMTIME_BACKTRACE_DETAILS"]
                    .iter()
                    .find_map(std::env::var_os)
                    .is_none_or(|v| v != "0")
            }
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_wasm_stack: 1024 * 1024,
            async_support: false,
            async_stack_size: 2 * 1024 * 1024,
            max_gc_heap: 1 << 30,
            gc_stress: false,
            guarded_memory: true,
            simd: true,
            relaxed_simd: true,
            bulk_memory: true,
            reference_types: true,
            multi_value: true,
            gc: true,
            multi_memory: true,
            tail_call: true,
            extended_const: true,
            memory64: true,
            function_references: true,
            exceptions: true,
            threads: true,
            wide_arithmetic: false,
            custom_page_sizes: false,
            custom_descriptors: false,
            legacy_exceptions: false,
            attest: Policy::Off,
            attest_sync: false,
            attest_kernel_dirty: true,
            track_allocations: false,
            consume_fuel: false,
            epoch_interruption: false,
            attest_heap_check: true,
            attest_stack_guards: true,
            tags: Default::default(),
            tags_alongside: false,
            opt_level: walmart_jit::OptLevel::Speed,
            nan_canonicalization: false,
            allocation_strategy: crate::InstanceAllocationStrategy::OnDemand,
            wasm_backtrace_details: WasmBacktraceDetails::Environment,
            profiler: ProfilingStrategy::None,
            debug_info: false,
            debug_verifier: false,
            coredump_on_trap: false,
            emit_text: walmart_jit::EmitText::default(),
            parallel_compilation: true,
        }
    }
}

impl Config {
    /// A default configuration.
    pub fn new() -> Config {
        Config::default()
    }

    /// Interposes on the module's allocator (see
    /// [`Config::track_allocations`]).
    pub fn track_allocations(&mut self, on: bool) -> &mut Config {
        self.track_allocations = on;
        self
    }

    /// Checks the module's heap chunks (see [`Config::attest_heap_check`]).
    pub fn attest_heap_check(&mut self, on: bool) -> &mut Config {
        self.attest_heap_check = on;
        self
    }

    /// Guards above stack frames (see [`Config::attest_stack_guards`]).
    pub fn attest_stack_guards(&mut self, on: bool) -> &mut Config {
        self.attest_stack_guards = on;
        self
    }

    /// Chooses guarded memory (no bounds checks) or explicit checks.
    pub fn guarded_memory(&mut self, on: bool) -> &mut Config {
        self.guarded_memory = on;
        self
    }

    /// Enables the multi-memory proposal (see [`Config::multi_memory`]).
    pub fn wasm_multi_memory(&mut self, on: bool) -> &mut Config {
        self.multi_memory = on;
        self
    }

    /// Enables the tail-call proposal (see [`Config::tail_call`]).
    pub fn wasm_tail_call(&mut self, on: bool) -> &mut Config {
        self.tail_call = on;
        self
    }

    /// Enables the extended-const proposal (see
    /// [`Config::extended_const`]).
    pub fn wasm_extended_const(&mut self, on: bool) -> &mut Config {
        self.extended_const = on;
        self
    }

    /// Enables the memory64 proposal (see [`Config::memory64`]).
    pub fn wasm_memory64(&mut self, on: bool) -> &mut Config {
        self.memory64 = on;
        self
    }

    /// Enables typed function references (see
    /// [`Config::function_references`]).
    pub fn wasm_function_references(&mut self, on: bool) -> &mut Config {
        self.function_references = on;
        self
    }

    /// 128-bit SIMD (on by default; as wasmtime's `wasm_simd`).
    pub fn wasm_simd(&mut self, on: bool) -> &mut Config {
        self.simd = on;
        self
    }

    /// Relaxed SIMD (on by default); off whenever SIMD is.
    pub fn wasm_relaxed_simd(&mut self, on: bool) -> &mut Config {
        self.relaxed_simd = on;
        self
    }

    /// Bulk memory and table operations (on by default); off, reference
    /// types (and what builds on them) and threads are off too.
    pub fn wasm_bulk_memory(&mut self, on: bool) -> &mut Config {
        self.bulk_memory = on;
        self
    }

    /// Reference types and several tables (on by default); off, function
    /// references, GC and exception handling are off too.
    pub fn wasm_reference_types(&mut self, on: bool) -> &mut Config {
        self.reference_types = on;
        self
    }

    /// Several results and block parameters (on by default).
    pub fn wasm_multi_value(&mut self, on: bool) -> &mut Config {
        self.multi_value = on;
        self
    }

    /// GC (on by default); off whenever function references are.
    pub fn wasm_gc(&mut self, on: bool) -> &mut Config {
        self.gc = on;
        self
    }

    /// Enables exception handling (see [`Config::exceptions`]).
    pub fn wasm_exceptions(&mut self, on: bool) -> &mut Config {
        self.exceptions = on;
        self
    }

    /// Enables the threads proposal (see [`Config::threads`]).
    pub fn wasm_threads(&mut self, on: bool) -> &mut Config {
        self.threads = on;
        self
    }

    /// Enables the wide-arithmetic proposal (see
    /// [`Config::wide_arithmetic`]).
    pub fn wasm_wide_arithmetic(&mut self, on: bool) -> &mut Config {
        self.wide_arithmetic = on;
        self
    }

    /// Enables the custom-page-sizes proposal (see
    /// [`Config::custom_page_sizes`]).
    pub fn wasm_custom_page_sizes(&mut self, on: bool) -> &mut Config {
        self.custom_page_sizes = on;
        self
    }

    /// Enables the custom-descriptors proposal (see
    /// [`Config::custom_descriptors`]).
    pub fn wasm_custom_descriptors(&mut self, on: bool) -> &mut Config {
        self.custom_descriptors = on;
        self
    }

    /// Enables the legacy exception-handling instructions (see
    /// [`Config::legacy_exceptions`]).
    pub fn wasm_legacy_exceptions(&mut self, on: bool) -> &mut Config {
        self.legacy_exceptions = on;
        self
    }

    /// Accepts exactly Wasm 2.0 (SIMD included) and relaxed SIMD: every
    /// Wasm 3.0 proposal above switched off, as the 1.0 and 2.0 spec
    /// suites validate.
    pub fn wasm_2_0_only(&mut self) -> &mut Config {
        self.wasm_multi_memory(false)
            .wasm_tail_call(false)
            .wasm_extended_const(false)
            .wasm_memory64(false)
            .wasm_function_references(false)
            .wasm_exceptions(false)
            .wasm_threads(false)
            .wasm_wide_arithmetic(false)
            .wasm_custom_page_sizes(false)
            .wasm_custom_descriptors(false)
            .wasm_legacy_exceptions(false)
    }

    /// Chooses the attestation policy.
    pub fn attest(&mut self, policy: Policy) -> &mut Config {
        self.attest = policy;
        self
    }

    /// Sets the colour-tag monitor's settings (used under `Policy::Tags`).
    pub fn tags(&mut self, tags: crate::attest::tags::TagConfig) -> &mut Config {
        self.tags = tags;
        self
    }

    /// Runs the tag monitor alongside `coarse` or `fine` (see
    /// [`Config::tags_alongside`]).
    pub fn tags_alongside(&mut self, on: bool) -> &mut Config {
        self.tags_alongside = on;
        self
    }

    /// Whether `coarse` or `fine` walk the module's dlmalloc heap: on,
    /// and not under the tag monitor, whose wrappers own the allocator's
    /// calls and lay out the heap their own way.
    pub(crate) fn walks_heap(&self) -> bool {
        matches!(self.attest, Policy::Coarse | Policy::Fine)
            && self.attest_heap_check
            && self.tag_monitor().is_none()
    }

    /// The tag monitor's settings when it runs (`Policy::Tags`, or
    /// alongside another policy).
    pub fn tag_monitor(&self) -> Option<&crate::attest::tags::TagConfig> {
        let on = match self.attest {
            Policy::Tags => true,
            Policy::Coarse | Policy::Fine => self.tags_alongside,
            Policy::Off => false,
        };
        on.then_some(&self.tags)
    }

    /// Makes attestation synchronous (see [`Config::attest_sync`]).
    pub fn attest_sync(&mut self, on: bool) -> &mut Config {
        self.attest_sync = on;
        self
    }

    /// Allows kernel tracking of written pages under `coarse` and
    /// asynchronous `fine` (see
    /// [`Config::attest_kernel_dirty`]).
    pub fn attest_kernel_dirty(&mut self, on: bool) -> &mut Config {
        self.attest_kernel_dirty = on;
        self
    }

    /// Sets the bytes of GC heap a store may hold (default 1 GiB).
    pub fn max_gc_heap(&mut self, bytes: usize) -> &mut Config {
        self.max_gc_heap = bytes;
        self
    }

    /// Collects at every allocation that needs a new range, ranges one
    /// object long ([`Config::gc_stress`]; default off).
    pub fn gc_stress(&mut self, on: bool) -> &mut Config {
        self.gc_stress = on;
        self
    }

    /// Sets the maximum Wasm stack size in bytes.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.max_wasm_stack = bytes;
        self
    }

    /// Allows asynchronous calls (wasmtime's `async_support`): Wasm called
    /// with `Func::call_async` (or instantiated with
    /// `Linker::instantiate_async`) runs on a stack of its own, so a host
    /// function defined with `Linker::func_wrap_async` may await a future
    /// and Wasm may yield at an epoch deadline
    /// (`Store::epoch_deadline_async_yield_and_update`): the whole call
    /// suspends and its future returns `Pending`. Synchronous calls work
    /// as before; an asynchronous host function reached from one fails.
    pub fn async_support(&mut self, on: bool) -> &mut Config {
        self.async_support = on;
        self
    }

    /// Sets the size of each asynchronous call's stack (default 2 MiB):
    /// at least `max_wasm_stack`, which Wasm may use of it, the rest left
    /// to the host functions it calls.
    pub fn async_stack_size(&mut self, bytes: usize) -> &mut Config {
        self.async_stack_size = bytes;
        self
    }

    /// Counts Wasm's operators against each store's fuel
    /// ([`Config::consume_fuel`]): a store starts with none, so set some
    /// ([`Store::set_fuel`](crate::Store::set_fuel)) before calling Wasm.
    pub fn consume_fuel(&mut self, on: bool) -> &mut Config {
        self.consume_fuel = on;
        self
    }

    /// Lets the embedder stop Wasm by moving the engine's epoch past a
    /// store's deadline ([`Config::epoch_interruption`]): a store's
    /// deadline starts at 0, so set one
    /// ([`Store::set_epoch_deadline`](crate::Store::set_epoch_deadline))
    /// before calling Wasm.
    pub fn epoch_interruption(&mut self, on: bool) -> &mut Config {
        self.epoch_interruption = on;
        self
    }

    /// How hard Cranelift optimises (wasmtime's `cranelift_opt_level`):
    /// `OptLevel::None` compiles fastest, for code that runs briefly.
    pub fn cranelift_opt_level(&mut self, level: walmart_jit::OptLevel) -> &mut Config {
        self.opt_level = level;
        self
    }

    /// Every NaN a float operator makes (scalar or SIMD) is the canonical
    /// one, positive with only the top fraction bit set (wasmtime's
    /// `cranelift_nan_canonicalization`): the spec lets a NaN's sign and
    /// payload vary, and CPUs differ, so embedders that replay or compare
    /// executions (consensus, record and replay) switch this on. Off by
    /// default: Cranelift's pass adds a compare and a select after each
    /// such operator, and float-heavy code runs several times slower
    /// (nbody 7x, matmul 2.5x; wasmtime's the same, `benches/RESULTS.md`).
    pub fn cranelift_nan_canonicalization(&mut self, on: bool) -> &mut Config {
        self.nan_canonicalization = on;
        self
    }

    /// Has Cranelift check its IR as it compiles each function
    /// (wasmtime's `cranelift_debug_verifier`; always on in debug
    /// builds): slower compilation, the same code; a failed check is a
    /// compile error naming the function.
    pub fn cranelift_debug_verifier(&mut self, on: bool) -> &mut Config {
        self.debug_verifier = on;
        self
    }

    /// Whether a trap takes a snapshot of its store (wasmtime's): every
    /// memory's pages that are not all zero (1 GiB at most in all; past it
    /// the dump is partial, as the format allows), every global, the
    /// frames; `Trap::coredump`, and `WasmCoreDump::serialize` writes it
    /// as a Wasm coredump for debuggers. Memories are copied at each trap:
    /// off by default.
    pub fn coredump_on_trap(&mut self, on: bool) -> &mut Config {
        self.coredump_on_trap = on;
        self
    }

    /// Makes compiled code known to native debuggers (wasmtime's switch,
    /// off by default): each module's functions are listed through the
    /// GDB JIT interface as symbols at their addresses, so that gdb (and
    /// lldb with `settings set plugin.jit-loader.gdb.enable on`) names
    /// Wasm frames in backtraces (`wasm[9]::main`) and breaks on them by
    /// name; for a module with DWARF line tables, with each frame's source
    /// line and breakpoints on lines too. Unlike wasmtime's, only the line
    /// tables are carried over (no variables or types). Code compiled
    /// once this is on is listed, whatever engine compiled it, until it
    /// is dropped.
    pub fn debug_info(&mut self, on: bool) -> &mut Config {
        self.debug_info = on;
        self
    }

    /// Writes each Wasm function's Cranelift IR, as translated and before
    /// Cranelift optimises it, into directory `dir` (which must exist) as
    /// it is compiled: `wasm_func_N.clif` (wasmtime's `emit_clif`; an
    /// allocator function the tag monitor wraps is the wrapper, its own
    /// body `wasm_func_N_body.clif`). For reading what walmart generates,
    /// the attestation hooks, barriers and checks a policy weaves in
    /// included; it changes no code, and a module loaded from a cache or
    /// a precompiled file is not compiled, so writes nothing. Files are
    /// named by function index alone: every module an engine so
    /// configured compiles writes over the last one's (give each its own
    /// engine and directory), and files of an earlier, larger module stay.
    pub fn emit_clif(&mut self, dir: impl Into<std::path::PathBuf>) -> &mut Config {
        self.emit_text.clif = Some(dir.into());
        self
    }

    /// Whether a module's functions compile on every core (true, the
    /// default) or one at a time on one other thread (wasmtime's
    /// `parallel_compilation`): for a host that must not give a compile
    /// every core. The code is the same either way.
    pub fn parallel_compilation(&mut self, parallel: bool) -> &mut Config {
        self.parallel_compilation = parallel;
        self
    }

    /// Writes each Wasm function's machine code, as Cranelift prints its
    /// instructions, into directory `dir` as it is compiled:
    /// `wasm_func_N.s` (as [`Config::emit_clif`]).
    pub fn emit_asm(&mut self, dir: impl Into<std::path::PathBuf>) -> &mut Config {
        self.emit_text.asm = Some(dir.into());
        self
    }

    /// How generated code is made known to profilers: `PerfMap` writes
    /// `/tmp/perf-PID.map` for `perf` (for code placed once an engine so
    /// configured exists: the map is the process's).
    pub fn profiler(&mut self, profiler: ProfilingStrategy) -> &mut Config {
        self.profiler = profiler;
        self
    }

    /// Whether traps' backtraces show each frame's file, line and column
    /// from the module's DWARF (`.debug_line`, as `clang -g` leaves it):
    /// `Environment` by default, which reads `WALMART_BACKTRACE_DETAILS`
    /// (`0` turns it off).
    pub fn wasm_backtrace_details(&mut self, details: WasmBacktraceDetails) -> &mut Config {
        self.wasm_backtrace_details = details;
        self
    }

    /// How instances' memories are allocated: on demand (the default), or
    /// from a pool the engine reserves when it is made
    /// ([`crate::PoolingAllocationConfig`]), which makes instantiating and
    /// dropping instances cheaper for embedders that make many. Attested
    /// and shared memories are always made on demand.
    pub fn allocation_strategy(
        &mut self,
        strategy: crate::InstanceAllocationStrategy,
    ) -> &mut Config {
        self.allocation_strategy = strategy;
        self
    }
}

/// The engine's types, canonicalised a recursion group at a time (see
/// `walmart_jit::gc_types`).
#[derive(Default)]
struct Signatures {
    /// A recursion group's canonical form: its first type's id.
    groups: HashMap<Vec<(FuncSig, TypeDef)>, u64>,
    /// Each type's signature (empty but for function types), references
    /// as engine ids.
    sigs: Vec<FuncSig>,
    /// Each type's info record, at an address fixed for the engine's life
    /// (see `walmart_jit::vmctx::GC_TYPE_INFO`): what a GC object's
    /// header points at, and where subtyping is read: `a` is a subtype of
    /// `b` when `b` is at `b`'s depth in `a`'s chain of supertypes.
    infos: Vec<Box<[u64]>>,
    /// Each type's definition, references as engine ids.
    defs: Vec<TypeDef>,
}

impl Signatures {
    fn register(&mut self, group: Vec<(FuncSig, TypeDef)>) -> u64 {
        if let Some(base) = self.groups.get(&group) {
            return *base;
        }
        let base = self.sigs.len() as u64;
        for (i, (sig, def)) in group.iter().enumerate() {
            let def = def.resolve_rec(base);
            let id = base + i as u64;
            let mut chain = match def.supertype {
                Some(HeapTy::Engine(sup, _)) => self.chain(sup).to_vec(),
                _ => Vec::new(),
            };
            chain.push(id);
            let mut info = vec![id, chain.len() as u64 - 1];
            info.extend(&chain);
            info.extend(def.trace_layout());
            self.infos.push(info.into_boxed_slice());
            self.defs.push(def);
            self.sigs.push(sig.resolve_rec(base));
        }
        self.groups.insert(group, base);
        base
    }

    /// Type `id`'s chain of declared supertypes, from the root to itself.
    fn chain(&self, id: u64) -> &[u64] {
        let start = (vmctx::TYPE_INFO_CHAIN / 8) as usize;
        let info = &self.infos[id as usize];
        &info[start..=start + info[1] as usize]
    }

    fn is_subtype(&self, a: u64, b: u64) -> bool {
        let depth = self.chain(b).len() - 1;
        self.chain(a).get(depth) == Some(&b)
    }
}

struct EngineInner {
    config: Config,
    /// [`Engine::fingerprint`], made at its first use (every precompiled
    /// load and cache lookup compares it; the settings never change).
    fingerprint: std::sync::OnceLock<String>,
    /// Attested memories get their written pages from the kernel.
    kernel_dirty: bool,
    compiler: Compiler,
    signatures: Mutex<Signatures>,
    entry_trampolines: Mutex<HashMap<u64, Arc<CodeMemory>>>,
    host_stubs: Mutex<HashMap<u64, Arc<CodeMemory>>>,
    /// The epoch ([`Engine::increment_epoch`]); stores' limits point at
    /// it, so it stays where the `Arc` put it.
    epoch: AtomicU64,
    /// The memory slots, under the pooling allocator.
    memory_pool: Option<Arc<crate::pooling::MemoryPool>>,
    /// Backtraces keep source positions ([`Config::wasm_backtrace_details`],
    /// decided when the engine is made).
    backtrace_details: bool,
    /// Stacks of finished asynchronous calls, for the next.
    fiber_stacks: crate::fiber::StackPool,
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        for code in self
            .entry_trampolines
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .chain(
                self.host_stubs
                    .get_mut()
                    .unwrap_or_else(|e| e.into_inner())
                    .values(),
            )
        {
            code.unregister();
        }
    }
}

/// Compiles modules and owns what they share. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::default()).expect("the host CPU is supported")
    }
}

/// What [`Engine::detect_precompiled`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precompiled {
    /// A module, for [`Module::deserialize`].
    Module,
    /// A component, for [`crate::component::Component::deserialize`].
    Component,
}

impl Engine {
    /// An engine with the given configuration.
    pub fn new(config: &Config) -> Result<Engine> {
        if config.async_support && config.async_stack_size < crate::fiber::MIN_STACK {
            return Err(Error::Usage(format!(
                "async_stack_size ({} bytes) is under {} bytes: an asynchronous call's host \
                 functions and trap handling need that much besides Wasm's",
                config.async_stack_size,
                crate::fiber::MIN_STACK
            )));
        }
        if config.async_support && config.max_wasm_stack > config.async_stack_size {
            return Err(Error::Usage(format!(
                "max_wasm_stack ({} bytes) exceeds async_stack_size ({} bytes): an asynchronous \
                 call's Wasm runs on a stack of that size",
                config.max_wasm_stack, config.async_stack_size
            )));
        }
        // Reference types' element segments are bulk memory's.
        let reference_types = config.reference_types && config.bulk_memory;
        let tags = config.tag_monitor();
        if tags.is_some() && !config.guarded_memory {
            return Err(Error::Usage(
                "the tag monitor (`tags`) needs guarded memory (its shadow sits at a fixed distance \
                 from the memory)"
                    .into(),
            ));
        }
        let kernel_dirty = (config.attest == Policy::Coarse
            || (config.attest == Policy::Fine && !config.attest_sync))
            && config.attest_kernel_dirty
            && crate::attest::kernel_dirty::available();
        let mut compiler = Compiler::new(TranslateConfig {
            attest: AttestCodegen {
                store_barrier: matches!(config.attest, Policy::Coarse | Policy::Fine)
                    && !kernel_dirty,
                function_hooks: config.attest == Policy::Fine,
                barrier_arms: config.attest == Policy::Fine && config.attest_sync,
                heap_floor: config.walks_heap(),
                stack_guards: matches!(config.attest, Policy::Coarse | Policy::Fine)
                    && config.attest_stack_guards,
                allocator_calls: config.attest != Policy::Off,
            },
            guard_size: config
                .guarded_memory
                .then_some(crate::memory::GUARD_SIZE as u64),
            proposals: walmart_jit::module_info::Proposals {
                multi_memory: config.multi_memory,
                tail_call: config.tail_call,
                extended_const: config.extended_const,
                memory64: config.memory64,
                // A proposal switched off takes those built on it along
                // (as `-W function-references=n` always took GC; wasmtime
                // refuses such a configuration instead).
                function_references: config.function_references && reference_types,
                simd: config.simd,
                relaxed_simd: config.relaxed_simd && config.simd,
                bulk_memory: config.bulk_memory,
                reference_types,
                multi_value: config.multi_value,
                gc: config.gc && config.function_references && reference_types,
                exceptions: config.exceptions && reference_types,
                threads: config.threads && config.bulk_memory,
                wide_arithmetic: config.wide_arithmetic,
                custom_page_sizes: config.custom_page_sizes,
                custom_descriptors: config.custom_descriptors,
                legacy_exceptions: config.legacy_exceptions && config.exceptions && reference_types,
            },
            // The tag monitor's wrappers own the allocator calls.
            allocator_events: config.track_allocations && tags.is_none(),
            tags: tags.map(|t| walmart_jit::translate::tags::TagCodegen {
                pointer_colours: t.colours == walmart_attest::TagColours::Pointer,
                check_loads: t.mode != walmart_attest::TagMode::WriteOnly,
                trace_accesses: t.trace_accesses,
                stack_guards: config.attest_stack_guards,
            }),
            consume_fuel: config.consume_fuel,
            fuel_yields: config.consume_fuel && config.async_support,
            epoch_interruption: config.epoch_interruption,
            opt_level: config.opt_level,
            nan_canonicalization: config.nan_canonicalization,
            debug_verifier: config.debug_verifier,
        })?;
        compiler.emit_text(config.emit_text.clone());
        compiler.parallel_compilation(config.parallel_compilation);
        match config.profiler {
            ProfilingStrategy::None => {}
            ProfilingStrategy::PerfMap => walmart_jit::perf_map::enable(),
            ProfilingStrategy::JitDump => walmart_jit::jitdump::enable(),
        }
        if config.debug_info {
            walmart_jit::gdb_jit::enable();
        }
        let memory_pool = match &config.allocation_strategy {
            crate::InstanceAllocationStrategy::OnDemand => None,
            crate::InstanceAllocationStrategy::Pooling(pooling) => Some(Arc::new(
                crate::pooling::MemoryPool::new(pooling, config.guarded_memory)?,
            )),
        };
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config: config.clone(),
                fingerprint: std::sync::OnceLock::new(),
                kernel_dirty,
                compiler,
                signatures: Mutex::default(),
                entry_trampolines: Mutex::default(),
                host_stubs: Mutex::default(),
                epoch: AtomicU64::new(0),
                memory_pool,
                backtrace_details: config.wasm_backtrace_details.enabled(),
                fiber_stacks: Default::default(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether backtraces keep source positions.
    pub(crate) fn backtrace_details(&self) -> bool {
        self.inner.backtrace_details
    }

    /// Stacks for asynchronous calls.
    pub(crate) fn fiber_stacks(&self) -> &crate::fiber::StackPool {
        &self.inner.fiber_stacks
    }

    /// The pooling allocator's memory slots, if the engine pools memories.
    pub(crate) fn memory_pool(&self) -> Option<&Arc<crate::pooling::MemoryPool>> {
        self.inner.memory_pool.as_ref()
    }

    /// The settings the engine compiles with, one a line (`walmart
    /// settings` prints them): the target and its CPU features,
    /// Cranelift's flags, every translation option, and the builds of the
    /// compiler and runtime. A precompiled module loads only into an
    /// engine whose settings are the same.
    pub fn compiler_settings(&self) -> String {
        self.fingerprint().to_string()
    }

    /// What the code this engine's modules are compiled to depends on: the
    /// compiler's fingerprint (`Compiler::fingerprint`: the translator's
    /// build, the CPU, Cranelift's flags, every translation option) and
    /// this build of the runtime's side of the contract with the code. A
    /// precompiled module loads only where it is the same.
    pub(crate) fn fingerprint(&self) -> &str {
        self.inner.fingerprint.get_or_init(|| {
            format!(
                "{}walmart-runtime: {} (sources {})\n",
                self.compiler().fingerprint(),
                env!("CARGO_PKG_VERSION"),
                env!("WALMART_RUNTIME_SOURCE_HASH")
            )
        })
    }

    /// A value whose hash tells apart engines whose precompiled modules do
    /// not load in each other (wasmtime's `precompile_compatibility_hash`):
    /// for keys of an embedder's own cache of `.cwasm`s.
    pub fn precompile_compatibility_hash(&self) -> impl std::hash::Hash {
        self.fingerprint().to_string()
    }

    /// Compiles a module (binary or text) and returns it as
    /// [`Module::serialize`] would: what `walmart compile` writes.
    pub fn precompile_module(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        Module::new(self, bytes)?.serialize()
    }

    /// A component compiled ahead of time: its precompiled form, for
    /// [`crate::component::Component::deserialize`] (wasmtime's
    /// `Engine::precompile_component`).
    pub fn precompile_component(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        crate::component::Component::new(self, bytes)?.serialize()
    }

    /// Whether `bytes` are a precompiled module or component (of any
    /// walmart build or settings; deserializing checks those), rather than
    /// a binary or text.
    pub fn detect_precompiled(&self, bytes: &[u8]) -> Option<Precompiled> {
        if crate::component::is_precompiled_component(bytes) {
            return Some(Precompiled::Component);
        }
        walmart_jit::artifact::is_precompiled(bytes).then_some(Precompiled::Module)
    }

    /// Moves the epoch on by one: Wasm of every store of this engine whose
    /// deadline it reaches stops at its next function entry or loop
    /// header ([`Config::epoch_interruption`]). Cheap, and safe from any
    /// thread (a timer thread's, typically) while Wasm runs.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The current epoch.
    pub fn current_epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Relaxed)
    }

    /// Where the epoch is, for stores' limits.
    pub(crate) fn epoch_counter(&self) -> *const AtomicU64 {
        &self.inner.epoch
    }

    /// How attested memories find the pages generated code writes:
    /// `"kernel"` (userfaultfd write-protection, `coarse` and asynchronous
    /// `fine` where the kernel offers it), `"barrier"` (a store barrier in generated code) or
    /// `"none"` without attestation.
    pub fn attest_dirty_tracking(&self) -> &'static str {
        match (self.inner.config.attest, self.inner.kernel_dirty) {
            (Policy::Off | Policy::Tags, _) => "none",
            (_, true) => "kernel",
            (_, false) => "barrier",
        }
    }

    /// The dirty-page source of this engine's attested memories.
    pub(crate) fn dirty_source(&self) -> crate::attest::session::DirtySource {
        if self.inner.kernel_dirty {
            crate::attest::session::DirtySource::Kernel
        } else {
            crate::attest::session::DirtySource::Barrier
        }
    }

    pub(crate) fn compiler(&self) -> &Compiler {
        &self.inner.compiler
    }

    fn types(&self) -> std::sync::MutexGuard<'_, Signatures> {
        self.inner
            .signatures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The engine-wide id of a signature as a type of its own (a final
    /// function type with no supertype, alone in its recursion group):
    /// equal signatures, equal ids.
    pub(crate) fn signature_id(&self, sig: &FuncSig) -> u64 {
        self.types().register(vec![(sig.clone(), TypeDef::func())])
    }

    /// The engine-wide id of a type alone in its recursion group.
    pub(crate) fn register_type(&self, sig: FuncSig, def: TypeDef) -> u64 {
        self.types().register(vec![(sig, def)])
    }

    /// The address of engine type `id`'s info record.
    pub(crate) fn type_info(&self, id: u64) -> u64 {
        self.types().infos[id as usize].as_ptr() as u64
    }

    /// Engine type `id`'s definition (references as engine ids).
    pub(crate) fn type_def(&self, id: u64) -> TypeDef {
        self.types().defs[id as usize].clone()
    }

    /// The engine-wide ids of a module's types, a recursion group at a
    /// time: two modules' types get the same id exactly when their groups
    /// are the same once canonical.
    pub(crate) fn module_type_ids(&self, info: &ModuleInfo) -> Vec<u64> {
        let mut ids: Vec<u64> = Vec::with_capacity(info.types.len());
        let mut types = self.types();
        for group in &info.rec_groups {
            let key = group
                .clone()
                .map(|t| {
                    let t = t as usize;
                    (
                        info.types[t].canonical(&ids),
                        info.type_defs[t].canonical(&ids),
                    )
                })
                .collect();
            let base = types.register(key);
            ids.extend((0..u64::from(group.end - group.start)).map(|i| base + i));
        }
        ids
    }

    /// Whether engine type `a` is `b` or declares it among its
    /// supertypes.
    pub(crate) fn is_subtype(&self, a: u64, b: u64) -> bool {
        a == b || self.types().is_subtype(a, b)
    }

    /// Whether a value of engine type `have` fits where `want` is asked
    /// for: the type itself, or a subtype unless `exact` (the
    /// custom-descriptors proposal's exact types).
    pub(crate) fn fits(&self, have: u64, want: u64, exact: bool) -> bool {
        have == want || (!exact && self.types().is_subtype(have, want))
    }

    /// The exact reference types of signature `id`'s parameters and
    /// results ([`FuncSig::refs`]: empty where all are `funcref` or
    /// `externref`).
    pub(crate) fn signature_refs(&self, id: u64) -> Vec<walmart_jit::module_info::RefTy> {
        self.types().sigs[id as usize].refs.clone()
    }

    fn signature(&self, id: u64) -> FuncSig {
        self.types().sigs[id as usize].clone()
    }

    fn cached(
        &self,
        cache: &Mutex<HashMap<u64, Arc<CodeMemory>>>,
        id: u64,
        compile: impl FnOnce(&Compiler, &FuncSig) -> Result<Arc<CodeMemory>, walmart_jit::CompileError>,
    ) -> Result<*const u8> {
        let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(code) = map.get(&id) {
            return Ok(code.function_ptr(0));
        }
        let sig = self.signature(id);
        let code = compile(&self.inner.compiler, &sig).map_err(Error::from)?;
        let ptr = code.function_ptr(0);
        map.insert(id, code);
        Ok(ptr)
    }

    /// The entry trampoline (host array convention to Wasm) for signature `id`.
    pub(crate) fn entry_trampoline(&self, id: u64) -> Result<*const u8> {
        self.cached(&self.inner.entry_trampolines, id, |c, s| {
            c.entry_trampoline(s)
        })
    }

    /// The host-call stub (Wasm to host dispatch) for signature `id`.
    pub(crate) fn host_stub(&self, id: u64) -> Result<*const u8> {
        self.cached(&self.inner.host_stubs, id, |c, s| c.host_stub(s))
    }

    /// Whether two handles are the same engine.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }
}
