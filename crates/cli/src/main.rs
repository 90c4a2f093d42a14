//! `prestalink`: the command-line entry point. Each subcommand lives in `commands/` and only
//! parses arguments, calls the library crates and formats their results.

use clap::{Parser, Subcommand};

mod commands;

/// Connect to a PrestaShop store through its Webservice, read its commerce data into a
/// unified model and keep it current.
#[derive(Parser)]
#[command(name = "prestalink", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe a store (URL + Webservice key) and say what works, what does not, and how to fix it.
    Check(commands::check::CheckArgs),
    /// Serve a simulated PrestaShop store (Webservice, hosting faults, capacity) until Ctrl-C.
    Simulate(Box<commands::simulate::SimulateArgs>),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Simulate(args) => commands::simulate::run(*args),
    }
}
