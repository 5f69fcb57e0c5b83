//! The canonical ABI's layout of component values: their sizes and
//! alignments in linear memory, and their flattening into core values.

use super::types::{FuncType, Type};
use crate::ValType;

/// Most core parameters a call passes as values; more go through memory.
pub(crate) const MAX_FLAT_PARAMS: usize = 16;
/// Most core results a call returns as values; more go through memory.
pub(crate) const MAX_FLAT_RESULTS: usize = 1;
/// The bit of a `latin1+utf16` string's length that says it is UTF-16.
pub(crate) const UTF16_TAG: u32 = 1 << 31;

/// How strings are encoded in a component's memory (`string-encoding=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringEncoding {
    Utf8,
    Utf16,
    /// Latin-1 where every character fits, UTF-16 otherwise (tagged).
    CompactUtf16,
}

/// The canonical options of a `canon lift` or `canon lower`, resolved.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub memory: Option<crate::Memory>,
    pub realloc: Option<crate::Func>,
    pub post_return: Option<crate::Func>,
    pub encoding: StringEncoding,
}

/// Bytes needed for a discriminant of `cases` cases.
pub(crate) fn discriminant_size(cases: usize) -> u32 {
    match cases {
        0..=0x100 => 1,
        0x101..=0x1_0000 => 2,
        _ => 4,
    }
}

/// The record layout's: each field at its alignment, the whole rounded up.
fn fields_size_align<'a>(fields: impl Iterator<Item = &'a Type>) -> (u32, u32) {
    let mut size = 0;
    let mut align = 1;
    for f in fields {
        let (s, a) = size_align(f);
        size = align_to(size, a) + s;
        align = align.max(a);
    }
    (align_to(size, align), align)
}

/// A variant's cases' largest payload size and alignment.
fn cases_size_align<'a>(cases: impl Iterator<Item = Option<&'a Type>>) -> (u32, u32) {
    let mut size = 0;
    let mut align = 1;
    for t in cases.flatten() {
        let (s, a) = size_align(t);
        size = size.max(s);
        align = align.max(a);
    }
    (size, align)
}

/// Rounds `n` up to a multiple of `align` (a power of two).
pub(crate) fn align_to(n: u32, align: u32) -> u32 {
    n.div_ceil(align) * align
}

/// The payload types of a variant-like type's cases, in order, and so
/// the shape `variant`, `enum`, `option` and `result` share.
pub(crate) fn cases(ty: &Type) -> Option<Vec<Option<&Type>>> {
    Some(match ty {
        Type::Variant(cases) => cases.iter().map(|(_, t)| t.as_ref()).collect(),
        Type::Enum(names) => vec![None; names.len()],
        Type::Option(t) => vec![None, Some(&**t)],
        Type::Result { ok, err } => vec![ok.as_deref(), err.as_deref()],
        _ => return None,
    })
}

/// The offset of a variant's payload after its discriminant.
pub(crate) fn payload_offset(cases: &[Option<&Type>]) -> u32 {
    let (_, payload_align) = cases_size_align(cases.iter().copied());
    align_to(discriminant_size(cases.len()), payload_align)
}

/// The 32-bit words of a `flags` of `n` names.
pub(crate) fn flag_words(n: usize) -> usize {
    n.div_ceil(32)
}

/// A value's size and alignment in linear memory.
pub(crate) fn size_align(ty: &Type) -> (u32, u32) {
    match ty {
        Type::Bool | Type::S8 | Type::U8 => (1, 1),
        Type::S16 | Type::U16 => (2, 2),
        Type::S32 | Type::U32 | Type::Float32 | Type::Char | Type::Own(_) | Type::Borrow(_) => {
            (4, 4)
        }
        Type::S64 | Type::U64 | Type::Float64 => (8, 8),
        Type::String | Type::List(_) => (8, 4),
        Type::Record(fields) => fields_size_align(fields.iter().map(|(_, t)| t)),
        Type::Tuple(types) => fields_size_align(types.iter()),
        Type::Flags(names) => match names.len() {
            0 => (0, 1),
            1..=8 => (1, 1),
            9..=16 => (2, 2),
            n => (4 * flag_words(n) as u32, 4),
        },
        _ => {
            let cases = cases(ty).expect("every other type is variant-like");
            let disc = discriminant_size(cases.len());
            let (payload, payload_align) = cases_size_align(cases.iter().copied());
            let align = disc.max(payload_align);
            (
                align_to(align_to(disc, payload_align) + payload, align),
                align,
            )
        }
    }
}

/// The core value type two cases' flat values at one position share.
fn join(a: ValType, b: ValType) -> ValType {
    match (a, b) {
        _ if a == b => a,
        (ValType::I32, ValType::F32) | (ValType::F32, ValType::I32) => ValType::I32,
        _ => ValType::I64,
    }
}

