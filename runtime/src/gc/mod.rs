//! GC objects: what the runtime knows of them (their types, for casts and
//! the host's checks), how they are made, and how they are collected.

mod collect;
mod fields;
mod heap;
mod host_objects;
mod records;
pub(crate) mod roots;

pub(crate) use collect::{clear_stack_below, collect, ScanFrom, CLEARED_STACK};
pub(crate) use heap::GcHeap;
pub use host_objects::{ArrayType, FieldType, StorageType, StructType};

use walmart_jit::module_info::{ConstOp, HeapTy, RefTy, StorageTy, TypeDef, TypeKind};
use walmart_jit::vmctx::{self, GcFailure};

use crate::any_ref::{AnyInner, AnyRef};
use crate::error::Result;
use crate::instance::InstanceData;
use crate::store::StoreOpaque;
use crate::vm::libcalls::range;

/// The engine type id of GC object `addr` (the first word of the info
/// record its header points at).
pub(crate) fn object_type(addr: u64) -> u64 {
    // SAFETY: `addr` is a live object of the store (the store keeps its
    // objects as long as itself, and `AnyRef::raw` refuses another
    // store's); its info record lives as long as the engine.
    unsafe {
        let info = *((addr as usize + vmctx::GC_TYPE_INFO as usize) as *const usize);
        *((info + vmctx::TYPE_INFO_ID as usize) as *const u64)
    }
}

/// The kind of GC object `addr` (its header's kind word).
pub(crate) fn object_kind(addr: u64) -> TypeKind {
    // SAFETY: as for `object_type`.
    let kind = unsafe { *((addr as usize + vmctx::GC_KIND as usize) as *const u32) };
    if kind == 1 {
        TypeKind::Array
    } else {
        TypeKind::Struct
    }
}

/// Whether non-null reference `a` is a value of reference type `r`'s heap
/// type (engine ids), of exactly it where `r` is exact.
pub(crate) fn any_fits(store: &StoreOpaque, a: &AnyRef, r: RefTy) -> Result<bool> {
    let heap = r.heap;
    if let Some(addr) = a.object(store)? {
        let ty = object_type(addr);
        let kind = object_kind(addr);
        return Ok(match heap {
            HeapTy::Any | HeapTy::Eq => true,
            HeapTy::Struct => kind == TypeKind::Struct,
            HeapTy::Array => kind == TypeKind::Array,
            HeapTy::Engine(want, _) => store.engine.fits(ty, want, r.exact),
            _ => false,
        });
    }
    Ok(matches!(
        (a.inner, heap),
        (_, HeapTy::Any) | (AnyInner::I31(_), HeapTy::Eq | HeapTy::I31)
    ))
}

/// A new zeroed object of the type whose info record is at `info`, defined as `def` (the
/// module's definition: no lock on the engine's registry), with `len`
/// elements for an array; header written: its address, or a
/// [`GcFailure`]. With `may_collect` (Wasm asked, through a builtin, or
/// the host, whose values are rooted: the scan's start) the heap may be
/// collected first; constant expressions, whose operands only the runtime
/// holds, never collect (`None`).
pub(crate) fn new_object(
    store: &mut StoreOpaque,
    info: u64,
    def: &TypeDef,
    len: u32,
    may_collect: Option<ScanFrom>,
) -> u64 {
    let size = match def.kind {
        TypeKind::Array => {
            let elem = u64::from(def.fields[0].storage.size());
            (vmctx::GC_HEADER as u64 + elem * u64::from(len)).next_multiple_of(8)
        }
        _ => u64::from(def.struct_size()),
    };
    let limit = store.engine.config().max_gc_heap;
    let stress = store.engine.config().gc_stress;
    let Ok(size) = usize::try_from(size) else {
        return GcFailure::Exhausted as u64;
    };
    let mut collected = false;
    if let Some(from) = may_collect {
        if store.gc_heap.wants_collection(&store.limits, size, stress) {
            collect(store, from);
            collected = true;
        }
    }
    let mut made = store.gc_heap.alloc(&mut store.limits, size, limit, stress);
    if let Some(from) = may_collect.filter(|_| made.is_none() && !collected) {
        collect(store, from);
        made = store.gc_heap.alloc(&mut store.limits, size, limit, stress);
    }
    if made.is_none() {
        store.gc_heap.release_empty_chunks(&mut store.limits);
        made = store.gc_heap.alloc(&mut store.limits, size, limit, stress);
    }
    let Some(ptr) = made else {
        return GcFailure::Exhausted as u64;
    };
    // SAFETY: the object is at least a header long, 8-aligned.
    unsafe {
        *(ptr.add(vmctx::GC_TYPE_INFO as usize) as *mut u64) = info;
        *(ptr.add(vmctx::GC_ARRAY_LEN as usize) as *mut u32) = len;
        *(ptr.add(vmctx::GC_KIND as usize) as *mut u32) = u32::from(def.kind == TypeKind::Array);
    }
    ptr as u64
}

