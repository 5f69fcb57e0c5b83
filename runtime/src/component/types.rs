//! The component model's value and function types, as walmart keeps them
//! after validation (owned trees, independent of the validator's tables).

use std::fmt;

use super::resources::ResourceKey;

use wasmparser::component_types::{ComponentDefinedType, ComponentFuncTypeId, ComponentValType};
use wasmparser::types::TypesRef;
use wasmparser::PrimitiveValType;

/// A component-model value type (WIT's types).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    Float32,
    Float64,
    Char,
    String,
    List(Box<Type>),
    /// Named fields, in order.
    Record(Vec<(String, Type)>),
    Tuple(Vec<Type>),
    /// Named cases, each with an optional payload.
    Variant(Vec<(String, Option<Type>)>),
    Enum(Vec<String>),
    Option(Box<Type>),
    Result {
        ok: Option<Box<Type>>,
        err: Option<Box<Type>>,
    },
    Flags(Vec<String>),
    /// An owned handle to a resource.
    Own(ResourceKey),
    /// A handle borrowed for the length of a call.
    Borrow(ResourceKey),
}

/// A component function's type: named parameters and at most one result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncType {
    pub(crate) params: Vec<(String, Type)>,
    pub(crate) result: Option<Type>,
}

impl FuncType {
    /// A function type from its parameters and result.
    pub fn new(params: Vec<(String, Type)>, result: Option<Type>) -> FuncType {
        FuncType { params, result }
    }

    /// The parameters' names and types, in order.
    pub fn params(&self) -> &[(String, Type)] {
        &self.params
    }

    /// The result's type, if the function returns one.
    pub fn result(&self) -> Option<&Type> {
        self.result.as_ref()
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "func(")?;
        for (i, (name, ty)) in self.params.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{name}: {ty}")?;
        }
        write!(f, ")")?;
        if let Some(r) = &self.result {
            write!(f, " -> {r}")?;
        }
        Ok(())
    }
}

/// WIT's spelling of the type.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn list<T>(
            f: &mut fmt::Formatter<'_>,
            items: &[T],
            one: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
        ) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                one(f, item)?;
            }
            Ok(())
        }
        match self {
            Type::Bool => write!(f, "bool"),
            Type::S8 => write!(f, "s8"),
            Type::U8 => write!(f, "u8"),
            Type::S16 => write!(f, "s16"),
            Type::U16 => write!(f, "u16"),
            Type::S32 => write!(f, "s32"),
            Type::U32 => write!(f, "u32"),
            Type::S64 => write!(f, "s64"),
            Type::U64 => write!(f, "u64"),
            Type::Float32 => write!(f, "f32"),
            Type::Float64 => write!(f, "f64"),
            Type::Char => write!(f, "char"),
            Type::String => write!(f, "string"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Record(fields) => {
                write!(f, "record {{ ")?;
                list(f, fields, |f, (n, t)| write!(f, "{n}: {t}"))?;
                write!(f, " }}")
            }
            Type::Tuple(types) => {
                write!(f, "tuple<")?;
                list(f, types, |f, t| write!(f, "{t}"))?;
                write!(f, ">")
            }
            Type::Variant(cases) => {
                write!(f, "variant {{ ")?;
                list(f, cases, |f, (n, t)| match t {
                    Some(t) => write!(f, "{n}({t})"),
                    None => write!(f, "{n}"),
                })?;
                write!(f, " }}")
            }
            Type::Enum(names) => write!(f, "enum {{ {} }}", names.join(", ")),
            Type::Flags(names) => write!(f, "flags {{ {} }}", names.join(", ")),
            Type::Option(t) => write!(f, "option<{t}>"),
            Type::Own(k) => write!(f, "own<{}>", k.name()),
            Type::Borrow(k) => write!(f, "borrow<{}>", k.name()),
            Type::Result { ok, err } => match (ok, err) {
                (None, None) => write!(f, "result"),
                (Some(o), None) => write!(f, "result<{o}>"),
                (None, Some(e)) => write!(f, "result<_, {e}>"),
                (Some(o), Some(e)) => write!(f, "result<{o}, {e}>"),
            },
        }
    }
}

/// Whether the component's type `ours` (its resource types resolved in
/// `state`) is the type `rust` a Rust type gives, whose resources are
/// host types: `Resource<T>` stands for both `own` and `borrow`.
pub(crate) fn matches(
    ours: &Type,
    rust: &Type,
    state: Option<&super::resources::InstanceState>,
) -> bool {
    let opt = |a: &Option<Box<Type>>, b: &Option<Box<Type>>| match (a, b) {
        (Some(a), Some(b)) => matches(a, b, state),
        (None, None) => true,
        _ => false,
    };
    match (ours, rust) {
        (Type::Own(_) | Type::Borrow(_), Type::Own(any)) if *any == ResourceKey::any() => true,
        (Type::Own(k) | Type::Borrow(k), Type::Own(host)) => match state {
            Some(state) => state.resolve(k).is_ok_and(|t| t.is_key(host)),
            None => false,
        },
        (Type::List(a), Type::List(b)) | (Type::Option(a), Type::Option(b)) => matches(a, b, state),
        (Type::Tuple(a), Type::Tuple(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y, state))
        }
        (Type::Record(a), Type::Record(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((n, x), (m, y))| n == m && matches(x, y, state))
        }
        (Type::Variant(a), Type::Variant(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|((n, x), (m, y))| {
                    n == m
                        && match (x, y) {
                            (Some(x), Some(y)) => matches(x, y, state),
                            (None, None) => true,
                            _ => false,
                        }
                })
        }
        (Type::Result { ok: a, err: e }, Type::Result { ok: b, err: f }) => opt(a, b) && opt(e, f),
        _ => ours == rust,
    }
}

