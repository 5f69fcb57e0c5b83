//! `walmart wast`: run spec-test scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use walmart::wast::{format_table, run_wast, RunOptions};

#[derive(clap::Args)]
pub struct WastArgs {
    /// Print each failing directive.
    #[arg(short, long)]
    verbose: bool,
    /// Switch a Wasm proposal on or off, as `walmart run -W` does.
    /// Repeatable.
    #[arg(short = 'W', long = "wasm", value_name = "FEATURE[=y|n]|LIMIT=BYTES")]
    wasm_features: Vec<String>,
    /// The scripts to run.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: WastArgs) -> anyhow::Result<ExitCode> {
    let mut opts = RunOptions {
        verbose: args.verbose,
        ..RunOptions::default()
    };
    let bounds = crate::features::apply(&mut opts.config, &args.wasm_features)?;
    if bounds.fuel.is_some() || bounds.timeout.is_some() || bounds.limits.is_some() {
        anyhow::bail!(
            "-W fuel, -W timeout and the store limits (-W max-memory-size, ...) bound \
             `walmart run`; scripts run without them"
        );
    }
    let mut reports = Vec::new();
    for path in &args.files {
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        let opts = opts.clone();
        // Scripts recurse deeply (assert_exhaustion); give them a big stack.
        let report = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || run_wast(&name, &source, &opts))
            .context("cannot start the script thread")?
            .join()
            .map_err(|_| anyhow::anyhow!("the script runner panicked on {}", path.display()))?;
        reports.push(report);
    }
    let table = format_table(&reports);
    println!("{}", table.trim_end());
    // A script that does not parse ran nothing: say why, verbose or not.
    for report in &reports {
        for f in report.failures.iter().filter(|f| f.kind == "parse") {
            let first = f.message.lines().next().unwrap_or("");
            eprintln!(
                "error: {}:{}: the script does not parse: {first}",
                report.name, f.line
            );
        }
    }
    let failed: usize = reports.iter().map(|r| r.failed).sum();
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
