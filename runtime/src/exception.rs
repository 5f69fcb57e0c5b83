//! Exception handling's entities: tags (`Tag`) and exceptions (`ExnRef`).
//!
//! A tag is one `VMTag` in its store, compared by address: an exception
//! is caught by a clause naming the very tag it was thrown with (imports
//! share the exporter's). An exception is a block of 16-byte slots the
//! store owns: the tag's address and the exception's index, then one slot
//! per payload value ([`walmart_jit::vmctx::VMException`]). One only ever
//! thrown and caught by a `catch` or `catch_all` is reused for the next
//! exception of its size, so a loop that throws and catches does not grow
//! the store; one Wasm made an `exnref` of is freed for reuse by the
//! collector once no `exnref` to it is left (`crate::gc::records`); one
//! the host was handed lives as long as its store.

use walmart_jit::vmctx::{VMTag, EXCEPTION_HOST, EXCEPTION_KEPT, EXCEPTION_PAYLOAD};

use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::FuncType;
use crate::values::Val;

/// The type of a tag: the function type whose parameters are its
/// exceptions' payload (its results are empty).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// The type of tags whose payload is `ty`'s parameters. `ty` must have
    /// no results.
    pub fn new(ty: FuncType) -> TagType {
        TagType { ty }
    }

    /// The function type it was made of.
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }

    /// The payload's types.
    pub fn payload(&self) -> &[crate::ValType] {
        self.ty.params()
    }
}

/// A tag's storage; `def` is what generated code points at.
pub(crate) struct TagData {
    pub(crate) def: VMTag,
    pub(crate) ty: TagType,
}

/// An exception tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Tag {
    /// A new tag of type `ty`, unlike every other.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        let store = &mut store.as_context_mut().opaque;
        if !ty.ty.results().is_empty() {
            return Err(Error::Usage(format!(
                "a tag's type has no results; {} has",
                ty.ty
            )));
        }
        let type_id = store.engine.signature_id(&ty.ty.to_sig());
        Ok(Tag::push(store, ty.clone(), type_id))
    }

    pub(crate) fn push(store: &mut StoreOpaque, ty: TagType, type_id: u64) -> Tag {
        let index = store.tags.len() as u32;
        store.tags.push(Box::new(TagData {
            def: VMTag {
                type_id,
                index: u64::from(index),
            },
            ty,
        }));
        Tag {
            store: store.id,
            index,
        }
    }

    pub(crate) fn data_in(self, store: &StoreOpaque) -> &TagData {
        store.check(self.store);
        &store.tags[self.index as usize]
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        self.data_in(&store.as_context().opaque).ty.clone()
    }

    /// The tag generated code compares, by address.
    pub(crate) fn vm_tag(self, store: &StoreOpaque) -> *const VMTag {
        &self.data_in(store).def
    }
}

/// A reference to an exception (`exnref`): one a call left uncaught
/// ([`Error::Exception`]), one Wasm handed out, or one the host made to
/// throw into Wasm from a host function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExnRef {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl ExnRef {
    /// A new exception of `tag` carrying `payload`, which a host function
    /// may return as `Err(Error::Exception(..))` to throw it into its Wasm
    /// caller.
    pub fn new(mut store: impl AsContextMut, tag: Tag, payload: &[Val]) -> Result<ExnRef> {
        let store = &mut store.as_context_mut().opaque;
        let ty = tag.data_in(store).ty.clone();
        if payload.len() != ty.payload().len()
            || payload.iter().zip(ty.payload()).any(|(v, t)| v.ty() != *t)
        {
            return Err(Error::Usage(format!(
                "an exception of a tag of type {} given {} values of other types",
                ty.ty,
                payload.len()
            )));
        }
        // A typed reference is checked as a call's argument is: the
        // catching code trusts the tag's exact types.
        let type_id = tag.data_in(store).def.type_id;
        let refs = store.engine.signature_refs(type_id);
        let mut exact = refs.iter().copied();
        for (i, v) in payload.iter().enumerate() {
            if v.ty().to_wasm().is_ref() {
                v.check_exact(store, exact.next())
                    .map_err(|e| Error::Usage(format!("exception payload value {i}: {e}")))?;
            }
        }
        let raw = payload
            .iter()
            .map(|v| v.to_raw(store))
            .collect::<Result<Vec<_>>>()?;
        let index = new_exception(store, tag.vm_tag(store), raw.len());
        let record = &mut store.exceptions[index as usize];
        record[1..].copy_from_slice(&raw);
        // The host holds it.
        record[0] |= u128::from(EXCEPTION_KEPT | EXCEPTION_HOST) << 64;
        Ok(ExnRef {
            store: store.id,
            index,
        })
    }

    /// The tag it was thrown with.
    pub fn tag(&self, store: impl AsContext) -> Tag {
        let store = &store.as_context().opaque;
        store.check(self.store);
        // Slot 0's low word is the tag's address.
        let tag = store.exceptions[self.index as usize][0] as u64 as usize as *const VMTag;
        // SAFETY: an exception's tag is one of its store's, which live as
        // long as the store.
        let index = unsafe { (*tag).index };
        Tag {
            store: store.id,
            index: index as u32,
        }
    }

    /// Its payload.
    pub fn payload(&self, mut store: impl AsContextMut) -> Vec<Val> {
        let tag = self.tag(&mut store);
        let store = &mut store.as_context_mut().opaque;
        let types = tag.data_in(store).ty.payload().to_vec();
        let raw = store.exceptions[self.index as usize][1..].to_vec();
        raw.iter()
            .zip(types)
            .map(|(r, t)| Val::from_raw(store, *r, t))
            .collect()
    }

    /// The exception generated code sees.
    pub(crate) fn raw(self, store: &StoreOpaque) -> Result<u64> {
        if store.id != self.store {
            return Err(Error::Usage(
                "exception used with a store that does not own it".into(),
            ));
        }
        Ok(store.exceptions[self.index as usize].as_ptr() as u64)
    }

    /// The handle of a raw exception pointer (not null), which the store
    /// keeps from now on: the host holds a reference to it.
    pub(crate) fn from_raw(store: &StoreOpaque, raw: u64) -> ExnRef {
        // SAFETY: generated code only holds exceptions of its store;
        // slot 0's second word is the index and the kept bit.
        let index = unsafe {
            let word = (raw as *mut u64).add(1);
            *word |= EXCEPTION_KEPT | EXCEPTION_HOST;
            *word & !(EXCEPTION_KEPT | EXCEPTION_HOST)
        };
        ExnRef {
            store: store.id,
            index: index as u32,
        }
    }
}

