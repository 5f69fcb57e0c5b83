//! The host's access to the fields of structs and the elements of arrays
//! it holds: [`AnyRef::field`], [`AnyRef::set_field`],
//! [`AnyRef::array_len`], [`AnyRef::array_get`], [`AnyRef::array_set`].

use walmart_jit::gc_types::StorageTy;
use walmart_jit::module_info::{TypeDef, TypeKind};
use walmart_jit::vmctx;

use crate::any_ref::AnyRef;
use crate::error::{Error, Result};
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::ValType;
use crate::values::Val;

impl AnyRef {
    /// Struct field `index`'s value (a packed `i8` or `i16` field
    /// zero-extended to an `i32`). An error when this is no struct or has
    /// no such field.
    pub fn field(&self, mut store: impl AsContextMut, index: usize) -> Result<Val> {
        let store = &mut store.as_context_mut().opaque;
        let (addr, def) = self.object_of_kind(store, TypeKind::Struct)?;
        let (storage, offset) = struct_field(&def, index)?;
        Ok(read(store, storage, addr + offset))
    }

    /// Sets mutable struct field `index` (an `i32` for a packed field, its
    /// low bits kept). An error when this is no struct, the field is not
    /// there or immutable, or `val` is not of its type.
    pub fn set_field(&self, mut store: impl AsContextMut, index: usize, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().opaque;
        let (addr, def) = self.object_of_kind(store, TypeKind::Struct)?;
        let (storage, offset) = struct_field(&def, index)?;
        if !def.fields[index].mutable {
            return Err(immutable(index));
        }
        write(store, storage, addr + offset, val)
    }

    /// The array's length. An error when this is no array.
    pub fn array_len(&self, store: impl AsContext) -> Result<u32> {
        let store = &store.as_context().opaque;
        let (addr, _) = self.object_of_kind(store, TypeKind::Array)?;
        Ok(array_len(addr))
    }

    /// Array element `index` (packed elements zero-extended). An error
    /// when this is no array or `index` is out of bounds.
    pub fn array_get(&self, mut store: impl AsContextMut, index: u32) -> Result<Val> {
        let store = &mut store.as_context_mut().opaque;
        let (addr, def) = self.object_of_kind(store, TypeKind::Array)?;
        let (storage, at) = element(addr, &def, index)?;
        Ok(read(store, storage, at))
    }

    /// Sets element `index` of a mutable array. An error when this is no
    /// array, its elements are immutable, `index` is out of bounds, or
    /// `val` is not of the element type.
    pub fn array_set(&self, mut store: impl AsContextMut, index: u32, val: Val) -> Result<()> {
        let store = &mut store.as_context_mut().opaque;
        let (addr, def) = self.object_of_kind(store, TypeKind::Array)?;
        if !def.fields[0].mutable {
            return Err(immutable(0));
        }
        let (storage, at) = element(addr, &def, index)?;
        write(store, storage, at, val)
    }

    /// The object's address and its type's definition, when it is a
    /// rooted object of this store of kind `kind`.
    fn object_of_kind(&self, store: &StoreOpaque, kind: TypeKind) -> Result<(usize, TypeDef)> {
        let addr = self
            .object(store)?
            .filter(|&a| super::object_kind(a) == kind);
        let Some(addr) = addr else {
            let what = if kind == TypeKind::Struct {
                "a struct"
            } else {
                "an array"
            };
            return Err(Error::Usage(format!("the reference is not {what}")));
        };
        Ok((
            addr as usize,
            store.engine.type_def(super::object_type(addr)),
        ))
    }
}

/// Struct field `index`'s storage type and offset.
fn struct_field(def: &TypeDef, index: usize) -> Result<(StorageTy, usize)> {
    let (offsets, _) = def.struct_layout();
    match (def.fields.get(index), offsets.get(index)) {
        (Some(field), Some(&offset)) => Ok((field.storage, offset as usize)),
        _ => Err(Error::Usage(format!(
            "the struct has {} fields, no field {index}",
            def.fields.len()
        ))),
    }
}

/// The array's length (from its header).
fn array_len(addr: usize) -> u32 {
    // SAFETY: `addr` is a rooted array of the store.
    unsafe { *((addr + vmctx::GC_ARRAY_LEN as usize) as *const u32) }
}

/// Element `index`'s storage type and address, if within the array.
fn element(addr: usize, def: &TypeDef, index: u32) -> Result<(StorageTy, usize)> {
    let len = array_len(addr);
    if index >= len {
        return Err(Error::Usage(format!(
            "array index {index} out of bounds for length {len}"
        )));
    }
    let storage = def.fields[0].storage;
    let at = addr + vmctx::GC_HEADER as usize + index as usize * storage.size() as usize;
    Ok((storage, at))
}

fn immutable(index: usize) -> Error {
    Error::Usage(format!("field {index} is immutable"))
}

/// The value type a field of `storage` reads as.
fn value_type(storage: StorageTy) -> ValType {
    ValType::from_wasm(storage.unpacked())
}

/// Reads the field of type `storage` at `at`.
fn read(store: &mut StoreOpaque, storage: StorageTy, at: usize) -> Val {
    let mut bytes = [0u8; 16];
    let size = storage.size() as usize;
    // SAFETY: `at` is a field (or element) of a rooted object, `size`
    // bytes long.
    unsafe { std::ptr::copy_nonoverlapping(at as *const u8, bytes.as_mut_ptr(), size) };
    Val::from_raw(store, u128::from_le_bytes(bytes), value_type(storage))
}

/// Checks that `val` is of a field of type `storage`.
pub(super) fn check(store: &mut StoreOpaque, storage: StorageTy, val: Val) -> Result<()> {
    let ty = value_type(storage);
    if val.ty() != ty {
        return Err(Error::Usage(format!(
            "expected a {ty} value, got a {}",
            val.ty()
        )));
    }
    if let StorageTy::Ref(exact) = storage {
        val.check_exact(store, Some(exact))?;
    }
    Ok(())
}

/// Writes `val` into the field of type `storage` at `at`, after checking
/// it is of that type.
pub(super) fn write(
    store: &mut StoreOpaque,
    storage: StorageTy,
    at: usize,
    val: Val,
) -> Result<()> {
    check(store, storage, val)?;
    let raw = val.to_raw(store)?;
    // SAFETY: `at` is a field or element of `storage` of a rooted object.
    unsafe { write_raw(storage, at, raw) };
    Ok(())
}

/// Writes the raw form of a value checked for the field of type
/// `storage` at `at`.
///
/// # Safety
/// `at` must be a field (or element) of type `storage` of a live object;
/// the object lives outside linear memory, and nothing else holds a
/// reference into it while the host writes.
pub(super) unsafe fn write_raw(storage: StorageTy, at: usize, raw: u128) {
    let bytes = raw.to_le_bytes();
    // SAFETY: the caller's field is `storage.size()` bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), at as *mut u8, storage.size() as usize)
    };
}
