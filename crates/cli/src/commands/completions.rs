//! `prestalink completions SHELL` (clap_complete) and `prestalink man` (clap_mangen): shell
//! completion scripts and man pages generated from the same definitions as `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::exit::{EXIT_FAILURE, EXIT_NOT_FOUND};

/// Arguments of `prestalink completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for (to standard output), e.g.
    /// `prestalink completions bash > /etc/bash_completion.d/prestalink`.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `prestalink man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write prestalink.1 and one page per command (prestalink-sync.1, …) into this
    /// directory instead of printing prestalink.1 to standard output.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Writes the completion script of `command` for the shell asked for.
pub fn completions(args: CompletionsArgs, mut command: clap::Command) -> ExitCode {
    clap_complete::generate(
        args.shell,
        &mut command,
        "prestalink",
        &mut std::io::stdout().lock(),
    );
    ExitCode::SUCCESS
}

/// Writes the man page(s) of `command`.
pub fn man(args: ManArgs, command: clap::Command) -> ExitCode {
    let result = match &args.dir {
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout().lock()),
        Some(dir) if !dir.is_dir() => {
            eprintln!(
                "error: --dir {}: no such directory; create it (mkdir -p {}) first",
                dir.display(),
                dir.display()
            );
            return ExitCode::from(EXIT_NOT_FOUND);
        }
        Some(dir) => clap_mangen::generate_to(command, dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the man page: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
