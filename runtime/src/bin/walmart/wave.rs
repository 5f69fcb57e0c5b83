//! Component values written as WAVE (the WebAssembly Value Encoding that
//! wasmtime's `--invoke` takes for components): `42`, `"text"`, `'c'`,
//! `[1, 2]`, `(1, "a")`, `{name: "x", size: 3}`, `some(1)`, `none`,
//! `ok(1)`, `err("no")`, a variant's case `circle(2.5)` or an enum's
//! `red`, flags `{read, write}`; parsed by the type they must have, and
//! printed the same way.

use anyhow::{anyhow, bail, Result};
use walmart::component::{Type, Val};

/// A call `name(arg, ...)`: the function's name and the text of its
/// arguments.
pub fn split_call(call: &str) -> Result<(&str, &str)> {
    let call = call.trim();
    let open = call
        .find('(')
        .ok_or_else(|| anyhow!("--invoke {call}: expected a call, NAME(ARG, ...)"))?;
    if !call.ends_with(')') {
        bail!("--invoke {call}: expected a call, NAME(ARG, ...), ending with `)`");
    }
    Ok((call[..open].trim(), &call[open + 1..call.len() - 1]))
}

/// The values of `text`, a comma-separated list of one per type.
pub fn parse_args(text: &str, types: &[&Type]) -> Result<Vec<Val>> {
    let mut p = Parser {
        s: text.as_bytes(),
        at: 0,
        text,
    };
    let mut out = Vec::new();
    for (i, ty) in types.iter().enumerate() {
        if i > 0 {
            p.expect(b',')?;
        }
        out.push(p.value(ty)?);
    }
    p.ws();
    if p.at < p.s.len() {
        if types.is_empty() {
            bail!("the function takes no arguments; `{text}` given");
        }
        bail!(
            "{} arguments expected; more given (at `{}`)",
            types.len(),
            &text[p.at..]
        );
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.at).copied()
    }

    fn error(&self, what: &str) -> anyhow::Error {
        let rest = &self.text[self.at.min(self.text.len())..];
        if rest.is_empty() {
            anyhow!("expected {what}, found the end")
        } else {
            anyhow!("expected {what} at `{rest}`")
        }
    }

    fn expect(&mut self, c: u8) -> Result<()> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("`{}`", c as char)))
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A name: letters, digits and `-`.
    fn ident(&mut self) -> Result<String> {
        self.ws();
        let start = self.at;
        while self.at < self.s.len()
            && (self.s[self.at].is_ascii_alphanumeric()
                || self.s[self.at] == b'-'
                || self.s[self.at] == b'%')
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("a name"));
        }
        // `%name` escapes a keyword.
        Ok(self.text[start..self.at]
            .trim_start_matches('%')
            .to_string())
    }

    /// A number's text (sign, digits, `.`, exponent) or `nan`/`inf`.
    fn number(&mut self) -> Result<&str> {
        self.ws();
        let start = self.at;
        while self.at < self.s.len()
            && (self.s[self.at].is_ascii_alphanumeric() || b"+-.".contains(&self.s[self.at]))
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("a number"));
        }
        Ok(&self.text[start..self.at])
    }

    /// A quoted string or character's contents, escapes decoded.
    fn quoted(&mut self, quote: u8) -> Result<String> {
        self.expect(quote)?;
        let mut out = String::new();
        let mut chars = self.text[self.at..].char_indices();
        loop {
            let Some((i, c)) = chars.next() else {
                return Err(anyhow!(
                    "unterminated {}",
                    if quote == b'"' { "string" } else { "char" }
                ));
            };
            match c {
                c if c == quote as char => {
                    self.at += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let (_, e) = chars
                        .next()
                        .ok_or_else(|| anyhow!("an escape at the end"))?;
                    out.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '\\' | '\'' | '"' => e,
                        'u' => {
                            let rest = &self.text[self.at + i + 2..];
                            let hex = rest
                                .strip_prefix('{')
                                .and_then(|r| r.split_once('}'))
                                .map(|(h, _)| h)
                                .ok_or_else(|| anyhow!("expected \\u{{HEX}}"))?;
                            let c = u32::from_str_radix(hex, 16)
                                .ok()
                                .and_then(char::from_u32)
                                .ok_or_else(|| anyhow!("\\u{{{hex}}} is no character"))?;
                            for _ in 0..hex.len() + 2 {
                                chars.next();
                            }
                            c
                        }
                        other => bail!("unknown escape `\\{other}`"),
                    });
                }
                c => out.push(c),
            }
        }
    }

    /// Items between `open` and `close`, separated by commas (one may
    /// trail), each read by `item`.
    fn items(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.expect(open)?;
        if self.eat(close) {
            return Ok(());
        }
        loop {
            item(self)?;
            if self.eat(close) {
                return Ok(());
            }
            self.expect(b',')?;
            if self.eat(close) {
                return Ok(());
            }
        }
    }

    /// A record of `ty`'s `fields` from those `given` (an option left out
    /// is none).
    fn record_of(
        &self,
        ty: &Type,
        fields: &[(String, Type)],
        mut given: Vec<(String, Val)>,
    ) -> Result<Val> {
        let mut out = Vec::new();
        for (name, t) in fields {
            match given.iter().position(|(n, _)| n == name) {
                Some(i) => out.push(given.swap_remove(i)),
                None if matches!(t, Type::Option(_)) => out.push((name.clone(), Val::Option(None))),
                None => bail!("field `{name}` of `{ty}` missing"),
            }
        }
        Ok(Val::Record(out))
    }

    /// An optional `(payload)` of type `ty`.
    fn payload(&mut self, ty: Option<&Type>, case: &str) -> Result<Option<Box<Val>>> {
        match ty {
            Some(t) => {
                self.expect(b'(')?;
                let v = self.value(t)?;
                self.expect(b')')?;
                Ok(Some(Box::new(v)))
            }
            None if self.peek() == Some(b'(') => bail!("`{case}` has no payload"),
            None => Ok(None),
        }
    }

    fn value(&mut self, ty: &Type) -> Result<Val> {
        macro_rules! int {
            ($t:ty, $v:ident) => {{
                let n = self.number()?;
                Val::$v(
                    n.parse::<$t>()
                        .map_err(|_| anyhow!("`{n}` is not a {}", ty))?,
                )
            }};
        }
        Ok(match ty {
            Type::Bool => match self.ident()?.as_str() {
                "true" => Val::Bool(true),
                "false" => Val::Bool(false),
                other => bail!("`{other}` is not a bool (true, false)"),
            },
            Type::S8 => int!(i8, S8),
            Type::U8 => int!(u8, U8),
            Type::S16 => int!(i16, S16),
            Type::U16 => int!(u16, U16),
            Type::S32 => int!(i32, S32),
            Type::U32 => int!(u32, U32),
            Type::S64 => int!(i64, S64),
            Type::U64 => int!(u64, U64),
            Type::Float32 => Val::Float32(float(self.number()?)?),
            Type::Float64 => Val::Float64(float(self.number()?)?),
            Type::Char => {
                let s = self.quoted(b'\'')?;
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Val::Char(c),
                    _ => bail!("'{s}' is not one character"),
                }
            }
            Type::String => Val::String(self.quoted(b'"')?),
            Type::List(elem) => {
                let mut out = Vec::new();
                self.items(b'[', b']', |p| {
                    out.push(p.value(elem)?);
                    Ok(())
                })?;
                Val::List(out)
            }
            Type::Tuple(types) => {
                let mut out = Vec::new();
                self.items(b'(', b')', |p| {
                    let t = types
                        .get(out.len())
                        .ok_or_else(|| anyhow!("a tuple of {} values has more", types.len()))?;
                    out.push(p.value(t)?);
                    Ok(())
                })?;
                if out.len() != types.len() {
                    bail!("a tuple of {} values has {}", types.len(), out.len());
                }
                Val::Tuple(out)
            }
            Type::Record(fields) => {
                let mut given: Vec<(String, Val)> = Vec::new();
                // `{:}`: a record whose fields are all options, all none.
                let save = self.at;
                if self.eat(b'{') && self.eat(b':') && self.eat(b'}') {
                    return self.record_of(ty, fields, given);
                }
                self.at = save;
                self.items(b'{', b'}', |p| {
                    let name = p.ident()?;
                    if given.iter().any(|(n, _)| *n == name) {
                        bail!("field `{name}` given twice");
                    }
                    p.expect(b':')?;
                    let t = fields
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, t)| t)
                        .ok_or_else(|| anyhow!("no field `{name}` in `{ty}`"))?;
                    given.push((name, p.value(t)?));
                    Ok(())
                })?;
                self.record_of(ty, fields, given)?
            }
            Type::Variant(cases) => {
                let name = self.ident()?;
                let (_, t) = cases
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| anyhow!("no case `{name}` in `{ty}`"))?;
                let payload = self.payload(t.as_ref(), &name)?;
                Val::Variant(name, payload)
            }
            Type::Enum(names) => {
                let name = self.ident()?;
                if !names.contains(&name) {
                    bail!("no case `{name}` in `{ty}`");
                }
                Val::Enum(name)
            }
            Type::Option(t) => match self.ident()?.as_str() {
                "none" => Val::Option(None),
                "some" => Val::Option(self.payload(Some(t), "some")?),
                other => bail!("`{other}` is not an option (some(...), none)"),
            },
            Type::Result { ok, err } => match self.ident()?.as_str() {
                "ok" => Val::Result(Ok(self.payload(ok.as_deref(), "ok")?)),
                "err" => Val::Result(Err(self.payload(err.as_deref(), "err")?)),
                other => bail!("`{other}` is not a result (ok, err)"),
            },
            Type::Flags(names) => {
                let mut set = Vec::new();
                self.items(b'{', b'}', |p| {
                    let name = p.ident()?;
                    if !names.contains(&name) {
                        bail!("no flag `{name}` in `{ty}`");
                    }
                    if set.contains(&name) {
                        bail!("flag `{name}` given twice");
                    }
                    set.push(name);
                    Ok(())
                })?;
                Val::Flags(set)
            }
            Type::Own(_) | Type::Borrow(_) => {
                bail!("a resource (`{ty}`) cannot be written as a value")
            }
        })
    }
}