/// Copies element 0 of the `len` elements of `size` bytes at `first`
/// over the rest, doubling what is copied: a few copies for however long
/// an array.
///
/// # Safety
/// `first` must start `len` elements of an array, the first written.
pub(super) unsafe fn fill_from_first(first: usize, size: usize, len: usize) {
    let total = len * size;
    let mut done = size.min(total);
    while done < total {
        let n = done.min(total - done);
        // SAFETY: both ranges lie within the elements and do not overlap
        // (`n <= done`).
        unsafe { std::ptr::copy_nonoverlapping(first as *const u8, (first + done) as *mut u8, n) };
        done += n;
    }
}

/// The trap of an allocation ([`new_object`]'s result) that found no room.
fn exhausted(addr: u64) -> Result<()> {
    if addr == GcFailure::Exhausted as u64 {
        return Err(trap(walmart_jit::TrapKind::GcHeapExhausted));
    }
    Ok(())
}

/// The error of a trap the runtime raises outside Wasm (no frames).
fn trap(kind: walmart_jit::TrapKind) -> crate::Error {
    crate::Error::Trap(crate::Trap::new(kind, Vec::new()))
}

/// A GC object a constant expression makes (`op` one of the allocating
/// operators of the module's type `def`, its operands on top of `stack`,
/// popped): its address.
pub(crate) fn const_object(
    store: &mut StoreOpaque,
    info: u64,
    def: &TypeDef,
    op: ConstOp,
    stack: &mut Vec<u128>,
) -> Result<u64> {
    let pop = |stack: &mut Vec<u128>, n: usize| stack.split_off(stack.len().saturating_sub(n));
    let desc = match op {
        ConstOp::StructNewDesc(_) | ConstOp::StructNewDefaultDesc(_) => {
            match stack.pop().unwrap_or(0) as u64 {
                0 => return Err(trap(walmart_jit::TrapKind::NullDescriptorReference)),
                desc => Some(desc),
            }
        }
        _ => None,
    };
    let (len, values, repeat) = match op {
        ConstOp::StructNew(_) | ConstOp::StructNewDesc(_) => {
            (0, pop(stack, def.fields.len()), false)
        }
        ConstOp::StructNewDefault(_) | ConstOp::StructNewDefaultDesc(_) => (0, Vec::new(), false),
        ConstOp::ArrayNewDefault(_) => (stack.pop().unwrap_or(0) as u32, Vec::new(), false),
        ConstOp::ArrayNew(_) => {
            let len = stack.pop().unwrap_or(0) as u32;
            (len, pop(stack, 1), true)
        }
        ConstOp::ArrayNewFixed(_, n) => (n, pop(stack, n as usize), false),
        _ => unreachable!("not an allocating constant operator"),
    };
    let addr = new_object(store, info, def, len, None);
    exhausted(addr)?;
    if let (Some(desc), Some(at)) = (desc, def.descriptor_offset()) {
        // SAFETY: the struct was just made of `def`, whose descriptor's
        // slot this is.
        unsafe { *((addr as usize + at as usize) as *mut u64) = desc };
    }
    if values.is_empty() {
        return Ok(addr);
    }
    let write = |storage: StorageTy, offset: usize, raw: u128| {
        let bytes = raw.to_le_bytes();
        // SAFETY: the field lies within the object just allocated.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (addr as usize + offset) as *mut u8,
                storage.size() as usize,
            );
        }
    };
    match def.kind {
        TypeKind::Array => {
            let storage = def.fields[0].storage;
            let size = storage.size() as usize;
            let first = vmctx::GC_HEADER as usize;
            if !repeat {
                for (i, raw) in values.iter().enumerate() {
                    write(storage, first + i * size, *raw);
                }
            } else if len > 0 && values[0] != 0 {
                write(storage, first, values[0]);
                // SAFETY: the array was just made with `len` elements of
                // `size` bytes, the first one written.
                unsafe { fill_from_first(addr as usize + first, size, len as usize) };
            }
        }
        _ => {
            let (offsets, _) = def.struct_layout();
            for ((field, offset), raw) in def.fields.iter().zip(offsets).zip(values) {
                write(field.storage, offset as usize, raw);
            }
        }
    }
    Ok(addr)
}

