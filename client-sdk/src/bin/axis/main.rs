//! `axis`: the command-line client of the axis, over the `axis-client` SDK.
//!
//! Errors print one line that says what went wrong and what to do; the exit code is 2 for a
//! usage or configuration error, 3 for an ALERT of `axis audit monitor` (the log was rewritten,
//! shrank or was emptied), a head `axis audit witness` REFUSED to cosign (a split view, a
//! fork, a rewritten, shrunk or emptied log) or `axis audit check-misbehaviour` (the axis
//! signed a false completeness statement), 4 when the monitor or the witness could not reach
//! the axis, 5 when `axis audit verify` verified an old (version 1) bundle whose completeness is
//! not proven, 1 for any other failure.
#![forbid(unsafe_code)]

mod audit;
mod cli;
mod commands;
mod edxml;
mod units_file;
mod witness;

use std::process::ExitCode;

use clap::Parser as _;

/// A usage error found after parsing (a malformed id, a missing configuration): exit code 2.
#[derive(Debug)]
pub(crate) struct Usage(pub(crate) String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// The monitor found the log rewritten, forked, shrunk or emptied, or the witness refused a
/// head: exit code 3.
#[derive(Debug)]
pub(crate) struct Alert(pub(crate) String);

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ALERT: {}", self.0)
    }
}

impl std::error::Error for Alert {}

/// The monitor could not get an answer from the axis: exit code 4.
#[derive(Debug)]
pub(crate) struct Unreachable(pub(crate) String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WARNING: {}", self.0)
    }
}

impl std::error::Error for Unreachable {}

/// `axis audit verify` verified everything but completeness (a version 1 bundle): exit code 5.
#[derive(Debug)]
pub(crate) struct NotProven(pub(crate) String);

impl std::fmt::Display for NotProven {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "COMPLETENESS NOT PROVEN: {}", self.0)
    }
}

impl std::error::Error for NotProven {}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("axis: error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axis: error: {}", one_line(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The error and its causes on one line, down to the first SDK error (whose message already
/// says everything, its own causes included).
fn one_line(e: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    for cause in e.chain() {
        parts.push(cause.to_string());
        if cause.downcast_ref::<axis_client::Error>().is_some() {
            break;
        }
    }
    parts.join(": ")
}

fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.downcast_ref::<Usage>().is_some() {
            return 2;
        }
        if cause.downcast_ref::<Alert>().is_some() {
            return 3;
        }
        if cause.downcast_ref::<Unreachable>().is_some() {
            return 4;
        }
        if cause.downcast_ref::<NotProven>().is_some() {
            return 5;
        }
        if let Some(sdk) = cause.downcast_ref::<axis_client::Error>() {
            return if *sdk.kind() == axis_client::ErrorKind::Config {
                2
            } else {
                1
            };
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_has_its_exit_code() {
        let code = |e: anyhow::Error| exit_code(&e);
        assert_eq!(code(Usage("bad id".into()).into()), 2);
        assert_eq!(code(Alert("the log shrank".into()).into()), 3);
        assert_eq!(code(Unreachable("connection refused".into()).into()), 4);
        assert_eq!(code(NotProven("a version 1 bundle".into()).into()), 5);
        assert_eq!(code(anyhow::anyhow!("anything else")), 1);
        // Wrapped in context, the cause still decides.
        let wrapped = anyhow::Error::new(Alert("forked".into())).context("monitor");
        assert_eq!(code(wrapped), 3);
        assert_eq!(
            Alert("the log was emptied".into()).to_string(),
            "ALERT: the log was emptied"
        );
    }
}
