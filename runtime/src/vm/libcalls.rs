//! Builtins: the runtime functions generated code calls through the vmctx
//! (`memory.grow`, bulk memory, table operations). Each returns a status
//! instead of unwinding; the generated code traps on failure.

use walmart_jit::vmctx::{self, Builtin};
use walmart_jit::TrapKind;

use crate::gc::{ScanFrom, SegmentTarget};
use crate::instance::InstanceData;
use crate::store::StoreOpaque;

/// Recovers the instance and store from a vmctx.
///
/// # Safety
/// `vmctx` must be a live instance vmctx.
unsafe fn context<'a>(vmctx: *mut u8) -> (&'a mut StoreOpaque, &'a mut InstanceData) {
    // SAFETY: per the contract the INSTANCE slot holds the InstanceData,
    // which holds its store; generated code is the only user while it runs.
    unsafe {
        let inst = *(vmctx.add(vmctx::INSTANCE as usize) as *mut *mut InstanceData);
        (&mut *(*inst).store, &mut *inst)
    }
}

extern "C" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let m = inst.memories[mem as usize];
    let grown = store.grow_memory(m, delta);
    if let (crate::limits::Grown::From(old), true) = (&grown, store.attest.is_some()) {
        // A handle of its own: `inst` lives in the store's instances,
        // which `note_grow` reads.
        let module = inst.module.clone();
        crate::attest::heap_walk::note_grow(store, module, m, *old, delta);
    }
    grown.builtin(|old| old, u64::MAX, vmctx::MEMORY_GROW_FAILED)
}

/// The range `[start, start + len)` if it fits in `size`.
pub(crate) fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size as u64).then_some(start as usize..end as usize)
}

extern "C" fn memory_fill(vmctx: *mut u8, mem: u32, dst: u64, val: u32, len: u64) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let data = inst.memories[mem as usize].data_in(store);
    let (base, length) = data.base_len();
    match range(dst, len, length as usize) {
        Some(r) => {
            // SAFETY: inside the accessible memory; written through a raw
            // pointer, as other threads may use a shared memory meanwhile.
            unsafe { std::ptr::write_bytes(base.add(r.start), val as u8, r.len()) };
            data.mark_dirty(dst as usize, len as usize);
            0
        }
        None => 1,
    }
}

extern "C" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let d = inst.memories[dst_mem as usize].data_in(store);
    let (sp, src_len) = inst.memories[src_mem as usize].data_in(store).base_len();
    let (dp, dst_len) = d.base_len();
    let (Some(sr), Some(dr)) = (
        range(src, len, src_len as usize),
        range(dst, len, dst_len as usize),
    ) else {
        return 1;
    };
    // SAFETY: both ranges checked; `copy` allows overlap (one memory, or
    // two handles on one shared memory), and raw pointers let other
    // threads use a shared memory meanwhile.
    unsafe { std::ptr::copy(sp.add(sr.start), dp.add(dr.start), len as usize) };
    d.mark_dirty(dst as usize, len as usize);
    0
}

/// `memory.init`: copies from data segment `data` (empty once dropped).
pub(crate) fn memory_init(
    store: &mut StoreOpaque,
    inst: &mut InstanceData,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> Result<(), TrapKind> {
    let seg = &inst.module.info().data[data as usize];
    let seg_bytes: &[u8] = if inst.data_dropped[data as usize] {
        &[]
    } else {
        &inst.module.inner.wasm[seg.bytes.clone()]
    };
    let data = inst.memories[mem as usize].data_in_mut(store);
    let (Some(sr), Some(dr)) = (
        range(src.into(), len.into(), seg_bytes.len()),
        range(dst, len.into(), data.base_len().1 as usize),
    ) else {
        return Err(TrapKind::MemoryOutOfBounds);
    };
    // As walmart's own write: instantiation may initialise a memory that
    // is write-protected against the host (imported, between calls).
    data.write(dr.start, &seg_bytes[sr]);
    Ok(())
}

extern "C" fn memory_init_builtin(
    vmctx: *mut u8,
    mem: u32,
    data: u32,
    dst: u64,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    memory_init(store, inst, mem, data, dst, src, len).is_err() as u32
}

extern "C" fn data_drop(vmctx: *mut u8, data: u32) {
    // SAFETY: called by generated code with its own vmctx.
    let (_, inst) = unsafe { context(vmctx) };
    inst.data_dropped[data as usize] = true;
}

extern "C" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u32) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let t = inst.tables[table as usize];
    store.grow_table(t, delta.into(), init).builtin(
        |old| old as u32,
        u32::MAX,
        vmctx::TABLE_GROW_FAILED,
    )
}

