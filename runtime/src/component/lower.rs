//! Lowering: writing component values into a guest's core values and
//! linear memory, allocating with the guest's `realloc`.

use std::sync::Arc;

use super::abi::{self, Options, StringEncoding, UTF16_TAG};
use super::lift::abi_trap;
use super::resources::{InstanceState, ResourceKey};
use super::types::Type;
use super::val::{mismatch, Val};
use crate::store::StoreInner;
use crate::{Error, Result, ValType};

/// What lowering writes into: the store (the guest's `realloc` runs in
/// it) and the canonical options of the boundary.
pub(crate) struct LowerCx<'a, T: 'static> {
    pub store: &'a mut StoreInner<T>,
    pub opts: &'a Options,
    /// The instance that receives the values (handles go in its table).
    pub state: &'a Arc<InstanceState>,
    /// The call borrows are lent for, and the handles lent.
    pub scope: u64,
    pub borrows: Vec<u32>,
    /// The lowering is an asynchronous call's own (see `Func::call_in`).
    pub top: bool,
}

impl<T: 'static> LowerCx<'_, T> {
    fn memory(&self) -> Result<crate::Memory> {
        self.opts.memory.ok_or_else(|| {
            Error::Usage("a component value needs memory the boundary has not".into())
        })
    }

    /// `size` bytes at `align` from the guest's `realloc`.
    pub fn realloc(&mut self, align: u32, size: u32) -> Result<u32> {
        let realloc = self.opts.realloc.ok_or_else(|| {
            Error::Usage("a component value needs `realloc` the boundary has not".into())
        })?;
        let mut out = [crate::Val::I32(0)];
        let args = [
            crate::Val::I32(0),
            crate::Val::I32(0),
            crate::Val::I32(align as i32),
            crate::Val::I32(size as i32),
        ];
        super::func::core_call(self.store, self.top, |s| realloc.call(s, &args, &mut out))?;
        let ptr = out[0].unwrap_i32() as u32;
        if !ptr.is_multiple_of(align) {
            return Err(abi_trap(format_args!(
                "`realloc` returned {ptr:#x}, not aligned to {align}"
            )));
        }
        self.check_range(ptr, size)?;
        Ok(ptr)
    }

    /// Checks that `len` bytes at `ptr` lie in the memory.
    pub fn check_range(&mut self, ptr: u32, len: u32) -> Result<()> {
        let size = self.memory()?.data_size(&*self.store) as u64;
        if ptr as u64 + len as u64 > size {
            return Err(abi_trap(format_args!(
                "{len} bytes at {ptr:#x} run past the end of memory ({size:#x})"
            )));
        }
        Ok(())
    }

    /// Writes through `Memory::write`, the host's legitimate way into
    /// guest memory: under attestation the pages are the host's writes (and
    /// those filled whole its input), not tampering.
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<()> {
        self.check_range(ptr, bytes.len() as u32)?;
        self.memory()?.write(&mut *self.store, ptr as usize, bytes)
    }

    /// Stores `val` of type `ty` at `ptr`, a pointer the guest gave, which
    /// must be aligned for it and lie whole in memory.
    pub fn store_checked(&mut self, ty: &Type, val: &Val, ptr: u32) -> Result<()> {
        self.check_destination(ty, ptr)?;
        self.store(ty, val, ptr)
    }

    /// Checks that `ptr`, a pointer the guest gave for a value of type
    /// `ty`, is aligned for it and lies whole in memory.
    fn check_destination(&mut self, ty: &Type, ptr: u32) -> Result<()> {
        let size = super::lift::aligned(ty, ptr)?;
        self.check_range(ptr, size)
    }

    /// Stores a result of type `ty` holding `bytes` where `shape` says, at
    /// `ptr`, a pointer the guest gave (checked as [`Self::store_checked`]
    /// checks it): the bytes go through `realloc` whole, with no `Val`
    /// each, in the canonical ABI's order (a result's discriminant, the
    /// list, its pointer and length, a tuple's `bool`).
    pub fn store_bytes(
        &mut self,
        ty: &Type,
        bytes: &[u8],
        shape: super::func::BytesShape,
        ptr: u32,
    ) -> Result<()> {
        use super::func::BytesShape;
        if !shape.fits(ty) {
            return Err(Error::Usage(format!(
                "a host function gave bytes for a result of type `{ty}`"
            )));
        }
        self.check_destination(ty, ptr)?;
        let at = match (shape, abi::cases(ty)) {
            (BytesShape::Ok | BytesShape::OkWithBool(_), Some(cases)) => {
                // The `ok` case is the first: discriminant 0.
                self.write(ptr, &[0])?;
                ptr + abi::payload_offset(&cases)
            }
            _ => ptr,
        };
        let (list, len) = self.byte_list(bytes)?;
        self.write(at, &pair(list, len))?;
        match shape {
            BytesShape::OkWithBool(b) => self.write(at + 8, &[b as u8]),
            _ => Ok(()),
        }
    }

