//! The decoded shape of a module: everything the translator and the runtime
//! need to know about it besides the function bodies' instructions.

pub use crate::gc_types::{FieldTy, StorageTy, TypeDef};

use std::collections::HashMap;
use std::ops::Range;

use wasmparser::{
    DataKind, ElementItems, ElementKind, ExternalKind, Parser, Payload, TypeRef, Validator,
    WasmFeatures,
};

use crate::error::CompileError;

/// A Wasm value type as walmart supports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WasmType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// A reference to a caught exception (`exnref`): a pointer to the
    /// store's record of it, null or not.
    ExnRef,
    /// A reference of GC's `any` hierarchy (`anyref`, `eqref`, `i31ref`,
    /// `structref`, `arrayref`, concrete struct and array types): null
    /// (0), an `i31` (odd: the value shifted left by one, plus one), a host
    /// reference made internal by `any.convert_extern` (its `externref`
    /// form with bit 1 set), or a pointer to a GC object (8-aligned).
    AnyRef,
}

impl WasmType {
    /// Converts from wasmparser's value type (`kinds`: the kind of each of
    /// the module's types); `None` for types walmart does not support.
    pub fn from_parser(ty: wasmparser::ValType, kinds: &[TypeKind]) -> Option<WasmType> {
        use wasmparser::ValType as V;
        Some(match ty {
            V::I32 => WasmType::I32,
            V::I64 => WasmType::I64,
            V::F32 => WasmType::F32,
            V::F64 => WasmType::F64,
            V::V128 => WasmType::V128,
            V::Ref(r) => Self::from_ref(r, kinds)?,
        })
    }

    /// The representation of a reference type: every reference to a
    /// function (`funcref`, typed function references, `nullfuncref`) is a
    /// `FuncRef`, every external one an `ExternRef`, every exception one
    /// an `ExnRef`, every one of GC's `any` hierarchy an `AnyRef`.
    pub fn from_ref(r: wasmparser::RefType, kinds: &[TypeKind]) -> Option<WasmType> {
        RefTy::from_parser(r, kinds).map(RefTy::repr)
    }

    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(
            self,
            WasmType::FuncRef | WasmType::ExternRef | WasmType::ExnRef | WasmType::AnyRef
        )
    }
}

/// What a defined type is: GC's composite types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Func,
    Struct,
    Array,
}

/// What a reference may point at (typed function references).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapTy {
    /// Any function (`func`).
    Func,
    /// No function (`nofunc`): only null.
    NoFunc,
    /// Any external reference (`extern`).
    Extern,
    /// No external reference (`noextern`): only null.
    NoExtern,
    /// Any exception (`exn`).
    Exn,
    /// No exception (`noexn`): only null.
    NoExn,
    /// Anything of GC's hierarchy (`any`): `i31`s, GC objects, host
    /// references made internal.
    Any,
    /// What `ref.eq` compares (`eq`): `i31`s and GC objects.
    Eq,
    /// An unboxed 31-bit integer (`i31`).
    I31,
    /// Any struct (`struct`).
    Struct,
    /// Any array (`array`).
    Array,
    /// Nothing of GC's hierarchy (`none`): only null.
    None,
    /// A value of this module's type at this index, of this kind.
    Type(u32, TypeKind),
    /// A value of the engine-wide type with this id (a `Type` once the
    /// runtime has canonicalised the module's types).
    Engine(u64, TypeKind),
    /// The type at this position in the recursion group being
    /// canonicalised (only in the engine's keys of recursion groups).
    Rec(u32, TypeKind),
}

impl HeapTy {
    /// The top of this type's hierarchy (`func`, `extern`, `exn`, `any`).
    pub fn top(self) -> HeapTy {
        use HeapTy::*;
        match self {
            Func | NoFunc => Func,
            Extern | NoExtern => Extern,
            Exn | NoExn => Exn,
            Any | Eq | I31 | Struct | Array | None => Any,
            Type(_, k) | Engine(_, k) | Rec(_, k) => match k {
                TypeKind::Func => Func,
                TypeKind::Struct | TypeKind::Array => Any,
            },
        }
    }

    /// The bottom of this type's hierarchy (`nofunc`, `noextern`,
    /// `noexn`, `none`).
    pub fn bottom(self) -> HeapTy {
        match self.top() {
            HeapTy::Func => HeapTy::NoFunc,
            HeapTy::Extern => HeapTy::NoExtern,
            HeapTy::Exn => HeapTy::NoExn,
            _ => HeapTy::None,
        }
    }
}

/// A reference type exactly: nullability and heap type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefTy {
    pub nullable: bool,
    /// Only values of exactly `heap`, not of its subtypes (the
    /// custom-descriptors proposal's `(ref exact $t)`; `heap` is then a
    /// defined type). Null and the bottom type's values are of every exact
    /// type too.
    pub exact: bool,
    pub heap: HeapTy,
}

impl RefTy {
    /// `funcref`: `(ref null func)`.
    pub const FUNCREF: RefTy = RefTy {
        nullable: true,
        exact: false,
        heap: HeapTy::Func,
    };
    /// `externref`: `(ref null extern)`.
    pub const EXTERNREF: RefTy = RefTy {
        nullable: true,
        exact: false,
        heap: HeapTy::Extern,
    };
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: RefTy = RefTy {
        nullable: true,
        exact: false,
        heap: HeapTy::Exn,
    };