/// Where [`array_from_segment`] puts a segment's elements.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SegmentTarget {
    /// A new array of the elements (`array.new_data`, `array.new_elem`),
    /// whose allocation may collect, the scan starting there.
    New(ScanFrom),
    /// Elements `dst..` of array `arr`, not null (`array.init_data`,
    /// `array.init_elem`).
    Into { arr: u64, dst: u32 },
}

/// `len` elements from `src` of segment `segment` of the instance (an
/// element segment when [`walmart_jit::vmctx::ARRAY_SEGMENT_ELEM`] is
/// set) into `target`: the new array's address, 0 after an init, or a
/// [`GcFailure`].
pub(crate) fn array_from_segment(
    store: &mut StoreOpaque,
    inst: &InstanceData,
    ty: u32,
    segment: u32,
    target: SegmentTarget,
    src: u32,
    len: u32,
) -> u64 {
    let (arr, dst) = match target {
        SegmentTarget::Into { arr, dst } => (Some(arr), dst),
        SegmentTarget::New(_) => (None, 0),
    };
    let info = inst.module.inner.type_infos[ty as usize];
    let def = &inst.module.info().type_defs[ty as usize];
    let size = u64::from(def.fields[0].storage.size());
    if let Some(arr) = arr {
        // SAFETY: generated code passes a live array of this store.
        let have = unsafe { *((arr as usize + vmctx::GC_ARRAY_LEN as usize) as *const u32) };
        if u64::from(dst) + u64::from(len) > u64::from(have) {
            return GcFailure::ArrayOutOfBounds as u64;
        }
    }
    let index = (segment & !vmctx::ARRAY_SEGMENT_ELEM) as usize;
    let bytes: Vec<u8> = if segment & vmctx::ARRAY_SEGMENT_ELEM != 0 {
        let items: &[u64] = inst.elements[index].as_deref().unwrap_or(&[]);
        let Some(r) = range(src.into(), len.into(), items.len()) else {
            return GcFailure::ElemOutOfBounds as u64;
        };
        items[r].iter().flat_map(|v| v.to_le_bytes()).collect()
    } else {
        let seg = &inst.module.info().data[index];
        let data: &[u8] = if inst.data_dropped[index] {
            &[]
        } else {
            &inst.module.inner.wasm[seg.bytes.clone()]
        };
        let Some(r) = range(src.into(), u64::from(len) * size, data.len()) else {
            return GcFailure::DataOutOfBounds as u64;
        };
        data[r].to_vec()
    };
    let dest = match target {
        SegmentTarget::Into { arr, .. } => arr,
        SegmentTarget::New(scan) => match new_object(store, info, def, len, Some(scan)) {
            failed if failed == GcFailure::Exhausted as u64 => return failed,
            arr => arr,
        },
    };
    let at = dest as usize + vmctx::GC_HEADER as usize + dst as usize * size as usize;
    // SAFETY: `dst + len` elements lie within the array (checked, or
    // allocated so), and `bytes` is `len` elements long.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, bytes.len()) };
    match target {
        SegmentTarget::Into { .. } => 0,
        SegmentTarget::New(_) => dest,
    }
}
