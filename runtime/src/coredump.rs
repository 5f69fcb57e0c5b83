//! Wasm coredumps (the tool conventions' format, as wasmtime's
//! `Config::coredump_on_trap` writes them): at a trap, the store's linear
//! memories, its instances' globals and the trapping thread's frames,
//! encoded as a Wasm module that debuggers such as wasmgdb read with the
//! module's DWARF.

use std::collections::HashMap;

use wasm_encoder::{
    ConstExpr, CoreDumpInstancesSection, CoreDumpModulesSection, CoreDumpSection,
    CoreDumpStackSection, DataSection, GlobalSection, GlobalType, HeapType, MemorySection,
    MemoryType, RefType, ValType as EncValType,
};

use crate::store::StoreOpaque;
use crate::types::ValType;
use crate::vm::backtrace::Frame;

/// The unit memory is kept in: pages all zero are left out (memory is
/// zero where no data segment says otherwise).
const PAGE: usize = 4096;

/// The most memory bytes one coredump keeps, and the most data segments
/// (wasmparser's limit): past them the dump is partial, as the format
/// allows, rather than the process out of memory at a trap.
const MAX_BYTES: usize = 1 << 30;
const MAX_SEGMENTS: usize = 100_000;

/// A snapshot of a store at a trap ([`crate::Trap::coredump`]).
#[derive(Clone)]
pub struct WasmCoreDump {
    /// Each module's name (`<unknown>` without a name section).
    modules: Vec<String>,
    /// Each instance: its module, memories and globals (indices into
    /// `memories` and `globals`).
    instances: Vec<(u32, Vec<u32>, Vec<u32>)>,
    memories: Vec<CoreMemory>,
    globals: Vec<(ValType, u128)>,
    /// Innermost first: instance, function index, offset in the function's
    /// body.
    frames: Vec<(u32, u32, u32)>,
}

impl std::fmt::Debug for WasmCoreDump {
    /// A summary: a trap's `{:?}` must not print memories.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmCoreDump")
            .field("modules", &self.modules)
            .field("memories", &self.memories.len())
            .field("globals", &self.globals.len())
            .field("frames", &self.frames)
            .finish()
    }
}

#[derive(Clone)]
struct CoreMemory {
    pages: u64,
    memory64: bool,
    page_size_log2: u8,
    /// Its length in bytes.
    len: usize,
    /// The runs of pages not all zero: offset and bytes.
    runs: Vec<(usize, Vec<u8>)>,
}

/// `memory`'s pages that are not all zero, within what `budget` (bytes,
/// and segments) leaves.
fn snapshot(memory: &crate::memory::MemoryData, budget: &mut (usize, usize)) -> CoreMemory {
    // Read once: another thread may grow a shared memory meanwhile.
    let (base, length) = memory.base_len();
    let len = length as usize;
    let mut runs: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut page = [0u8; PAGE];
    let mut at = 0;
    while at < len {
        let n = PAGE.min(len - at);
        // SAFETY: inside the accessible memory, which never shrinks;
        // copied, not borrowed, as other threads may write a shared
        // memory meanwhile (as `Memory::read`).
        unsafe { std::ptr::copy(base.add(at), page.as_mut_ptr(), n) };
        if page[..n].iter().any(|&b| b != 0) {
            if budget.0 < n {
                break;
            }
            budget.0 -= n;
            match runs.last_mut() {
                // Adjacent pages in one segment, up to the budget's size
                // (a segment's length is a u32).
                Some((start, bytes)) if *start + bytes.len() == at => {
                    bytes.extend_from_slice(&page[..n]);
                }
                _ if budget.1 == 0 => break,
                _ => {
                    budget.1 -= 1;
                    runs.push((at, page[..n].to_vec()));
                }
            }
        }
        at += n;
    }
    CoreMemory {
        pages: length >> memory.ty.page_size_log2,
        memory64: memory.ty.memory64,
        page_size_log2: memory.ty.page_size_log2,
        len,
        runs,
    }
}

impl WasmCoreDump {
    /// Takes the snapshot: every memory and global of `store`, and its
    /// instances; `frames` are the trap's.
    pub(crate) fn capture(store: &StoreOpaque, frames: &[Frame]) -> WasmCoreDump {
        let mut budget = (MAX_BYTES, MAX_SEGMENTS);
        let memories: Vec<CoreMemory> = store
            .memories
            .iter()
            .map(|m| snapshot(m, &mut budget))
            .collect();
        let globals = store
            .globals
            .iter()
            .map(|g| (g.ty.content(), u128::from_le_bytes(g.cell.bytes)))
            .collect();
        let mut modules: Vec<String> = Vec::new();
        let mut module_of_code: HashMap<usize, u32> = HashMap::new();
        let mut instances = Vec::new();
        // Frames name code, not instances: a frame is taken to be in the
        // latest instance of its module's code.
        let mut instance_of_code: HashMap<usize, u32> = HashMap::new();
        for (i, inst) in store.instances.iter().enumerate() {
            let code = inst.module.inner.compiled.code.start();
            let module = *module_of_code.entry(code).or_insert_with(|| {
                let name = inst.module.info().name.clone();
                modules.push(name.unwrap_or_else(|| "<unknown>".to_string()));
                modules.len() as u32 - 1
            });
            // The latest instance (as wasmtime): a module instantiated
            // per call traps in its newest.
            instance_of_code.insert(code, i as u32);
            // The store's indices are the coredump's: it lists every
            // memory and global of the store in order.
            let mems = inst.memories.iter().map(|m| m.index).collect();
            let globs = inst.globals.iter().map(|g| g.index).collect();
            instances.push((module, mems, globs));
        }
        let frames = frames
            .iter()
            .filter_map(|f| {
                let instance = *instance_of_code.get(&f.code)?;
                let inst = &store.instances[instance as usize];
                let info = inst.module.info();
                let body = f
                    .func_index
                    .checked_sub(info.num_imported_funcs)
                    .and_then(|d| info.func_bodies.get(d as usize));
                let offset = match (f.wasm_offset, body) {
                    (Some(at), Some(body)) => at.saturating_sub(body.start as u32),
                    _ => 0,
                };
                Some((instance, f.func_index, offset))
            })
            .collect();
        WasmCoreDump {
            modules,
            instances,
            memories,
            globals,
            frames,
        }
    }