    /// From wasmparser's reference type (validated, so type indices are
    /// the module's; `kinds` is the kind of each of the module's types);
    /// `None` for what walmart does not support (shared references,
    /// continuations).
    pub fn from_parser(r: wasmparser::RefType, kinds: &[TypeKind]) -> Option<RefTy> {
        use wasmparser::{AbstractHeapType as A, HeapType as H};
        let mut exact = false;
        let heap = match r.heap_type() {
            H::Abstract { shared: false, ty } => match ty {
                A::Func => HeapTy::Func,
                A::NoFunc => HeapTy::NoFunc,
                A::Extern => HeapTy::Extern,
                A::NoExtern => HeapTy::NoExtern,
                A::Exn => HeapTy::Exn,
                A::NoExn => HeapTy::NoExn,
                A::Any => HeapTy::Any,
                A::Eq => HeapTy::Eq,
                A::I31 => HeapTy::I31,
                A::Struct => HeapTy::Struct,
                A::Array => HeapTy::Array,
                A::None => HeapTy::None,
                _ => return None,
            },
            H::Concrete(index) | H::Exact(index) => {
                exact = matches!(r.heap_type(), H::Exact(_));
                let index = index.as_module_index()?;
                HeapTy::Type(index, *kinds.get(index as usize)?)
            }
            _ => return None,
        };
        Some(RefTy {
            nullable: r.is_nullable(),
            exact,
            heap,
        })
    }

    /// How a value of this type is represented.
    pub fn repr(self) -> WasmType {
        match self.heap.top() {
            HeapTy::Func => WasmType::FuncRef,
            HeapTy::Extern => WasmType::ExternRef,
            HeapTy::Exn => WasmType::ExnRef,
            _ => WasmType::AnyRef,
        }
    }

    /// `anyref`: `(ref null any)`.
    pub const ANYREF: RefTy = RefTy {
        nullable: true,
        exact: false,
        heap: HeapTy::Any,
    };

    /// The abstract nullable type of the same family (`funcref`,
    /// `externref`, `exnref` or `anyref`): what a host value of that
    /// representation has.
    pub fn default_for(ty: WasmType) -> Option<RefTy> {
        match ty {
            WasmType::FuncRef => Some(RefTy::FUNCREF),
            WasmType::ExternRef => Some(RefTy::EXTERNREF),
            WasmType::ExnRef => Some(RefTy::EXNREF),
            WasmType::AnyRef => Some(RefTy::ANYREF),
            _ => None,
        }
    }

    /// Whether a value of this type is also one of `other`. Types compared
    /// must be canonical alike (engine ids); `concrete(a, b)` answers for
    /// two engine types (declared subtyping, see [`crate::gc_types`]).
    pub fn is_subtype_of(self, other: RefTy, concrete: &dyn Fn(u64, u64) -> bool) -> bool {
        if self.nullable && !other.nullable {
            return false;
        }
        // An exact type holds its own values and the bottom type's only.
        let exactly = (self.exact && self.heap == other.heap) || self.heap == self.heap.bottom();
        if other.exact && !exactly {
            return false;
        }
        self.heap.is_subtype_of(other.heap, concrete)
    }
}

impl HeapTy {
    /// Heap-type subtyping (see [`RefTy::is_subtype_of`]).
    pub fn is_subtype_of(self, other: HeapTy, concrete: &dyn Fn(u64, u64) -> bool) -> bool {
        use HeapTy::*;
        if self == other {
            return true;
        }
        if self.top() != other.top() {
            return false;
        }
        if self == self.bottom() {
            return true;
        }
        match (self, other) {
            (_, Func | Any) => true,
            (I31 | Struct | Array, Eq) => true,
            (Type(_, k) | Engine(_, k), Eq) => k != TypeKind::Func,
            (Type(_, TypeKind::Struct) | Engine(_, TypeKind::Struct), Struct) => true,
            (Type(_, TypeKind::Array) | Engine(_, TypeKind::Array), Array) => true,
            (Engine(a, _), Engine(b, _)) => concrete(a, b),
            _ => false,
        }
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncSig {
    pub params: Vec<WasmType>,
    pub results: Vec<WasmType>,
    /// The exact types of the reference parameters and results, in order,
    /// where one of them is other than `funcref` or `externref` (typed
    /// function references); empty otherwise, so a signature of Wasm 2.0
    /// types equals the host's of the same types.
    pub refs: Vec<RefTy>,
}

impl FuncSig {
    /// A signature, `refs` kept only where one differs from its
    /// representation's default.
    pub fn new(params: Vec<WasmType>, results: Vec<WasmType>, refs: Vec<RefTy>) -> FuncSig {
        let defaults = params
            .iter()
            .chain(&results)
            .filter_map(|t| RefTy::default_for(*t));
        let plain = refs.len() == defaults.clone().count() && refs.iter().copied().eq(defaults);
        FuncSig {
            params,
            results,
            refs: if plain { Vec::new() } else { refs },
        }
    }

    /// The same signature with each reference to a type of the module
    /// given as the engine-wide id `ids` gives it (`HeapTy::Engine`), or
    /// for a type past `ids` (of the recursion group being canonicalised),
    /// as its position in the group (`HeapTy::Rec`).
    pub fn canonical(&self, ids: &[u64]) -> FuncSig {
        FuncSig {
            params: self.params.clone(),
            results: self.results.clone(),
            refs: self.refs.iter().map(|r| r.canonical(ids)).collect(),
        }
    }
}

impl RefTy {
    /// This type with a reference to a type of the module as its
    /// engine-wide id (see [`FuncSig::canonical`]).
    pub fn canonical(self, ids: &[u64]) -> RefTy {
        RefTy {
            heap: self.heap.canonical(ids),
            ..self
        }
    }

    /// This type with each [`HeapTy::Rec`] resolved to the engine id of
    /// its recursion group's first type plus its position.
    pub fn resolve_rec(self, base: u64) -> RefTy {
        let heap = match self.heap {
            HeapTy::Rec(i, k) => HeapTy::Engine(base + u64::from(i), k),
            other => other,
        };
        RefTy { heap, ..self }
    }
}

impl HeapTy {
    /// See [`FuncSig::canonical`].
    pub fn canonical(self, ids: &[u64]) -> HeapTy {
        match self {
            HeapTy::Type(i, k) => match ids.get(i as usize) {
                Some(id) => HeapTy::Engine(*id, k),
                Option::None => HeapTy::Rec(i - ids.len() as u32, k),
            },
            other => other,
        }
    }
}

/// Limits and index type of a linear memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryPlan {
    /// Minimum size in pages (of `1 << page_size_log2` bytes).
    pub min: u64,
    /// Maximum size in pages, if declared.
    pub max: Option<u64>,
    /// Whether addresses are 64-bit (memory64).
    pub memory64: bool,
    /// Whether the memory is shared (threads).
    pub shared: bool,
    /// log2 of its page size: 16 (64 KiB), or 0 (one byte, the
    /// custom-page-sizes proposal).
    pub page_size_log2: u8,
}

impl MemoryPlan {
    /// The 64 KiB pages of Wasm 1.0, which a guard region can protect: a
    /// memory of one-byte pages ends where no host page does, and needs
    /// explicit bounds checks.
    pub fn default_pages(&self) -> bool {
        self.page_size_log2 == 16
    }
}

/// A table's element type and limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TablePlan {
    pub elem: WasmType,
    /// The element type exactly (typed function references).
    pub elem_ref: RefTy,
    pub min: u64,
    pub max: Option<u64>,
    /// Indexed by `i64` (memory64's 64-bit tables).
    pub table64: bool,
}

