//! Lifting: reading component values out of a guest's core values and
//! linear memory, checking what the canonical ABI requires of them.

use super::abi::{self, StringEncoding, UTF16_TAG};
use super::resources::{InstanceState, ResourceAny, ResourceKey};
use super::types::Type;
use super::val::Val;
use crate::{Error, Result, ValType};

/// Most elements of a list lifted into host values (each a [`Val`]: a
/// guest's huge list would be many times its size in the host's memory).
pub(crate) const MAX_LIST: u32 = 1 << 24;

/// What lifting reads from: the guest's memory, and how its strings are
/// encoded.
pub(crate) struct LiftCx<'a> {
    pub mem: &'a [u8],
    pub encoding: StringEncoding,
    /// The instance whose handles the values name.
    pub state: &'a InstanceState,
}

/// A trap of the canonical ABI: the guest handed over a value it may not.
pub(crate) fn abi_trap(what: impl std::fmt::Display) -> Error {
    Error::msg(format!("component value: {what}"))
}

impl<'a> LiftCx<'a> {
    /// Lifting from the memory `options` name, in `store`, for the
    /// instance `state`.
    pub fn of<T>(
        store: &'a crate::store::StoreInner<T>,
        options: &super::abi::Options,
        state: &'a InstanceState,
    ) -> LiftCx<'a> {
        LiftCx {
            mem: options.memory.map_or(&[][..], |m| m.data(store)),
            encoding: options.encoding,
            state,
        }
    }
}

