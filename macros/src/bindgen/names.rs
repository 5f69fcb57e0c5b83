//! WIT's kebab-case names as Rust identifiers.

use proc_macro2::{Ident, Span};

/// Words Rust reserves: a WIT name spelled as one is written raw
/// (`r#type`), or with a `_` where Rust refuses raw ones (`self`).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

fn ident(s: &str) -> Ident {
    if NOT_RAW.contains(&s) {
        Ident::new(&format!("{s}_"), Span::call_site())
    } else if KEYWORDS.contains(&s) {
        Ident::new_raw(s, Span::call_site())
    } else {
        Ident::new(s, Span::call_site())
    }
}

/// `snake_case` text of a kebab-case name.
pub fn snake_text(name: &str) -> String {
    name.replace('-', "_").to_lowercase()
}

/// A function, field, parameter or module name: `snake_case`.
pub fn snake(name: &str) -> Ident {
    ident(&snake_text(name))
}

/// A type, case or trait name: `UpperCamelCase` (each word's first letter
/// up, the rest down, so `HTTP-error` is `HttpError`).
pub fn camel(name: &str) -> Ident {
    let mut out = String::new();
    for word in name.split('-') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars.flat_map(char::to_lowercase));
        }
    }
    ident(&out)
}

/// An identifier made of parts (`call_` and a name, `Host` and a type).
pub fn joined(prefix: &str, name: &Ident, suffix: &str) -> Ident {
    let base = name.to_string();
    let base = base.trim_start_matches("r#").trim_end_matches('_');
    Ident::new(&format!("{prefix}{base}{suffix}"), Span::call_site())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_names_become_rust_identifiers() {
        assert_eq!(snake("data-access-time").to_string(), "data_access_time");
        assert_eq!(snake("type").to_string(), "r#type");
        assert_eq!(snake("self").to_string(), "self_");
        assert_eq!(camel("http-error").to_string(), "HttpError");
        assert_eq!(camel("HTTP-error").to_string(), "HttpError");
        assert_eq!(camel("self").to_string(), "Self_");
        assert_eq!(joined("call_", &snake("type"), "").to_string(), "call_type");
        assert_eq!(joined("Host", &camel("file"), "").to_string(), "HostFile");
    }
}