/// A global's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalPlan {
    pub ty: WasmType,
    pub mutable: bool,
    /// A reference global's type exactly (typed function references).
    pub exact_ref: Option<RefTy>,
}

/// One operation of a constant expression, evaluated by the runtime at
/// instantiation (extended-const arithmetic included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
    /// `ref.i31` of the `i32` on top.
    RefI31,
    /// `any.convert_extern` or `extern.convert_any` (one operation on the
    /// raw forms: see `walmart::any_ref`).
    ConvertRef,
    /// `struct.new` of the module's type: its fields' values on top.
    StructNew(u32),
    /// `struct.new_default`.
    StructNewDefault(u32),
    /// `struct.new_desc`: the fields' values, then the descriptor, on top.
    StructNewDesc(u32),
    /// `struct.new_default_desc`: the descriptor on top.
    StructNewDefaultDesc(u32),
    /// `array.new`: the element's value, then the length, on top.
    ArrayNew(u32),
    /// `array.new_default`: the length on top.
    ArrayNewDefault(u32),
    /// `array.new_fixed` of this many elements, on top.
    ArrayNewFixed(u32, u32),
}

/// A constant expression: a tiny stack program.
pub type ConstExpr = Vec<ConstOp>;

/// What an import brings in.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportKind {
    /// A function of the given type index, and whether it must be of
    /// exactly that type (the custom-descriptors proposal's `(exact
    /// (type $t))`) rather than of it or a subtype.
    Func(u32, bool),
    Table(TablePlan),
    Memory(MemoryPlan),
    Global(GlobalPlan),
    /// An exception tag whose payload is the parameters of the given
    /// type index.
    Tag(u32),
}

/// An import declaration.
#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

/// What an export names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct ElemSegment {
    pub mode: SegmentMode,
    pub ty: WasmType,
    /// One constant expression per element (function indices become `RefFunc`).
    pub items: Vec<ConstExpr>,
}

/// A data segment.
#[derive(Clone, Debug)]
pub struct DataSegment {
    pub mode: SegmentMode,
    /// Byte range of the segment's contents in the module binary.
    pub bytes: Range<usize>,
}

/// How a segment is applied at instantiation.
#[derive(Clone, Debug)]
pub enum SegmentMode {
    Passive,
    Declared,
    /// Written into table/memory `index` at `offset` during instantiation.
    Active {
        index: u32,
        offset: ConstExpr,
    },
}