extern "C" fn table_fill(vmctx: *mut u8, table: u32, dst: u32, val: u64, len: u32) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let elems = inst.tables[table as usize]
        .data_in_mut(store)
        .elements_mut();
    match range(dst.into(), len.into(), elems.len()) {
        Some(r) => {
            elems[r].fill(val);
            0
        }
        None => 1,
    }
}

extern "C" fn table_copy(
    vmctx: *mut u8,
    dst_t: u32,
    src_t: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let d = inst.tables[dst_t as usize];
    let s = inst.tables[src_t as usize];
    let src_len = s.data_in(store).elements().len();
    let dst_len = d.data_in(store).elements().len();
    let (Some(sr), Some(dr)) = (
        range(src.into(), len.into(), src_len),
        range(dst.into(), len.into(), dst_len),
    ) else {
        return 1;
    };
    if d == s {
        d.data_in_mut(store)
            .elements_mut()
            .copy_within(sr, dr.start);
    } else {
        let tmp: Vec<u64> = s.data_in(store).elements()[sr].to_vec();
        d.data_in_mut(store).elements_mut()[dr].copy_from_slice(&tmp);
    }
    0
}

/// `table.init`: copies from element segment `elem` (empty once dropped).
pub(crate) fn table_init(
    store: &mut StoreOpaque,
    inst: &mut InstanceData,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> Result<(), TrapKind> {
    let seg: &[u64] = inst.elements[elem as usize].as_deref().unwrap_or(&[]);
    let t = inst.tables[table as usize];
    let elems = t.data_in_mut(store).elements_mut();
    let (Some(sr), Some(dr)) = (
        range(src.into(), len.into(), seg.len()),
        range(dst.into(), len.into(), elems.len()),
    ) else {
        return Err(TrapKind::TableOutOfBounds);
    };
    elems[dr].copy_from_slice(&seg[sr]);
    Ok(())
}

extern "C" fn table_init_builtin(
    vmctx: *mut u8,
    table: u32,
    elem: u32,
    dst: u32,
    src: u32,
    len: u32,
) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    table_init(store, inst, table, elem, dst, src, len).is_err() as u32
}

extern "C" fn elem_drop(vmctx: *mut u8, elem: u32) {
    // SAFETY: called by generated code with its own vmctx.
    let (_, inst) = unsafe { context(vmctx) };
    inst.elements[elem as usize] = None;
}

/// A hook of generated code at `point`: an armed function hook (`fine`)
/// snapshots the dirty pages; the allocator's and the stack guards'
/// checks go to theirs; the mark of allocator calls only records the
/// time. Non-zero asks the generated code to trap (a detection under
/// `--on-detect trap`).
extern "C" fn attest_hook(vmctx: *mut u8, func: u32, offset: u32, point: u32) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let module = &inst.module;
    let site = |_: &StoreOpaque| walmart_attest::HookSite {
        // The heap check runs at an allocator function's entry.
        kind: if point == vmctx::HookPoint::Return as u32
            || point == vmctx::HookPoint::StackCheck as u32
        {
            walmart_attest::HookKind::FunctionReturn
        } else {
            walmart_attest::HookKind::FunctionEntry
        },
        func: Some(func),
        name: module.info().func_names.get(&func).map(str::to_string),
        offset: Some(offset),
    };
    if point == vmctx::HookPoint::HeapCheck as u32 {
        return crate::attest::heap_walk::entry_check(store, &site) as u32;
    }
    if point == vmctx::HookPoint::FreeCheck as u32 && module.emmalloc().is_some() {
        return crate::attest::emmalloc_walk::free_check(store, &site) as u32;
    }
    if point == vmctx::HookPoint::FreeCheck as u32 {
        return crate::attest::heap_walk::free_check(store, &site) as u32;
    }
    if point == vmctx::HookPoint::StackCheck as u32 {
        let memory = inst.memories.first().map(|m| m.index);
        return crate::attest::stack_guard::check(store, memory, &site) as u32;
    }
    if point == vmctx::HookPoint::TreeCheck as u32 {
        return crate::attest::tree_take::tree_check(store, &site) as u32;
    }
    if point == vmctx::HookPoint::AllocatorMark as u32 {
        crate::attest::session::allocator_call_marked(store);
        return 0;
    }
    use crate::attest::session::{hook, HookAt};
    hook(store, HookAt::Other, &site).is_err() as u32
}

