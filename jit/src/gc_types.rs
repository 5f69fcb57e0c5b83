//! GC's type definitions: struct and array types, declared supertypes and
//! finality, and recursion groups, as the module declares them and in the
//! canonical form the engine keys its type registry by.
//!
//! Types are canonicalised iso-recursively: a recursion group is one key,
//! its references to its own members written as positions in the group
//! ([`HeapTy::Rec`]) and its references to earlier types as their engine
//! ids. Two modules' types are then the same type exactly when they have
//! the same engine id.

use crate::module_info::{FuncSig, HeapTy, RefTy, TypeKind, WasmType};

/// How a struct field or an array element is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StorageTy {
    /// A packed 8-bit integer (read with `_s`/`_u`).
    I8,
    /// A packed 16-bit integer.
    I16,
    /// A number or vector.
    Val(WasmType),
    /// A reference, exactly typed.
    Ref(RefTy),
}

/// How a field's raw word names a GC object, if it may (see
/// `walmart::any_ref` for the raw forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum TraceClass {
    /// Never an object: numbers and function references.
    None = 0,
    /// An `anyref` word: an object is a non-null word with its low two
    /// bits clear.
    Any = 1,
    /// An `externref` word: an object made external has bit 1 set and
    /// bit 0 clear.
    Extern = 2,
    /// An `exnref` word: an exception record's address, or null (records
    /// are not GC objects; the runtime's collector frees those Wasm alone
    /// kept).
    Exn = 3,
}

impl TraceClass {
    /// The class of a field of type `storage`.
    pub fn of(storage: StorageTy) -> TraceClass {
        match storage {
            StorageTy::Ref(r) => match r.repr() {
                WasmType::AnyRef => TraceClass::Any,
                WasmType::ExternRef => TraceClass::Extern,
                WasmType::ExnRef => TraceClass::Exn,
                _ => TraceClass::None,
            },
            _ => TraceClass::None,
        }
    }

    /// The object a raw word of this class names, if it names one.
    pub fn object(self, raw: u64) -> Option<u64> {
        match self {
            TraceClass::Any if raw != 0 && raw & 3 == 0 => Some(raw),
            TraceClass::Extern if raw & 3 == 2 => Some(raw & !2),
            _ => None,
        }
    }

    /// The class a trace layout's word gives.
    pub fn from_word(word: u64) -> TraceClass {
        match word {
            1 => TraceClass::Any,
            2 => TraceClass::Extern,
            3 => TraceClass::Exn,
            _ => TraceClass::None,
        }
    }
}

impl StorageTy {
    /// Bytes a field of this type takes in an object.
    pub fn size(self) -> u32 {
        match self {
            StorageTy::I8 => 1,
            StorageTy::I16 => 2,
            StorageTy::Val(WasmType::I32 | WasmType::F32) => 4,
            StorageTy::Val(WasmType::V128) => 16,
            StorageTy::Val(_) | StorageTy::Ref(_) => 8,
        }
    }

    /// The type of the value on the operand stack (`i32` for packed ones).
    pub fn unpacked(self) -> WasmType {
        match self {
            StorageTy::I8 | StorageTy::I16 => WasmType::I32,
            StorageTy::Val(t) => t,
            StorageTy::Ref(r) => r.repr(),
        }
    }
}

/// A struct field or an array's element type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldTy {
    pub storage: StorageTy,
    pub mutable: bool,
}

/// A defined type besides its signature (a function type's is in
/// `ModuleInfo::types`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeDef {
    pub kind: TypeKind,
    /// A struct's fields in order; an array's one element type; nothing
    /// for a function type.
    pub fields: Vec<FieldTy>,
    /// The declared supertype: `HeapTy::Type` in a module's form,
    /// `Engine` or `Rec` in canonical form.
    pub supertype: Option<HeapTy>,
    /// No type may declare this one its supertype (the default without
    /// `sub`).
    pub is_final: bool,
    /// The struct type of this struct type's descriptors (the
    /// custom-descriptors proposal: `(descriptor $d)`), in the same form
    /// as `supertype`: each object of this type holds a reference to one,
    /// in a slot among its fields ([`TypeDef::descriptor_offset`]).
    pub descriptor: Option<HeapTy>,
    /// With a descriptor, how many fields come before its slot (0
    /// without): those of the first type of the supertype chain that has
    /// a descriptor, so
    /// the slot is at one offset in that type and all its subtypes (every
    /// subtype of a described type is described; a described type's
    /// supertype need not be).
    pub descriptor_slot: u32,
    /// The struct type this one describes (`(describes $t)`).
    pub describes: Option<HeapTy>,
}

