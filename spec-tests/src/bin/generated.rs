//! Runs generated modules under every variant and reports where one
//! differs from `off` (`walmart_spec_tests::generated`).
//!
//! `cargo run --release -p walmart-spec-tests --bin generated -- [FIRST] [COUNT] [--wasmtime] [--save DIR]`
//!
//! Seeds FIRST to FIRST+COUNT-1 (0 and 500 by default). `--wasmtime`
//! (built with `--features wasmtime`) compares with wasmtime too, on
//! modules made for it (NaNs canonical, no relaxed SIMD). `--save DIR`
//! writes each differing module to `DIR/seed-N.wasm`. `--show SEED`
//! prints one seed's record under `off`. `--mutants N` instead compiles N
//! mutants of each seed's module (a few bytes changed) under every
//! variant, and reports any that panicked. Exits 1 when a module differs
//! or a mutant panicked.

use std::process::ExitCode;

use walmart_spec_tests::generated::{check, compile_mutants, generate, observe, variants};

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("generated: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut numbers = Vec::new();
    let (mut save, mut show, mut wasmtime, mut mutants) = (None, None, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--save" => {
                save = Some(std::path::PathBuf::from(
                    args.next().ok_or("--save needs a directory")?,
                ))
            }
            "--show" => {
                let seed = args.next().ok_or("--show needs a seed")?;
                show = Some(
                    seed.parse::<u64>()
                        .map_err(|_| format!("--show: `{seed}` is not a seed"))?,
                );
            }
            "--wasmtime" => wasmtime = true,
            "--mutants" => {
                let n = args.next().ok_or("--mutants needs a count")?;
                mutants = Some(
                    n.parse::<u32>()
                        .map_err(|_| format!("--mutants: `{n}` is not a count"))?,
                );
            }
            _ => numbers.push(a.parse::<u64>().map_err(|_| {
                format!(
                    "unknown argument `{a}` (FIRST COUNT [--wasmtime] [--save DIR] [--show SEED])"
                )
            })?),
        }
    }
    let variants = variants();
    if let Some(seed) = show {
        let wasm = generate(seed, wasmtime)?;
        for line in observe(&variants[0], &wasm, seed) {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let first = numbers.first().copied().unwrap_or(0);
    let count = numbers.get(1).copied().unwrap_or(500);
    if let Some(n) = mutants {
        let (mut compiled, mut panicked) = (0u64, 0u64);
        for seed in first..first.saturating_add(count) {
            match compile_mutants(seed, &variants, n) {
                Ok(c) => compiled += u64::from(c),
                Err(e) if e.starts_with("seed ") && e.contains("panicked") => {
                    panicked += 1;
                    println!("{e}");
                }
                Err(e) => eprintln!("generated: {e}"),
            }
        }
        println!("{count} seeds from {first}, {n} mutants each: {compiled} compiled, {panicked} panicked");
        return Ok(if panicked > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    let (mut differing, mut unbuilt) = (0u64, 0u64);
    for seed in first..first.saturating_add(count) {
        let mismatches = match check(seed, &variants, wasmtime) {
            Ok(m) => m,
            Err(e) if e.starts_with("seed ") => {
                unbuilt += 1;
                eprintln!("generated: {e}");
                continue;
            }
            Err(e) => return Err(e),
        };
        if mismatches.is_empty() {
            continue;
        }
        differing += 1;
        for m in &mismatches {
            println!("{m}");
        }
        if let Some(dir) = &save {
            let path = dir.join(format!("seed-{seed}.wasm"));
            std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(&path, generate(seed, wasmtime).unwrap_or_default()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    println!(
        "{count} seeds from {first}: {differing} differing, {unbuilt} not built, {} variants{}",
        variants.len(),
        if wasmtime { " and wasmtime" } else { "" }
    );
    Ok(if differing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