/// Everything known about a module except its compiled code.
#[derive(Clone, Debug, Default)]
pub struct ModuleInfo {
    /// Each type's signature (empty for a struct or an array type).
    pub types: Vec<FuncSig>,
    /// Each type's definition: kind, fields, supertype.
    pub type_defs: Vec<crate::gc_types::TypeDef>,
    /// Each type's kind.
    pub type_kinds: Vec<TypeKind>,
    /// The types of each recursion group, in order.
    pub rec_groups: Vec<Range<u32>>,
    pub imports: Vec<Import>,
    /// Type index of every function, imported ones first.
    pub func_types: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TablePlan>,
    pub num_imported_tables: u32,
    /// Each defined table's initial element, where the module gives one
    /// (typed function references); null otherwise.
    pub table_inits: Vec<Option<ConstExpr>>,
    pub memories: Vec<MemoryPlan>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalPlan>,
    pub num_imported_globals: u32,
    /// The type index of every exception tag (imports first): the tag's
    /// payload is that type's parameters.
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    /// Initialisers of the defined (non-imported) globals.
    pub global_inits: Vec<ConstExpr>,
    pub exports: Vec<(String, ExportKind)>,
    pub start: Option<u32>,
    pub elements: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    /// Function names from the `name` custom section (shared with the
    /// code's [`crate::code_memory::DebugNames`]).
    pub func_names: std::sync::Arc<FuncNames>,
    /// The custom sections of DWARF debug information (`.debug_*`): each
    /// name and the range of its contents in the module.
    pub debug_sections: Vec<(String, std::ops::Range<usize>)>,
    /// Where the code section's contents begin in the module (DWARF's
    /// addresses count from there).
    pub code_section_start: usize,
    /// The name section names one of dlmalloc's own entry points
    /// (`dlmalloc`, `dlfree`, ...): the module's allocator is dlmalloc
    /// (wasi-libc's, Emscripten's), and `malloc` and the rest are its.
    pub dlmalloc: bool,
    /// The name section names one of emmalloc's own functions
    /// (`emmalloc_memalign`, `emmalloc_free`, ...): the module's allocator
    /// is emmalloc (wasi-libc's other allocator, zig's; Emscripten's
    /// `-sMALLOC=emmalloc`), whose heap the runtime walks its own way.
    pub emmalloc: bool,
    /// The name section names a function that hands the program a chunk's
    /// usable size or resizes a chunk in place (`malloc_usable_size`,
    /// `dlmalloc_usable_size`, `dlrealloc_in_place`): the program may then
    /// own the bytes past its request, and its chunks get no slack marks
    /// ([`ModuleInfo::slack_request`]).
    pub tells_usable_size: bool,
    /// The module's name from the `name` section.
    pub name: Option<String>,
    /// Byte range in the binary of each defined function's body.
    pub func_bodies: Vec<Range<usize>>,
    /// Functions that may be referenced (`ref.func`, elements, exports).
    pub escaping_funcs: Vec<u32>,
    /// The defined functions with an allocator role
    /// ([`ModuleInfo::allocator_role`]), found once after parsing: code
    /// generation asks at every call.
    allocator_roles: HashMap<u32, crate::vmctx::AllocRole>,
}

impl ModuleInfo {
    /// The signature of function `func` (imported or defined).
    pub fn func_sig(&self, func: u32) -> &FuncSig {
        &self.types[self.func_types[func as usize] as usize]
    }

    /// Defined function `func` returns a chunk of the module's dlmalloc
    /// heap: `malloc`, `calloc`, `realloc`, `aligned_alloc`/`memalign`
    /// or their `dl` names, in a module whose allocator is dlmalloc
    /// ([`ModuleInfo::dlmalloc`]). All are taken, not `dlmalloc` alone:
    /// wasi-libc declares dlmalloc's functions `static inline`, so
    /// `dlmalloc` may be inlined into some of its callers.
    pub fn returns_dlmalloc_chunk(&self, func: u32) -> bool {
        use crate::vmctx::AllocRole::*;
        self.dlmalloc
            && matches!(
                self.allocator_role(func),
                Some(Malloc | Calloc | Realloc | AlignedAlloc)
            )
    }

    /// Which parameter of defined function `func` is the size of the
    /// request whose chunk it returns, when that chunk's slack (the bytes
    /// past the request, up to the successor's `prev_foot`) gets marks:
    /// dlmalloc's `malloc` (its first) and `realloc` (its second), by
    /// name, in a module that cannot learn a chunk's usable size. Not
    /// `calloc` or `memalign`, which get their chunks from `dlmalloc`
    /// (marked there; `memalign` splits the marks off with the excess).
    pub fn slack_request(&self, func: u32) -> Option<usize> {
        use crate::vmctx::AllocRole::*;
        if !self.dlmalloc || self.tells_usable_size || self.export("malloc_usable_size").is_some() {
            return None;
        }
        match self.allocator_role(func)? {
            Malloc => Some(0),
            Realloc => Some(1),
            _ => None,
        }
    }

    /// Whether defined function `func` is one of dlmalloc's entry points
    /// (any allocator role, `free` included, in a module whose allocator
    /// is dlmalloc): where its heap is consistent, so its entry can check
    /// the top chunk.
    pub fn enters_dlmalloc(&self, func: u32) -> bool {
        self.dlmalloc && self.allocator_role(func).is_some()
    }

    /// The allocator role of defined function `func`, by its name (name
    /// section, else an export), when its signature fits the role: all
    /// parameters and the result `i32` (wasm32's pointers and sizes).
    pub fn allocator_role(&self, func: u32) -> Option<crate::vmctx::AllocRole> {
        self.allocator_roles.get(&func).copied()
    }

    /// Whether any defined function has an [`ModuleInfo::allocator_role`]:
    /// the module brings its own `malloc`.
    pub fn has_allocator(&self) -> bool {
        !self.allocator_roles.is_empty()
    }

    /// Every defined function's [`ModuleInfo::allocator_role`], worked
    /// out from the names and exports that name a role (a handful),
    /// rather than function by function: a module of tens of thousands of
    /// functions without names would search its exports for each.
    fn find_allocator_roles(&self) -> HashMap<u32, crate::vmctx::AllocRole> {
        use crate::vmctx::AllocRole;
        let defined = self.num_imported_funcs..self.func_types.len() as u32;
        // A role its name section name gives, else one its first export's
        // name gives.
        let mut found: HashMap<u32, &[(AllocRole, usize, bool)]> = HashMap::new();
        for (func, name) in self.func_names.iter() {
            let roles = AllocRole::from_name(name);
            if !roles.is_empty() && defined.contains(&func) {
                found.insert(func, roles);
            }
        }
        let mut exported = std::collections::HashSet::new();
        for (name, kind) in &self.exports {
            if let ExportKind::Func(func) = *kind {
                if defined.contains(&func) && exported.insert(func) {
                    let roles = AllocRole::from_name(name);
                    if !roles.is_empty() {
                        found.entry(func).or_insert(roles);
                    }
                }
            }
        }
        found
            .into_iter()
            .filter_map(|(func, roles)| {
                let role = roles.iter().find_map(|r| self.role_fits(func, *r))?;
                Some((func, role))
            })
            .collect()
    }