impl TypeDef {
    /// A plain function type's definition: final, no supertype.
    pub fn func() -> TypeDef {
        TypeDef {
            kind: TypeKind::Func,
            fields: Vec::new(),
            supertype: None,
            is_final: true,
            descriptor: None,
            describes: None,
            descriptor_slot: 0,
        }
    }

    /// Where an object of this struct type holds its descriptor, if the
    /// type has one (see [`TypeDef::descriptor_slot`]).
    pub fn descriptor_offset(&self) -> Option<u32> {
        self.lay_out(|_| {}).0
    }

    /// The canonical form (see [`FuncSig::canonical`]).
    pub fn canonical(&self, ids: &[u64]) -> TypeDef {
        self.map_refs(|r| r.canonical(ids))
    }

    /// The canonical form with positions in the group resolved to engine
    /// ids, the group's first type being `base`.
    pub fn resolve_rec(&self, base: u64) -> TypeDef {
        self.map_refs(|r| r.resolve_rec(base))
    }

    /// What the collector reads of an object of this type, kept after
    /// the supertype chain in the type's info record (see
    /// [`crate::vmctx::GC_TYPE_INFO`]): for a struct, its size, the count
    /// of its fields that may hold an object, then each one's offset with
    /// its [`TraceClass`] shifted left by 32; for an array, its element's
    /// size, then the element's class. A function type's is two zeros.
    pub fn trace_layout(&self) -> Vec<u64> {
        match self.kind {
            TypeKind::Func => vec![0, 0],
            TypeKind::Array => {
                let elem = self.fields[0].storage;
                vec![u64::from(elem.size()), TraceClass::of(elem) as u64]
            }
            TypeKind::Struct => {
                let mut out = vec![0, 0];
                let mut fields = self.fields.iter();
                let (descriptor, size) = self.lay_out(|offset| {
                    let class = fields
                        .next()
                        .map_or(TraceClass::None, |f| TraceClass::of(f.storage));
                    if class != TraceClass::None {
                        out.push(u64::from(offset) | (class as u64) << 32);
                    }
                });
                if let Some(at) = descriptor {
                    // A descriptor is a struct, never null once made.
                    out.push(u64::from(at) | (TraceClass::Any as u64) << 32);
                }
                out[0] = u64::from(size);
                out[1] = out.len() as u64 - 2;
                out
            }
        }
    }

    /// Bytes of an object of this struct type, header included (as
    /// [`TypeDef::struct_layout`] gives it, without its offsets).
    pub fn struct_size(&self) -> u32 {
        self.lay_out(|_| {}).1
    }

    /// The same definition with `f` applied to each reference type in it
    /// (the supertype's heap type as a non-nullable reference).
    fn map_refs(&self, f: impl Fn(RefTy) -> RefTy) -> TypeDef {
        let heap = |heap: HeapTy| {
            f(RefTy {
                nullable: false,
                exact: false,
                heap,
            })
            .heap
        };
        TypeDef {
            kind: self.kind,
            fields: self
                .fields
                .iter()
                .map(|field| FieldTy {
                    storage: match field.storage {
                        StorageTy::Ref(r) => StorageTy::Ref(f(r)),
                        other => other,
                    },
                    ..*field
                })
                .collect(),
            supertype: self.supertype.map(heap),
            is_final: self.is_final,
            descriptor: self.descriptor.map(heap),
            describes: self.describes.map(heap),
            descriptor_slot: self.descriptor_slot,
        }
    }

    /// Byte offset of each field in an object of this struct type after
    /// the header ([`crate::vmctx::GC_HEADER`]) and the descriptor's slot
    /// if any, and the object's size, header included. Fields are laid out in order, each aligned to its
    /// size.
    pub fn struct_layout(&self) -> (Vec<u32>, u32) {
        let mut offsets = Vec::with_capacity(self.fields.len());
        let (_, size) = self.lay_out(|offset| offsets.push(offset));
        (offsets, size)
    }

