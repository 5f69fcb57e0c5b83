//! `-W FEATURE[=y|n]`: the Wasm proposals `walmart run` and `walmart wast`
//! accept, each on by default but wide-arithmetic and custom-page-sizes
//! (as wasmtime's `-W` switches them), custom-descriptors and
//! legacy-exceptions; and the
//! limits `-W max-wasm-stack=BYTES`, `-W max-gc-heap=BYTES` (a number,
//! or one ending in K, M or G for KiB, MiB, GiB), `-W gc-stress=y|n`.

use anyhow::bail;
use walmart::Config;

/// A `Config` method that switches a proposal.
type Switch = fn(&mut Config, bool) -> &mut Config;

/// A `Config` method that sets a limit in bytes.
type Limit = fn(&mut Config, usize) -> &mut Config;

/// The proposals `-W` names, and the switch each sets.
const FEATURES: [(&str, Switch); 11] = [
    ("multi-memory", Config::wasm_multi_memory),
    ("tail-call", Config::wasm_tail_call),
    ("extended-const", Config::wasm_extended_const),
    ("memory64", Config::wasm_memory64),
    ("function-references", Config::wasm_function_references),
    ("exceptions", Config::wasm_exceptions),
    ("threads", Config::wasm_threads),
    ("wide-arithmetic", Config::wasm_wide_arithmetic),
    ("custom-page-sizes", Config::wasm_custom_page_sizes),
    ("custom-descriptors", Config::wasm_custom_descriptors),
    ("legacy-exceptions", Config::wasm_legacy_exceptions),
];

/// Applies `-W` settings (`NAME`, `NAME=y`, `NAME=n`) to `config`.
pub fn apply(config: &mut Config, settings: &[String]) -> anyhow::Result<()> {
    for setting in settings {
        let (name, value) = setting.split_once('=').unwrap_or((setting, "y"));
        let limit: Option<Limit> = match name {
            "max-wasm-stack" => Some(Config::max_wasm_stack),
            "max-gc-heap" => Some(Config::max_gc_heap),
            _ => None,
        };
        if let Some(set) = limit {
            let Some(bytes) = parse_bytes(value) else {
                bail!("-W {setting}: expected a number of bytes (or with K, M or G)");
            };
            set(config, bytes);
            continue;
        }
        let on = match value {
            "y" | "yes" | "true" => true,
            "n" | "no" | "false" => false,
            _ => bail!("-W {setting}: expected `{name}=y` or `{name}=n`"),
        };
        if name == "gc-stress" {
            config.gc_stress(on);
            continue;
        }
        let Some((_, switch)) = FEATURES.iter().find(|(n, _)| *n == name) else {
            let mut names: Vec<&str> = FEATURES.iter().map(|(n, _)| *n).collect();
            names.extend(["max-wasm-stack", "max-gc-heap", "gc-stress"]);
            bail!(
                "-W {setting}: unknown Wasm feature `{name}` (known: {})",
                names.join(", ")
            );
        };
        switch(config, on);
    }
    Ok(())
}

/// `N`, `NK`, `NM` or `NG` (KiB, MiB, GiB) as bytes; `None` when malformed
/// or past `usize`.
fn parse_bytes(text: &str) -> Option<usize> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'K' | b'k' => (&text[..text.len() - 1], 10),
        b'M' | b'm' => (&text[..text.len() - 1], 20),
        b'G' | b'g' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let n: usize = digits.parse().ok()?;
    n.checked_mul(1usize << shift)
}