    /// `found`'s role for function `func` when its signature fits it.
    fn role_fits(
        &self,
        func: u32,
        (role, params, returns): (crate::vmctx::AllocRole, usize, bool),
    ) -> Option<crate::vmctx::AllocRole> {
        let sig = self.func_sig(func);
        let all_i32 = sig
            .params
            .iter()
            .chain(&sig.results)
            .all(|t| *t == WasmType::I32);
        (all_i32 && sig.params.len() == params && sig.results.len() == usize::from(returns))
            .then_some(role)
    }

    /// The depth of type `index`'s chain of declared supertypes (0 for a
    /// type that declares none).
    pub fn type_depth(&self, index: u32) -> u32 {
        let mut depth = 0;
        let mut at = index;
        while let Some(HeapTy::Type(sup, _)) = self.type_defs[at as usize].supertype {
            depth += 1;
            at = sup;
        }
        depth
    }

    /// Number of functions defined in the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.func_types.len() as u32 - self.num_imported_funcs
    }

    /// Looks up an export by name.
    pub fn export(&self, name: &str) -> Option<ExportKind> {
        self.exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, kind)| *kind)
    }
}

/// The proposals an engine validates against: Wasm 2.0's own (which an
/// engine's `Config` switches on by default, each able to be switched off
/// as wasmtime's) and those beyond. `Default` is none of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Proposals {
    /// 128-bit SIMD (Wasm 2.0).
    pub simd: bool,
    /// Relaxed SIMD (Wasm 3.0); needs `simd`.
    pub relaxed_simd: bool,
    /// Bulk memory and table operations (Wasm 2.0).
    pub bulk_memory: bool,
    /// Reference types and several tables (Wasm 2.0).
    pub reference_types: bool,
    /// Several results and block parameters (Wasm 2.0).
    pub multi_value: bool,
    /// GC: structs, arrays, `i31`, subtyping, and GC's validation rules
    /// (Wasm 3.0); needs `function_references`.
    pub gc: bool,
    /// Several memories per module.
    pub multi_memory: bool,
    /// `return_call` and `return_call_indirect`.
    pub tail_call: bool,
    /// `add`, `sub` and `mul` of `i32` and `i64` in constant expressions.
    pub extended_const: bool,
    /// Memories indexed by `i64`.
    pub memory64: bool,
    /// Typed function references: `call_ref`, `ref.as_non_null`,
    /// `br_on_null`, non-nullable and concrete reference types.
    pub function_references: bool,
    /// Exception handling: tags, `throw`, `throw_ref`, `try_table`,
    /// `exnref`.
    pub exceptions: bool,
    /// The threads proposal: shared memories, atomic memory accesses,
    /// `memory.atomic.wait32`/`wait64`/`notify` and `atomic.fence`.
    pub threads: bool,
    /// `i64.add128`, `i64.sub128`, `i64.mul_wide_s`, `i64.mul_wide_u`.
    pub wide_arithmetic: bool,
    /// Memories whose pages are one byte (`(pagesize 1)`).
    pub custom_page_sizes: bool,
    /// Exact reference types and struct types with descriptors.
    pub custom_descriptors: bool,
    /// `try`, `catch`, `catch_all`, `delegate`, `rethrow`.
    pub legacy_exceptions: bool,
}

/// The Wasm features walmart validates against: Wasm 1.0, the sign
/// extension and saturating conversion operators, and the enabled
/// proposals (Wasm 2.0's others included).
pub fn features(proposals: Proposals) -> WasmFeatures {
    let mut f =
        WasmFeatures::WASM1 | WasmFeatures::SIGN_EXTENSION | WasmFeatures::SATURATING_FLOAT_TO_INT;
    if proposals.simd {
        f |= WasmFeatures::SIMD;
    }
    if proposals.relaxed_simd {
        f |= WasmFeatures::RELAXED_SIMD;
    }
    if proposals.bulk_memory {
        f |= WasmFeatures::BULK_MEMORY;
    }
    if proposals.reference_types {
        f |= WasmFeatures::REFERENCE_TYPES;
    }
    if proposals.multi_value {
        f |= WasmFeatures::MULTI_VALUE;
    }
    if proposals.multi_memory {
        f |= WasmFeatures::MULTI_MEMORY;
    }
    if proposals.tail_call {
        f |= WasmFeatures::TAIL_CALL;
    }
    if proposals.extended_const {
        f |= WasmFeatures::EXTENDED_CONST;
    }
    if proposals.memory64 {
        f |= WasmFeatures::MEMORY64;
    }
    if proposals.function_references {
        f |= WasmFeatures::FUNCTION_REFERENCES;
    }
    if proposals.exceptions {
        f |= WasmFeatures::EXCEPTIONS;
    }
    if proposals.threads {
        f |= WasmFeatures::THREADS;
    }
    if proposals.wide_arithmetic {
        f |= WasmFeatures::WIDE_ARITHMETIC;
    }
    if proposals.custom_page_sizes {
        f |= WasmFeatures::CUSTOM_PAGE_SIZES;
    }
    if proposals.custom_descriptors {
        f |= WasmFeatures::CUSTOM_DESCRIPTORS;
    }
    if proposals.legacy_exceptions {
        f |= WasmFeatures::LEGACY_EXCEPTIONS;
    }
    // GC's rules also let a constant expression read any earlier
    // immutable global.
    if proposals.gc {
        f |= WasmFeatures::GC;
    }
    f
}