/// An allocator function of the module returns (see `attest::heap`).
extern "C" fn heap_event(vmctx: *mut u8, role: u32, a: u32, b: u32, c: u32, result: u32) {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let Some(role) = vmctx::AllocRole::from_u32(role) else {
        return;
    };
    let mem = inst.memories.first().copied();
    let StoreOpaque { heap, memories, .. } = store;
    let read_u32 = |at: u32| {
        let m = &memories[mem?.index as usize];
        let bytes = m.bytes().get(at as usize..at as usize + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    };
    heap.event(role, [a, b, c], result, read_u32);
}

extern "C" fn tag_enter(vmctx: *mut u8, role: u32, a: u32, b: u32, c: u32, fp: u64) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    crate::attest::tags::enter(store, inst, role, [a, b, c], fp)
}

extern "C" fn tag_exit(vmctx: *mut u8, result: u32) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    crate::attest::tags::exit(store, inst, result)
}

extern "C" fn tag_evict(vmctx: *mut u8) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (_, inst) = unsafe { context(vmctx) };
    crate::attest::tags::evict(inst)
}

extern "C" fn tag_trace(vmctx: *mut u8, addr: u64, size_write: u32) {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    crate::attest::tags::trace_access(store, inst, addr, size_write)
}

extern "C" fn tag_check(vmctx: *mut u8, addr: u64, len_write: u64, site: u64, fp: u64) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let (len, write) = (len_write & (u64::MAX >> 1), len_write >> 63 != 0);
    let (func, offset) = ((site >> 32) as u32, site as u32);
    crate::attest::tags::check(store, inst, addr, len, write, func, offset, fp)
}

extern "C" fn exception_new(vmctx: *mut u8, tag: u32) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    if crate::exception::records_want_collection(store) {
        // Frees the records Wasm kept and no longer refers to.
        crate::gc::collect(store, ScanFrom::Here);
    }
    let tag = inst.exception_tags[tag as usize];
    let slots = tag.data_in(store).ty.payload().len();
    let vm_tag = tag.vm_tag(store);
    let index = crate::exception::new_exception(store, vm_tag, slots);
    store.exceptions[index as usize].as_mut_ptr() as u64
}

extern "C" fn exception_done(vmctx: *mut u8, exn: u64) {
    // SAFETY: called by generated code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    crate::exception::exception_done(store, exn as *mut u8);
}

extern "C" fn exception_may_return(_vmctx: *mut u8, return_address: u64) -> u32 {
    u32::from(walmart_jit::code_memory::passes_exceptions(
        return_address as usize,
    ))
}

extern "C" fn is_subtype(vmctx: *mut u8, a: u64, b: u64) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    u32::from(store.engine.is_subtype(a, b))
}

/// `Builtin::GcAlloc`, entered through [`wasm_frames_entry!`]'s stub:
/// `wasm_sp` is where Wasm's frames (and the registers they may keep
/// references in) end.
extern "C" fn gc_alloc(vmctx: *mut u8, ty: u32, len: u32, wasm_sp: usize) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let info = inst.module.inner.type_infos[ty as usize];
    let def = &inst.module.info().type_defs[ty as usize];
    crate::gc::new_object(store, info, def, len, Some(scan_from(wasm_sp)))
}

/// `Builtin::ArrayNewSegment`, entered as [`gc_alloc`] is.
extern "C" fn array_new_segment(
    vmctx: *mut u8,
    ty: u32,
    segment: u32,
    src: u32,
    len: u32,
    wasm_sp: usize,
) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let target = SegmentTarget::New(scan_from(wasm_sp));
    crate::gc::array_from_segment(store, inst, ty, segment, target, src, len)
}

/// Where a collection inside an allocating builtin starts its scan: where
/// the stub said Wasm's frames end (0 from a stub that says nothing).
fn scan_from(wasm_sp: usize) -> ScanFrom {
    match wasm_sp {
        0 => ScanFrom::Here,
        sp => ScanFrom::WasmSp(sp),
    }
}

