//! Instances: building the vmctx, applying segments, running `start`.

use std::collections::HashMap;

use walmart_jit::module_info::{ConstOp, ExportKind, ImportKind, ModuleInfo, SegmentMode};
use walmart_jit::vmctx::{self, VMFuncRef, VMOffsets};

use crate::error::{printable, Error, Result, Trap};
use crate::func::Func;
use crate::global::Global;
use crate::memory::{Memory, MemoryData};
use crate::module::Module;
use crate::store::{AsContextMut, StoreOpaque};
use crate::table::{Table, TableData};
use crate::typed_func::{TypedFunc, WasmList};
use crate::types::{limits_match, GlobalType, MemoryType, TableType};
use crate::values::Extern;
use crate::vm::libcalls;

/// An instance's runtime record; generated code reaches it through the
/// vmctx's `instance` slot (builtins do).
pub(crate) struct InstanceData {
    pub(crate) module: Module,
    pub(crate) vmctx: Box<[u64]>,
    /// The vmctx's layout.
    offsets: VMOffsets,
    /// `VMFuncRef`s of the defined functions a reference may name
    /// (`ModuleInner::func_refs`); the others' funcref slots stay null.
    funcrefs: Box<[VMFuncRef]>,
    /// Handles of the functions, by index: the imports' from the start,
    /// the others' as they are asked for (the vector grows then).
    pub(crate) funcs: Vec<Option<Func>>,
    pub(crate) memories: Vec<Memory>,
    pub(crate) tables: Vec<Table>,
    pub(crate) globals: Vec<Global>,
    /// Exception tags, imported and defined (`tags` is the tag monitor's).
    pub(crate) exception_tags: Vec<crate::Tag>,
    /// Element segments as raw references; `None` once dropped.
    pub(crate) elements: Vec<Option<Vec<u64>>>,
    /// Whether each data segment was dropped.
    pub(crate) data_dropped: Vec<bool>,
    /// The store, for builtins called from generated code.
    pub(crate) store: *mut StoreOpaque,
    pub(crate) handle: Instance,
    /// The tag monitor's view of this instance's heap.
    pub(crate) tags: Option<Box<crate::attest::tags::heap::TagHeap>>,
}

impl InstanceData {
    /// The `VMFuncRef` of function `func` (imported or defined).
    pub(crate) fn func_ref(&self, func: u32) -> *const VMFuncRef {
        self.vmctx[self.offsets.funcref(func) as usize / 8] as usize as *const VMFuncRef
    }

    /// If `ptr` is one of this instance's defined functions, its index.
    pub(crate) fn defined_func_of_ref(&self, ptr: *const VMFuncRef) -> Option<u32> {
        let range = self.funcrefs.as_ptr_range();
        if !range.contains(&ptr) {
            return None;
        }
        // SAFETY: both pointers lie in the same slice.
        let i = unsafe { ptr.offset_from(range.start) } as usize;
        Some(self.module.inner.func_refs[i].0)
    }
}

/// The instance a vmctx belongs to, if `vmctx` is an instance's.
pub(crate) fn instance_of_vmctx(store: &StoreOpaque, vmctx_ptr: *mut u8) -> Option<Instance> {
    if vmctx_ptr.is_null() {
        return None;
    }
    // SAFETY: generated code passes a vmctx or a host context; both start
    // with a magic word.
    let magic = unsafe { *(vmctx_ptr as *const u64) };
    if magic != vmctx::VMCTX_MAGIC {
        return None;
    }
    // SAFETY: an instance vmctx holds its InstanceData pointer here.
    let data = unsafe { *(vmctx_ptr.add(vmctx::INSTANCE as usize) as *const *const InstanceData) };
    // SAFETY: the instance lives in its store as long as its code runs.
    let handle = unsafe { (*data).handle };
    (handle.store == store.id).then_some(handle)
}

/// The instance data and function index behind `func_ref`, when it is a
/// defined function of one of the store's instances.
fn defined_func_of(
    store: &StoreOpaque,
    func_ref: *const VMFuncRef,
) -> Option<(&InstanceData, u32)> {
    // SAFETY: func_ref belongs to the store, which keeps it alive.
    let vmctx_ptr = unsafe { (*func_ref).vmctx };
    let instance = instance_of_vmctx(store, vmctx_ptr)?;
    let data = &store.instances[instance.index as usize];
    Some((data, data.defined_func_of_ref(func_ref)?))
}

