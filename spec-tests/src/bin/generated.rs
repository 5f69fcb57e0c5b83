//! Runs generated modules under every variant and reports where one
//! differs from `off` (`walmart_spec_tests::generated`).
//!
//! `cargo run --release -p walmart-spec-tests --bin generated -- [FIRST] [COUNT] [--wasmtime] [--save DIR] [--mutants N] [--show SEED]`
//!
//! Seeds FIRST to FIRST+COUNT-1 (0 and 500 by default). `--wasmtime`
//! (built with `--features wasmtime`) compares with wasmtime too, on
//! modules made for it (no relaxed SIMD). `--save DIR` writes each
//! differing module to `DIR/seed-N.wasm`. `--show SEED` prints one seed's
//! record under `off`. `--mutants N` instead compiles N mutants of each
//! seed's module (a few bytes changed) under every variant. Exits 1 when
//! a module differs or fails, or a mutant fails.

use std::process::ExitCode;

use walmart_spec_tests::generated::{
    check, compile_mutants, generate, observe, variants, CheckError,
};

const USAGE: &str = "FIRST COUNT [--wasmtime] [--save DIR] [--mutants N] [--show SEED]";

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
    let number = |flag: &str, v: Option<String>| -> Result<u64, String> {
        let v = v.ok_or(format!("{flag} needs a number"))?;
        v.parse()
            .map_err(|_| format!("{flag}: `{v}` is not a number"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--save" => {
                save = Some(std::path::PathBuf::from(
                    args.next().ok_or("--save needs a directory")?,
                ))
            }
            "--show" => show = Some(number("--show", args.next())?),
            "--mutants" => mutants = Some(number("--mutants", args.next())?),
            "--wasmtime" => wasmtime = true,
            _ => numbers.push(
                a.parse::<u64>()
                    .map_err(|_| format!("unknown argument `{a}` ({USAGE})"))?,
            ),
        }
    }
    if numbers.len() > 2 {
        return Err(format!("one FIRST and one COUNT at most ({USAGE})"));
    }
    let variants = variants().map_err(|e| e.to_string())?;
    if let Some(seed) = show {
        let wasm = generate(seed, wasmtime).map_err(|e| e.to_string())?;
        for line in observe(&variants[0], &wasm, seed) {
            println!("{line}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let first = numbers.first().copied().unwrap_or(0);
    let count = numbers.get(1).copied().unwrap_or(500);
    let seeds = first..first.saturating_add(count);
    let count = seeds.end - first;
    let (mut failing, mut unbuilt) = (0u64, 0u64);
    let mut failed = |e: CheckError| -> Result<(), String> {
        match e {
            CheckError::Unbuilt(e) => {
                unbuilt += 1;
                eprintln!("generated: {e}");
            }
            CheckError::Failed(e) => {
                failing += 1;
                println!("{e}");
            }
            CheckError::Usage(e) => return Err(e),
        }
        Ok(())
    };
    if let Some(n) = mutants {
        let n = u32::try_from(n).map_err(|_| "--mutants: too many")?;
        let mut compiled = 0u64;
        for seed in seeds {
            match compile_mutants(seed, &variants, n) {
                Ok(c) => compiled += u64::from(c),
                Err(e) => failed(e)?,
            }
        }
        println!("{count} seeds from {first}, {n} mutants each: {compiled} compiled, {failing} failing, {unbuilt} not built");
        return Ok(if failing > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    // Where the kernel cannot track written pages, its variants take the
    // store barrier: say which each one has.
    let tracking: Vec<String> = variants
        .iter()
        .map(|v| format!("{} ({})", v.name, v.engine.attest_dirty_tracking()))
        .collect();
    let mut differing = 0u64;
    for seed in seeds {
        let mismatches = match check(seed, &variants, wasmtime) {
            Ok(m) => m,
            Err(e) => {
                failed(e)?;
                continue;
            }
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
            let wasm = generate(seed, wasmtime).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(dir)
                .and_then(|_| std::fs::write(&path, wasm))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    println!(
        "{count} seeds from {first}: {differing} differing, {failing} failing, {unbuilt} not built; variants and their written-page tracking: {}{}",
        tracking.join(", "),
        if wasmtime { ", and wasmtime" } else { "" }
    );
    Ok(if differing + failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
