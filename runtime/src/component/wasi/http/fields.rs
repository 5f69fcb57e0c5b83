//! `wasi:http/types.fields`: headers and trailers.

use super::{entry, push, res, FieldList, HttpEntry};
use crate::component::wasi::vals::{arg, err, ok, ok_unit, own, rep, string_of};
use crate::component::wasi::{def, resource, GetCtx};
use crate::component::{LinkerInstance, Val};
use crate::wasi::WasiCtx;
use crate::{Error, Result};

/// Names a guest may not set (wasmtime's default list): the connection's
/// own framing and routing, which the host owns.
const FORBIDDEN: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings",
];

/// The fields of a head or trailers from the network a guest may see:
/// names in lower case, the connection's own (`FORBIDDEN`) left out, as
/// wasmtime does (`authority` gives the host).
pub(crate) fn from_network(map: &http::HeaderMap) -> FieldList {
    map.iter()
        .filter(|(n, _)| !FORBIDDEN.contains(&n.as_str()))
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// A `content-length` value's number: digits only (RFC 9110), no sign
/// or space.
fn length_of(v: &[u8]) -> Option<u64> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Whether `value` may be a value of the field `name`: a
/// `content-length`'s must be a number.
fn fits(name: &str, value: &[u8]) -> bool {
    name != "content-length" || length_of(value).is_some()
}

/// The length a head's `content-length` gives: `Err` where it is not
/// one number (several that differ, or not a number).
pub(crate) fn content_length(list: &FieldList) -> std::result::Result<Option<u64>, ()> {
    let mut found = None;
    for (_, v) in list.iter().filter(|(n, _)| n == "content-length") {
        let n = length_of(v).ok_or(())?;
        if found.is_some_and(|f| f != n) {
            return Err(());
        }
        found = Some(n);
    }
    Ok(found)
}

/// The most bytes one `fields` may hold (names and values, and 32 a
/// field, as HTTP/2 counts them): wasmtime's default. More is a trap, as
/// in wasmtime: WASI 0.2 has no error case for it.
const SIZE_LIMIT: usize = 128 * 1024;

fn size_of(list: &FieldList) -> usize {
    list.iter().map(|(n, v)| n.len() + v.len() + 32).sum()
}

/// Refuses a change that would take `list` past [`SIZE_LIMIT`].
fn within_limit(list: &FieldList) -> Result<()> {
    let size = size_of(list);
    if size > SIZE_LIMIT {
        return Err(Error::msg(format!(
            "wasi:http: fields of {size} bytes, past the limit of {SIZE_LIMIT}"
        )));
    }
    Ok(())
}

/// `header-error` of `case`.
fn header_error(case: &str) -> Val {
    err(Val::Variant(case.into(), None))
}

/// A field name checked and in lower case: `Err` of the `header-error`
/// case that refuses it.
fn name_of(v: &Val) -> Result<std::result::Result<String, &'static str>> {
    let name = string_of(v)?;
    let Ok(name) = http::HeaderName::from_bytes(name.as_bytes()) else {
        return Ok(Err("invalid-syntax"));
    };
    if FORBIDDEN.contains(&name.as_str()) {
        return Ok(Err("forbidden"));
    }
    Ok(Ok(name.as_str().to_owned()))
}

/// A field value checked: `None` where it is not a valid one.
fn value_of(v: &Val) -> Result<Option<Vec<u8>>> {
    let bytes = match v {
        Val::List(items) => crate::component::val::u8_list(items)?,
        other => {
            return Err(Error::Usage(format!(
                "a field value (list<u8>) expected, found a {}",
                other.kind()
            )))
        }
    };
    Ok(http::HeaderValue::from_bytes(&bytes)
        .is_ok()
        .then_some(bytes))
}

/// A field value as a `list<u8>`.
fn value_val(bytes: &[u8]) -> Val {
    Val::List(bytes.iter().map(|&b| Val::U8(b)).collect())
}

/// A list of fields as `list<tuple<field-name, field-value>>`.
pub(crate) fn list_val(list: &FieldList) -> Val {
    Val::List(
        list.iter()
            .map(|(n, v)| Val::Tuple(vec![Val::String(n.clone()), value_val(v)]))
            .collect(),
    )
}

/// The fields `rep`'s list and whether it may change.
fn fields(ctx: &mut WasiCtx, rep: u32) -> Result<(&mut FieldList, bool)> {
    match entry(ctx, rep, "a fields")? {
        HttpEntry::Fields { list, mutable } => Ok((list, *mutable)),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {rep} is not a fields"
        ))),
    }
}

/// A new `fields` handle holding `list`.
pub(crate) fn new_fields(ctx: &mut WasiCtx, list: FieldList, mutable: bool) -> Val {
    own::<res::Fields>(push(ctx, HttpEntry::Fields { list, mutable }))
}

/// Takes the fields of an owned `fields` handle the guest passed on.
pub(crate) fn take_fields(ctx: &mut WasiCtx, v: &Val) -> Result<FieldList> {
    let r = rep(v)?;
    match super::take(ctx, r, "a fields")? {
        HttpEntry::Fields { list, .. } => Ok(list),
        _ => Err(Error::Usage(format!(
            "wasi:http: handle {r} is not a fields"
        ))),
    }
}

