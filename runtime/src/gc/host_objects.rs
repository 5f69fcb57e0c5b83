//! Struct and array types the host defines, and the objects it makes of
//! them: [`StructType`], [`ArrayType`], [`AnyRef::new_struct`],
//! [`AnyRef::new_array`].
//!
//! A host type is what a module's type of the same fields is when it
//! declares no supertype and stands alone in its recursion group (final,
//! as a plain `(type (struct ...))` is): the engine canonicalises both to
//! one id, so Wasm casts the host's objects to its own type and back.
//! Reference fields are of the abstract types the API's [`ValType`]s name
//! (`anyref`, `externref`, `funcref`, `exnref`, each nullable).

use walmart_jit::gc_types::{FieldTy, StorageTy};
use walmart_jit::module_info::{FuncSig, RefTy, TypeDef, TypeKind, WasmType};

use super::fields::{check, write_raw};
use super::ScanFrom;
use crate::any_ref::AnyRef;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::store::AsContextMut;
use crate::types::ValType;
use crate::values::Val;

/// How a field holds its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageType {
    /// A packed 8-bit integer, read and written as an `i32`.
    I8,
    /// A packed 16-bit integer, read and written as an `i32`.
    I16,
    /// A value of this type.
    Val(ValType),
}

/// A struct field or an array's element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldType {
    /// How it holds its value.
    pub storage: StorageType,
    /// Whether `struct.set`, `array.set` (and the host's setters) may
    /// change it.
    pub mutable: bool,
}

impl FieldType {
    /// A field of `storage`, mutable or not.
    pub fn new(storage: StorageType, mutable: bool) -> FieldType {
        FieldType { storage, mutable }
    }

    fn field_ty(self) -> FieldTy {
        let storage = match self.storage {
            StorageType::I8 => StorageTy::I8,
            StorageType::I16 => StorageTy::I16,
            StorageType::Val(t) => match t.to_wasm() {
                WasmType::FuncRef => StorageTy::Ref(RefTy::FUNCREF),
                WasmType::ExternRef => StorageTy::Ref(RefTy::EXTERNREF),
                WasmType::ExnRef => StorageTy::Ref(RefTy::EXNREF),
                WasmType::AnyRef => StorageTy::Ref(RefTy::ANYREF),
                number => StorageTy::Val(number),
            },
        };
        FieldTy {
            storage,
            mutable: self.mutable,
        }
    }
}

/// A struct type the host defined (see the module's documentation).
#[derive(Clone, Debug)]
pub struct StructType {
    engine: Engine,
    id: u64,
    def: TypeDef,
}

impl StructType {
    /// The struct type of `fields`, in `engine`.
    pub fn new(engine: &Engine, fields: &[FieldType]) -> StructType {
        let fields = fields.iter().map(|f| f.field_ty()).collect();
        let (id, def) = host_type(engine, TypeKind::Struct, fields);
        StructType {
            engine: engine.clone(),
            id,
            def,
        }
    }
}

/// An array type the host defined (see the module's documentation).
#[derive(Clone, Debug)]
pub struct ArrayType {
    engine: Engine,
    id: u64,
    def: TypeDef,
}

impl ArrayType {
    /// The array type of elements of `element`, in `engine`.
    pub fn new(engine: &Engine, element: FieldType) -> ArrayType {
        let (id, def) = host_type(engine, TypeKind::Array, vec![element.field_ty()]);
        ArrayType {
            engine: engine.clone(),
            id,
            def,
        }
    }
}

/// Registers a final type of no supertype, alone in its recursion group:
/// its engine id and definition.
fn host_type(engine: &Engine, kind: TypeKind, fields: Vec<FieldTy>) -> (u64, TypeDef) {
    let def = TypeDef {
        kind,
        fields,
        supertype: None,
        is_final: true,
        descriptor: None,
        describes: None,
        descriptor_slot: 0,
    };
    let id = engine.register_type(FuncSig::default(), def.clone());
    (id, def)
}

impl AnyRef {
    /// A new struct of type `ty` with `fields`' values, one per field of
    /// the type's and of its types. May collect the store's GC heap first;
    /// an error when the heap has no room (`GC heap exhausted`), or a value
    /// does not fit its field.
    pub fn new_struct(
        mut store: impl AsContextMut,
        ty: &StructType,
        fields: &[Val],
    ) -> Result<AnyRef> {
        let store = &mut store.as_context_mut().opaque;
        if !Engine::same(&store.engine, &ty.engine) {
            return Err(Error::Usage(
                "struct type and store belong to different engines".into(),
            ));
        }
        if fields.len() != ty.def.fields.len() {
            return Err(Error::Usage(format!(
                "a struct of {} fields given {} values",
                ty.def.fields.len(),
                fields.len()
            )));
        }
        // Every value checked and in raw form (its store's too) before
        // the allocation; an object a raw word names is rooted by the
        // host's handle, and objects never move.
        let mut raws = Vec::with_capacity(fields.len());
        for (field, val) in ty.def.fields.iter().zip(fields) {
            check(store, field.storage, *val)?;
            raws.push(val.to_raw(store)?);
        }
        let info = store.engine.type_info(ty.id);
        let addr = super::new_object(store, info, &ty.def, 0, Some(ScanFrom::Here));
        super::exhausted(addr)?;
        let (offsets, _) = ty.def.struct_layout();
        for ((field, offset), raw) in ty.def.fields.iter().zip(offsets).zip(raws) {
            // SAFETY: the struct was just made of `ty`, whose field this is.
            unsafe { write_raw(field.storage, addr as usize + offset as usize, raw) };
        }
        Ok(AnyRef::from_raw(store, addr))
    }

    /// A new array of type `ty`, `len` elements of value `element`. May
    /// collect the store's GC heap first; an error when the heap has no
    /// room, or the value is not of the element type.
    pub fn new_array(
        mut store: impl AsContextMut,
        ty: &ArrayType,
        element: Val,
        len: u32,
    ) -> Result<AnyRef> {
        let store = &mut store.as_context_mut().opaque;
        if !Engine::same(&store.engine, &ty.engine) {
            return Err(Error::Usage(
                "array type and store belong to different engines".into(),
            ));
        }
        let storage = ty.def.fields[0].storage;
        check(store, storage, element)?;
        let raw = element.to_raw(store)?;
        let info = store.engine.type_info(ty.id);
        let addr = super::new_object(store, info, &ty.def, len, Some(ScanFrom::Here));
        super::exhausted(addr)?;
        let size = storage.size() as usize;
        let first = addr as usize + walmart_jit::vmctx::GC_HEADER as usize;
        if len > 0 && raw != 0 {
            // SAFETY: the array was just made with `len` elements of
            // `size` bytes; the first is written, then copied.
            unsafe {
                write_raw(storage, first, raw);
                super::fill_from_first(first, size, len as usize);
            }
        }
        Ok(AnyRef::from_raw(store, addr))
    }
}