/// A float of the precision asked (an `f32` parsed as one, not rounded
/// twice through an `f64`).
fn float<F: std::str::FromStr>(text: &str) -> Result<F> {
    let spelled = match text {
        "nan" => "NaN",
        "inf" => "inf",
        "-inf" => "-inf",
        // Rust's words for them (`infinity`, `NaN`) are not WAVE's.
        _ if text.chars().any(|c| c.is_ascii_digit()) => text,
        _ => bail!("`{text}` is not a number"),
    };
    spelled
        .parse()
        .map_err(|_| anyhow!("`{text}` is not a number"))
}

fn float_text<F: std::fmt::Debug + Into<f64> + Copy>(f: F) -> String {
    let wide: f64 = f.into();
    if wide.is_nan() {
        "nan".into()
    } else if wide.is_infinite() {
        if wide > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{f:?}")
    }
}

/// A case name as WAVE writes it: `%` before one of its keywords.
fn label(name: &str) -> String {
    match name {
        "true" | "false" | "some" | "none" | "ok" | "err" | "inf" | "nan" => format!("%{name}"),
        _ => name.to_string(),
    }
}

fn quote(s: &str, q: char) -> String {
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// `val` in WAVE.
pub fn print(val: &Val) -> String {
    let list = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(", ");
    let payload = |name: &str, p: &Option<Box<Val>>| match p {
        Some(v) => format!("{name}({})", print(v)),
        None => name.to_string(),
    };
    let case = |name: &str, p: &Option<Box<Val>>| payload(&label(name), p);
    match val {
        Val::Bool(b) => b.to_string(),
        Val::S8(n) => n.to_string(),
        Val::U8(n) => n.to_string(),
        Val::S16(n) => n.to_string(),
        Val::U16(n) => n.to_string(),
        Val::S32(n) => n.to_string(),
        Val::U32(n) => n.to_string(),
        Val::S64(n) => n.to_string(),
        Val::U64(n) => n.to_string(),
        Val::Float32(f) => float_text(*f),
        Val::Float64(f) => float_text(*f),
        Val::Char(c) => quote(&c.to_string(), '\''),
        Val::String(s) => quote(s, '"'),
        Val::List(items) => format!("[{}]", list(&mut items.iter().map(print))),
        Val::Tuple(items) => format!("({})", list(&mut items.iter().map(print))),
        Val::Record(fields) => format!(
            "{{{}}}",
            list(&mut fields.iter().map(|(n, v)| format!("{n}: {}", print(v))))
        ),
        Val::Variant(name, p) => case(name, p),
        Val::Enum(name) => label(name),
        Val::Option(None) => "none".into(),
        Val::Option(p @ Some(_)) => payload("some", p),
        Val::Result(Ok(p)) => payload("ok", p),
        Val::Result(Err(p)) => payload("err", p),
        Val::Flags(names) => format!("{{{}}}", names.join(", ")),
        Val::Resource(r) => format!("{r:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of value prints as text that parses back to it.
    #[test]
    fn printed_values_parse_back() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases = [
            (Type::S64, Val::S64(-9_000_000_000)),
            (Type::Float64, Val::Float64(-1.5e-7)),
            (Type::Float32, Val::Float32(f32::INFINITY)),
            (Type::Float64, Val::Float64(f64::NEG_INFINITY)),
            (Type::Float32, Val::Float32(-1.5e-3)),
            (Type::Char, Val::Char('\'')),
            (Type::String, Val::String("a\"b\\c\n\u{7}é".into())),
            (
                Type::List(Box::new(Type::Option(Box::new(Type::U8)))),
                Val::List(vec![
                    Val::Option(Some(Box::new(Val::U8(3)))),
                    Val::Option(None),
                ]),
            ),
            (
                Type::Record(vec![
                    ("left-side".into(), Type::Bool),
                    ("n".into(), Type::U16),
                ]),
                Val::Record(vec![
                    ("left-side".into(), Val::Bool(true)),
                    ("n".into(), Val::U16(7)),
                ]),
            ),
            (
                Type::Variant(vec![
                    ("circle".into(), Some(Type::Float32)),
                    ("dot".into(), None),
                ]),
                Val::Variant("circle".into(), Some(Box::new(Val::Float32(2.5)))),
            ),
            (
                Type::Enum(names(&["red", "green"])),
                Val::Enum("green".into()),
            ),
            (
                Type::Result {
                    ok: None,
                    err: Some(Box::new(Type::String)),
                },
                Val::Result(Err(Some(Box::new(Val::String("no".into()))))),
            ),
            (
                Type::Flags(names(&["read", "write"])),
                Val::Flags(names(&["read", "write"])),
            ),
            (
                Type::Tuple(vec![Type::S8, Type::Tuple(vec![])]),
                Val::Tuple(vec![Val::S8(-128), Val::Tuple(vec![])]),
            ),
        ];
        for (ty, val) in cases {
            let text = print(&val);
            let back = parse_args(&text, &[&ty]).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, vec![val], "{text}");
        }
        // A record's option fields may be left out.
        let ty = Type::Record(vec![
            ("a".into(), Type::U8),
            ("b".into(), Type::Option(Box::new(Type::U8))),
        ]);
        assert_eq!(
            parse_args("{a: 1}", &[&ty]).unwrap(),
            vec![Val::Record(vec![
                ("a".into(), Val::U8(1)),
                ("b".into(), Val::Option(None))
            ])]
        );
        assert!(parse_args("{b: some(1)}", &[&ty]).is_err());
        assert!(parse_args("300", &[&Type::U8]).is_err());
        assert_eq!(
            parse_args(
                "{:}",
                &[&Type::Record(vec![(
                    "b".into(),
                    Type::Option(Box::new(Type::U8))
                )])]
            )
            .unwrap(),
            vec![Val::Record(vec![("b".into(), Val::Option(None))])]
        );
        assert!(parse_args("{a: 1, a: 2}", &[&ty]).is_err());
        let flags = Type::Flags(names(&["read"]));
        assert!(parse_args("{read, read}", &[&flags]).is_err());
        // An f32 is parsed as one: the nearest f32, not the f64 rounded.
        assert_eq!(
            parse_args("1.0000000596046447753906251", &[&Type::Float32]).unwrap(),
            vec![Val::Float32(1.0000001)]
        );
        assert_eq!(print(&Val::Float32(0.1)), "0.1");
        // Cases named as WAVE's keywords are written with `%`.
        let e = Type::Enum(names(&["none", "some-thing"]));
        assert_eq!(print(&Val::Enum("none".into())), "%none");
        assert_eq!(
            parse_args("%none", &[&e]).unwrap(),
            vec![Val::Enum("none".into())]
        );
    }
}