/// An entry stub for a builtin that may collect the GC heap: it pushes
/// the callee-saved registers (where Wasm may keep references across the
/// call), then calls `$inner` with its stack pointer as an extra last
/// argument (register `$sp_arg`). The collector's scan of the stack then
/// starts there, so it reads Wasm's frames and those registers but none
/// of the runtime's own frames below, whose stale slots (an earlier
/// call's allocation) would keep dead objects alive.
#[cfg(target_arch = "x86_64")]
macro_rules! wasm_frames_entry {
    ($name:ident, $inner:ident, $sp_arg:literal, ($($arg:ident: $ty:ty),*)) => {
        #[unsafe(naked)]
        extern "C" fn $name($($arg: $ty),*) -> u64 {
            std::arch::naked_asm!(
                "push rbp",
                "mov rbp, rsp",
                "push rbx",
                "push r12",
                "push r13",
                "push r14",
                "push r15",
                // Entered at 8 mod 16; six pushes: 8 more keeps the call
                // aligned.
                "sub rsp, 8",
                concat!("mov ", $sp_arg, ", rsp"),
                "call {inner}",
                "add rsp, 8",
                "pop r15",
                "pop r14",
                "pop r13",
                "pop r12",
                "pop rbx",
                "pop rbp",
                "ret",
                inner = sym $inner,
            )
        }
    };
}

/// Elsewhere the stub is a plain call: the collector scans from its own
/// frame (registers spilled there), and the runtime's frames below Wasm
/// are zeroed first so that their stale slots hold nothing.
#[cfg(not(target_arch = "x86_64"))]
macro_rules! wasm_frames_entry {
    ($name:ident, $inner:ident, $sp_arg:literal, ($($arg:ident: $ty:ty),*)) => {
        extern "C" fn $name($($arg: $ty),*) -> u64 {
            crate::gc::clear_stack_below();
            $inner($($arg),*, 0)
        }
    };
}

wasm_frames_entry!(gc_alloc_entry, gc_alloc, "rcx", (vmctx: *mut u8, ty: u32, len: u32));
wasm_frames_entry!(
    array_new_segment_entry,
    array_new_segment,
    "r9",
    (vmctx: *mut u8, ty: u32, segment: u32, src: u32, len: u32)
);

extern "C" fn array_init_segment(
    vmctx: *mut u8,
    ty: u32,
    segment: u32,
    arr: u64,
    dst: u32,
    src: u32,
    len: u32,
) -> u64 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let target = SegmentTarget::Into { arr, dst };
    crate::gc::array_from_segment(store, inst, ty, segment, target, src, len)
}

extern "C" fn memory_atomic_wait(
    _vmctx: *mut u8,
    addr: u64,
    expected: u64,
    timeout: i64,
    wide: u32,
) -> u32 {
    // SAFETY: generated code passes the native address of a cell of a
    // shared memory it checked for bounds and alignment; shared memories
    // never move, and the instance keeps it alive while it runs.
    unsafe { crate::vm::parking::wait(addr as usize, expected, timeout, wide != 0) as u32 }
}

extern "C" fn memory_atomic_notify(_vmctx: *mut u8, addr: u64, count: u32) -> u32 {
    crate::vm::parking::notify(addr as usize, count)
}

extern "C" fn epoch_deadline(vmctx: *mut u8, fp: u64, site: u64) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, inst) = unsafe { context(vmctx) };
    let at = Some((&*inst as *const _, (site >> 32) as u32, site as u32));
    crate::wasm_backtrace::noted(store, fp as usize, at, crate::interrupts::deadline_reached)
}

extern "C" fn out_of_fuel(vmctx: *mut u8) -> u32 {
    // SAFETY: called by generated code with its own vmctx.
    let (store, _) = unsafe { context(vmctx) };
    crate::interrupts::fuel_ran_out(store)
}

/// The builtin table every vmctx points to, indexed by [`Builtin`].
pub(crate) fn table() -> *const usize {
    static TABLE: std::sync::OnceLock<[usize; Builtin::COUNT]> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            [
                memory_grow as *const () as usize,
                memory_fill as *const () as usize,
                memory_copy as *const () as usize,
                memory_init_builtin as *const () as usize,
                data_drop as *const () as usize,
                table_grow as *const () as usize,
                table_fill as *const () as usize,
                table_copy as *const () as usize,
                table_init_builtin as *const () as usize,
                elem_drop as *const () as usize,
                attest_hook as *const () as usize,
                heap_event as *const () as usize,
                tag_enter as *const () as usize,
                tag_exit as *const () as usize,
                tag_evict as *const () as usize,
                tag_check as *const () as usize,
                tag_trace as *const () as usize,
                exception_new as *const () as usize,
                exception_done as *const () as usize,
                exception_may_return as *const () as usize,
                is_subtype as *const () as usize,
                gc_alloc_entry as *const () as usize,
                array_new_segment_entry as *const () as usize,
                array_init_segment as *const () as usize,
                memory_atomic_wait as *const () as usize,
                memory_atomic_notify as *const () as usize,
                epoch_deadline as *const () as usize,
                out_of_fuel as *const () as usize,
            ]
        })
        .as_ptr()
}