fn unsupported(what: impl Into<String>) -> CompileError {
    CompileError::Unsupported(what.into())
}

fn table_plan(ty: &wasmparser::TableType, kinds: &[TypeKind]) -> Result<TablePlan, CompileError> {
    let elem_ref = RefTy::from_parser(ty.element_type, kinds)
        .ok_or_else(|| unsupported(format!("table element type {:?}", ty.element_type)))?;
    Ok(TablePlan {
        elem: elem_ref.repr(),
        elem_ref,
        min: ty.initial,
        max: ty.maximum,
        table64: ty.table64,
    })
}

fn memory_plan(ty: &wasmparser::MemoryType) -> Result<MemoryPlan, CompileError> {
    let page_size_log2 = match ty.page_size_log2 {
        None | Some(16) => 16,
        Some(0) => 0,
        Some(other) => return Err(unsupported(format!("a page size of 2^{other} bytes"))),
    };
    Ok(MemoryPlan {
        min: ty.initial,
        max: ty.maximum,
        memory64: ty.memory64,
        shared: ty.shared,
        page_size_log2,
    })
}

fn global_plan(
    ty: &wasmparser::GlobalType,
    kinds: &[TypeKind],
) -> Result<GlobalPlan, CompileError> {
    let content = ty.content_type;
    Ok(GlobalPlan {
        ty: WasmType::from_parser(content, kinds)
            .ok_or_else(|| unsupported(format!("value type {content}")))?,
        mutable: ty.mutable,
        exact_ref: match ty.content_type {
            wasmparser::ValType::Ref(r) => RefTy::from_parser(r, kinds),
            _ => None,
        },
    })
}

/// Decodes a (validated) constant expression into walmart's form.
pub fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, CompileError> {
    use wasmparser::Operator as O;
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let op = reader.read()?;
        ops.push(match op {
            O::I32Const { value } => ConstOp::I32(value),
            O::I64Const { value } => ConstOp::I64(value),
            O::F32Const { value } => ConstOp::F32(value.bits()),
            O::F64Const { value } => ConstOp::F64(value.bits()),
            O::V128Const { value } => ConstOp::V128(value.i128() as u128),
            O::RefNull { .. } => ConstOp::RefNull,
            O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            O::RefI31 => ConstOp::RefI31,
            O::AnyConvertExtern | O::ExternConvertAny => ConstOp::ConvertRef,
            O::StructNew { struct_type_index } => ConstOp::StructNew(struct_type_index),
            O::StructNewDefault { struct_type_index } => {
                ConstOp::StructNewDefault(struct_type_index)
            }
            O::StructNewDesc { struct_type_index } => ConstOp::StructNewDesc(struct_type_index),
            O::StructNewDefaultDesc { struct_type_index } => {
                ConstOp::StructNewDefaultDesc(struct_type_index)
            }
            O::ArrayNew { array_type_index } => ConstOp::ArrayNew(array_type_index),
            O::ArrayNewDefault { array_type_index } => ConstOp::ArrayNewDefault(array_type_index),
            O::ArrayNewFixed {
                array_type_index,
                array_size,
            } => ConstOp::ArrayNewFixed(array_type_index, array_size),
            O::End => break,
            other => {
                return Err(unsupported(format!(
                    "constant expression operator {other:?}"
                )))
            }
        });
    }
    Ok(ops)
}

/// Validates `wasm` and decodes its module-level structure. Function bodies
/// are validated here too, so a module that parses is a valid module.
pub fn parse(wasm: &[u8], proposals: Proposals) -> Result<ModuleInfo, CompileError> {
    parse_checked(wasm, proposals, true)
}

/// [`parse`] without validating: for the binary of a precompiled module,
/// validated whole when it was compiled by this same build (the file's
/// fingerprint says so, its checksum that these are the bytes it was
/// compiled from). Its structure is decoded as [`parse`] decodes it, and
/// a malformed section is still an error. Validating again took half of
/// loading a precompiled sqlite (`benches/RESULTS.md`).
pub fn parse_precompiled(wasm: &[u8], proposals: Proposals) -> Result<ModuleInfo, CompileError> {
    parse_checked(wasm, proposals, false)
}

