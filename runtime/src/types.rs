//! Types of values and entities, in the embedding API's vocabulary.

use walmart_jit::module_info::{GlobalPlan, MemoryPlan, RefTy, TablePlan};
use walmart_jit::{FuncSig, WasmType};

/// The type of a Wasm value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// A reference to an exception (`exnref`).
    ExnRef,
    /// A reference of GC's `any` hierarchy (`anyref`: `i31`s, structs,
    /// arrays, host references made internal).
    AnyRef,
}

impl ValType {
    pub(crate) fn from_wasm(t: WasmType) -> ValType {
        match t {
            WasmType::I32 => ValType::I32,
            WasmType::I64 => ValType::I64,
            WasmType::F32 => ValType::F32,
            WasmType::F64 => ValType::F64,
            WasmType::V128 => ValType::V128,
            WasmType::FuncRef => ValType::FuncRef,
            WasmType::ExternRef => ValType::ExternRef,
            WasmType::ExnRef => ValType::ExnRef,
            WasmType::AnyRef => ValType::AnyRef,
        }
    }

    pub(crate) fn to_wasm(self) -> WasmType {
        match self {
            ValType::I32 => WasmType::I32,
            ValType::I64 => WasmType::I64,
            ValType::F32 => WasmType::F32,
            ValType::F64 => WasmType::F64,
            ValType::V128 => WasmType::V128,
            ValType::FuncRef => WasmType::FuncRef,
            ValType::ExternRef => WasmType::ExternRef,
            ValType::ExnRef => WasmType::ExnRef,
            ValType::AnyRef => WasmType::AnyRef,
        }
    }
}

impl std::fmt::Display for ValType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
            ValType::AnyRef => "anyref",
        })
    }
}

/// The element type of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RefType {
    FuncRef,
    ExternRef,
    ExnRef,
    AnyRef,
}

impl From<RefType> for ValType {
    fn from(r: RefType) -> ValType {
        match r {
            RefType::FuncRef => ValType::FuncRef,
            RefType::ExternRef => ValType::ExternRef,
            RefType::ExnRef => ValType::ExnRef,
            RefType::AnyRef => ValType::AnyRef,
        }
    }
}

/// A function signature. Its reference types are `funcref` and
/// `externref`: a module's function type with typed references (`(ref
/// $t)`, non-nullable ones) is shown by representation, and a host
/// function of that `FuncType` does not link where the module asks for the
/// typed one (`incompatible import type`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: std::sync::Arc<[ValType]>,
    results: std::sync::Arc<[ValType]>,
}

impl FuncType {
    /// A signature with these parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// Parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    /// Result types.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }

    pub(crate) fn from_sig(sig: &FuncSig) -> FuncType {
        FuncType::new(
            sig.params.iter().map(|t| ValType::from_wasm(*t)),
            sig.results.iter().map(|t| ValType::from_wasm(*t)),
        )
    }

    pub(crate) fn to_sig(&self) -> FuncSig {
        // The host's types are `funcref` and `externref`: no exact
        // references to keep.
        FuncSig {
            params: self.params.iter().map(|t| t.to_wasm()).collect(),
            results: self.results.iter().map(|t| t.to_wasm()).collect(),
            refs: Vec::new(),
        }
    }
}

impl std::fmt::Display for FuncType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "(func (param {}) (result {}))",
            list(&self.params),
            list(&self.results)
        )
    }
}

/// Whether a global can be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mutability {
    Const,
    Var,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
    /// A reference global's type exactly, where it is other than
    /// `funcref` or `externref` (typed function references; engine-wide
    /// type ids).
    pub(crate) exact: Option<RefTy>,
}

impl GlobalType {
    /// A global holding `content`.
    pub fn new(content: ValType, mutability: Mutability) -> GlobalType {
        GlobalType {
            content,
            mutability,
            exact: None,
        }
    }

    /// Whether a global of this type may be imported where `want` is
    /// declared: the same representation and mutability, and for a
    /// reference, the same type (mutable) or a subtype (immutable).
    pub(crate) fn matches(&self, want: &GlobalType, engine: &crate::Engine) -> bool {
        if self.content != want.content || self.mutability != want.mutability {
            return false;
        }
        let (Some(have), Some(wanted)) = (
            exact_or_default(self.exact, self.content),
            exact_or_default(want.exact, want.content),
        ) else {
            return true;
        };
        match self.mutability {
            Mutability::Var => have == wanted,
            Mutability::Const => have.is_subtype_of(wanted, &|a, b| engine.is_subtype(a, b)),
        }
    }

    /// The value type.
    pub fn content(&self) -> ValType {
        self.content
    }

    /// Whether it is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }

