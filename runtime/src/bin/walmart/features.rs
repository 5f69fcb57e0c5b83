//! `-W FEATURE[=y|n]`: the Wasm proposals `walmart run` and `walmart wast`
//! accept, each on by default but wide-arithmetic and custom-page-sizes
//! (as wasmtime's `-W` switches them), custom-descriptors and
//! legacy-exceptions; and the
//! limits `-W max-wasm-stack=BYTES`, `-W max-gc-heap=BYTES` (a number,
//! or one ending in K, M or G for KiB, MiB, GiB), `-W gc-stress=y|n`,
//! `-W nan-canonicalization=y|n` (deterministic NaNs);
//! and, for `walmart run`, the bounds on a run `-W fuel=N`,
//! `-W timeout=DURATION`, and on what it may take: `-W max-memory-size=BYTES`,
//! `-W max-table-elements=N`, `-W max-instances=N`, `-W max-memories=N`,
//! `-W max-tables=N`, `-W trap-on-grow-failure=y|n` (wasmtime's names).
//! `-O` takes Cranelift's `opt-level` and the pooling allocator's settings
//! (`pooling-allocator`, `pooling-total-memories`, `pooling-max-memory-size`).

use std::time::Duration;

use anyhow::bail;
use walmart::{
    Config, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, StoreLimitsBuilder,
};

/// What `-W` bounds a run by (the engine is set up for them).
#[derive(Clone, Debug, Default)]
pub struct RunBounds {
    /// `-W fuel=N`: the store's fuel.
    pub fuel: Option<u64>,
    /// `-W timeout=DURATION`: the run's wall-clock limit.
    pub timeout: Option<Duration>,
    /// `-W max-memory-size` and the others: bounds on growth and counts.
    pub limits: Option<StoreLimitsBuilder>,
}

/// A `Config` method that switches a proposal.
type Switch = fn(&mut Config, bool) -> &mut Config;

/// A `Config` method that sets a limit in bytes.
type Limit = fn(&mut Config, usize) -> &mut Config;

/// The proposals `-W` names, and the switch each sets.
pub(crate) const FEATURES: [(&str, Switch); 17] = [
    ("simd", Config::wasm_simd),
    ("relaxed-simd", Config::wasm_relaxed_simd),
    ("bulk-memory", Config::wasm_bulk_memory),
    ("reference-types", Config::wasm_reference_types),
    ("multi-value", Config::wasm_multi_value),
    ("gc", Config::wasm_gc),
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

/// Applies `-W` settings (`NAME`, `NAME=y`, `NAME=n`, `LIMIT=VALUE`) to
/// `config`; the bounds on the run they ask for.
pub fn apply(config: &mut Config, settings: &[String]) -> anyhow::Result<RunBounds> {
    let mut bounds = RunBounds::default();
    for setting in settings {
        let (name, value) = setting.split_once('=').unwrap_or((setting, "y"));
        crate::option_help::check("-W", name, crate::option_help::WASM)?;
        match name {
            "fuel" => {
                let Ok(fuel) = value.parse::<u64>() else {
                    bail!("-W {setting}: expected a number of fuel units");
                };
                config.consume_fuel(true);
                bounds.fuel = Some(fuel);
                continue;
            }
            "max-memory-size"
            | "max-table-elements"
            | "max-instances"
            | "max-memories"
            | "max-tables"
            | "trap-on-grow-failure" => {
                let limits = bounds.limits.take().unwrap_or_default();
                bounds.limits = Some(store_limit(limits, setting, name, value)?);
                continue;
            }
            "timeout" => {
                let Some(timeout) = parse_duration(value) else {
                    bail!("-W {setting}: expected a duration such as 500ms, 2s, 1.5m or 1h (a bare number is seconds)");
                };
                config.epoch_interruption(true);
                bounds.timeout = Some(timeout);
                continue;
            }
            _ => {}
        }
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
        let on = yes_no("-W", setting, name, value)?;
        if name == "gc-stress" {
            config.gc_stress(on);
            continue;
        }
        if name == "nan-canonicalization" {
            config.cranelift_nan_canonicalization(on);
            continue;
        }
        let Some((_, switch)) = FEATURES.iter().find(|(n, _)| *n == name) else {
            bail!(
                "-W {setting}: unknown Wasm feature `{name}` (known: {}; `-W help` says what each does)",
                crate::option_help::names(crate::option_help::WASM)
            );
        };
        switch(config, on);
    }
    Ok(bounds)
}

/// `limits` with `-W NAME=VALUE` (`setting`) applied.
fn store_limit(
    limits: StoreLimitsBuilder,
    setting: &str,
    name: &str,
    value: &str,
) -> anyhow::Result<StoreLimitsBuilder> {
    if name == "trap-on-grow-failure" {
        return Ok(limits.trap_on_grow_failure(yes_no("-W", setting, name, value)?));
    }
    if name == "max-memory-size" {
        let Some(bytes) = parse_bytes(value) else {
            bail!("-W {setting}: expected a number of bytes (or with K, M or G)");
        };
        return Ok(limits.memory_size(bytes));
    }
    let Ok(n) = value.parse::<usize>() else {
        bail!("-W {setting}: expected a number");
    };
    Ok(match name {
        "max-table-elements" => limits.table_elements(n),
        "max-instances" => limits.instances(n),
        "max-memories" => limits.memories(n),
        _ => limits.tables(n),
    })
}

/// A switch's value (`y`, `yes`, `true`, `n`, `no`, `false`), or the
/// one-line error for `FLAG SETTING`.
pub fn yes_no(flag: &str, setting: &str, name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "y" | "yes" | "true" => Ok(true),
        "n" | "no" | "false" => Ok(false),
        _ => bail!("{flag} {setting}: expected `{name}=y` or `{name}=n`"),
    }
}