/// What a component's type uses that walmart does not run yet.
pub(crate) fn unsupported(what: &str) -> String {
    format!("{what} (walmart's component model has no support for it yet)")
}

/// Our tree of a validated value type.
pub(crate) fn convert_val(types: TypesRef<'_>, ty: &ComponentValType) -> Result<Type, String> {
    match ty {
        ComponentValType::Primitive(p) => convert_primitive(*p),
        ComponentValType::Type(id) => convert_defined(types, &types[*id]),
    }
}

fn convert_primitive(p: PrimitiveValType) -> Result<Type, String> {
    Ok(match p {
        PrimitiveValType::Bool => Type::Bool,
        PrimitiveValType::S8 => Type::S8,
        PrimitiveValType::U8 => Type::U8,
        PrimitiveValType::S16 => Type::S16,
        PrimitiveValType::U16 => Type::U16,
        PrimitiveValType::S32 => Type::S32,
        PrimitiveValType::U32 => Type::U32,
        PrimitiveValType::S64 => Type::S64,
        PrimitiveValType::U64 => Type::U64,
        PrimitiveValType::F32 => Type::Float32,
        PrimitiveValType::F64 => Type::Float64,
        PrimitiveValType::Char => Type::Char,
        PrimitiveValType::String => Type::String,
        PrimitiveValType::ErrorContext => return Err(unsupported("`error-context`")),
    })
}

fn convert_defined(types: TypesRef<'_>, ty: &ComponentDefinedType) -> Result<Type, String> {
    let val = |t: &ComponentValType| convert_val(types, t);
    let boxed = |t: &Option<ComponentValType>| -> Result<Option<Box<Type>>, String> {
        t.as_ref().map(|t| val(t).map(Box::new)).transpose()
    };
    Ok(match ty {
        ComponentDefinedType::Primitive(p) => convert_primitive(*p)?,
        ComponentDefinedType::Record(r) => Type::Record(
            r.fields
                .iter()
                .map(|(n, t)| Ok((n.to_string(), val(t)?)))
                .collect::<Result<_, String>>()?,
        ),
        ComponentDefinedType::Variant(v) => Type::Variant(
            v.cases
                .iter()
                .map(|(n, c)| Ok((n.to_string(), c.ty.as_ref().map(val).transpose()?)))
                .collect::<Result<_, String>>()?,
        ),
        ComponentDefinedType::List { element, .. } => Type::List(Box::new(val(element)?)),
        ComponentDefinedType::Tuple(t) => {
            Type::Tuple(t.types.iter().map(val).collect::<Result<_, _>>()?)
        }
        ComponentDefinedType::Flags(names) => {
            Type::Flags(names.iter().map(|n| n.to_string()).collect())
        }
        ComponentDefinedType::Enum(names) => {
            Type::Enum(names.iter().map(|n| n.to_string()).collect())
        }
        ComponentDefinedType::Option { ty, .. } => Type::Option(Box::new(val(ty)?)),
        ComponentDefinedType::Result { ok, err, .. } => Type::Result {
            ok: boxed(ok)?,
            err: boxed(err)?,
        },
        ComponentDefinedType::Own(id) => Type::Own(ResourceKey::component(id.resource())),
        ComponentDefinedType::Borrow(id) => Type::Borrow(ResourceKey::component(id.resource())),
        ComponentDefinedType::Map { .. } => return Err(unsupported("`map`")),
        ComponentDefinedType::FixedLengthList { .. } => {
            return Err(unsupported("fixed-length lists"))
        }
        ComponentDefinedType::Future { .. } => return Err(unsupported("`future`")),
        ComponentDefinedType::Stream { .. } => return Err(unsupported("`stream`")),
    })
}

/// Our function type of a validated one.
pub(crate) fn convert_func(
    types: TypesRef<'_>,
    id: ComponentFuncTypeId,
) -> Result<FuncType, String> {
    let ty = &types[id];
    if ty.async_ {
        return Err(unsupported("`async` functions"));
    }
    Ok(FuncType {
        params: ty
            .params
            .iter()
            .map(|(n, t)| Ok((n.to_string(), convert_val(types, t)?)))
            .collect::<Result<_, String>>()?,
        result: ty
            .result
            .as_ref()
            .map(|t| convert_val(types, t))
            .transpose()?,
    })
}