    /// The type of a module's global; `type_ids` are the module's
    /// engine-wide signature ids, for typed references.
    pub(crate) fn from_plan(p: &GlobalPlan, type_ids: &[u64]) -> GlobalType {
        let mut ty = GlobalType::new(
            ValType::from_wasm(p.ty),
            if p.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
        );
        ty.exact = canonical_ref(p.exact_ref, p.ty, type_ids);
        ty
    }
}

/// A module's reference type with engine-wide type ids; `None` where it is
/// its representation's default (`funcref`, `externref`).
fn canonical_ref(
    exact: Option<RefTy>,
    ty: walmart_jit::module_info::WasmType,
    type_ids: &[u64],
) -> Option<RefTy> {
    let exact = exact?.canonical(type_ids);
    (Some(exact) != RefTy::default_for(ty)).then_some(exact)
}

/// The exact reference type of a value of representation `content`.
fn exact_or_default(exact: Option<RefTy>, content: ValType) -> Option<RefTy> {
    exact.or_else(|| RefTy::default_for(content.to_wasm()))
}

/// A linear memory's type: limits in 64 KiB pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub(crate) min: u64,
    pub(crate) max: Option<u64>,
    pub(crate) memory64: bool,
    pub(crate) shared: bool,
    /// log2 of the page size: 16, or 0 for one-byte pages.
    pub(crate) page_size_log2: u8,
}

impl MemoryType {
    /// A 32-bit memory of at least `min` pages and at most `max`.
    pub fn new(min: u32, max: Option<u32>) -> MemoryType {
        MemoryType {
            min: min.into(),
            max: max.map(Into::into),
            memory64: false,
            shared: false,
            page_size_log2: 16,
        }
    }

    /// This type with pages of `1 << log2` bytes: 16 (64 KiB, the
    /// default) or 0 (one byte, the custom-page-sizes proposal); `None`
    /// for another size.
    pub fn with_page_size_log2(self, log2: u8) -> Option<MemoryType> {
        matches!(log2, 0 | 16).then_some(MemoryType {
            page_size_log2: log2,
            ..self
        })
    }

    /// Bytes in a page of this memory.
    pub fn page_size(&self) -> u64 {
        1 << self.page_size_log2
    }

    /// A 32-bit shared memory (the threads proposal) of at least `min`
    /// pages and at most `max`: only a memory of this type satisfies a
    /// module's shared memory import, and only such a module's import
    /// takes it.
    pub fn shared(min: u32, max: u32) -> MemoryType {
        MemoryType {
            shared: true,
            ..MemoryType::new(min, Some(max))
        }
    }

    /// Whether the memory is shared (the threads proposal).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Minimum size in pages.
    pub fn minimum(&self) -> u64 {
        self.min
    }

    /// Maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.max
    }

    pub(crate) fn from_plan(p: &MemoryPlan) -> MemoryType {
        MemoryType {
            min: p.min,
            max: p.max,
            memory64: p.memory64,
            shared: p.shared,
            page_size_log2: p.page_size_log2,
        }
    }
}

/// A table's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableType {
    pub(crate) element: RefType,
    pub(crate) min: u64,
    pub(crate) max: Option<u64>,
    pub(crate) table64: bool,
    /// The element type exactly, where it is other than `funcref` or
    /// `externref` (typed function references; engine-wide type ids).
    pub(crate) exact: Option<RefTy>,
}

impl TableType {
    /// A table of `element` references with these limits.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> TableType {
        TableType {
            element,
            min: min.into(),
            max: max.map(Into::into),
            table64: false,
            exact: None,
        }
    }

    /// Whether the table is indexed by `i64` (memory64's 64-bit tables).
    pub fn is_64(&self) -> bool {
        self.table64
    }

    /// Element type.
    pub fn element(&self) -> RefType {
        self.element
    }

    /// Minimum size.
    pub fn minimum(&self) -> u64 {
        self.min
    }

    /// Maximum size, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.max
    }

    /// The type of a module's table; `type_ids` as for
    /// [`GlobalType::from_plan`].
    pub(crate) fn from_plan(p: &TablePlan, type_ids: &[u64]) -> TableType {
        TableType {
            exact: canonical_ref(Some(p.elem_ref), p.elem, type_ids),
            element: match p.elem {
                WasmType::FuncRef => RefType::FuncRef,
                WasmType::ExnRef => RefType::ExnRef,
                WasmType::AnyRef => RefType::AnyRef,
                _ => RefType::ExternRef,
            },
            min: p.min,
            max: p.max,
            table64: p.table64,
        }
    }
}

/// Whether limits `(min, max)` of an import satisfy the required ones.
pub(crate) fn limits_match(have: (u64, Option<u64>), want: (u64, Option<u64>)) -> bool {
    have.0 >= want.0
        && match (have.1, want.1) {
            (_, None) => true,
            (Some(h), Some(w)) => h <= w,
            (None, Some(_)) => false,
        }
}
