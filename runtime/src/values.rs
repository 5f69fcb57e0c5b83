//! Values crossing the embedding API, and their raw form in generated code.

use crate::any_ref::AnyRef;
use crate::error::{Error, Result};
use crate::func::Func;
use crate::global::Global;
use crate::memory::Memory;
use crate::store::StoreOpaque;
use crate::table::Table;
use crate::types::ValType;
use walmart_jit::module_info::{HeapTy, RefTy};

/// An opaque host reference (`externref`), carrying a 64-bit payload, or
/// a reference of GC's `any` hierarchy made external
/// (`extern.convert_any`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExternRef {
    inner: ExternInner,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ExternInner {
    Host(u64),
    /// Never a host reference made internal: that converts back to
    /// `Host`.
    Any(AnyRef),
}

impl ExternRef {
    /// A reference carrying `id`.
    pub fn new(id: u64) -> ExternRef {
        ExternRef {
            inner: ExternInner::Host(id),
        }
    }

    /// The reference of GC's `any` hierarchy made external
    /// (`extern.convert_any`).
    pub fn from_any(r: AnyRef) -> ExternRef {
        ExternRef {
            inner: match r.host_id() {
                Some(id) => ExternInner::Host(id),
                None => ExternInner::Any(r),
            },
        }
    }

    /// The payload; `None` for a reference of GC's `any` hierarchy made
    /// external ([`ExternRef::as_any`]).
    pub fn id(&self) -> Option<u64> {
        match self.inner {
            ExternInner::Host(id) => Some(id),
            ExternInner::Any(_) => None,
        }
    }

    /// The reference of GC's `any` hierarchy this was made from, if it
    /// was.
    pub fn as_any(&self) -> Option<AnyRef> {
        match self.inner {
            ExternInner::Host(_) => None,
            ExternInner::Any(r) => Some(r),
        }
    }

    /// The raw `externref` word (see [`crate::any_ref`]).
    fn raw(self, store: &mut StoreOpaque) -> Result<u64> {
        Ok(match self.inner {
            ExternInner::Host(id) => store.externref_raw(id),
            ExternInner::Any(a) => crate::any_ref::convert(a.raw(store)?),
        })
    }

    /// The reference a raw non-null `externref` word is.
    fn from_raw(store: &mut StoreOpaque, raw: u64) -> ExternRef {
        if raw & 3 == 0 {
            ExternRef::new(store.externref_payload(raw))
        } else {
            // An i31 (odd) or an object (bit 1) made external.
            ExternRef::from_any(AnyRef::from_raw(store, crate::any_ref::convert(raw)))
        }
    }
}