impl LiftCx<'_> {
    fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8]> {
        let end = ptr as u64 + len as u64;
        if end > self.mem.len() as u64 {
            return Err(abi_trap(format_args!(
                "{len} bytes at {ptr:#x} run past the end of memory ({:#x})",
                self.mem.len()
            )));
        }
        Ok(&self.mem[ptr as usize..end as usize])
    }

    fn u8(&self, ptr: u32) -> Result<u8> {
        Ok(self.bytes(ptr, 1)?[0])
    }

    /// The byte at `ptr`.
    pub(crate) fn u8_at(&self, ptr: u32) -> Result<u8> {
        self.u8(ptr)
    }

    fn u16(&self, ptr: u32) -> Result<u16> {
        Ok(u16::from_le_bytes(self.bytes(ptr, 2)?.try_into().unwrap()))
    }

    pub(crate) fn u32(&self, ptr: u32) -> Result<u32> {
        Ok(u32::from_le_bytes(self.bytes(ptr, 4)?.try_into().unwrap()))
    }

    fn u64(&self, ptr: u32) -> Result<u64> {
        Ok(u64::from_le_bytes(self.bytes(ptr, 8)?.try_into().unwrap()))
    }

    /// A value of type `ty` stored at `ptr`.
    pub fn load(&self, ty: &Type, ptr: u32) -> Result<Val> {
        Ok(match ty {
            Type::Bool => Val::Bool(self.u8(ptr)? != 0),
            Type::S8 => Val::S8(self.u8(ptr)? as i8),
            Type::U8 => Val::U8(self.u8(ptr)?),
            Type::S16 => Val::S16(self.u16(ptr)? as i16),
            Type::U16 => Val::U16(self.u16(ptr)?),
            Type::S32 => Val::S32(self.u32(ptr)? as i32),
            Type::U32 => Val::U32(self.u32(ptr)?),
            Type::S64 => Val::S64(self.u64(ptr)? as i64),
            Type::U64 => Val::U64(self.u64(ptr)?),
            Type::Float32 => Val::Float32(f32::from_bits(self.u32(ptr)?)),
            Type::Float64 => Val::Float64(f64::from_bits(self.u64(ptr)?)),
            Type::Char => Val::Char(to_char(self.u32(ptr)?)?),
            Type::Own(key) => self.own(key, self.u32(ptr)?)?,
            Type::Borrow(key) => self.borrow(key, self.u32(ptr)?)?,
            Type::String => Val::String(self.string(self.u32(ptr)?, self.u32(ptr + 4)?)?),
            Type::List(elem) => self.list(elem, self.u32(ptr)?, self.u32(ptr + 4)?)?,
            Type::Record(fields) => {
                let mut at = ptr;
                let mut out = Vec::with_capacity(fields.len());
                for (name, t) in fields {
                    let (size, align) = abi::size_align(t);
                    at = abi::align_to(at, align);
                    out.push((name.clone(), self.load(t, at)?));
                    at += size;
                }
                Val::Record(out)
            }
            Type::Tuple(types) => {
                let mut at = ptr;
                let mut out = Vec::with_capacity(types.len());
                for t in types {
                    let (size, align) = abi::size_align(t);
                    at = abi::align_to(at, align);
                    out.push(self.load(t, at)?);
                    at += size;
                }
                Val::Tuple(out)
            }
            Type::Flags(names) => {
                let bits = match abi::size_align(ty).0 {
                    0 => vec![],
                    1 => vec![self.u8(ptr)? as u32],
                    2 => vec![self.u16(ptr)? as u32],
                    n => (0..n / 4)
                        .map(|i| self.u32(ptr + 4 * i))
                        .collect::<Result<_>>()?,
                };
                flags(names, &bits)
            }
            _ => {
                let cases = abi::cases(ty).expect("variant-like");
                let disc = match abi::discriminant_size(cases.len()) {
                    1 => self.u8(ptr)? as u32,
                    2 => self.u16(ptr)? as u32,
                    _ => self.u32(ptr)?,
                };
                let payload = ptr + abi::payload_offset(&cases);
                let value = match cases.get(disc as usize) {
                    Some(Some(t)) => Some(Box::new(self.load(t, payload)?)),
                    Some(None) => None,
                    None => return Err(bad_discriminant(ty, disc)),
                };
                variant(ty, disc, value)
            }
        })
    }

    /// The resource the owned `handle` holds, taken out of the table.
    fn own(&self, key: &ResourceKey, handle: u32) -> Result<Val> {
        let ty = self.state.resolve(key)?;
        let rep = self.state.take_own(handle, &ty)?;
        Ok(Val::Resource(ResourceAny::new(ty, rep, true)))
    }

    /// The resource `handle` lends.
    fn borrow(&self, key: &ResourceKey, handle: u32) -> Result<Val> {
        let ty = self.state.resolve(key)?;
        let rep = self.state.rep(handle, &ty)?;
        Ok(Val::Resource(ResourceAny::new(ty, rep, false)))
    }

    /// A string of the guest's at `ptr`, `len` long in the encoding's
    /// units (tagged under `latin1+utf16`).
    pub fn string(&self, ptr: u32, len: u32) -> Result<String> {
        let utf16 = |ptr: u32, units: u32| -> Result<String> {
            if !ptr.is_multiple_of(2) {
                return Err(abi_trap(format_args!(
                    "UTF-16 string at odd address {ptr:#x}"
                )));
            }
            let bytes = self.bytes(ptr, units.checked_mul(2).ok_or_else(|| too_long(units))?)?;
            char::decode_utf16(
                bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]])),
            )
            .collect::<std::result::Result<String, _>>()
            .map_err(|e| abi_trap(format_args!("invalid UTF-16 string: {e}")))
        };
        match self.encoding {
            StringEncoding::Utf8 => {
                let bytes = self.bytes(ptr, len)?;
                std::str::from_utf8(bytes)
                    .map(str::to_owned)
                    .map_err(|e| abi_trap(format_args!("invalid UTF-8 string: {e}")))
            }
            StringEncoding::Utf16 => utf16(ptr, len),
            StringEncoding::CompactUtf16 if len & UTF16_TAG != 0 => utf16(ptr, len & !UTF16_TAG),
            // Latin-1 too is at an even address in this encoding.
            StringEncoding::CompactUtf16 if !ptr.is_multiple_of(2) => Err(abi_trap(format_args!(
                "latin1+utf16 string at odd address {ptr:#x}"
            ))),
            StringEncoding::CompactUtf16 => {
                Ok(self.bytes(ptr, len)?.iter().map(|&b| b as char).collect())
            }
        }
    }

    /// A value of type `ty` at `ptr`, which must be aligned for it and lie
    /// whole in memory (the canonical ABI's check of a pointer it is given).
    pub fn load_checked(&self, ty: &Type, ptr: u32) -> Result<Val> {
        self.check_area(ty, ptr)?;
        self.load(ty, ptr)
    }

    /// Whether a value of type `ty` may lie at `ptr`: aligned, and whole
    /// in memory (the canonical ABI's check of a pointer it is given).
    pub(crate) fn check_area(&self, ty: &Type, ptr: u32) -> Result<()> {
        let size = aligned(ty, ptr)?;
        self.bytes(ptr, size).map(|_| ())
    }

    /// A list of `len` numbers of kind `elem` at `ptr`, as their
    /// little-endian bytes (no `Val` each).
    pub(crate) fn elem_list(
        &self,
        ptr: u32,
        len: u32,
        elem: super::typed::Elem,
    ) -> Result<Vec<u8>> {
        if len > MAX_LIST {
            return Err(abi_trap(format_args!(
                "a list of {len} elements: more than the {MAX_LIST} a call passes"
            )));
        }
        let size = elem.size() as u32;
        if !ptr.is_multiple_of(size) {
            return Err(abi_trap(format_args!(
                "list of `{}` at {ptr:#x}, not aligned to {size}",
                elem.ty()
            )));
        }
        let total = u64::from(len) * u64::from(size);
        let total = u32::try_from(total).map_err(|_| too_long(len))?;
        Ok(self.bytes(ptr, total)?.to_vec())
    }

    /// A list of `len` elements of type `elem` at `ptr`.
    pub fn list(&self, elem: &Type, ptr: u32, len: u32) -> Result<Val> {
        if len > MAX_LIST {
            return Err(abi_trap(format_args!(
                "a list of {len} elements: more than the {MAX_LIST} a call passes"
            )));
        }
        let (size, align) = abi::size_align(elem);
        if !ptr.is_multiple_of(align) {
            return Err(abi_trap(format_args!(
                "list of `{elem}` at {ptr:#x}, not aligned to {align}"
            )));
        }
        let total = (size as u64) * (len as u64);
        if total > u32::MAX as u64 {
            return Err(too_long(len));
        }
        let bytes = self.bytes(ptr, total as u32)?;
        if *elem == Type::U8 {
            return Ok(Val::List(bytes.iter().map(|&b| Val::U8(b)).collect()));
        }
        (0..len)
            .map(|i| self.load(elem, ptr + i * size))
            .collect::<Result<_>>()
            .map(Val::List)
    }

    /// A value of type `ty` from its flat core values, in order.
    pub fn lift_flat(&self, ty: &Type, flat: &mut impl Iterator<Item = crate::Val>) -> Result<Val> {
        let mut i32 = || -> Result<u32> {
            match flat.next() {
                Some(crate::Val::I32(v)) => Ok(v as u32),
                other => Err(flat_mismatch(ValType::I32, other)),
            }
        };
        Ok(match ty {
            Type::Bool => Val::Bool(i32()? != 0),
            Type::S8 => Val::S8(i32()? as i8),
            Type::U8 => Val::U8(i32()? as u8),
            Type::S16 => Val::S16(i32()? as i16),
            Type::U16 => Val::U16(i32()? as u16),
            Type::S32 => Val::S32(i32()? as i32),
            Type::U32 => Val::U32(i32()?),
            Type::Char => Val::Char(to_char(i32()?)?),
            Type::Own(key) => self.own(key, i32()?)?,
            Type::Borrow(key) => self.borrow(key, i32()?)?,
            Type::String => {
                let (ptr, len) = (i32()?, i32()?);
                Val::String(self.string(ptr, len)?)
            }
            Type::List(elem) => {
                let (ptr, len) = (i32()?, i32()?);
                self.list(elem, ptr, len)?
            }
            Type::Flags(names) => {
                let bits = (0..abi::flag_words(names.len()))
                    .map(|_| i32())
                    .collect::<Result<Vec<_>>>()?;
                flags(names, &bits)
            }
            Type::S64 | Type::U64 => match flat.next() {
                Some(crate::Val::I64(v)) if *ty == Type::S64 => Val::S64(v),
                Some(crate::Val::I64(v)) => Val::U64(v as u64),
                other => return Err(flat_mismatch(ValType::I64, other)),
            },
            Type::Float32 => match flat.next() {
                Some(crate::Val::F32(v)) => Val::Float32(f32::from_bits(v)),
                other => return Err(flat_mismatch(ValType::F32, other)),
            },
            Type::Float64 => match flat.next() {
                Some(crate::Val::F64(v)) => Val::Float64(f64::from_bits(v)),
                other => return Err(flat_mismatch(ValType::F64, other)),
            },
            Type::Record(fields) => Val::Record(
                fields
                    .iter()
                    .map(|(n, t)| Ok((n.clone(), self.lift_flat(t, flat)?)))
                    .collect::<Result<_>>()?,
            ),
            Type::Tuple(types) => Val::Tuple(
                types
                    .iter()
                    .map(|t| self.lift_flat(t, flat))
                    .collect::<Result<_>>()?,
            ),
            _ => {
                let cases = abi::cases(ty).expect("variant-like");
                let disc = i32()?;
                let joined = abi::variant_payload_flat(&cases);
                let payload: Vec<crate::Val> = flat.take(joined.len()).collect();
                if payload.len() != joined.len() {
                    return Err(flat_mismatch(ValType::I32, None));
                }
                let value = match cases.get(disc as usize) {
                    Some(Some(t)) => {
                        let mut want = Vec::new();
                        abi::flatten(t, &mut want);
                        let narrowed = payload
                            .into_iter()
                            .zip(want)
                            .map(|(v, w)| narrow(v, w))
                            .collect::<Vec<_>>();
                        Some(Box::new(self.lift_flat(t, &mut narrowed.into_iter())?))
                    }
                    Some(None) => None,
                    None => return Err(bad_discriminant(ty, disc)),
                };
                variant(ty, disc, value)
            }
        })
    }
}