    /// Lays the struct out without allocating (the runtime's allocation
    /// builtin asks its size): `field` gets each field's offset in order;
    /// the descriptor's offset and the size are returned.
    fn lay_out(&self, mut field: impl FnMut(u32)) -> (Option<u32>, u32) {
        let mut offset = crate::vmctx::GC_HEADER as u32;
        let mut descriptor = None;
        let slot = self.descriptor.map(|_| self.descriptor_slot as usize);
        for i in 0..=self.fields.len() {
            if slot == Some(i) {
                offset = offset.next_multiple_of(8);
                descriptor = Some(offset);
                offset += 8;
            }
            let Some(f) = self.fields.get(i) else { break };
            let size = f.storage.size();
            offset = offset.next_multiple_of(size);
            field(offset);
            offset += size;
        }
        (descriptor, offset.next_multiple_of(8))
    }
}

impl FuncSig {
    /// See [`TypeDef::resolve_rec`].
    pub fn resolve_rec(&self, base: u64) -> FuncSig {
        FuncSig {
            params: self.params.clone(),
            results: self.results.clone(),
            refs: self.refs.iter().map(|r| r.resolve_rec(base)).collect(),
        }
    }
}

/// Reads one of wasmparser's (validated) sub types; `defs` are the
/// module's types before it (a supertype is among them).
pub(crate) fn type_def(
    ty: &wasmparser::SubType,
    kinds: &[TypeKind],
    defs: &[TypeDef],
) -> Result<(FuncSig, TypeDef), String> {
    use wasmparser::CompositeInnerType as C;
    if ty.composite_type.shared {
        return Err("shared types".into());
    }
    let val = |t: wasmparser::ValType| {
        crate::module_info::WasmType::from_parser(t, kinds).ok_or_else(|| format!("value type {t}"))
    };
    let field = |f: &wasmparser::FieldType| -> Result<FieldTy, String> {
        let storage = match f.element_type {
            wasmparser::StorageType::I8 => StorageTy::I8,
            wasmparser::StorageType::I16 => StorageTy::I16,
            wasmparser::StorageType::Val(wasmparser::ValType::Ref(r)) => StorageTy::Ref(
                RefTy::from_parser(r, kinds).ok_or_else(|| format!("reference type {r}"))?,
            ),
            wasmparser::StorageType::Val(t) => StorageTy::Val(val(t)?),
        };
        Ok(FieldTy {
            storage,
            mutable: f.mutable,
        })
    };
    let (kind, fields, sig) = match &ty.composite_type.inner {
        C::Func(f) => {
            let refs = f
                .params()
                .iter()
                .chain(f.results())
                .filter_map(|t| match t {
                    wasmparser::ValType::Ref(r) => Some(
                        RefTy::from_parser(*r, kinds).ok_or_else(|| format!("reference type {r}")),
                    ),
                    _ => None,
                })
                .collect::<Result<Vec<_>, _>>()?;
            let params = f
                .params()
                .iter()
                .map(|t| val(*t))
                .collect::<Result<_, _>>()?;
            let results = f
                .results()
                .iter()
                .map(|t| val(*t))
                .collect::<Result<_, _>>()?;
            (
                TypeKind::Func,
                Vec::new(),
                FuncSig::new(params, results, refs),
            )
        }
        C::Struct(s) => (
            TypeKind::Struct,
            s.fields.iter().map(field).collect::<Result<_, _>>()?,
            FuncSig::default(),
        ),
        C::Array(a) => (TypeKind::Array, vec![field(&a.0)?], FuncSig::default()),
        C::Cont(_) => return Err("continuation types (stack switching)".into()),
    };
    let type_ref =
        |index: Option<&wasmparser::PackedIndex>, what: &str| -> Result<Option<HeapTy>, String> {
            let Some(index) = index else {
                return Ok(None);
            };
            let index = index
                .as_module_index()
                .ok_or_else(|| format!("a {what} outside the module's types"))?;
            let kind = *kinds
                .get(index as usize)
                .ok_or_else(|| format!("{what} {index} out of range"))?;
            Ok(Some(HeapTy::Type(index, kind)))
        };
    let supertype = type_ref(ty.supertype_idxs.first(), "supertype")?;
    let descriptor = type_ref(ty.composite_type.descriptor_idx.as_ref(), "descriptor")?;
    let describes = type_ref(ty.composite_type.describes_idx.as_ref(), "described type")?;
    // Part of the type's identity: 0 without a descriptor, as the host's
    // types have it.
    let descriptor_slot = match supertype {
        _ if descriptor.is_none() => 0,
        Some(HeapTy::Type(index, _)) => match defs.get(index as usize) {
            Some(sup) if sup.descriptor.is_some() => sup.descriptor_slot,
            Some(_) => fields.len() as u32,
            None => return Err(format!("supertype {index} not defined before its subtype")),
        },
        _ => fields.len() as u32,
    };
    Ok((
        sig,
        TypeDef {
            kind,
            fields,
            supertype,
            is_final: ty.is_final,
            descriptor,
            describes,
            descriptor_slot,
        },
    ))
}