/// Allocates an exception of `tag` with `slots` zeroed payload slots (a
/// record a `catch` freed, or a new one); returns its index.
pub(crate) fn new_exception(store: &mut StoreOpaque, tag: *const VMTag, slots: usize) -> u32 {
    debug_assert_eq!(EXCEPTION_PAYLOAD, 16);
    let header = |index: u32| (tag as usize as u128) | (u128::from(index) << 64);
    if let Some(index) = store.free_exceptions.get_mut(&slots).and_then(Vec::pop) {
        let record = &mut store.exceptions[index as usize];
        record.fill(0);
        record[0] = header(index);
        return index;
    }
    let index = store.exceptions.len() as u32;
    let mut record = vec![0u128; 1 + slots].into_boxed_slice();
    store.new_record_bytes += record.len() * 16;
    store.record_bytes += record.len() * 16;
    record[0] = header(index);
    store.exceptions.push(record);
    index
}

/// A `catch` took exception `exn`: unless something may refer to it, its
/// record is free for the next exception of its size.
pub(crate) fn exception_done(store: &mut StoreOpaque, exn: *mut u8) {
    // SAFETY: generated code passes an exception of this store.
    let word = unsafe { *(exn as *const u64).add(1) };
    if word & EXCEPTION_KEPT != 0 {
        return;
    }
    free_record(store, word as u32);
}

/// The bit of a record's index word (beside
/// [`walmart_jit::vmctx::EXCEPTION_KEPT`] and `EXCEPTION_HOST`) that says
/// it waits for reuse: the collector passes it over.
pub(crate) const RECORD_FREE: u64 = 1 << 61;

/// Hands record `index` back for the next exception of its size: its
/// payload cleared (no root while it waits), its kept bits too.
pub(crate) fn free_record(store: &mut StoreOpaque, index: u32) {
    let record = &mut store.exceptions[index as usize];
    let slots = record.len() - 1;
    record[1..].fill(0);
    record[0] = u128::from(record[0] as u64) | (u128::from(u64::from(index) | RECORD_FREE) << 64);
    store.free_exceptions.entry(slots).or_default().push(index);
}

/// A trap abandoned the exception being thrown, if one was: its record
/// goes back for reuse unless an `exnref` to it may exist.
pub(crate) fn abandon_pending(store: &mut StoreOpaque) {
    let raw = std::mem::take(&mut store.limits.pending_exception);
    if raw != 0 {
        exception_done(store, raw as *mut u8);
    }
}

/// Whether making a new exception record should first collect (Wasm's
/// `throw`): fresh record memory since the last collection reached half
/// of all the records' (4 MiB at least), as records Wasm kept are freed
/// only by a collection.
pub(crate) fn records_want_collection(store: &StoreOpaque) -> bool {
    store.new_record_bytes >= (store.record_bytes / 2).max(4 << 20)
}

/// Takes the exception a call into Wasm left uncaught, if any.
pub(crate) fn take_pending(store: &mut StoreOpaque) -> Option<ExnRef> {
    let raw = std::mem::take(&mut store.limits.pending_exception);
    (raw != 0).then(|| ExnRef::from_raw(store, raw as u64))
}