    /// The coredump file's bytes: a Wasm module with the tool conventions'
    /// `core`, `coremodules`, `coreinstances` and `corestack` sections,
    /// the memories (as data segments over the pages that are not all
    /// zero) and the globals (as constants; references as nulls).
    /// `name` is the executable's name it records.
    pub fn serialize(&self, name: &str) -> Vec<u8> {
        let mut module = wasm_encoder::Module::new();
        module.section(&CoreDumpSection::new(name));
        let mut modules = CoreDumpModulesSection::new();
        for m in &self.modules {
            modules.module(m);
        }
        module.section(&modules);
        let mut instances = CoreDumpInstancesSection::new();
        for (m, mems, globs) in &self.instances {
            instances.instance(*m, mems.iter().copied(), globs.iter().copied());
        }
        module.section(&instances);
        let mut memories = MemorySection::new();
        for m in &self.memories {
            memories.memory(MemoryType {
                minimum: m.pages,
                maximum: None,
                memory64: m.memory64,
                shared: false,
                page_size_log2: (m.page_size_log2 != 16).then_some(u32::from(m.page_size_log2)),
            });
        }
        module.section(&memories);
        let mut globals = GlobalSection::new();
        for (ty, raw) in &self.globals {
            let (val_type, init) = constant(*ty, *raw);
            globals.global(
                GlobalType {
                    val_type,
                    mutable: false,
                    shared: false,
                },
                &init,
            );
        }
        module.section(&globals);
        let mut data = DataSection::new();
        for (i, m) in self.memories.iter().enumerate() {
            for (start, bytes) in &m.runs {
                let offset = if m.memory64 {
                    ConstExpr::i64_const(*start as i64)
                } else {
                    ConstExpr::i32_const(*start as u32 as i32)
                };
                data.active(i as u32, &offset, bytes.iter().copied());
            }
        }
        module.section(&data);
        let mut stack = CoreDumpStackSection::new("main");
        for &(instance, func, offset) in &self.frames {
            // Locals and the operand stack are not kept by compiled code.
            stack.frame(instance, func, offset, [], []);
        }
        module.section(&stack);
        module.finish()
    }

    /// The trap's frames as the coredump records them, innermost first:
    /// (instance, function index, offset of the instruction in its
    /// function's body).
    pub fn frames(&self) -> &[(u32, u32, u32)] {
        &self.frames
    }

    /// Each memory's bytes at the trap, in the store's order (zeros
    /// where the dump kept no page: see [`Config::coredump_on_trap`]).
    ///
    /// [`Config::coredump_on_trap`]: crate::Config::coredump_on_trap
    pub fn memories(&self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.memories.iter().map(|m| {
            let mut bytes = vec![0; m.len];
            for (start, run) in &m.runs {
                bytes[*start..*start + run.len()].copy_from_slice(run);
            }
            bytes
        })
    }
}

/// A global's type and constant initialiser in the coredump.
fn constant(ty: ValType, raw: u128) -> (EncValType, ConstExpr) {
    match ty {
        ValType::I32 => (EncValType::I32, ConstExpr::i32_const(raw as u32 as i32)),
        ValType::I64 => (EncValType::I64, ConstExpr::i64_const(raw as u64 as i64)),
        ValType::F32 => (
            EncValType::F32,
            ConstExpr::f32_const(wasm_encoder::Ieee32::new(raw as u32)),
        ),
        ValType::F64 => (
            EncValType::F64,
            ConstExpr::f64_const(wasm_encoder::Ieee64::new(raw as u64)),
        ),
        ValType::V128 => (EncValType::V128, ConstExpr::v128_const(raw as i128)),
        // A reference means nothing outside the process: a null of its
        // hierarchy.
        ValType::FuncRef => (
            EncValType::Ref(RefType::FUNCREF),
            ConstExpr::ref_null(HeapType::FUNC),
        ),
        ValType::ExternRef => (
            EncValType::Ref(RefType::EXTERNREF),
            ConstExpr::ref_null(HeapType::EXTERN),
        ),
        ValType::ExnRef => (
            EncValType::Ref(RefType::EXNREF),
            ConstExpr::ref_null(HeapType::Abstract {
                shared: false,
                ty: wasm_encoder::AbstractHeapType::Exn,
            }),
        ),
        ValType::AnyRef => (
            EncValType::Ref(RefType::ANYREF),
            ConstExpr::ref_null(HeapType::ANY),
        ),
    }
}