/// The attestation hook site of a call through `func_ref`: the function's
/// index and name when it is a function of an instance.
pub(crate) fn hook_site_of(
    store: &StoreOpaque,
    func_ref: *const VMFuncRef,
    kind: walmart_attest::HookKind,
) -> walmart_attest::HookSite {
    let mut site = walmart_attest::HookSite::new(kind);
    let Some((data, index)) = defined_func_of(store, func_ref) else {
        return site;
    };
    let info = data.module.info();
    site.func = Some(index);
    site.name = info.func_names.get(&index).map(str::to_string).or_else(|| {
        info.exports.iter().find_map(|(name, kind)| {
            matches!(kind, walmart_jit::module_info::ExportKind::Func(f) if *f == index)
                .then(|| name.clone())
        })
    });
    site
}

/// Whether `func_ref` is its instance's `_start` export: a WASI command's
/// entry, whose return ends the program.
pub(crate) fn is_command_start(store: &StoreOpaque, func_ref: *const VMFuncRef) -> bool {
    defined_func_of(store, func_ref).is_some_and(|(data, index)| {
        data.module.info().export("_start")
            == Some(walmart_jit::module_info::ExportKind::Func(index))
    })
}

/// An instantiated module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

fn link_error(import: &walmart_jit::module_info::Import, why: &str) -> Error {
    Error::Link(format!(
        "{why}: {}::{}",
        printable(&import.module),
        printable(&import.name)
    ))
}

impl Instance {
    /// Instantiates `module` as an asynchronous call ([`Instance::new`]
    /// on a fiber, as [`crate::Func::call_async`]): its start function
    /// may await asynchronous host functions.
    pub async fn new_async<S>(mut store: S, module: &Module, imports: &[Extern]) -> Result<Instance>
    where
        S: AsContextMut,
        S::Data: Send,
    {
        crate::fiber::on_fiber(store.as_context_mut(), |s| {
            Instance::new(s, module, imports)
        })
        .await
    }

