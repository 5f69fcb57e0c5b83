//! Semver-compatible interface names: an import of `wasi:cli/stdout@0.2.0`
//! links to a definition at `@0.2.6`, and a lookup of an export at
//! `@0.2.12` finds one at `@0.2.6`, as in wasmtime.

/// Among `items`, the one named `name`, or else the one of the same
/// interface at the newest version semver-compatible with `name`'s.
pub(crate) fn find_compatible<'a, V>(
    name: &str,
    items: impl IntoIterator<Item = (&'a str, V)>,
) -> Option<V> {
    let (base, version) = match name.split_once('@') {
        Some((base, v)) => (base, semver(v).and_then(compatibility)),
        None => (name, None),
    };
    let mut best: Option<((u64, u64, u64), V)> = None;
    for (n, item) in items {
        if n == name {
            return Some(item);
        }
        let Some(track) = version else { continue };
        let Some((b, v)) = n.split_once('@') else {
            continue;
        };
        let Some(v) = semver(v) else { continue };
        if b == base
            && compatibility(v) == Some(track)
            && best.as_ref().is_none_or(|(bv, _)| v > *bv)
        {
            best = Some((v, item));
        }
    }
    best.map(|(_, item)| item)
}

/// A `MAJOR.MINOR.PATCH` version; none for others (pre-releases and
/// build metadata match by exact name only).
fn semver(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    let v = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(v)
}

/// What semver-compatible versions share: the major version, or for
/// `0.x` (x > 0) the minor one too; `0.0.x` is compatible with itself
/// alone (exact names only).
fn compatibility((major, minor, _): (u64, u64, u64)) -> Option<(u64, u64)> {
    match (major, minor) {
        (0, 0) => None,
        (0, minor) => Some((0, minor)),
        (major, _) => Some((major, 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::find_compatible;

    #[test]
    fn the_exact_name_or_the_newest_compatible_version() {
        let items = [
            ("wasi:cli/run@0.2.0", 0),
            ("wasi:cli/run@0.2.6", 1),
            ("wasi:cli/run@0.3.0", 2),
            ("a:b/c@1.2.0", 3),
            ("a:b/c@0.0.1", 4),
            ("plain", 5),
        ];
        let find = |n: &str| find_compatible(n, items.iter().map(|(n, v)| (*n, *v)));
        assert_eq!(find("wasi:cli/run@0.2.0"), Some(0));
        assert_eq!(find("wasi:cli/run@0.2.12"), Some(1));
        assert_eq!(find("wasi:cli/run@0.3.5"), Some(2));
        assert_eq!(find("wasi:cli/run@0.4.0"), None);
        assert_eq!(find("a:b/c@1.9.9"), Some(3));
        assert_eq!(find("a:b/c@0.0.2"), None);
        assert_eq!(find("a:b/c@2.0.0"), None);
        assert_eq!(find("plain"), Some(5));
        assert_eq!(find("wasi:cli/run"), None);
    }
}