/// What `-C` asks of a run beyond the engine's configuration.
#[derive(Debug, Default)]
pub struct CodegenChoices {
    /// `-C cache[=y|n]`: the module cache on or off (`None`: as the
    /// `--cache` flags say).
    pub cache: Option<bool>,
}

/// Applies wasmtime's `-C` code-generation settings walmart has:
/// `parallel-compilation`, `cranelift-debug-verifier`, `compiler=cranelift`
/// and `cache` (for `walmart run`); the rest are refused by name.
pub fn apply_codegen(config: &mut Config, settings: &[String]) -> anyhow::Result<CodegenChoices> {
    let mut choices = CodegenChoices::default();
    for setting in settings {
        let (name, value) = setting.split_once('=').unwrap_or((setting, "y"));
        crate::option_help::check("-C", name, crate::option_help::CODEGEN)?;
        match name {
            "parallel-compilation" => {
                config.parallel_compilation(yes_no("-C", setting, name, value)?);
            }
            "cranelift-debug-verifier" => {
                config.cranelift_debug_verifier(yes_no("-C", setting, name, value)?);
            }
            "compiler" if value == "cranelift" => {}
            "compiler" => {
                bail!("-C {setting}: walmart compiles with Cranelift only (compiler=cranelift)")
            }
            "cache" => choices.cache = Some(yes_no("-C", setting, name, value)?),
            "cache-config" => bail!(
                "-C {setting}: walmart's module cache takes no configuration file: use \
                 --cache-dir DIR and --cache-size-limit BYTES"
            ),
            _ => bail!(
                "-C {setting}: unknown setting `{name}` (known: {}; `-C help` says what each does)",
                crate::option_help::names(crate::option_help::CODEGEN)
            ),
        }
    }
    Ok(choices)
}

/// Applies `-O` settings: Cranelift's `opt-level`, and the pooling
/// allocator's (`pooling-allocator`, `pooling-total-memories`,
/// `pooling-max-memory-size`, as wasmtime's CLI names them).
pub fn apply_optimize(config: &mut Config, settings: &[String]) -> anyhow::Result<()> {
    let mut pooling: Option<bool> = None;
    let mut pool = PoolingAllocationConfig::new();
    let mut pool_settings = false;
    for setting in settings {
        let (name, value) = setting.split_once('=').unwrap_or((setting, "y"));
        crate::option_help::check("-O", name, crate::option_help::OPTIMIZE)?;
        match name {
            "opt-level" => {
                let level = match value {
                    "0" => OptLevel::None,
                    "1" | "2" => OptLevel::Speed,
                    "s" => OptLevel::SpeedAndSize,
                    _ => bail!("-O {setting}: expected opt-level=0, 1, 2 or s"),
                };
                config.cranelift_opt_level(level);
            }
            "pooling-allocator" => {
                pooling = Some(yes_no("-O", setting, name, value)?);
            }
            "pooling-total-memories" => {
                let Ok(n) = value.parse::<u32>() else {
                    bail!("-O {setting}: expected a number of memories");
                };
                pool.total_memories(n);
                pool_settings = true;
            }
            "pooling-max-memory-size" => {
                let Some(bytes) = parse_bytes(value) else {
                    bail!("-O {setting}: expected a number of bytes (or with K, M or G)");
                };
                pool.max_memory_size(bytes);
                pool_settings = true;
            }
            _ => bail!(
                "-O {setting}: unknown setting `{name}` (known: {}; `-O help` says what each does)",
                crate::option_help::names(crate::option_help::OPTIMIZE)
            ),
        }
    }
    match pooling {
        Some(true) => {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        _ if pool_settings => {
            bail!("-O pooling-total-memories and pooling-max-memory-size need -O pooling-allocator")
        }
        _ => {}
    }
    Ok(())
}

/// `N` seconds, or `N` with `ns`, `us`, `ms`, `s`, `m` or `h` (fractions
/// allowed), up to a year; `None` when malformed, negative or zero.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let scale = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    let seconds = number.parse::<f64>().ok()? * scale;
    (seconds > 0.0 && seconds <= 365.0 * 86400.0).then(|| Duration::from_secs_f64(seconds))
}

/// `N`, `NK`, `NM` or `NG` (KiB, MiB, GiB) as bytes; `None` when malformed
/// or past `usize`.
pub(crate) fn parse_bytes(text: &str) -> Option<usize> {
    let (digits, shift) = match text.as_bytes().last()? {
        b'K' | b'k' => (&text[..text.len() - 1], 10),
        b'M' | b'm' => (&text[..text.len() - 1], 20),
        b'G' | b'g' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    let n: usize = digits.parse().ok()?;
    n.checked_mul(1usize << shift)
}