/// The kind of a (validated) sub type.
pub(crate) fn type_kind(ty: &wasmparser::SubType) -> TypeKind {
    match ty.composite_type.inner {
        wasmparser::CompositeInnerType::Func(_) => TypeKind::Func,
        wasmparser::CompositeInnerType::Struct(_) => TypeKind::Struct,
        // Continuations are refused by `type_def`.
        _ => TypeKind::Array,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::{
        CompositeInnerType, CompositeType, FieldType, PackedIndex, StorageType, StructType,
        SubType, ValType,
    };

    /// A struct sub type of `fields`, its supertype and descriptor given
    /// as module indices.
    fn sub(fields: &[ValType], supertype: Option<u32>, descriptor: Option<u32>) -> SubType {
        let index = |i: u32| PackedIndex::from_module_index(i).unwrap();
        SubType {
            is_final: false,
            supertype_idxs: supertype.map(index).into_iter().collect(),
            composite_type: CompositeType {
                inner: CompositeInnerType::Struct(StructType {
                    fields: fields
                        .iter()
                        .map(|t| FieldType {
                            element_type: StorageType::Val(*t),
                            mutable: false,
                        })
                        .collect(),
                }),
                shared: false,
                descriptor_idx: descriptor.map(index),
                describes_idx: None,
            },
        }
    }

    /// The proposal lets a described type's supertype be undescribed
    /// (wasmparser 0.263 still refuses that, so no module reaches it yet):
    /// the slot then follows the first described type's fields, and the
    /// supertype's fields keep their offsets.
    #[test]
    fn the_descriptor_slot_keeps_every_offset_along_a_chain() {
        use ValType::{F64, I32, I64};
        let types = [
            sub(&[I32, I64], None, None),                 // 0: undescribed
            sub(&[I32, I64, I32], Some(0), Some(3)),      // 1: first described
            sub(&[I32, I64, I32, F64], Some(1), Some(4)), // 2
            sub(&[], None, None),                         // 3: a descriptor
            sub(&[], Some(3), None),                      // 4: a descriptor
        ];
        let kinds = [TypeKind::Struct; 5];
        let mut defs = Vec::new();
        for ty in &types {
            let (_, def) = type_def(ty, &kinds, &defs).unwrap();
            defs.push(def);
        }
        let (base, _) = defs[0].struct_layout();
        let (first, _) = defs[1].struct_layout();
        let (second, size) = defs[2].struct_layout();
        assert_eq!(defs[0].descriptor_offset(), None);
        assert_eq!(first[..2], base[..]);
        assert_eq!(second[..3], first[..]);
        let slot = defs[1].descriptor_offset().unwrap();
        assert_eq!(defs[2].descriptor_offset(), Some(slot));
        // After the first described type's fields, before the subtype's.
        assert!(slot >= first[2] + 4 && slot + 8 <= second[3]);
        assert!(second[3] + 8 <= size);
        assert_eq!(defs[0].descriptor_slot, 0);
        assert_eq!(defs[2].descriptor_slot, 3);
        // Traced: the slot is among the words the collector reads.
        let trace = defs[2].trace_layout();
        assert!(trace[2..].contains(&(u64::from(slot) | (TraceClass::Any as u64) << 32)));
    }
}