fn parse_checked(
    wasm: &[u8],
    proposals: Proposals,
    validate: bool,
) -> Result<ModuleInfo, CompileError> {
    let mut validator = validate.then(|| Validator::new_with_features(features(proposals)));
    let mut info = ModuleInfo::default();
    let mut func_validators = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        if let Some(validator) = validator.as_mut() {
            if let wasmparser::ValidPayload::Func(func, body) = validator.payload(&payload)? {
                func_validators.push((func, body));
            }
        }
        match payload {
            Payload::Version { encoding, .. } if encoding != wasmparser::Encoding::Module => {
                return Err(unsupported("components"));
            }
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group?;
                    let first = info.types.len() as u32;
                    // A group's types may name each other: their kinds
                    // first.
                    info.type_kinds
                        .extend(group.types().map(crate::gc_types::type_kind));
                    for ty in group.types() {
                        let (sig, def) =
                            crate::gc_types::type_def(ty, &info.type_kinds, &info.type_defs)
                                .map_err(unsupported)?;
                        info.types.push(sig);
                        info.type_defs.push(def);
                    }
                    info.rec_groups.push(first..info.types.len() as u32);
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    let kind = match import.ty {
                        TypeRef::Func(idx) | TypeRef::FuncExact(idx) => {
                            info.func_types.push(idx);
                            info.num_imported_funcs += 1;
                            ImportKind::Func(idx, matches!(import.ty, TypeRef::FuncExact(_)))
                        }
                        TypeRef::Table(t) => {
                            let plan = table_plan(&t, &info.type_kinds)?;
                            info.tables.push(plan);
                            info.num_imported_tables += 1;
                            ImportKind::Table(plan)
                        }
                        TypeRef::Memory(m) => {
                            let plan = memory_plan(&m)?;
                            info.memories.push(plan);
                            info.num_imported_memories += 1;
                            ImportKind::Memory(plan)
                        }
                        TypeRef::Global(g) => {
                            let plan = global_plan(&g, &info.type_kinds)?;
                            info.globals.push(plan);
                            info.num_imported_globals += 1;
                            ImportKind::Global(plan)
                        }
                        TypeRef::Tag(t) => {
                            info.tags.push(t.func_type_idx);
                            info.num_imported_tags += 1;
                            ImportKind::Tag(t.func_type_idx)
                        }
                    };
                    info.imports.push(Import {
                        module: import.module.to_string(),
                        name: import.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                for ty in reader {
                    info.func_types.push(ty?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let table = table?;
                    info.tables.push(table_plan(&table.ty, &info.type_kinds)?);
                    info.table_inits.push(match table.init {
                        wasmparser::TableInit::Expr(e) => Some(const_expr(&e)?),
                        wasmparser::TableInit::RefNull => None,
                    });
                }
            }
            Payload::MemorySection(reader) => {
                let r = reader.range();
                check_memory_limits_encoding(&wasm[r.start as usize..r.end as usize])?;
                for mem in reader {
                    info.memories.push(memory_plan(&mem?)?);
                }
            }
            Payload::TagSection(reader) => {
                for tag in reader {
                    info.tags.push(tag?.func_type_idx);
                }
            }
            Payload::GlobalSection(reader) => {
                for global in reader {
                    let global = global?;
                    info.globals
                        .push(global_plan(&global.ty, &info.type_kinds)?);
                    info.global_inits.push(const_expr(&global.init_expr)?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    let kind = match export.kind {
                        ExternalKind::Func | ExternalKind::FuncExact => {
                            info.escaping_funcs.push(export.index);
                            ExportKind::Func(export.index)
                        }
                        ExternalKind::Table => ExportKind::Table(export.index),
                        ExternalKind::Memory => ExportKind::Memory(export.index),
                        ExternalKind::Global => ExportKind::Global(export.index),
                        ExternalKind::Tag => ExportKind::Tag(export.index),
                    };
                    info.exports.push((export.name.to_string(), kind));
                }
            }
            Payload::StartSection { func, .. } => info.start = Some(func),
            Payload::ElementSection(reader) => {
                for elem in reader {
                    let elem = element(&mut info.escaping_funcs, elem?, &info.type_kinds)?;
                    info.elements.push(elem);
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    let data = data?;
                    let mode = match data.kind {
                        DataKind::Passive => SegmentMode::Passive,
                        DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    let start = data.data.as_ptr() as usize - wasm.as_ptr() as usize;
                    info.data.push(DataSegment {
                        mode,
                        bytes: start..start + data.data.len(),
                    });
                }
            }
            Payload::CodeSectionStart {
                unchecked_range, ..
            } => {
                // Only a position: nothing is read at it.
                info.code_section_start = unchecked_range.start as usize;
            }
            Payload::CodeSectionEntry(body) => {
                let r = body.range();
                info.func_bodies.push(r.start as usize..r.end as usize);
            }
            Payload::CustomSection(section) => {
                if section.name().starts_with(".debug_") {
                    let start = section.data_offset() as usize;
                    info.debug_sections.push((
                        section.name().to_string(),
                        start..start + section.data().len(),
                    ));
                }
                if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                    // A malformed name section is not an error: names are
                    // only a debugging aid.
                    let _ = read_names(&mut info, names);
                }
            }
            _ => {}
        }
    }
    for (func, body) in func_validators {
        let mut validator = func.into_validator(Default::default());
        validator.validate(&body)?;
    }
    // A function a global or a table's initial element refers to may be
    // called through it, as one an element segment holds.
    let initialisers = info
        .global_inits
        .iter()
        .chain(info.table_inits.iter().flatten());
    for op in initialisers.flatten() {
        if let ConstOp::RefFunc(f) = op {
            info.escaping_funcs.push(*f);
        }
    }
    info.escaping_funcs.sort_unstable();
    info.escaping_funcs.dedup();
    info.allocator_roles = info.find_allocator_roles();
    Ok(info)
}

/// wasmparser reads memory limits as 64-bit LEBs even when memory64 is
/// off; Wasm 2.0 requires a 32-bit memory's limits to be at most 5 bytes
/// ("integer representation too long").
fn check_memory_limits_encoding(section: &[u8]) -> Result<(), CompileError> {
    let mut reader = wasmparser::BinaryReader::new(section, 0);
    let count = reader.read_var_u32()?;
    for _ in 0..count {
        let flags = reader.read_u8()?;
        let max_len = if flags & 0x04 != 0 { 10 } else { 5 };
        let limits = if flags & 0x01 != 0 { 2 } else { 1 };
        for _ in 0..limits {
            let start = reader.current_position();
            reader.read_var_u64()?;
            if reader.current_position() - start > max_len {
                return Err(CompileError::Malformed(format!(
                    "integer representation too long (at offset {start})"
                )));
            }
        }
        if flags & 0x08 != 0 {
            // custom-page-sizes: a page-size exponent follows
            reader.read_var_u32()?;
        }
    }
    Ok(())
}

fn element(
    escaping: &mut Vec<u32>,
    elem: wasmparser::Element<'_>,
    kinds: &[TypeKind],
) -> Result<ElemSegment, CompileError> {
    let mode = match elem.kind {
        ElementKind::Passive => SegmentMode::Passive,
        ElementKind::Declared => SegmentMode::Declared,
        ElementKind::Active {
            table_index,
            offset_expr,
        } => SegmentMode::Active {
            index: table_index.unwrap_or(0),
            offset: const_expr(&offset_expr)?,
        },
    };
    let (ty, items) = match elem.items {
        ElementItems::Functions(funcs) => {
            let mut items = Vec::new();
            for f in funcs {
                let f = f?;
                escaping.push(f);
                items.push(vec![ConstOp::RefFunc(f)]);
            }
            (WasmType::FuncRef, items)
        }
        ElementItems::Expressions(ty, exprs) => {
            let ty = WasmType::from_ref(ty, kinds)
                .ok_or_else(|| unsupported(format!("element type {ty:?}")))?;
            let mut items = Vec::new();
            for e in exprs {
                let e = const_expr(&e?)?;
                for op in &e {
                    if let ConstOp::RefFunc(f) = op {
                        escaping.push(*f);
                    }
                }
                items.push(e);
            }
            (ty, items)
        }
    };
    Ok(ElemSegment { mode, ty, items })
}

/// Function names by index, as the name section gives them: one buffer
/// of text and each name's place in it, rather than a string each (a
/// large C++ program names tens of thousands of functions, and a module
/// loaded precompiled reads them all again).
#[derive(Debug, Default, Clone)]
pub struct FuncNames {
    text: String,
    /// (function index, start, end in `text`), by index.
    names: Vec<(u32, u32, u32)>,
}

impl FuncNames {
    /// The name of function `index`, if it has one. (Takes a reference
    /// as a map's `get` does.)
    pub fn get(&self, index: &u32) -> Option<&str> {
        let i = self.names.binary_search_by_key(index, |n| n.0).ok()?;
        let (_, start, end) = self.names[i];
        Some(&self.text[start as usize..end as usize])
    }

    /// Every (function index, name), by index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.names
            .iter()
            .map(|&(i, start, end)| (i, &self.text[start as usize..end as usize]))
    }

    /// Whether no function is named.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How many functions are named.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Names function `index` (a later name for the same index wins).
    fn insert(&mut self, index: u32, name: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(name);
        self.names.push((index, start, self.text.len() as u32));
    }

    /// Orders the names by index for `get`, the last of any duplicates
    /// kept (the name section lists them in order, but a module may not).
    fn finish(&mut self) {
        if !self.names.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: duplicates keep their order, and the last is kept.
            self.names.sort_by_key(|n| n.0);
            self.names.reverse();
            self.names.dedup_by_key(|n| n.0);
            self.names.reverse();
        }
    }
}