/// Appends the core types a value flattens to.
pub(crate) fn flatten(ty: &Type, out: &mut Vec<ValType>) {
    match ty {
        Type::Bool
        | Type::S8
        | Type::U8
        | Type::S16
        | Type::U16
        | Type::S32
        | Type::U32
        | Type::Char
        | Type::Own(_)
        | Type::Borrow(_) => out.push(ValType::I32),
        Type::S64 | Type::U64 => out.push(ValType::I64),
        Type::Float32 => out.push(ValType::F32),
        Type::Float64 => out.push(ValType::F64),
        Type::String | Type::List(_) => out.extend([ValType::I32, ValType::I32]),
        Type::Record(fields) => fields.iter().for_each(|(_, t)| flatten(t, out)),
        Type::Tuple(types) => types.iter().for_each(|t| flatten(t, out)),
        Type::Flags(names) => {
            out.extend(std::iter::repeat_n(ValType::I32, flag_words(names.len())))
        }
        _ => {
            out.push(ValType::I32);
            out.extend(variant_payload_flat(&cases(ty).expect("variant-like")));
        }
    }
}

/// The joined core types of a variant's payloads.
pub(crate) fn variant_payload_flat(cases: &[Option<&Type>]) -> Vec<ValType> {
    let mut joined: Vec<ValType> = Vec::new();
    for t in cases.iter().flatten() {
        let mut flat = Vec::new();
        flatten(t, &mut flat);
        for (i, f) in flat.into_iter().enumerate() {
            match joined.get_mut(i) {
                Some(j) => *j = join(*j, f),
                None => joined.push(f),
            }
        }
    }
    joined
}

/// The core types of a list of values, flattened one after the other.
pub(crate) fn flatten_all<'a>(types: impl Iterator<Item = &'a Type>) -> Vec<ValType> {
    let mut out = Vec::new();
    types.for_each(|t| flatten(t, &mut out));
    out
}

/// A tuple of the function's parameters (how they lie in memory when
/// they do not fit in flat values).
pub(crate) fn params_tuple(ty: &FuncType) -> Type {
    Type::Tuple(ty.params.iter().map(|(_, t)| t.clone()).collect())
}

/// The core signature of a lowered function (what the guest calls): its
/// parameters flat, or a pointer to them; its result flat, or a pointer
/// the callee writes it to, as a last parameter.
pub(crate) fn lowered_signature(ty: &FuncType) -> crate::FuncType {
    let mut params = flatten_all(ty.params.iter().map(|(_, t)| t));
    if params.len() > MAX_FLAT_PARAMS {
        params = vec![ValType::I32];
    }
    let mut results = flatten_all(ty.result.iter());
    if results.len() > MAX_FLAT_RESULTS {
        params.push(ValType::I32);
        results.clear();
    }
    crate::FuncType::new(params, results)
}

/// The core signature of a lifted function (what the guest exports):
/// its parameters flat, or a pointer to them; its result flat, or a
/// pointer to it.
pub(crate) fn lifted_signature(ty: &FuncType) -> crate::FuncType {
    let mut params = flatten_all(ty.params.iter().map(|(_, t)| t));
    if params.len() > MAX_FLAT_PARAMS {
        params = vec![ValType::I32];
    }
    let mut results = flatten_all(ty.result.iter());
    if results.len() > MAX_FLAT_RESULTS {
        results = vec![ValType::I32];
    }
    crate::FuncType::new(params, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_follow_the_canonical_abi() {
        let rec = Type::Record(vec![
            ("a".into(), Type::U8),
            ("b".into(), Type::U64),
            ("c".into(), Type::U16),
        ]);
        assert_eq!(size_align(&rec), (24, 8));
        assert_eq!(size_align(&Type::Option(Box::new(Type::U32))), (8, 4));
        assert_eq!(
            size_align(&Type::Result {
                ok: Some(Box::new(Type::String)),
                err: Some(Box::new(Type::U8))
            }),
            (12, 4)
        );
        let names = |n: usize| (0..n).map(|i| format!("f{i}")).collect::<Vec<_>>();
        assert_eq!(size_align(&Type::Flags(names(9))), (2, 2));
        assert_eq!(size_align(&Type::Flags(names(33))), (8, 4));
        assert_eq!(size_align(&Type::Enum(names(300))), (2, 2));
        assert_eq!(size_align(&Type::Tuple(vec![])), (0, 1));
    }

    #[test]
    fn variants_join_their_cases_flat_types() {
        let v = Type::Variant(vec![
            ("a".into(), Some(Type::Float32)),
            ("b".into(), Some(Type::S32)),
            ("c".into(), Some(Type::Float64)),
            ("d".into(), None),
        ]);
        let mut flat = Vec::new();
        flatten(&v, &mut flat);
        assert_eq!(flat, vec![ValType::I32, ValType::I64]);
        let r = Type::Result {
            ok: Some(Box::new(Type::Float32)),
            err: Some(Box::new(Type::Float32)),
        };
        flat.clear();
        flatten(&r, &mut flat);
        assert_eq!(flat, vec![ValType::I32, ValType::F32]);
    }
}
