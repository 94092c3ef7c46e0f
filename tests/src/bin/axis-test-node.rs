//! `axis-test-node`: one axis node as a process of its own, for tests that kill it (`kill -9`)
//! and watch what clients see. It is the `axis-server` library started from a configuration
//! file, exactly as `axis-server --config FILE` starts it; it prints `listening ADDR METRICS`
//! once ready (the gRPC and metrics addresses), then runs until killed. With `AXIS_LOG` set
//! (a filter, as for `axis-server`) it logs to stderr as `axis-server --log-json` does.
//!
//! ```text
//! AXIS_SERVER_KEY_PASS=… axis-test-node axis-server.toml
//! ```
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};

#[tokio::main]
async fn main() -> Result<()> {
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("AXIS_LOG") {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let Some(path) = std::env::args_os().nth(1) else {
        bail!("usage: axis-test-node CONFIG.toml");
    };
    let config = axis_server::config::Config::from_file(path.as_ref())?;
    let pass = axis_server::keys::shared_passphrase(&config)?
        .context("no passphrase: set AXIS_SERVER_KEY_PASS or passphrase_file")?;
    let mut node = axis_server::start(config, &pass.passphrase).await?;
    let metrics = node
        .metrics_addr
        .context("the test node's configuration has metrics_listen")?;
    println!("listening {} {metrics}", node.addr);
    node.wait().await?;
    Ok(())
}
