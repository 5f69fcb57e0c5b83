//! References of GC's `any` hierarchy at the embedding API (`AnyRef`),
//! and the raw forms generated code keeps `anyref` and `externref` in.
//!
//! Raw forms (one 64-bit word; 0 is null in both hierarchies):
//! * an `i31` is odd: its 31 bits shifted left by one, plus one, alike in
//!   `anyref` and `externref` (`extern.convert_any` keeps it as it is);
//! * a host reference is `(index + 1) << 2` in `externref`, `index` being
//!   its place in the store's table of host payloads, and the same with
//!   bit 1 set in `anyref` (`any.convert_extern`);
//! * a GC object is its 8-aligned address in `anyref`, with bit 1 set in
//!   `externref`.
//!
//! So both conversions are one operation: a non-null even word has bit 1
//! flipped (see `walmart_jit::translate::gc`).

use crate::store::StoreOpaque;
use crate::values::ExternRef;

/// `any.convert_extern` and `extern.convert_any` on raw words: null and
/// `i31`s stay as they are, anything else has bit 1 flipped.
pub(crate) fn convert(raw: u64) -> u64 {
    if raw == 0 || raw & 1 == 1 {
        raw
    } else {
        raw ^ 2
    }
}

/// A reference of GC's `any` hierarchy held by the host: an `i31`, a host
/// reference made internal (`any.convert_extern`), or a GC object.
///
/// A GC object is kept from the collector while its handle's root is
/// held (`gc::roots`): a handle a host function is given (or
/// reads) lasts until it returns; one the embedder gets outside Wasm
/// lasts until the enclosing [`crate::Store::gc_scope`] ends, or as long
/// as the store (a handle returned out of a scope's closure is released
/// with the scope). A handle used after its root was released is an
/// error. Two handles are equal when they name the same object (a
/// released one may compare equal to a handle on an object made since at
/// its address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AnyRef {
    pub(crate) inner: AnyInner,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum AnyInner {
    /// The 31 bits, zero-extended.
    I31(u32),
    /// A host reference's payload.
    Host(u64),
    /// A GC object of the store with this id, at this address, held by
    /// root `root` of the store.
    Object {
        store: u64,
        addr: u64,
        kind: walmart_jit::module_info::TypeKind,
        root: crate::gc::roots::RootId,
    },
}

impl AnyInner {
    /// What names the reference: the root slot is not part of it.
    fn key(&self) -> (u8, u64, u64) {
        match *self {
            AnyInner::I31(v) => (0, 0, u64::from(v)),
            AnyInner::Host(id) => (1, 0, id),
            AnyInner::Object { store, addr, .. } => (2, store, addr),
        }
    }
}

impl PartialEq for AnyInner {
    fn eq(&self, other: &AnyInner) -> bool {
        self.key() == other.key()
    }
}

impl Eq for AnyInner {}

impl std::hash::Hash for AnyInner {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl AnyRef {
    /// An `i31` of `value`'s low 31 bits (`ref.i31`).
    pub fn from_i31(value: i32) -> AnyRef {
        AnyRef {
            inner: AnyInner::I31(value as u32 & 0x7fff_ffff),
        }
    }

    /// The host reference made internal (`any.convert_extern`).
    pub fn from_extern(r: ExternRef) -> AnyRef {
        r.as_any().unwrap_or(AnyRef {
            inner: AnyInner::Host(r.id().unwrap_or_default()),
        })
    }

    /// The `i31`'s value sign-extended (`i31.get_s`), if this is one.
    pub fn i31_s(&self) -> Option<i32> {
        match self.inner {
            AnyInner::I31(v) => Some(((v << 1) as i32) >> 1),
            _ => None,
        }
    }

    /// The `i31`'s value zero-extended (`i31.get_u`), if this is one.
    pub fn i31_u(&self) -> Option<u32> {
        match self.inner {
            AnyInner::I31(v) => Some(v),
            _ => None,
        }
    }

    /// The host reference, if this is one made internal.
    pub fn host_id(&self) -> Option<u64> {
        match self.inner {
            AnyInner::Host(id) => Some(id),
            _ => None,
        }
    }

    /// Whether this is a GC object (a struct or an array).
    pub fn is_object(&self) -> bool {
        matches!(self.inner, AnyInner::Object { .. })
    }

    /// Whether this is a struct.
    pub fn is_struct(&self) -> bool {
        self.object_kind() == Some(walmart_jit::module_info::TypeKind::Struct)
    }

    /// Whether this is an array.
    pub fn is_array(&self) -> bool {
        self.object_kind() == Some(walmart_jit::module_info::TypeKind::Array)
    }

    fn object_kind(&self) -> Option<walmart_jit::module_info::TypeKind> {
        match self.inner {
            AnyInner::Object { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Whether `ref.eq` may compare it (an `i31` or a GC object).
    pub fn is_eq(&self) -> bool {
        !matches!(self.inner, AnyInner::Host(_))
    }

    /// The raw `anyref` word.
    pub(crate) fn raw(self, store: &mut StoreOpaque) -> crate::Result<u64> {
        Ok(match self.inner {
            AnyInner::I31(v) => (u64::from(v) << 1) | 1,
            AnyInner::Host(id) => store.externref_raw(id) | 2,
            AnyInner::Object { .. } => self.object(store)?.unwrap_or_default(),
        })
    }

    /// The GC object's address, if this is one: an error when the object
    /// is another store's or its root was released.
    pub(crate) fn object(self, store: &StoreOpaque) -> crate::Result<Option<u64>> {
        let AnyInner::Object {
            store: id,
            addr,
            root,
            ..
        } = self.inner
        else {
            return Ok(None);
        };
        if id != store.id {
            return Err(crate::Error::Usage(
                "GC object used with a store that does not own it".into(),
            ));
        }
        match store.gc_roots.get(root) {
            Some(held) if held == addr => Ok(Some(addr)),
            _ => Err(crate::Error::Usage(
                "GC object used after its root was released (a handle outlived the host call or \
                 `Store::gc_scope` that made it)"
                    .into(),
            )),
        }
    }

    /// The reference a raw non-null `anyref` word is (a GC object rooted
    /// for the host).
    pub(crate) fn from_raw(store: &mut StoreOpaque, raw: u64) -> AnyRef {
        let inner = if raw & 1 == 1 {
            AnyInner::I31((raw >> 1) as u32 & 0x7fff_ffff)
        } else if raw & 2 == 2 {
            AnyInner::Host(store.externref_payload(raw & !2))
        } else {
            AnyInner::Object {
                store: store.id,
                addr: raw,
                kind: crate::gc::object_kind(raw),
                root: store.gc_roots.push(raw),
            }
        };
        AnyRef { inner }
    }
}
