//! `walmart-spec-tests`: runs spec-test suites against walmart, prints a
//! per-file table and checks the results against the expectations file.
//!
//! ```text
//! walmart-spec-tests [--suite v1|v2|v3|latest|simd|relaxed-simd|multi-memory|tail-call|extended-const|memory64|function-references|exceptions|gc|threads|wide-arithmetic|custom-page-sizes|annotations|custom-descriptors|wasm2-proposals|all]... [--update-expectations]
//!                    [--expectations PATH] [-v|--verbose] [--explicit-bounds-checks]
//!                    [--attest coarse|fine] [--gc-stress] [--interrupts] [--precompiled] [--pooling] [FILTER]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use walmart_spec_tests::{
    format_table, improvements, load_expectations, passing, regressions, render_expectation_map,
    run_files, Expectations, RunOptions, Suite,
};

const USAGE: &str = "\
usage: walmart-spec-tests [--suite v1|v2|v3|latest|simd|relaxed-simd|multi-memory|tail-call|extended-const|memory64|function-references|exceptions|gc|threads|wide-arithmetic|custom-page-sizes|annotations|custom-descriptors|wasm2-proposals|all]... [--update-expectations]
                          [--expectations PATH] [-v|--verbose] [--explicit-bounds-checks]
                          [--attest coarse|fine] [--gc-stress] [--interrupts] [--precompiled] [--pooling] [FILTER]

  --suite NAME            suite to run; may be repeated (default: v1 and v2)
  --update-expectations   record the directives that pass now in the expectations file
                          (entries of files not run are kept)
  --expectations PATH     expectations file (default: spec-tests/expectations.txt)
  -v, --verbose           print every failing directive
  --explicit-bounds-checks  run without guarded memory (explicit checks on every access)
  --attest POLICY           compile with attestation hooks (coarse or fine)
  --gc-stress             collect the GC heap at every allocation that needs a new range
  --interrupts            count fuel and compile epoch checks (with a budget and a
                          deadline never reached)
  --precompiled           save every module as a precompiled module and load it back
                          before using it
  --pooling               take memories from the pooling allocator (1000 slots)
  FILTER                  only run files whose path (e.g. wasm-v1/i32.wast) contains FILTER

Exits with status 1 when a directive listed as passing in the expectations file fails.";

/// Deep recursion in `assert_exhaustion` tests and in walmart's compiler
/// needs far more than the default 8 MiB main-thread stack.
const STACK_SIZE: usize = 256 << 20;

struct Args {
    suites: Vec<Suite>,
    update: bool,
    expectations: PathBuf,
    verbose: bool,
    explicit_checks: bool,
    attest: walmart::attest::Policy,
    gc_stress: bool,
    interrupts: bool,
    precompiled: bool,
    pooling: bool,
    filter: Option<String>,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        suites: Vec::new(),
        update: false,
        expectations: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("expectations.txt"),
        verbose: false,
        explicit_checks: false,
        attest: walmart::attest::Policy::Off,
        gc_stress: false,
        interrupts: false,
        precompiled: false,
        pooling: false,
        filter: None,
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--suite" => {
                let name = args.next().ok_or("--suite needs a value")?;
                if name == "all" {
                    parsed.suites.extend(Suite::ALL);
                } else {
                    parsed.suites.push(
                        Suite::from_name(&name).ok_or_else(|| format!("unknown suite `{name}`"))?,
                    );
                }
            }
            "--update-expectations" => parsed.update = true,
            "--expectations" => {
                parsed.expectations = args.next().ok_or("--expectations needs a path")?.into();
            }
            "-v" | "--verbose" => parsed.verbose = true,
            "--explicit-bounds-checks" => parsed.explicit_checks = true,
            "--attest" => {
                parsed.attest = args.next().ok_or("--attest needs a policy")?.parse()?;
            }
            "--gc-stress" => parsed.gc_stress = true,
            "--interrupts" => parsed.interrupts = true,
            "--precompiled" => parsed.precompiled = true,
            "--pooling" => parsed.pooling = true,
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ if parsed.filter.is_some() => return Err(format!("unexpected argument `{arg}`")),
            _ => parsed.filter = Some(arg),
        }
    }
    if parsed.suites.is_empty() {
        parsed.suites = vec![Suite::V1, Suite::V2];
    }
    // `--suite v1 --suite all` should not run v1 twice.
    let mut seen = Vec::new();
    parsed.suites.retain(|suite| {
        let new = !seen.contains(suite);
        seen.push(*suite);
        new
    });
    Ok(parsed)
}

/// Runs the suites; returns whether the run is free of regressions.
fn run(args: Args) -> anyhow::Result<bool> {
    let files = args.suites.iter().flat_map(|suite| suite.files());
    let opts = RunOptions {
        verbose: args.verbose,
        progress: true,
        filter: args.filter.clone(),
        precompiled: args.precompiled,
        config: {
            let mut config = walmart::Config::default();
            config.guarded_memory(!args.explicit_checks);
            config
                .attest(args.attest)
                .gc_stress(args.gc_stress)
                .consume_fuel(args.interrupts)
                .epoch_interruption(args.interrupts);
            if args.pooling {
                config.allocation_strategy(walmart::InstanceAllocationStrategy::Pooling(
                    walmart::PoolingAllocationConfig::new(),
                ));
            }
            config
        },
    };
    let reports = run_files(files, &opts);
    println!("{}", format_table(&reports));

    let expected: Option<Expectations> = if args.expectations.exists() {
        let text = std::fs::read_to_string(&args.expectations)
            .with_context(|| format!("reading {}", args.expectations.display()))?;
        Some(
            load_expectations(&text)
                .with_context(|| format!("parsing {}", args.expectations.display()))?,
        )
    } else {
        None
    };

    let Some(expected) = expected else {
        if args.update {
            write_expectations(&args, passing(&reports))?;
        } else {
            eprintln!(
                "note: no expectations file at {}; run with --update-expectations to create it",
                args.expectations.display()
            );
        }
        return Ok(true);
    };

    let regressed = regressions(&expected, &reports);
    for regression in &regressed {
        println!("REGRESSION {regression}");
    }
    if args.update {
        // Keep the entries of files that were not run this time (other
        // suites, filtered out), replace the rest.
        let mut merged = expected;
        merged.extend(passing(&reports));
        write_expectations(&args, merged)?;
        return Ok(true);
    }
    for improvement in improvements(&expected, &reports) {
        println!("improved {improvement} (run with --update-expectations to record)");
    }
    if !regressed.is_empty() {
        println!("{} regression(s)", regressed.len());
    }
    Ok(regressed.is_empty())
}

fn write_expectations(args: &Args, expectations: Expectations) -> anyhow::Result<()> {
    std::fs::write(&args.expectations, render_expectation_map(&expectations))
        .with_context(|| format!("writing {}", args.expectations.display()))?;
    println!("wrote {}", args.expectations.display());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            if message.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let worker = std::thread::Builder::new()
        .name("spec-tests".to_string())
        .stack_size(STACK_SIZE)
        .spawn(move || run(args))
        .expect("failed to spawn the spec-test thread");
    match worker.join() {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::from(1),
        Ok(Err(error)) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
        // The panic message has already been printed by the panic hook.
        Err(_) => ExitCode::from(101),
    }
}
