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

/// Bytes a data segment covers at most: runs of zero pages between
/// written ones are left out (memory is zero where no segment says).
const PAGE: usize = 4096;

/// A snapshot of a store at a trap ([`crate::Trap::coredump`]).
#[derive(Clone, Debug)]
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

#[derive(Clone)]
struct CoreMemory {
    pages: u64,
    memory64: bool,
    page_size_log2: u8,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for CoreMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreMemory")
            .field("pages", &self.pages)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl WasmCoreDump {
    /// Takes the snapshot: every memory and global of `store`, and its
    /// instances; `frames` are the trap's.
    pub(crate) fn capture(store: &StoreOpaque, frames: &[Frame]) -> WasmCoreDump {
        let memories: Vec<CoreMemory> = store
            .memories
            .iter()
            .map(|m| CoreMemory {
                pages: m.pages(),
                memory64: m.ty.memory64,
                page_size_log2: m.ty.page_size_log2,
                // A copy: for a memory other threads write, what it held
                // as it was read.
                bytes: m.bytes().to_vec(),
            })
            .collect();
        let globals = store
            .globals
            .iter()
            .map(|g| (g.ty.content(), u128::from_le_bytes(g.cell.bytes)))
            .collect();
        let mut modules: Vec<String> = Vec::new();
        let mut module_of_code: HashMap<usize, u32> = HashMap::new();
        let mut instances = Vec::new();
        // The first instance of each module's code: a frame is taken to
        // be in it (frames name code, not instances).
        let mut instance_of_code: HashMap<usize, u32> = HashMap::new();
        for (i, inst) in store.instances.iter().enumerate() {
            let code = inst.module.inner.compiled.code.start();
            let module = *module_of_code.entry(code).or_insert_with(|| {
                let name = inst.module.info().name.clone();
                modules.push(name.unwrap_or_else(|| "<unknown>".to_string()));
                modules.len() as u32 - 1
            });
            instance_of_code.entry(code).or_insert(i as u32);
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
            for run in written_runs(&m.bytes) {
                let offset = if m.memory64 {
                    ConstExpr::i64_const(run.start as i64)
                } else {
                    ConstExpr::i32_const(run.start as u32 as i32)
                };
                data.active(i as u32, &offset, m.bytes[run].iter().copied());
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

    /// Each memory's bytes at the trap, in the store's order.
    pub fn memories(&self) -> impl Iterator<Item = &[u8]> {
        self.memories.iter().map(|m| m.bytes.as_slice())
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

/// The ranges of `bytes` in whole pages (the last one short) that are not
/// all zero, adjacent ones merged.
fn written_runs(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, page) in bytes.chunks(PAGE).enumerate() {
        if page.iter().all(|&b| b == 0) {
            continue;
        }
        let (start, end) = (i * PAGE, i * PAGE + page.len());
        match runs.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => runs.push(start..end),
        }
    }
    runs
}
