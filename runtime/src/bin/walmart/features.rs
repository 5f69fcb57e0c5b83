//! `-W FEATURE[=y|n]`: the Wasm proposals `walmart run` and `walmart wast`
//! accept, each on by default (as wasmtime's `-W` switches them).

use anyhow::bail;
use walmart::Config;

/// A `Config` method that switches a proposal.
type Switch = fn(&mut Config, bool) -> &mut Config;

/// The proposals `-W` names, and the switch each sets.
const FEATURES: [(&str, Switch); 6] = [
    ("multi-memory", Config::wasm_multi_memory),
    ("tail-call", Config::wasm_tail_call),
    ("extended-const", Config::wasm_extended_const),
    ("memory64", Config::wasm_memory64),
    ("function-references", Config::wasm_function_references),
    ("exceptions", Config::wasm_exceptions),
];

/// Applies `-W` settings (`NAME`, `NAME=y`, `NAME=n`) to `config`.
pub fn apply(config: &mut Config, settings: &[String]) -> anyhow::Result<()> {
    for setting in settings {
        let (name, value) = setting.split_once('=').unwrap_or((setting, "y"));
        let on = match value {
            "y" | "yes" | "true" => true,
            "n" | "no" | "false" => false,
            _ => bail!("-W {setting}: expected `{name}=y` or `{name}=n`"),
        };
        let Some((_, switch)) = FEATURES.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = FEATURES.iter().map(|(n, _)| *n).collect();
            bail!(
                "-W {setting}: unknown Wasm feature `{name}` (known: {})",
                names.join(", ")
            );
        };
        switch(config, on);
    }
    Ok(())
}
