//! `axis-pki`: the PKI administrators' CLI over the `axis_pki` library.
//!
//! The library does no I/O and reads no clock; this binary is where files, locks, passphrases
//! and the clock live. It reads the clock once per command and passes that instant down.
//!
//! - [`cli`]: the command line and its help.
//! - [`commands`]: one module per subcommand.
//! - [`store`]: the CA directory, its lock and its index ([`index`]).
//! - [`fsutil`]: atomic writes and the undo log that makes every command all-or-nothing.
//! - [`secrets`]: passphrases from files or environment variables, never argv.
//! - [`tokens`]: keys on PKCS#11 tokens (`--key pkcs11:…`), and what a token's refusals mean.
#![forbid(unsafe_code)]

mod certinfo;
mod cli;
mod commands;
mod error;
mod fsutil;
mod index;
mod names;
mod secrets;
mod store;
mod tokens;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Usage errors exit with status 2 (clap's convention) before anything is touched.
    let cli = cli::Cli::parse();
    // The one reading of the clock for this command; certificates have whole seconds.
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    match commands::run(cli, now) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                // `axis-pki list | head`: the reader left; the work is done.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("axis-pki: error: cannot write to standard output: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(failure) => {
            eprintln!("axis-pki: error: {}", failure.message);
            if let Some(hint) = failure.hint {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(1)
        }
    }
}