/// A Wasm value. Floats are kept as bits so NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
    ExnRef(Option<crate::ExnRef>),
    /// A reference of GC's `any` hierarchy (`anyref`, `eqref`, `i31ref`,
    /// `structref`, `arrayref`, ...).
    AnyRef(Option<AnyRef>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
            Val::AnyRef(_) => ValType::AnyRef,
        }
    }

    /// The zero (or null) value of a type.
    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(None),
            ValType::AnyRef => Val::AnyRef(None),
        }
    }

    /// The i32, if this is one.
    pub fn i32(&self) -> Option<i32> {
        match self {
            Val::I32(v) => Some(*v),
            _ => None,
        }
    }

    /// The i64, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Val::I64(v) => Some(*v),
            _ => None,
        }
    }

    /// The f32, if this is one.
    pub fn f32(&self) -> Option<f32> {
        match self {
            Val::F32(v) => Some(f32::from_bits(*v)),
            _ => None,
        }
    }

    /// The f64, if this is one.
    pub fn f64(&self) -> Option<f64> {
        match self {
            Val::F64(v) => Some(f64::from_bits(*v)),
            _ => None,
        }
    }

    /// The i32 (wasmtime's `unwrap_i32`).
    ///
    /// # Panics
    /// If this is a value of another type.
    #[track_caller]
    pub fn unwrap_i32(&self) -> i32 {
        self.i32().unwrap_or_else(|| self.wrong_type("i32"))
    }

    /// The i64 (wasmtime's `unwrap_i64`).
    ///
    /// # Panics
    /// If this is a value of another type.
    #[track_caller]
    pub fn unwrap_i64(&self) -> i64 {
        self.i64().unwrap_or_else(|| self.wrong_type("i64"))
    }

    /// The f32 (wasmtime's `unwrap_f32`).
    ///
    /// # Panics
    /// If this is a value of another type.
    #[track_caller]
    pub fn unwrap_f32(&self) -> f32 {
        self.f32().unwrap_or_else(|| self.wrong_type("f32"))
    }

    /// The f64 (wasmtime's `unwrap_f64`).
    ///
    /// # Panics
    /// If this is a value of another type.
    #[track_caller]
    pub fn unwrap_f64(&self) -> f64 {
        self.f64().unwrap_or_else(|| self.wrong_type("f64"))
    }

    #[track_caller]
    fn wrong_type(&self, wanted: &str) -> ! {
        panic!("expected a value of type {wanted}, found {}", self.ty())
    }

    /// The raw 16-byte slot form generated code reads.
    pub(crate) fn to_raw(self, store: &mut StoreOpaque) -> Result<u128> {
        Ok(match self {
            Val::I32(v) => v as u32 as u128,
            Val::I64(v) => v as u64 as u128,
            Val::F32(v) => v as u128,
            Val::F64(v) => v as u128,
            Val::V128(v) => v,
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => 0,
            Val::FuncRef(Some(f)) => f.vm_func_ref(store)? as usize as u128,
            Val::ExternRef(Some(e)) => e.raw(store)? as u128,
            Val::ExnRef(Some(e)) => e.raw(store)? as u128,
            Val::AnyRef(Some(a)) => a.raw(store)? as u128,
        })
    }

    /// Checks a reference value against the exact type of the slot it is
    /// given for (typed function references): `None` is `funcref` or
    /// `externref`, which every value of the representation fits.
    pub(crate) fn check_exact(&self, store: &mut StoreOpaque, exact: Option<RefTy>) -> Result<()> {
        let Some(r) = exact else {
            return Ok(());
        };
        let fits = match self {
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
                r.nullable
            }
            Val::FuncRef(Some(f)) => match r.heap {
                HeapTy::Func => true,
                HeapTy::Engine(id, _) => {
                    let ptr = f.vm_func_ref(store)?;
                    // SAFETY: funcrefs of a store's functions live as long
                    // as the store.
                    let have = unsafe { (*ptr).type_id };
                    store.engine.fits(have, id, r.exact)
                }
                _ => false,
            },
            Val::ExternRef(Some(_)) => r.heap == HeapTy::Extern,
            Val::ExnRef(Some(_)) => r.heap == HeapTy::Exn,
            Val::AnyRef(Some(a)) => crate::gc::any_fits(store, a, r)?,
            _ => true,
        };
        if fits {
            return Ok(());
        }
        Err(Error::Usage(match self {
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ExnRef(None) | Val::AnyRef(None) => {
                "a null reference given where the type is non-nullable".to_string()
            }
            _ => format!(
                "a {} of another type given where a typed reference is expected",
                self.ty()
            ),
        }))
    }

    /// The raw form of a reference value of type `ty`.
    pub(crate) fn to_raw_ref(self, store: &mut StoreOpaque, ty: ValType) -> Result<u64> {
        if self.ty() != ty {
            return Err(Error::Usage(format!(
                "expected a {ty} value, got a {}",
                self.ty()
            )));
        }
        Ok(self.to_raw(store)? as u64)
    }

    /// Reads a raw slot of type `ty`.
    pub(crate) fn from_raw(store: &mut StoreOpaque, raw: u128, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as u64 as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw as u64),
            ValType::V128 => Val::V128(raw),
            ValType::FuncRef => Val::FuncRef(store.func_from_ref(raw as usize as *const _)),
            ValType::ExternRef => {
                let raw = raw as u64;
                Val::ExternRef((raw != 0).then(|| ExternRef::from_raw(store, raw)))
            }
            ValType::AnyRef => {
                let raw = raw as u64;
                Val::AnyRef((raw != 0).then(|| AnyRef::from_raw(store, raw)))
            }
            ValType::ExnRef => {
                // Only the slot's low word: its high one is whatever the
                // slot held before (a `v128` argument's upper half).
                let raw = raw as u64;
                Val::ExnRef((raw != 0).then(|| crate::ExnRef::from_raw(store, raw)))
            }
        }
    }
}

impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::I32(v)
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I64(v)
    }
}

impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::F32(v.to_bits())
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F64(v.to_bits())
    }
}

/// Any importable or exportable object.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Extern {
    Func(Func),
    Global(Global),
    Memory(Memory),
    Table(Table),
    Tag(crate::Tag),
}

impl Extern {
    /// The id of the store that owns it.
    pub(crate) fn store_id(&self) -> u64 {
        match self {
            Extern::Func(f) => f.store,
            Extern::Global(g) => g.store,
            Extern::Memory(m) => m.store,
            Extern::Table(t) => t.store,
            Extern::Tag(t) => t.store,
        }
    }

    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<crate::Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }
}

impl From<crate::Tag> for Extern {
    fn from(t: crate::Tag) -> Extern {
        Extern::Tag(t)
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}
