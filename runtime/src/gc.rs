//! GC objects: what the runtime knows of them (their types, for casts and
//! the host's checks).

use walmart_jit::module_info::{HeapTy, TypeKind};
use walmart_jit::vmctx;

use crate::any_ref::{AnyInner, AnyRef};
use crate::error::Result;
use crate::store::StoreOpaque;

/// The engine type id of GC object `addr` (its header's first word).
pub(crate) fn object_type(addr: u64) -> u64 {
    // SAFETY: `addr` is a live object of the store (the store keeps its
    // objects as long as itself, and `AnyRef::raw` refuses another
    // store's).
    unsafe { *((addr as usize + vmctx::GC_TYPE_ID as usize) as *const u64) }
}

/// Whether non-null reference `a` is a value of heap type `heap` (engine
/// ids).
pub(crate) fn any_fits(store: &StoreOpaque, a: &AnyRef, heap: HeapTy) -> Result<bool> {
    Ok(match (a.inner, heap) {
        (_, HeapTy::Any) => true,
        (AnyInner::I31(_), HeapTy::Eq | HeapTy::I31) => true,
        (
            AnyInner::Object {
                store: id, addr, ..
            },
            _,
        ) if id == store.id => {
            let ty = object_type(addr);
            let kind = store.engine.type_def(ty).kind;
            match heap {
                HeapTy::Eq => true,
                HeapTy::Struct => kind == TypeKind::Struct,
                HeapTy::Array => kind == TypeKind::Array,
                HeapTy::Engine(want, _) => store.engine.is_subtype(ty, want),
                _ => false,
            }
        }
        (AnyInner::Object { .. }, _) => {
            return Err(crate::Error::Usage(
                "GC object used with a store that does not own it".into(),
            ))
        }
        _ => false,
    })
}

/// Bytes of a chunk the heap carves small objects from.
const CHUNK: usize = 1 << 20;

/// A store's GC objects. Objects are never freed before the store is
/// dropped (no collector yet: a program that keeps allocating reaches the
/// limit and traps with `GC heap exhausted`); they never move.
#[derive(Default)]
pub(crate) struct GcHeap {
    /// Chunks of 8-aligned words small objects are carved from, the last
    /// one in use.
    chunks: Vec<Box<[u64]>>,
    /// Objects larger than a quarter chunk, each on its own.
    large: Vec<Box<[u64]>>,
    /// Words used of the last chunk.
    used: usize,
    /// Bytes handed out, headers included.
    pub(crate) bytes: usize,
}

/// Why an allocation or a segment copy failed; generated code traps with
/// the matching kind (the builtins answer these small values instead of
/// an address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum GcFailure {
    Exhausted = 1,
}

impl GcHeap {
    /// A zeroed object of `bytes` (a multiple of 8), or `None` past
    /// `limit` bytes in all.
    fn alloc(&mut self, bytes: usize, limit: usize) -> Option<*mut u8> {
        if self.bytes.checked_add(bytes)? > limit {
            return None;
        }
        self.bytes += bytes;
        let words = bytes / 8;
        if words > CHUNK / 8 / 4 {
            self.large.push(vec![0u64; words].into_boxed_slice());
            return self.large.last_mut().map(|o| o.as_mut_ptr().cast());
        }
        if self
            .chunks
            .last()
            .is_none_or(|c| c.len() - self.used < words)
        {
            self.chunks.push(vec![0u64; CHUNK / 8].into_boxed_slice());
            self.used = 0;
        }
        let chunk = self.chunks.last_mut()?;
        // SAFETY: `used + words` is within the chunk (checked above).
        let ptr = unsafe { chunk.as_mut_ptr().add(self.used) };
        self.used += words;
        Some(ptr.cast())
    }
}

/// A new zeroed object of engine type `type_id` (`len` elements for an
/// array), header written: its address, or a [`GcFailure`].
pub(crate) fn new_object(store: &mut StoreOpaque, type_id: u64, len: u32) -> u64 {
    let def = store.engine.type_def(type_id);
    let size = match def.kind {
        TypeKind::Array => {
            let elem = u64::from(def.fields[0].storage.size());
            (vmctx::GC_HEADER as u64 + elem * u64::from(len)).next_multiple_of(8)
        }
        _ => u64::from(def.struct_layout().1),
    };
    let limit = store.engine.config().max_gc_heap;
    let Some(ptr) = usize::try_from(size)
        .ok()
        .and_then(|size| store.gc_heap.alloc(size, limit))
    else {
        return GcFailure::Exhausted as u64;
    };
    // SAFETY: the object is at least a header long, 8-aligned.
    unsafe {
        *(ptr.add(vmctx::GC_TYPE_ID as usize) as *mut u64) = type_id;
        *(ptr.add(vmctx::GC_ARRAY_LEN as usize) as *mut u32) = len;
        *(ptr.add(vmctx::GC_KIND as usize) as *mut u32) = u32::from(def.kind == TypeKind::Array);
    }
    ptr as u64
}