fn read_names(
    info: &mut ModuleInfo,
    names: wasmparser::NameSectionReader<'_>,
) -> Result<(), wasmparser::BinaryReaderError> {
    // Added to the names of any section before (later names win), and
    // kept as far as they were read when the section turns out malformed.
    let mut funcs = std::mem::take(std::sync::Arc::make_mut(&mut info.func_names));
    let read = read_names_into(info, &mut funcs, names);
    funcs.finish();
    info.func_names = std::sync::Arc::new(funcs);
    read
}

fn read_names_into(
    info: &mut ModuleInfo,
    funcs: &mut FuncNames,
    names: wasmparser::NameSectionReader<'_>,
) -> Result<(), wasmparser::BinaryReaderError> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => info.name = Some(name.to_string()),
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.dlmalloc |= matches!(
                        naming.name,
                        "dlmalloc" | "dlfree" | "dlcalloc" | "dlrealloc" | "dlmemalign"
                    );
                    info.emmalloc |= naming.name.starts_with("emmalloc_");
                    info.tells_usable_size |= matches!(
                        naming.name,
                        "malloc_usable_size" | "dlmalloc_usable_size" | "dlrealloc_in_place"
                    );
                    funcs.insert(naming.index, naming.name);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::FuncNames;

    #[test]
    fn func_names_are_found_by_index_the_last_of_duplicates_kept() {
        let mut names = FuncNames::default();
        for (i, n) in [(3, "c"), (0, "a"), (7, "g"), (3, "c2"), (1, "")] {
            names.insert(i, n);
        }
        names.finish();
        assert_eq!(names.len(), 4);
        assert_eq!(names.get(&3), Some("c2"));
        assert_eq!(names.get(&0), Some("a"));
        assert_eq!(names.get(&1), Some(""));
        assert_eq!(names.get(&7), Some("g"));
        assert_eq!(names.get(&2), None);
        let mut ordered = FuncNames::default();
        for i in 0..100u32 {
            ordered.insert(i, &format!("f{i}"));
        }
        ordered.finish();
        assert!((0..100).all(|i| ordered.get(&i) == Some(format!("f{i}").as_str())));
        assert!(FuncNames::default().is_empty() && FuncNames::default().get(&0).is_none());
    }
}
