//! The `walmart` command line: `run` a module, `wast` spec scripts.

mod attest;
mod attest_report;
mod backend;
mod cache_args;
mod compile;
mod evaluate;
mod features;
mod guest_profile;
mod option_help;
mod run;
mod run_component;
mod serve;
mod wast;
mod wave;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// walmart: a WebAssembly runtime with memory attestation built in.
#[derive(Parser)]
#[command(name = "walmart", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a WebAssembly module (.wasm binary or .wat text).
    Run(Box<run::RunArgs>),
    /// Serve HTTP requests with a proxy component (one exporting
    /// `wasi:http/incoming-handler`), each in a new instance.
    Serve(serve::ServeArgs),
    /// Compile a module ahead of time into a precompiled `.cwasm`.
    Compile(compile::CompileArgs),
    /// Run .wast spec-test scripts and print a pass table.
    Wast(wast::WastArgs),
    /// Print the settings code is compiled with (target, CPU features,
    /// Cranelift's flags, translation options), for the given flags.
    Settings(compile::SettingsArgs),
    /// Datasets, training and evaluation of the attestation CNN.
    #[command(subcommand)]
    Attest(attest::AttestCommand),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `walmart run -W help` names no module: clap wants one, but
            // the user wants the list (a module named, the setting shows it
            // as the command line is applied, below). Only then: with a
            // module, what follows it is the guest's.
            let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
            let no_module = e.kind() == clap::error::ErrorKind::MissingRequiredArgument;
            if let Some((flag, group)) = option_help::requested(&args).filter(|_| no_module) {
                print!("{}", option_help::text(flag, group));
                return ExitCode::SUCCESS;
            }
            e.exit()
        }
    };
    let result = match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Serve(args) => serve::serve(&args),
        Command::Compile(args) => compile::run(args),
        Command::Wast(args) => wast::run(args),
        Command::Settings(args) => compile::settings(args),
        Command::Attest(cmd) => attest::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<option_help::Help>().is_some() => {
            print!("{e}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
