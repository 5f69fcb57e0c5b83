//! `-W help`, `-S help`, `-C help`, `-D help` and `-O help`: each option
//! group's settings with what they do, as wasmtime's CLI lists them (a
//! wasmtime user types these before anything else). The same tables give
//! the names an unknown setting's error lists.

use std::ffi::OsString;

/// One setting of an option group.
pub struct Setting {
    /// Its name.
    pub name: &'static str,
    /// What follows `=`, if anything does.
    pub value: &'static str,
    /// What it does, in one line.
    pub about: &'static str,
}

const fn s(name: &'static str, value: &'static str, about: &'static str) -> Setting {
    Setting { name, value, about }
}

/// `-W`: Wasm proposals and the limits of a run.
pub const WASM: &[Setting] = &[
    s("simd", "[=y|n]", "128-bit SIMD (on by default)"),
    s("relaxed-simd", "[=y|n]", "relaxed SIMD (on by default)"),
    s(
        "bulk-memory",
        "[=y|n]",
        "bulk memory operations (on by default)",
    ),
    s(
        "reference-types",
        "[=y|n]",
        "reference types (on by default)",
    ),
    s(
        "multi-value",
        "[=y|n]",
        "multiple results and block parameters (on by default)",
    ),
    s(
        "gc",
        "[=y|n]",
        "garbage-collected structs and arrays (on by default)",
    ),
    s(
        "multi-memory",
        "[=y|n]",
        "several memories in a module (on by default)",
    ),
    s(
        "tail-call",
        "[=y|n]",
        "guaranteed tail calls (on by default)",
    ),
    s(
        "extended-const",
        "[=y|n]",
        "extended constant expressions (on by default)",
    ),
    s(
        "memory64",
        "[=y|n]",
        "64-bit memories and tables (on by default)",
    ),
    s(
        "function-references",
        "[=y|n]",
        "typed function references (on by default)",
    ),
    s("exceptions", "[=y|n]", "exception handling (on by default)"),
    s(
        "threads",
        "[=y|n]",
        "shared memories and atomics (on by default)",
    ),
    s(
        "wide-arithmetic",
        "[=y|n]",
        "128-bit arithmetic (off by default)",
    ),
    s(
        "custom-page-sizes",
        "[=y|n]",
        "memories with 1-byte pages (off by default)",
    ),
    s(
        "custom-descriptors",
        "[=y|n]",
        "custom descriptors of GC types (off by default)",
    ),
    s(
        "legacy-exceptions",
        "[=y|n]",
        "the pre-standard `try`/`catch` instructions (off by default)",
    ),
    s(
        "max-wasm-stack",
        "=BYTES",
        "the most stack Wasm may use (K, M, G suffixes)",
    ),
    s(
        "max-gc-heap",
        "=BYTES",
        "the most memory GC objects may take",
    ),
    s(
        "gc-stress",
        "[=y|n]",
        "collect garbage at every allocation (testing the collector)",
    ),
    s(
        "nan-canonicalization",
        "[=y|n]",
        "deterministic NaN bit patterns from float operations",
    ),
    s(
        "fuel",
        "=N",
        "run at most N fuel units (about one per instruction), then trap",
    ),
    s(
        "timeout",
        "=DURATION",
        "trap a run still going after DURATION (500ms, 2s, 1m)",
    ),
    s(
        "max-memory-size",
        "=BYTES",
        "the largest a memory may grow to",
    ),
    s(
        "max-table-elements",
        "=N",
        "the most elements a table may grow to",
    ),
    s("max-instances", "=N", "the most instances a run may make"),
    s("max-memories", "=N", "the most memories a run may make"),
    s("max-tables", "=N", "the most tables a run may make"),
    s(
        "trap-on-grow-failure",
        "[=y|n]",
        "trap where a grow beyond the limits would fail",
    ),
];

