//! Component values WASI 0.2's functions take and give, and its error
//! codes.

use crate::component::{Resource, Val};
use crate::wasi::Errno;
use crate::{Error, Result};

/// `result::ok` with a payload.
pub(crate) fn ok(v: Val) -> Val {
    Val::Result(Ok(Some(Box::new(v))))
}

/// `result::ok` without one.
pub(crate) fn ok_unit() -> Val {
    Val::Result(Ok(None))
}

/// `result::err` with a payload.
pub(crate) fn err(v: Val) -> Val {
    Val::Result(Err(Some(Box::new(v))))
}

/// An owned handle to the host resource `rep` of type `T`.
pub(crate) fn own<T: 'static>(rep: u32) -> Val {
    Val::Resource(Resource::<T>::new_own(rep).into_resource_any())
}

/// Parameter `i`: a component may import a function with another type
/// than WASI's, and gets an error rather than a crash.
pub(crate) fn arg(p: &[Val], i: usize) -> Result<&Val> {
    p.get(i).ok_or_else(|| {
        Error::Usage(format!(
            "WASI: a call with {} parameters where the function takes more (the component \
             imports it with another type)",
            p.len()
        ))
    })
}

/// The representation of a handle parameter.
pub(crate) fn rep(v: &Val) -> Result<u32> {
    match v {
        Val::Resource(r) => Ok(r.rep()),
        other => Err(Error::Usage(format!(
            "a resource expected, found a {}",
            other.kind()
        ))),
    }
}

/// Defines `$name(v) -> Result<$t>`: the number of a `Val::$case`, or an
/// error naming what came instead.
macro_rules! number_of {
    ($($name:ident: $case:ident => $t:ty),* $(,)?) => {$(
        pub(crate) fn $name(v: &Val) -> Result<$t> {
            match v {
                Val::$case(n) => Ok(*n),
                other => Err(Error::Usage(format!(
                    concat!("a ", stringify!($t), " expected, found a {}"),
                    other.kind()
                ))),
            }
        }
    )*};
}

number_of!(u8_of: U8 => u8, u16_of: U16 => u16, u32_of: U32 => u32, u64_of: U64 => u64);

pub(crate) fn string_of(v: &Val) -> Result<&str> {
    match v {
        Val::String(s) => Ok(s),
        other => Err(Error::Usage(format!(
            "a string expected, found a {}",
            other.kind()
        ))),
    }
}

/// The names set in a `flags` value.
pub(crate) fn flags_of(v: &Val) -> Result<&[String]> {
    match v {
        Val::Flags(names) => Ok(names),
        other => Err(Error::Usage(format!(
            "flags expected, found a {}",
            other.kind()
        ))),
    }
}

pub(crate) fn has(flags: &[String], name: &str) -> bool {
    flags.iter().any(|f| f == name)
}

/// A `datetime` record of nanoseconds since the epoch.
pub(crate) fn datetime(ns: u64) -> Val {
    Val::Record(vec![
        ("seconds".into(), Val::U64(ns / 1_000_000_000)),
        ("nanoseconds".into(), Val::U32((ns % 1_000_000_000) as u32)),
    ])
}

/// The nanoseconds of a `datetime` record.
pub(crate) fn datetime_of(v: &Val) -> Result<u64> {
    let field = |name: &str| match v {
        Val::Record(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        _ => None,
    };
    match (field("seconds"), field("nanoseconds")) {
        (Some(Val::U64(s)), Some(Val::U32(n))) => {
            Ok(s.saturating_mul(1_000_000_000).saturating_add(*n as u64))
        }
        _ => Err(Error::Usage("a datetime record expected".into())),
    }
}

/// `wasi:filesystem/types`'s `error-code` case of a preview 1 errno.
pub(crate) fn error_code(e: Errno) -> &'static str {
    match e.0 {
        2 => "access",
        6 => "would-block",
        7 => "already",
        8 => "bad-descriptor",
        10 => "busy",
        16 => "deadlock",
        19 => "quota",
        20 => "exist",
        22 => "file-too-large",
        25 => "illegal-byte-sequence",
        26 => "in-progress",
        27 => "interrupted",
        28 => "invalid",
        31 => "is-directory",
        32 => "loop",
        34 => "too-many-links",
        35 => "message-size",
        37 => "name-too-long",
        43 => "no-device",
        44 => "no-entry",
        46 => "no-lock",
        48 => "insufficient-memory",
        51 => "insufficient-space",
        54 => "not-directory",
        55 => "not-empty",
        56 => "not-recoverable",
        52 | 58 => "unsupported",
        59 => "no-tty",
        60 => "no-such-device",
        61 => "overflow",
        63 | 76 => "not-permitted",
        64 => "pipe",
        69 => "read-only",
        70 => "invalid-seek",
        74 => "text-file-busy",
        75 => "cross-device",
        _ => "io",
    }
}

/// `result::err(error-code)` of an errno.
pub(crate) fn err_code(e: Errno) -> Val {
    err(Val::Enum(error_code(e).into()))
}

/// A preview 1 file type as `descriptor-type`'s case.
pub(crate) fn descriptor_type(filetype: u8) -> Val {
    Val::Enum(
        match filetype {
            1 => "block-device",
            2 => "character-device",
            3 => "directory",
            4 => "regular-file",
            5 | 6 => "socket",
            7 => "symbolic-link",
            _ => "unknown",
        }
        .into(),
    )
}