    /// Stores `val` of type `ty` at `ptr`.
    pub fn store(&mut self, ty: &Type, val: &Val, ptr: u32) -> Result<()> {
        match (ty, val) {
            (Type::Bool, Val::Bool(b)) => self.write(ptr, &[*b as u8]),
            (Type::S8, Val::S8(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::U8, Val::U8(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::S16, Val::S16(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::U16, Val::U16(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::S32, Val::S32(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::U32, Val::U32(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::S64, Val::S64(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::U64, Val::U64(v)) => self.write(ptr, &v.to_le_bytes()),
            (Type::Float32, Val::Float32(v)) => self.write(ptr, &v.to_bits().to_le_bytes()),
            (Type::Float64, Val::Float64(v)) => self.write(ptr, &v.to_bits().to_le_bytes()),
            (Type::Char, Val::Char(c)) => self.write(ptr, &(*c as u32).to_le_bytes()),
            (Type::Own(key) | Type::Borrow(key), Val::Resource(_)) => {
                let handle = self.handle(ty, key, val)?;
                self.write(ptr, &handle.to_le_bytes())
            }
            (Type::String, Val::String(s)) => {
                let (p, len) = self.string(s)?;
                self.write(ptr, &pair(p, len))
            }
            (Type::List(elem), Val::List(items)) => {
                let (p, len) = self.list(elem, items)?;
                self.write(ptr, &pair(p, len))
            }
            (Type::Record(fields), Val::Record(_)) => {
                let vals = record_fields(ty, fields, val)?;
                self.store_fields(fields.iter().map(|(_, t)| t).zip(vals), ptr)
            }
            (Type::Tuple(types), Val::Tuple(vals)) if types.len() == vals.len() => {
                self.store_fields(types.iter().zip(vals), ptr)
            }
            (Type::Flags(names), Val::Flags(set)) => {
                let words = flag_bits(names, set)?;
                match abi::size_align(ty).0 {
                    0 => Ok(()),
                    1 => self.write(ptr, &[words[0] as u8]),
                    2 => self.write(ptr, &(words[0] as u16).to_le_bytes()),
                    _ => {
                        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                        self.write(ptr, &bytes)
                    }
                }
            }
            _ => {
                let cases = abi::cases(ty).ok_or_else(|| mismatch(ty, val))?;
                let (disc, payload) = case_of(ty, val)?;
                match abi::discriminant_size(cases.len()) {
                    1 => self.write(ptr, &[disc as u8])?,
                    2 => self.write(ptr, &(disc as u16).to_le_bytes())?,
                    _ => self.write(ptr, &disc.to_le_bytes())?,
                }
                match (cases[disc as usize], payload) {
                    (Some(t), Some(v)) => self.store(t, v, ptr + abi::payload_offset(&cases)),
                    _ => Ok(()),
                }
            }
        }
    }

    fn store_fields<'v>(
        &mut self,
        fields: impl Iterator<Item = (&'v Type, &'v Val)>,
        ptr: u32,
    ) -> Result<()> {
        let mut at = ptr;
        for (t, v) in fields {
            let (size, align) = abi::size_align(t);
            at = abi::align_to(at, align);
            self.store(t, v, at)?;
            at += size;
        }
        Ok(())
    }

    /// Whether `val` lowers as `ty`: lowering's checks without its effects
    /// (nothing allocated, no handle moved).
    pub fn check(&mut self, ty: &Type, val: &Val) -> Result<()> {
        match (ty, val) {
            (Type::Bool, Val::Bool(_))
            | (Type::S8, Val::S8(_))
            | (Type::U8, Val::U8(_))
            | (Type::S16, Val::S16(_))
            | (Type::U16, Val::U16(_))
            | (Type::S32, Val::S32(_))
            | (Type::U32, Val::U32(_))
            | (Type::S64, Val::S64(_))
            | (Type::U64, Val::U64(_))
            | (Type::Float32, Val::Float32(_))
            | (Type::Float64, Val::Float64(_))
            | (Type::Char, Val::Char(_))
            | (Type::String, Val::String(_)) => Ok(()),
            (Type::List(elem), Val::List(items)) => {
                items.iter().try_for_each(|v| self.check(elem, v))
            }
            (Type::Record(fields), Val::Record(_)) => {
                let vals = record_fields(ty, fields, val)?;
                fields
                    .iter()
                    .zip(vals)
                    .try_for_each(|((_, t), v)| self.check(t, v))
            }
            (Type::Tuple(types), Val::Tuple(vals)) if types.len() == vals.len() => types
                .iter()
                .zip(vals)
                .try_for_each(|(t, v)| self.check(t, v)),
            (Type::Flags(names), Val::Flags(set)) => flag_bits(names, set).map(|_| ()),
            (Type::Own(key) | Type::Borrow(key), Val::Resource(r)) => {
                self.resource_type(ty, key, r)?;
                if r.owned() && r.moved() {
                    return Err(Error::Usage(
                        "an owned resource that already moved into a component".into(),
                    ));
                }
                if matches!(ty, Type::Own(_)) && !r.owned() {
                    return Err(Error::Usage(format!(
                        "a borrowed resource where `{ty}` is expected"
                    )));
                }
                Ok(())
            }
            _ => {
                abi::cases(ty).ok_or_else(|| mismatch(ty, val))?;
                match case_of(ty, val)? {
                    (disc, Some(v)) => {
                        let cases = abi::cases(ty).expect("variant-like");
                        let t = cases[disc as usize].expect("a case with a payload");
                        self.check(t, v)
                    }
                    (_, None) => Ok(()),
                }
            }
        }
    }

    /// The run-time type of a resource `key` names, which `r` must be of.
    fn resource_type(
        &self,
        ty: &Type,
        key: &ResourceKey,
        r: &super::ResourceAny,
    ) -> Result<super::ResourceType> {
        let rt = self.state.resolve(key)?;
        if r.ty() != rt {
            return Err(Error::Usage(format!(
                "a resource of type {:?} where `{ty}` of {rt:?} is expected",
                r.ty()
            )));
        }
        Ok(rt)
    }

    /// The handle (or, for a borrow of its own type, the representation)
    /// the receiving instance gets for a resource.
    fn handle(&mut self, ty: &Type, key: &ResourceKey, val: &Val) -> Result<u32> {
        let Val::Resource(r) = val else {
            return Err(mismatch(ty, val));
        };
        let rt = self.resource_type(ty, key, r)?;
        if r.owned() && r.moved() && matches!(ty, Type::Borrow(_)) {
            return Err(Error::Usage(
                "an owned resource that already moved into a component, lent".into(),
            ));
        }
        match ty {
            Type::Own(_) if !r.owned() => Err(Error::Usage(format!(
                "a borrowed resource where `{ty}` is expected"
            ))),
            Type::Own(_) => {
                r.move_out()?;
                Ok(self.state.new_own(rt, r.rep()))
            }
            _ if rt.owned_by(self.state) => Ok(r.rep()),
            _ => {
                let handle = self.state.new_borrow(rt, r.rep(), self.scope);
                self.borrows.push(handle);
                Ok(handle)
            }
        }
    }

    /// Copies a string into the guest in its encoding: its address and
    /// length (in the encoding's units, tagged under `latin1+utf16`).
    pub fn string(&mut self, s: &str) -> Result<(u32, u32)> {
        let max = UTF16_TAG - 1;
        let utf16 =
            |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect() };
        let (bytes, align, len) = match self.opts.encoding {
            StringEncoding::Utf8 => (s.as_bytes().to_vec(), 1, s.len()),
            StringEncoding::Utf16 => {
                let b = utf16(s);
                let n = b.len() / 2;
                (b, 2, n)
            }
            StringEncoding::CompactUtf16 if s.chars().all(|c| (c as u32) < 0x100) => {
                let b: Vec<u8> = s.chars().map(|c| c as u8).collect();
                let n = b.len();
                (b, 2, n)
            }
            StringEncoding::CompactUtf16 => {
                let b = utf16(s);
                let n = b.len() / 2;
                if n > max as usize {
                    return Err(abi_trap("string too long to pass"));
                }
                let ptr = self.realloc(2, b.len() as u32)?;
                self.write(ptr, &b)?;
                return Ok((ptr, n as u32 | UTF16_TAG));
            }
        };
        if bytes.len() > max as usize {
            return Err(abi_trap("string too long to pass"));
        }
        let ptr = self.realloc(align, bytes.len() as u32)?;
        self.write(ptr, &bytes)?;
        Ok((ptr, len as u32))
    }

    /// Copies a list into the guest: its address and length.
    pub fn list(&mut self, elem: &Type, items: &[Val]) -> Result<(u32, u32)> {
        let (size, align) = abi::size_align(elem);
        let total = size as u64 * items.len() as u64;
        if total > u32::MAX as u64 {
            return Err(abi_trap("list too long to pass"));
        }
        if *elem == Type::U8 {
            return self.byte_list(&super::val::u8_list(items)?);
        }
        let ptr = self.realloc(align, total as u32)?;
        for (i, v) in items.iter().enumerate() {
            self.store(elem, v, ptr + i as u32 * size)?;
        }
        Ok((ptr, items.len() as u32))
    }

    /// A `list<u8>` of `bytes` in the guest's memory, allocated with its
    /// `realloc`: its pointer and length.
    pub(crate) fn byte_list(&mut self, bytes: &[u8]) -> Result<(u32, u32)> {
        self.elem_list(bytes, super::typed::Elem::U8)
    }

    /// A list of numbers of kind `elem`, their little-endian `bytes`, in
    /// the guest's memory: its pointer and length in elements.
    pub(crate) fn elem_list(
        &mut self,
        bytes: &[u8],
        elem: super::typed::Elem,
    ) -> Result<(u32, u32)> {
        let size = elem.size();
        let total = u32::try_from(bytes.len()).map_err(|_| abi_trap("list too long to pass"))?;
        let at = self.realloc(size as u32, total)?;
        self.write(at, bytes)?;
        Ok((at, (bytes.len() / size) as u32))
    }

    /// Appends `val`'s flat core values.
    pub fn lower_flat(&mut self, ty: &Type, val: &Val, out: &mut Vec<crate::Val>) -> Result<()> {
        use crate::Val as V;
        match (ty, val) {
            (Type::Bool, Val::Bool(b)) => out.push(V::I32(*b as i32)),
            (Type::S8, Val::S8(v)) => out.push(V::I32(*v as i32)),
            (Type::U8, Val::U8(v)) => out.push(V::I32(*v as i32)),
            (Type::S16, Val::S16(v)) => out.push(V::I32(*v as i32)),
            (Type::U16, Val::U16(v)) => out.push(V::I32(*v as i32)),
            (Type::S32, Val::S32(v)) => out.push(V::I32(*v)),
            (Type::U32, Val::U32(v)) => out.push(V::I32(*v as i32)),
            (Type::S64, Val::S64(v)) => out.push(V::I64(*v)),
            (Type::U64, Val::U64(v)) => out.push(V::I64(*v as i64)),
            (Type::Float32, Val::Float32(v)) => out.push(V::F32(v.to_bits())),
            (Type::Float64, Val::Float64(v)) => out.push(V::F64(v.to_bits())),
            (Type::Char, Val::Char(c)) => out.push(V::I32(*c as i32)),
            (Type::Own(key) | Type::Borrow(key), Val::Resource(_)) => {
                out.push(V::I32(self.handle(ty, key, val)? as i32))
            }
            (Type::String, Val::String(s)) => {
                let (p, len) = self.string(s)?;
                out.extend([V::I32(p as i32), V::I32(len as i32)]);
            }
            (Type::List(elem), Val::List(items)) => {
                let (p, len) = self.list(elem, items)?;
                out.extend([V::I32(p as i32), V::I32(len as i32)]);
            }
            (Type::Record(fields), Val::Record(_)) => {
                for ((_, t), v) in fields.iter().zip(record_fields(ty, fields, val)?) {
                    self.lower_flat(t, v, out)?;
                }
            }
            (Type::Tuple(types), Val::Tuple(vals)) if types.len() == vals.len() => {
                for (t, v) in types.iter().zip(vals) {
                    self.lower_flat(t, v, out)?;
                }
            }
            (Type::Flags(names), Val::Flags(set)) => {
                let words = flag_bits(names, set)?;
                let n = abi::flag_words(names.len());
                out.extend(words.into_iter().take(n).map(|w| V::I32(w as i32)));
            }
            _ => {
                let cases = abi::cases(ty).ok_or_else(|| mismatch(ty, val))?;
                let (disc, payload) = case_of(ty, val)?;
                out.push(V::I32(disc as i32));
                let joined = abi::variant_payload_flat(&cases);
                let mut own = Vec::new();
                if let (Some(t), Some(v)) = (cases[disc as usize], payload) {
                    self.lower_flat(t, v, &mut own)?;
                }
                let mut own = own.into_iter();
                for want in joined {
                    out.push(match own.next() {
                        Some(v) => widen(v, want),
                        None => zero(want),
                    });
                }
            }
        }
        Ok(())
    }
}

/// A case's flat value widened to the joined slot it travels in.
fn widen(v: crate::Val, want: ValType) -> crate::Val {
    use crate::Val as V;
    match (v, want) {
        (V::F32(x), ValType::I32) => V::I32(x as i32),
        (V::I32(x), ValType::I64) => V::I64(x as u32 as i64),
        (V::F32(x), ValType::I64) => V::I64(x as i64),
        (V::F64(x), ValType::I64) => V::I64(x as i64),
        (v, _) => v,
    }
}

fn zero(ty: ValType) -> crate::Val {
    match ty {
        ValType::I64 => crate::Val::I64(0),
        ValType::F32 => crate::Val::F32(0),
        ValType::F64 => crate::Val::F64(0),
        _ => crate::Val::I32(0),
    }
}

fn pair(a: u32, b: u32) -> [u8; 8] {
    let mut out = [0; 8];
    out[..4].copy_from_slice(&a.to_le_bytes());
    out[4..].copy_from_slice(&b.to_le_bytes());
    out
}

/// A record value's fields in the type's order, each found by name.
fn record_fields<'v>(ty: &Type, fields: &[(String, Type)], val: &'v Val) -> Result<Vec<&'v Val>> {
    let Val::Record(given) = val else {
        return Err(mismatch(ty, val));
    };
    if given.len() != fields.len() {
        return Err(Error::Usage(format!(
            "a record of {} fields for `{ty}`",
            given.len()
        )));
    }
    fields
        .iter()
        .map(|(name, _)| {
            given
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| Error::Usage(format!("a record without field `{name}` for `{ty}`")))
        })
        .collect()
}

/// The bits of a `flags` value, a 32-bit word at a time.
fn flag_bits(names: &[String], set: &[String]) -> Result<Vec<u32>> {
    let mut words = vec![0u32; abi::flag_words(names.len()).max(1)];
    for flag in set {
        let i = names
            .iter()
            .position(|n| n == flag)
            .ok_or_else(|| Error::Usage(format!("no flag `{flag}` among {names:?}")))?;
        words[i / 32] |= 1 << (i % 32);
    }
    Ok(words)
}

/// The case index and payload of a variant-like value.
fn case_of<'v>(ty: &Type, val: &'v Val) -> Result<(u32, Option<&'v Val>)> {
    let by_name = |names: Vec<&String>, name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .map(|i| i as u32)
            .ok_or_else(|| Error::Usage(format!("no case `{name}` in `{ty}`")))
    };
    let (disc, payload) = match (ty, val) {
        (Type::Variant(cases), Val::Variant(name, payload)) => {
            let disc = by_name(cases.iter().map(|(n, _)| n).collect(), name)?;
            (disc, payload.as_deref())
        }
        (Type::Enum(names), Val::Enum(name)) => (by_name(names.iter().collect(), name)?, None),
        (Type::Option(_), Val::Option(v)) => (v.is_some() as u32, v.as_deref()),
        (Type::Result { .. }, Val::Result(Ok(v))) => (0, v.as_deref()),
        (Type::Result { .. }, Val::Result(Err(v))) => (1, v.as_deref()),
        _ => return Err(mismatch(ty, val)),
    };
    let cases = abi::cases(ty).expect("variant-like");
    if cases[disc as usize].is_some() != payload.is_some() {
        return Err(Error::Usage(format!(
            "case {disc} of `{ty}` {} a payload",
            if payload.is_some() { "has no" } else { "needs" }
        )));
    }
    Ok((disc, payload))
}