/// `-S`: the guest's WASI (`walmart run`).
pub const WASI: &[Setting] = &[
    s(
        "tcplisten",
        "=ADDR",
        "listen on ADDR and give the guest the socket (as --tcplisten)",
    ),
    s(
        "inherit-env",
        "[=y|n]",
        "pass the host's whole environment (before --env's)",
    ),
    s(
        "clock-resolution",
        "=DURATION",
        "round every clock the guest reads down to DURATION",
    ),
    s(
        "preview2",
        "=n",
        "accepted: a core module's WASI is preview 1, a component's WASI 0.2",
    ),
    s(
        "inherit-network",
        "[=y|n]",
        "let a component's sockets bind, connect and send to any address",
    ),
    s(
        "allow-ip-name-lookup",
        "[=y|n]",
        "let a component resolve names (wasi:sockets/ip-name-lookup)",
    ),
    s(
        "http",
        "[=y|n]",
        "give a component wasi:http, its requests going to any address",
    ),
    s(
        "tcp",
        "[=y|n]",
        "let a component make TCP sockets (default y; addresses as above)",
    ),
    s(
        "udp",
        "[=y|n]",
        "let a component make UDP sockets (default y; addresses as above)",
    ),
];

/// `-C`: code generation.
pub const CODEGEN: &[Setting] = &[
    s(
        "parallel-compilation",
        "[=y|n]",
        "compile functions on every core (on by default)",
    ),
    s(
        "cranelift-debug-verifier",
        "[=y|n]",
        "check Cranelift's IR as it compiles (slow)",
    ),
    s("compiler", "=cranelift", "the only code generator"),
    s(
        "cache",
        "[=y|n]",
        "`walmart run`: use the module cache (as --cache)",
    ),
];

/// `-D`: debugging (`walmart run`).
pub const DEBUG: &[Setting] = &[
    s(
        "coredump",
        "=PATH",
        "write a Wasm coredump of the store to PATH when the guest traps",
    ),
    s(
        "debug-info",
        "[=y|n]",
        "list the compiled functions for native debuggers (gdb)",
    ),
];

/// `-O`: optimization and instance allocation.
pub const OPTIMIZE: &[Setting] = &[
    s(
        "opt-level",
        "=0|1|2|s",
        "Cranelift's optimization level (2 by default; 1 is 2, s adds size)",
    ),
    s(
        "pooling-allocator",
        "[=y|n]",
        "take instances' memories and tables from a pool",
    ),
    s("pooling-total-memories", "=N", "memories the pool holds"),
    s(
        "pooling-max-memory-size",
        "=BYTES",
        "the largest memory a pool slot holds",
    ),
];

/// The names of a group's settings, for an error that lists them.
pub fn names(group: &[Setting]) -> String {
    let names: Vec<&str> = group.iter().map(|s| s.name).collect();
    names.join(", ")
}

/// The group a command line asks help for (`-W help`, `-Whelp`,
/// `--wasm help`, `--wasm=help`, and the same for `-S`, `-C`, `-D`, `-O`;
/// `help-long` too, as wasmtime has it), looked for before the command
/// line is parsed, so that no module need be named.
pub fn requested(args: &[OsString]) -> Option<(&'static str, &'static [Setting])> {
    let groups: [(&str, &str, &[Setting]); 5] = [
        ("-W", "--wasm", WASM),
        ("-S", "--wasi", WASI),
        ("-C", "--codegen", CODEGEN),
        ("-D", "--debug", DEBUG),
        ("-O", "--optimize", OPTIMIZE),
    ];
    let args: Vec<&str> = args.iter().map(|a| a.to_str().unwrap_or("")).collect();
    let is_help = |v: &str| v == "help" || v == "help-long";
    for (i, arg) in args.iter().enumerate() {
        if *arg == "--" {
            break;
        }
        for (short, long, group) in groups {
            let value = if *arg == short || *arg == long {
                args.get(i + 1).copied()
            } else {
                arg.strip_prefix(short)
                    .or_else(|| arg.strip_prefix(long).and_then(|v| v.strip_prefix('=')))
            };
            if value.is_some_and(is_help) {
                return Some((short, group));
            }
        }
    }
    None
}