/// The size of a value of type `ty` at `ptr`, which the canonical ABI
/// requires aligned for it (a pointer a guest hands over for a value).
pub(crate) fn aligned(ty: &Type, ptr: u32) -> Result<u32> {
    let (size, align) = abi::size_align(ty);
    if !ptr.is_multiple_of(align) {
        return Err(abi_trap(format_args!(
            "`{ty}` at {ptr:#x}, not aligned to {align}"
        )));
    }
    Ok(size)
}

/// A case's flat value out of the joined slot it travelled in.
fn narrow(v: crate::Val, want: ValType) -> crate::Val {
    use crate::Val as V;
    match (v, want) {
        (V::I32(x), ValType::F32) => V::F32(x as u32),
        (V::I64(x), ValType::I32) => V::I32(x as i32),
        (V::I64(x), ValType::F32) => V::F32(x as u32),
        (V::I64(x), ValType::F64) => V::F64(x as u64),
        (v, _) => v,
    }
}

fn to_char(c: u32) -> Result<char> {
    char::from_u32(c).ok_or_else(|| abi_trap(format_args!("{c:#x} is not a Unicode scalar value")))
}

fn too_long(len: u32) -> Error {
    abi_trap(format_args!("a length of {len} is too long"))
}

fn bad_discriminant(ty: &Type, disc: u32) -> Error {
    abi_trap(format_args!("discriminant {disc} names no case of `{ty}`"))
}

fn flat_mismatch(want: ValType, got: Option<crate::Val>) -> Error {
    Error::Usage(format!(
        "core value of a component call: expected {want}, found {}",
        got.map_or("none".to_string(), |v| v.ty().to_string())
    ))
}

/// The named flags whose bits are set (bits past the names are ignored,
/// as the canonical ABI says).
fn flags(names: &[String], words: &[u32]) -> Val {
    Val::Flags(
        names
            .iter()
            .enumerate()
            .filter(|(i, _)| words[i / 32] & (1 << (i % 32)) != 0)
            .map(|(_, n)| n.clone())
            .collect(),
    )
}

/// The value of a variant-like type's case `disc`.
fn variant(ty: &Type, disc: u32, value: Option<Box<Val>>) -> Val {
    match ty {
        Type::Variant(cases) => Val::Variant(cases[disc as usize].0.clone(), value),
        Type::Enum(names) => Val::Enum(names[disc as usize].clone()),
        Type::Option(_) => Val::Option(value),
        Type::Result { .. } if disc == 0 => Val::Result(Ok(value)),
        Type::Result { .. } => Val::Result(Err(value)),
        _ => unreachable!("only variant-like types have cases"),
    }
}
