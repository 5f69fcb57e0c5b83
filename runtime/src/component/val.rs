//! Values that cross a component's boundary, as the host sees them.

use super::types::Type;

/// A component-model value (wasmtime's `component::Val`).
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Bool(bool),
    S8(i8),
    U8(u8),
    S16(i16),
    U16(u16),
    S32(i32),
    U32(u32),
    S64(i64),
    U64(u64),
    Float32(f32),
    Float64(f64),
    Char(char),
    String(String),
    List(Vec<Val>),
    /// Fields by name, in the type's order.
    Record(Vec<(String, Val)>),
    Tuple(Vec<Val>),
    /// A case by name, with its payload.
    Variant(String, Option<Box<Val>>),
    Enum(String),
    Option(Option<Box<Val>>),
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// The names of the flags that are set.
    Flags(Vec<String>),
    /// A handle to a resource.
    Resource(super::ResourceAny),
}

impl Val {
    /// A short name of the value's kind, for errors.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(_) => "resource",
        }
    }

    /// The value every type has that a host function's result slots are
    /// filled with before the call (wasmtime fills them with `bool(false)`).
    pub(crate) fn placeholder() -> Val {
        Val::Bool(false)
    }
}

/// The bytes of a `list<u8>`'s elements.
pub(crate) fn u8_list(items: &[Val]) -> crate::Result<Vec<u8>> {
    items
        .iter()
        .map(|v| match v {
            Val::U8(b) => Ok(*b),
            other => Err(mismatch(&Type::U8, other)),
        })
        .collect()
}

/// The error for a value of the wrong kind.
pub(crate) fn mismatch(ty: &Type, val: &Val) -> crate::Error {
    crate::Error::Usage(format!(
        "expected a value of type `{ty}`, found a `{}`",
        val.kind()
    ))
}