    /// Instantiates `module` with `imports` in order of the module's imports.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        // The whole store's, not its field's: a start function's call
        // hook widens it back to the store.
        let store = store.as_context_mut().opaque_whole();
        // Another store's object is an error here, not the panic its use
        // would be.
        let names = module.info().imports.iter();
        if let Some((import, _)) = names.zip(imports).find(|(_, e)| e.store_id() != store.id) {
            return Err(crate::linker::another_store(&import.module, &import.name));
        }
        instantiate(store, module, imports)
    }

    pub(crate) fn data(self, store: &StoreOpaque) -> &InstanceData {
        store.check(self.store);
        &store.instances[self.index as usize]
    }

    /// The export called `name`.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let store = &mut store.as_context_mut().opaque;
        let data = self.data(store);
        let kind = data.module.info().export(name)?;
        Some(match kind {
            ExportKind::Func(f) => Extern::Func(self.func(store, f)),
            ExportKind::Memory(m) => Extern::Memory(data.memories[m as usize]),
            ExportKind::Table(t) => Extern::Table(data.tables[t as usize]),
            ExportKind::Global(g) => Extern::Global(data.globals[g as usize]),
            ExportKind::Tag(t) => Extern::Tag(data.exception_tags[t as usize]),
        })
    }

    /// Handle of function `func` of this instance.
    pub(crate) fn func(&self, store: &mut StoreOpaque, func: u32) -> Func {
        if let Some(&Some(f)) = self.data(store).funcs.get(func as usize) {
            return f;
        }
        let f = Func::for_instance_func(store, self.index as usize, func);
        let data = &mut store.instances[self.index as usize];
        let count = data.module.info().func_types.len();
        data.funcs.resize(count, None);
        data.funcs[func as usize] = Some(f);
        f
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name`, its type checked against `P -> R`
    /// once for cheap typed calls (wasmtime's `get_typed_func`): an error
    /// names a missing export or the types that differ.
    pub fn get_typed_func<P: WasmList, R: WasmList>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<P, R>> {
        let func = self
            .get_func(&mut store, name)
            .ok_or_else(|| Error::Usage(format!("no exported function `{}`", printable(name))))?;
        func.typed(&store)
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }

    /// The exported tag `name`.
    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<crate::Tag> {
        self.get_export(store, name)?.into_tag()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// Names of all exports.
    pub fn exports(&self, store: &impl crate::store::AsContext) -> Vec<String> {
        self.data(&store.as_context().opaque)
            .module
            .info()
            .exports
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Evaluates a constant expression to a raw value; an error only when a
/// GC object it makes does not fit the store's GC heap.
fn eval_const(store: &mut StoreOpaque, data: &InstanceData, expr: &[ConstOp]) -> Result<u128> {
    // Nearly every expression is one operand (element segments can hold
    // thousands): no stack for those.
    if let [op] = expr {
        if !op_allocates(op) {
            return Ok(eval_operand(store, data, *op));
        }
    }
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    for op in expr {
        let v = match *op {
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop().unwrap_or(0) as u32;
                let a = stack.pop().unwrap_or(0) as u32;
                (match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u128
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop().unwrap_or(0) as u64;
                let a = stack.pop().unwrap_or(0) as u64;
                (match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u128
            }
            ConstOp::RefI31 => {
                let x = stack.pop().unwrap_or(0) as u32;
                u128::from((x << 1) | 1)
            }
            ConstOp::ConvertRef => {
                let x = stack.pop().unwrap_or(0) as u64;
                u128::from(crate::any_ref::convert(x))
            }
            ConstOp::StructNew(ty)
            | ConstOp::StructNewDefault(ty)
            | ConstOp::StructNewDesc(ty)
            | ConstOp::StructNewDefaultDesc(ty)
            | ConstOp::ArrayNew(ty)
            | ConstOp::ArrayNewDefault(ty)
            | ConstOp::ArrayNewFixed(ty, _) => {
                let info = data.module.inner.type_infos[ty as usize];
                let def = &data.module.info().type_defs[ty as usize];
                crate::gc::const_object(store, info, def, *op, &mut stack)? as u128
            }
            operand => eval_operand(store, data, operand),
        };
        stack.push(v);
    }
    Ok(stack.pop().unwrap_or(0))
}

/// Evaluates an element segment's references into `items` (emptied
/// first).
fn segment_items(
    store: &mut StoreOpaque,
    inst: &InstanceData,
    seg: &walmart_jit::module_info::ElemSegment,
    items: &mut Vec<u64>,
) -> Result<()> {
    items.clear();
    items.reserve(seg.items.len());
    for e in &seg.items {
        let item = match e.as_slice() {
            // Nearly every item of a C program's table.
            [ConstOp::RefFunc(f)] => inst.func_ref(*f) as u64,
            _ => eval_const(store, inst, e)? as u64,
        };
        items.push(item);
    }
    Ok(())
}

/// Whether any of the module's constant expressions (globals', tables'
/// and element segments') makes a GC object.
fn constants_allocate(info: &ModuleInfo) -> bool {
    let allocates = |expr: &Vec<ConstOp>| expr.iter().any(op_allocates);
    info.global_inits.iter().any(allocates)
        || info.table_inits.iter().flatten().any(allocates)
        || info
            .elements
            .iter()
            .any(|seg| seg.items.iter().any(allocates))
}

/// Whether a constant operator makes a GC object.
fn op_allocates(op: &ConstOp) -> bool {
    matches!(
        op,
        ConstOp::StructNew(_)
            | ConstOp::StructNewDefault(_)
            | ConstOp::StructNewDesc(_)
            | ConstOp::StructNewDefaultDesc(_)
            | ConstOp::ArrayNew(_)
            | ConstOp::ArrayNewDefault(_)
            | ConstOp::ArrayNewFixed(..)
    )
}

/// The value of a constant operand (not an arithmetic operator).
fn eval_operand(store: &StoreOpaque, data: &InstanceData, op: ConstOp) -> u128 {
    match op {
        ConstOp::I32(v) => v as u32 as u128,
        ConstOp::I64(v) => v as u64 as u128,
        ConstOp::F32(v) => v as u128,
        ConstOp::F64(v) => v as u128,
        ConstOp::V128(v) => v,
        ConstOp::RefNull => 0,
        ConstOp::RefFunc(f) => data.func_ref(f) as usize as u128,
        ConstOp::GlobalGet(g) => {
            u128::from_le_bytes(data.globals[g as usize].data_in(store).cell.bytes)
        }
        // Operators need operands: a lone one is not a valid expression.
        _ => 0,
    }
}

fn check_imports(store: &StoreOpaque, module: &Module, imports: &[Extern]) -> Result<()> {
    let info = module.info();
    if imports.len() != info.imports.len() {
        return Err(Error::Link(format!(
            "module needs {} imports, {} given",
            info.imports.len(),
            imports.len()
        )));
    }
    for (import, ext) in info.imports.iter().zip(imports) {
        let ok = match (&import.kind, ext) {
            (ImportKind::Func(t, exact), Extern::Func(f)) => {
                // Type ids are engine-wide, so equal ids mean equal types;
                // a function of a declared subtype links too, unless the
                // import asks for exactly its type.
                let ptr = f.vm_func_ref(store)?;
                // SAFETY: funcrefs of a store's functions live as long as the store.
                let have = unsafe { (*ptr).type_id };
                let want = module.inner.type_ids[*t as usize];
                module.engine().fits(have, want, *exact)
            }
            (ImportKind::Memory(plan), Extern::Memory(m)) => {
                let have = m.data_in(store);
                let want = MemoryType::from_plan(plan);
                have.ty.memory64 == want.memory64
                    && have.ty.shared == want.shared
                    && have.ty.page_size_log2 == want.page_size_log2
                    && limits_match((have.pages(), have.ty.max), (want.min, want.max))
            }
            (ImportKind::Table(plan), Extern::Table(t)) => {
                let have = t.data_in(store);
                let want = TableType::from_plan(plan, &module.inner.type_ids);
                have.ty.element == want.element
                    && have.ty.exact == want.exact
                    && have.ty.table64 == want.table64
                    && limits_match(
                        (have.elements().len() as u64, have.ty.max),
                        (want.min, want.max),
                    )
            }
            (ImportKind::Global(plan), Extern::Global(g)) => {
                let want = GlobalType::from_plan(plan, &module.inner.type_ids);
                g.data_in(store).ty.matches(&want, module.engine())
            }
            (ImportKind::Tag(t), Extern::Tag(tag)) => {
                store.check(tag.store);
                tag.data_in(store).def.type_id == module.inner.type_ids[*t as usize]
            }
            _ => false,
        };
        if !ok {
            return Err(link_error(import, "incompatible import type"));
        }
    }
    Ok(())
}

pub(crate) fn instantiate(
    store: &mut StoreOpaque,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance> {
    if !crate::Engine::same(&store.engine, module.engine()) {
        return Err(Error::Usage(
            "module and store belong to different engines".into(),
        ));
    }
    check_imports(store, module, imports)?;
    let info = module.info();
    store.check_counts(
        info.memories.len() - info.num_imported_memories as usize,
        info.tables.len() - info.num_imported_tables as usize,
    )?;
    // Constant expressions allocate without collecting (their operands are
    // held where the collector does not look), so a heap the store has
    // filled is collected before they run.
    if store.gc_heap.bytes > 0 && constants_allocate(info) {
        crate::gc::collect(store, crate::gc::ScanFrom::Here);
    }
    // The monitor's stack guards are cleared as each frame returns through
    // its epilogue, which an exception unwinding the frame skips: the
    // guards left behind would be reported as the stack is reused.
    // (An exception never unwinds a module that uses none: it traps.)
    if store.engine.config().tag_monitor().is_some() && module.inner.compiled.handles_exceptions {
        let name = info.name.as_deref().unwrap_or("the module");
        return Err(Error::Usage(format!(
            "`--attest tags` does not watch modules that use exception handling, and {} \
             does (tags, try_table, throw_ref or the legacy try and rethrow)",
            printable(name)
        )));
    }
    store.ensure_attest()?;
    // Its data segments may land on pages the last call wrote.
    crate::attest::session::settle_exit(store);
    let offsets = VMOffsets::new(info);
    let handle = Instance {
        store: store.id,
        index: store.instances.len() as u32,
    };
    let mut data = Box::new(InstanceData {
        module: module.clone(),
        vmctx: vec![0u64; offsets.size() / 8].into_boxed_slice(),
        offsets,
        // Filled below, once the vmctx address is known.
        funcrefs: Box::default(),
        funcs: vec![None; info.num_imported_funcs as usize],
        memories: Vec::new(),
        tables: Vec::new(),
        globals: Vec::new(),
        exception_tags: Vec::new(),
        elements: Vec::new(),
        data_dropped: vec![false; info.data.len()],
        store: store as *mut StoreOpaque,
        handle,
        tags: None,
    });
    let vmctx_ptr = data.vmctx.as_mut_ptr() as *mut u8;
    let slot = |data: &mut InstanceData, offset: i32, value: u64| {
        data.vmctx[offset as usize / 8] = value;
    };
    slot(&mut data, 0, vmctx::VMCTX_MAGIC);
    slot(
        &mut data,
        vmctx::RUNTIME_LIMITS,
        &*store.limits as *const _ as u64,
    );
    slot(&mut data, vmctx::BUILTINS, libcalls::table() as u64);
    let data_ptr: *const InstanceData = &*data;
    slot(&mut data, vmctx::INSTANCE, data_ptr as u64);
    if let Some(session) = &store.attest {
        slot(&mut data, vmctx::ATTEST, session.state_ptr() as u64);
    }

    // Functions: imports first, then this instance's own code.
    let mut imports_iter = imports.iter();
    let mut func_idx = 0u32;
    for import in &info.imports {
        let ext = *imports_iter.next().expect("checked count");
        match (&import.kind, ext) {
            (ImportKind::Func(..), Extern::Func(f)) => {
                let idx = func_idx;
                func_idx += 1;
                let ptr = f.vm_func_ref(store)?;
                slot(&mut data, offsets.funcref(idx), ptr as u64);
                data.funcs[idx as usize] = Some(f);
            }
            (ImportKind::Memory(_), Extern::Memory(m)) => {
                let ptr = m.data_in(store).vm_ptr() as u64;
                let i = data.memories.len() as u32;
                slot(&mut data, offsets.memory(i), ptr);
                data.memories.push(m);
            }
            (ImportKind::Table(_), Extern::Table(t)) => {
                let ptr = &t.data_in(store).def as *const _ as u64;
                let i = data.tables.len() as u32;
                slot(&mut data, offsets.table(i), ptr);
                data.tables.push(t);
            }
            (ImportKind::Global(_), Extern::Global(g)) => {
                let ptr = &g.data_in(store).cell as *const _ as u64;
                let i = data.globals.len() as u32;
                slot(&mut data, offsets.global(i), ptr);
                data.globals.push(g);
            }
            (ImportKind::Tag(_), Extern::Tag(t)) => {
                let i = data.exception_tags.len() as u32;
                slot(&mut data, offsets.tag(i), t.vm_tag(store) as u64);
                data.exception_tags.push(t);
            }
            _ => unreachable!("checked by check_imports"),
        }
    }
    data.funcrefs = module
        .inner
        .func_refs
        .iter()
        .map(|&(_, code, type_id)| VMFuncRef {
            code: code as *const u8,
            vmctx: vmctx_ptr,
            type_id,
        })
        .collect();
    let InstanceData {
        vmctx, funcrefs, ..
    } = &mut *data;
    for (&(f, ..), func_ref) in module.inner.func_refs.iter().zip(funcrefs.iter()) {
        vmctx[offsets.funcref(f) as usize / 8] = func_ref as *const VMFuncRef as u64;
    }
    // The engine's constants of the module's types, which the code loads
    // (`VMOffsets::type_id`).
    let types = module.inner.type_ids.iter().zip(&module.inner.type_infos);
    for (i, (id, info)) in types.enumerate() {
        slot(&mut data, offsets.type_id(i as u32), *id);
        slot(&mut data, offsets.type_info(i as u32), *info);
    }
    let memories_before = store.memories.len();
    for (i, plan) in info.memories[info.num_imported_memories as usize..]
        .iter()
        .enumerate()
    {
        let ty = MemoryType::from_plan(plan);
        // A pooled slot that still holds the module's image needs it not
        // mapped again (the image is always memory 0's).
        let image = module.inner.memory_image.as_ref().filter(|_| i == 0);
        let made = store.memory_may_be_made(&ty).and_then(|()| {
            MemoryData::new(
                ty,
                store.engine.config().guarded_memory,
                store.memory_source(),
                store.engine.config().tag_monitor(),
                store.engine.memory_pool().map(|p| (p, image)),
            )
        });
        let made = match made {
            Ok(made) => made,
            Err(e) => {
                // Nothing can reach this instantiation's memories yet:
                // they go now (a pooled one's slot back to the engine's
                // pool, which other stores share), not with the store.
                store.memories.truncate(memories_before);
                return Err(e);
            }
        };
        let mem = Memory::push(store, made);
        let ptr = mem.data_in(store).vm_ptr() as u64;
        let i = data.memories.len() as u32;
        slot(&mut data, offsets.memory(i), ptr);
        data.memories.push(mem);
    }
    let (tables_before, globals_before, tags_before) =
        (store.tables.len(), store.globals.len(), store.tags.len());
    // Until the instance is in the store nothing can reach what it made:
    // a failure takes its memories (a pooled one's slot back to the
    // engine's pool, which other stores share), tables, globals (and the
    // objects they hold) and tags with it, not with the store.
    let built = (|| -> Result<()> {
        if let (Some(config), Some(plan)) = (
            store.engine.config().tag_monitor(),
            module.inner.compiled.tag_plan.as_ref(),
        ) {
            let shadow = data
                .memories
                .first()
                .and_then(|m| m.data_in(store).shadow.as_ref().map(|s| s.view()));
            let name = match info.name.as_deref() {
                Some(n) => format!("module `{n}`"),
                None => "the module".to_string(),
            };
            let traced = store.tag_trace.is_some();
            let memory64 = data
                .memories
                .first()
                .is_some_and(|m| m.data_in(store).ty.memory64);
            data.tags = crate::attest::tags::instance_heap(
                config, plan, shadow, &name, info, traced, memory64,
            )?;
        }
        for (plan, init) in info.tables[info.num_imported_tables as usize..]
            .iter()
            .zip(&info.table_inits)
        {
            // Null, or the element the module gives (a table of a
            // non-nullable type must have one).
            let init = init
                .as_ref()
                .map_or(Ok(0), |e| eval_const(store, &data, e))? as u64;
            let ty = TableType::from_plan(plan, &module.inner.type_ids);
            store.table_may_be_made(&ty)?;
            let table = Table::push(store, TableData::new(ty, init)?);
            let ptr = &table.data_in(store).def as *const _ as u64;
            let i = data.tables.len() as u32;
            slot(&mut data, offsets.table(i), ptr);
            data.tables.push(table);
        }
        for &ty in &info.tags[info.num_imported_tags as usize..] {
            let tag_ty = crate::module::tag_type(info, ty);
            let tag = crate::Tag::push(store, tag_ty, module.inner.type_ids[ty as usize]);
            let i = data.exception_tags.len() as u32;
            slot(&mut data, offsets.tag(i), tag.vm_tag(store) as u64);
            data.exception_tags.push(tag);
        }
        for (plan, init) in info.globals[info.num_imported_globals as usize..]
            .iter()
            .zip(&info.global_inits)
        {
            let raw = eval_const(store, &data, init)?;
            let ty = GlobalType::from_plan(plan, &module.inner.type_ids);
            let g = Global::push(store, ty, raw);
            let ptr = &g.data_in(store).cell as *const _ as u64;
            let i = data.globals.len() as u32;
            slot(&mut data, offsets.global(i), ptr);
            data.globals.push(g);
        }
        // Passive segments' references are kept for `table.init`, and
        // active segments that make GC objects are evaluated before any
        // segment is applied, as the spec orders it. Other active segments'
        // items have no effect but their values, so they are evaluated as
        // they are applied, without a vector of their own; declared segments'
        // are never needed.
        data.elements = info
            .elements
            .iter()
            .map(|seg| {
                let now = match seg.mode {
                    SegmentMode::Passive => true,
                    SegmentMode::Active { .. } => seg.items.iter().flatten().any(op_allocates),
                    SegmentMode::Declared => false,
                };
                if !now {
                    return Ok(None);
                }
                let mut items = Vec::new();
                segment_items(store, &data, seg, &mut items)?;
                Ok(Some(items))
            })
            .collect::<Result<_>>()?;

        // Without bulk memory (Wasm 1.0's rules), a segment that does
        // not fit fails the link before any is applied: nothing is
        // written.
        if !store.engine.compiler().config().proposals.bulk_memory {
            check_segments_fit(store, &data, info)?;
        }
        Ok(())
    })();
    if let Err(e) = built {
        store.memories.truncate(memories_before);
        store.tables.truncate(tables_before);
        store.globals.truncate(globals_before);
        store.tags.truncate(tags_before);
        return Err(e);
    }

    // From here on the instance is in the store: segments applied before a
    // failure stay applied (and may point at this instance's functions).
    store.instances.push(data);
    let inst = store.instances.last_mut().expect("just pushed");
    let inst_ptr: *mut InstanceData = &mut **inst;
    // One vector for the references of every active segment in turn.
    let mut items = Vec::new();
    for (i, seg) in info.elements.iter().enumerate() {
        if let SegmentMode::Active { index, offset } = &seg.mode {
            // SAFETY: the instance is boxed in the store and not otherwise borrowed.
            let inst = unsafe { &mut *inst_ptr };
            // A 64-bit table's offset past `u32::MAX` is out of bounds
            // as `u32::MAX` is.
            let dst = u32::try_from(eval_const(store, inst, offset)? as u64).unwrap_or(u32::MAX);
            if inst.elements[i].is_none() {
                segment_items(store, inst, seg, &mut items)?;
                inst.elements[i] = Some(std::mem::take(&mut items));
            }
            let len = seg.items.len() as u32;
            if let Err(k) = libcalls::table_init(store, inst, *index, i as u32, dst, 0, len) {
                // As the spec has it, this segment and the later ones
                // keep their references (the failed instance's functions
                // may be reachable through a shared table); the later
                // ones were not evaluated yet.
                for (j, later) in info.elements.iter().enumerate().skip(i + 1) {
                    if matches!(later.mode, SegmentMode::Active { .. })
                        && inst.elements[j].is_none()
                    {
                        let mut refs = Vec::new();
                        segment_items(store, inst, later, &mut refs)?;
                        inst.elements[j] = Some(refs);
                    }
                }
                return Err(Error::Trap(Trap::new(k, Vec::new())));
            }
            // An active segment is dropped once applied; its vector is
            // reused for the next.
            if let Some(taken) = inst.elements[i].take() {
                items = taken;
            }
        }
    }
    // A copy-on-write image holds every active segment already (it exists
    // only when all of them target this instance's own memory 0 in bounds).
    let imaged = match &module.inner.memory_image {
        Some(image) => {
            // SAFETY: as above.
            let memory = unsafe { &*inst_ptr }.memories[0].data_in(store);
            memory.start_with_image(image)?
        }
        None => false,
    };
    // An attested memory that took the image: its pages are the image's
    // until written, digested once per module (`MemoryAttest::start_pristine`).
    // Only where the kernel tracks writes: it sees every write, where the
    // store barrier misses an embedder's through `Memory::data_mut`
    // before the first call (the page must then be read, as before).
    // Not while a dataset collector follows the hooks (it is handed the
    // pages instantiation wrote as dirty pages).
    let collecting = store.attest.as_ref().is_some_and(|s| s.collector.is_some());
    let pristine = match &module.inner.memory_image {
        Some(image) if imaged && !collecting => {
            // SAFETY: as above.
            let memory = unsafe { &*inst_ptr }.memories[0].data_in(store);
            // (The image's pages are made only for an attested memory.)
            let kernel = memory
                .attest
                .as_ref()
                .filter(|a| a.source == crate::attest::session::DirtySource::Kernel);
            match kernel.map(|a| (a, image.attest_pages(info))) {
                Some((a, Some(pages))) => {
                    a.start_pristine(pages);
                    true
                }
                _ => false,
            }
        }
        _ => false,
    };
    // The pages the segments write in memories this instance created, for
    // `MemoryAttest::initialized` (each once, however many segments share
    // it). Only attested memories need them (a large segment spans
    // hundreds of pages).
    // SAFETY: as above.
    let attested = !pristine
        && unsafe { &*inst_ptr }.memories[info.num_imported_memories as usize..]
            .iter()
            .any(|m| m.data_in(store).attest.is_some());
    let mut touched = std::collections::BTreeSet::new();
    for (i, seg) in info.data.iter().enumerate() {
        if let SegmentMode::Active { index, offset } = &seg.mode {
            // SAFETY: as above.
            let inst = unsafe { &mut *inst_ptr };
            let dst = eval_const(store, inst, offset)? as u64;
            let len = (seg.bytes.end - seg.bytes.start) as u32;
            if attested && *index >= info.num_imported_memories && len > 0 {
                let page = walmart_attest::PAGE_SIZE as u64;
                // Saturated: a 64-bit memory's offset near 2^64 traps below.
                let end = dst.saturating_add(u64::from(len)).div_ceil(page);
                touched.extend((dst / page..end).map(|p| (*index, p as usize)));
            }
            if imaged {
                // Written by instantiation, like a copied segment (unless
                // attestation takes the pages from the image).
                if !pristine {
                    inst.memories[0]
                        .data_in(store)
                        .mark_dirty(dst as usize, len as usize);
                }
                inst.data_dropped[i] = true;
                continue;
            }
            libcalls::memory_init(store, inst, *index, i as u32, dst, 0, len)
                .map_err(|k| Error::Trap(Trap::new(k, Vec::new())))?;
            inst.data_dropped[i] = true;
        }
    }
    // The segments' pages of memories this instance created are the
    // module file's contents, not anything it ran: not for the CNN to
    // judge. An imported memory's pages may hold what another instance
    // wrote, and stay dirty pages.
    for (index, page) in touched {
        // SAFETY: as above.
        let inst = unsafe { &mut *inst_ptr };
        let (bytes, attest) = inst.memories[index as usize]
            .data_in_mut(store)
            .bytes_and_attest();
        if let Some(attest) = attest {
            attest.initialized(bytes, page);
        }
    }
    if let Some(start) = info.start {
        let f = handle.func(store, start);
        f.call(StoreMut(store), &[], &mut [])?;
    }
    Ok(handle)
}

/// Wasm 1.0's instantiation check: every active element segment within
/// its table and every active data segment within its memory, or a link
/// error naming the first that is not (elements first, as 1.0 orders it).
fn check_segments_fit(
    store: &mut StoreOpaque,
    data: &InstanceData,
    info: &ModuleInfo,
) -> Result<()> {
    for seg in &info.elements {
        if let SegmentMode::Active { index, offset } = &seg.mode {
            let at = eval_const(store, data, offset)? as u64;
            let size = data.tables[*index as usize].data_in(store).elements().len() as u64;
            if at
                .checked_add(seg.items.len() as u64)
                .is_none_or(|end| end > size)
            {
                return Err(Error::Link("elements segment does not fit".into()));
            }
        }
    }
    for seg in &info.data {
        if let SegmentMode::Active { index, offset } = &seg.mode {
            let at = eval_const(store, data, offset)? as u64;
            let (_, length) = data.memories[*index as usize].data_in(store).base_len();
            let len = (seg.bytes.end - seg.bytes.start) as u64;
            if at.checked_add(len).is_none_or(|end| end > length) {
                return Err(Error::Link("data segment does not fit".into()));
            }
        }
    }
    Ok(())
}

/// Lets internal code call API functions with a `&mut StoreOpaque`.
pub(crate) struct StoreMut<'a>(pub(crate) &'a mut StoreOpaque);

impl crate::store::AsContext for StoreMut<'_> {
    type Data = ();
    fn as_context(&self) -> &crate::store::StoreInner<()> {
        // SAFETY: StoreInner is repr(C) with `opaque` first and () after it,
        // and API functions taking a context only touch `opaque`.
        unsafe { &*(self.0 as *const StoreOpaque as *const crate::store::StoreInner<()>) }
    }
}

impl AsContextMut for StoreMut<'_> {
    fn as_context_mut(&mut self) -> &mut crate::store::StoreInner<()> {
        // SAFETY: as above.
        unsafe { &mut *(self.0 as *mut StoreOpaque as *mut crate::store::StoreInner<()>) }
    }
}

/// Exports of an instance by name, for the linker.
pub(crate) fn export_map(store: &mut StoreOpaque, instance: Instance) -> HashMap<String, Extern> {
    let names: Vec<String> = instance
        .data(store)
        .module
        .info()
        .exports
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    names
        .into_iter()
        .filter_map(|n| {
            let e = instance.get_export(StoreMut(store), &n)?;
            Some((n, e))
        })
        .collect()
}