/// Checks a `list<tuple<field-name, field-value>>`: the fields, or the
/// `header-error` case refusing it.
fn list_of(v: &Val) -> Result<std::result::Result<FieldList, &'static str>> {
    let Val::List(items) = v else {
        return Err(Error::Usage(format!(
            "a list of fields expected, found a {}",
            v.kind()
        )));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Val::Tuple(pair) = item else {
            return Err(Error::Usage("a field (name, value) expected".into()));
        };
        let name = match name_of(arg(pair, 0)?)? {
            Ok(n) => n,
            Err(case) => return Ok(Err(case)),
        };
        let Some(value) = value_of(arg(pair, 1)?)? else {
            return Ok(Err("invalid-syntax"));
        };
        // One content-length, a number.
        if !fits(&name, &value) || (name == "content-length" && out.iter().any(|(n, _)| *n == name))
        {
            return Ok(Err("invalid-syntax"));
        }
        out.push((name, value));
    }
    Ok(Ok(out))
}

/// The lower-case form of a name to look up (no error for an invalid
/// one: it is just not there).
fn lookup(v: &Val) -> Result<String> {
    Ok(string_of(v)?.to_ascii_lowercase())
}

/// The checks `set`, `delete` and `append` begin with: the fields (the
/// call's first parameter) may change and the name (its second) may be
/// set; the name, or the `header-error` refusing the change.
fn change_of(ctx: &mut WasiCtx, p: &[Val]) -> Result<std::result::Result<String, Val>> {
    let (_, mutable) = fields(ctx, rep(arg(p, 0)?)?)?;
    if !mutable {
        return Ok(Err(header_error("immutable")));
    }
    Ok(name_of(arg(p, 1)?)?.map_err(header_error))
}

pub(super) fn add<T: 'static>(inst: &mut LinkerInstance<'_, T>, get: GetCtx<T>) -> Result<()> {
    resource::<T, res::Fields>(inst, "fields", get)?;
    def(inst, "[constructor]fields", get, |ctx, _| {
        Ok(Some(new_fields(ctx, Vec::new(), true)))
    })?;
    def(inst, "[static]fields.from-list", get, |ctx, p| {
        Ok(Some(match list_of(arg(p, 0)?)? {
            Ok(list) => {
                within_limit(&list)?;
                ok(new_fields(ctx, list, true))
            }
            Err(case) => header_error(case),
        }))
    })?;
    def(inst, "[method]fields.get", get, |ctx, p| {
        let name = lookup(arg(p, 1)?)?;
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        Ok(Some(Val::List(
            list.iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| value_val(v))
                .collect(),
        )))
    })?;
    def(inst, "[method]fields.has", get, |ctx, p| {
        let name = lookup(arg(p, 1)?)?;
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        Ok(Some(Val::Bool(list.iter().any(|(n, _)| *n == name))))
    })?;
    def(inst, "[method]fields.set", get, |ctx, p| {
        let name = match change_of(ctx, p)? {
            Ok(n) => n,
            Err(refused) => return Ok(Some(refused)),
        };
        let Val::List(values) = arg(p, 2)? else {
            return Err(Error::Usage("a list of field values expected".into()));
        };
        let mut new = Vec::with_capacity(values.len());
        for v in values {
            match value_of(v)? {
                Some(b) if fits(&name, &b) => new.push(b),
                _ => return Ok(Some(header_error("invalid-syntax"))),
            }
        }
        // One length a message has.
        if name == "content-length" && new.len() > 1 {
            return Ok(Some(header_error("invalid-syntax")));
        }
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        let mut changed: FieldList = list.iter().filter(|(n, _)| *n != name).cloned().collect();
        changed.extend(new.into_iter().map(|v| (name.clone(), v)));
        within_limit(&changed)?;
        *list = changed;
        Ok(Some(ok_unit()))
    })?;
    def(inst, "[method]fields.delete", get, |ctx, p| {
        let name = match change_of(ctx, p)? {
            Ok(n) => n,
            Err(refused) => return Ok(Some(refused)),
        };
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        list.retain(|(n, _)| *n != name);
        Ok(Some(ok_unit()))
    })?;
    def(inst, "[method]fields.append", get, |ctx, p| {
        let name = match change_of(ctx, p)? {
            Ok(n) => n,
            Err(refused) => return Ok(Some(refused)),
        };
        let Some(value) = value_of(arg(p, 2)?)?.filter(|v| fits(&name, v)) else {
            return Ok(Some(header_error("invalid-syntax")));
        };
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        if name == "content-length" && list.iter().any(|(n, _)| *n == name) {
            return Ok(Some(header_error("invalid-syntax")));
        }
        list.push((name, value));
        if let Err(e) = within_limit(list) {
            list.pop();
            return Err(e);
        }
        Ok(Some(ok_unit()))
    })?;
    def(inst, "[method]fields.entries", get, |ctx, p| {
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        Ok(Some(list_val(list)))
    })?;
    def(inst, "[method]fields.clone", get, |ctx, p| {
        let (list, _) = fields(ctx, rep(arg(p, 0)?)?)?;
        let copy = list.clone();
        // A clone may change, whatever the original.
        Ok(Some(new_fields(ctx, copy, true)))
    })
}