/// A group's help, asked for by a setting named `help`: an "error" that
/// `main` prints to standard output and exits with 0 for.
#[derive(Debug)]
pub struct Help(pub String);

impl std::fmt::Display for Help {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Help {}

/// `Err(Help)` when the setting `name` of `flag`'s `group` asks for help.
pub fn check(flag: &str, name: &str, group: &[Setting]) -> anyhow::Result<()> {
    if name == "help" || name == "help-long" {
        return Err(Help(text(flag, group)).into());
    }
    Ok(())
}

/// The help text of `flag`'s `group`.
pub fn text(flag: &str, group: &[Setting]) -> String {
    let width = group
        .iter()
        .map(|s| s.name.len() + s.value.len())
        .max()
        .unwrap_or(0);
    let mut out = format!("Settings of {flag} (repeatable: {flag} NAME[=VALUE] ...):\n\n");
    for s in group {
        let head = format!("{}{}", s.name, s.value);
        out.push_str(&format!("  {flag} {head:<width$}  {}\n", s.about));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value a setting takes, as its help writes it.
    fn sample(value: &str) -> &str {
        match value {
            "" | "[=y|n]" => "=y",
            "=BYTES" => "=1M",
            "=N" => "=1",
            "=DURATION" => "=1s",
            "=0|1|2|s" => "=2",
            "=cranelift" => "=cranelift",
            "=n" => "=n",
            other => panic!("no sample for {other}"),
        }
    }

    /// Every setting the help lists is one the command line takes, so the
    /// list cannot drift from what is accepted.
    #[test]
    fn every_listed_setting_is_accepted() {
        for s in WASM {
            let setting = format!("{}{}", s.name, sample(s.value));
            let mut config = walmart::Config::new();
            crate::features::apply(&mut config, std::slice::from_ref(&setting))
                .unwrap_or_else(|e| panic!("-W {setting}: {e}"));
        }
        for s in CODEGEN {
            let setting = format!("{}{}", s.name, sample(s.value));
            let mut config = walmart::Config::new();
            crate::features::apply_codegen(&mut config, std::slice::from_ref(&setting))
                .unwrap_or_else(|e| panic!("-C {setting}: {e}"));
        }
        for s in OPTIMIZE {
            let mut settings = vec![format!("{}{}", s.name, sample(s.value))];
            if s.name.starts_with("pooling-") && s.name != "pooling-allocator" {
                settings.push("pooling-allocator".into());
            }
            let mut config = walmart::Config::new();
            crate::features::apply_optimize(&mut config, &settings)
                .unwrap_or_else(|e| panic!("-O {settings:?}: {e}"));
        }
    }

    /// And every proposal `-W` switches is listed.
    #[test]
    fn every_proposal_is_listed() {
        for (name, _) in crate::features::FEATURES {
            assert!(
                WASM.iter().any(|s| s.name == name),
                "-W {name} is not listed"
            );
        }
    }

    #[test]
    fn help_is_asked_for_in_each_spelling_and_not_past_a_double_dash() {
        let ask = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            requested(&args).map(|(flag, _)| flag)
        };
        assert_eq!(ask(&["run", "-W", "help"]), Some("-W"));
        assert_eq!(ask(&["run", "-Whelp"]), Some("-W"));
        assert_eq!(ask(&["run", "--wasm=help"]), Some("-W"));
        assert_eq!(ask(&["run", "--wasi", "help-long"]), Some("-S"));
        assert_eq!(ask(&["compile", "-C", "help"]), Some("-C"));
        assert_eq!(ask(&["run", "-D", "help"]), Some("-D"));
        assert_eq!(ask(&["run", "-O", "help"]), Some("-O"));
        assert_eq!(ask(&["run", "-W", "simd"]), None);
        assert_eq!(ask(&["run", "--", "-W", "help"]), None);
        assert!(text("-W", WASM).contains("-W fuel=N"));
    }
}
