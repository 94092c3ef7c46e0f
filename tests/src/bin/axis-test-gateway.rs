//! `axis-test-gateway`: one `axis-gateway` as a process of its own, for tests that kill it
//! (`kill -9`) in the middle of a send or a receive. It is the `axis-gateway` library started
//! from its configuration file, exactly as `axis-gateway --config FILE` starts it; it prints
//! `listening ADDR` once ready, then runs until killed.
//!
//! ```text
//! axis-test-gateway axis-gateway.toml
//! ```
#![forbid(unsafe_code)]

use anyhow::{Result, bail};

#[tokio::main]
async fn main() -> Result<()> {
    let Some(path) = std::env::args_os().nth(1) else {
        bail!("usage: axis-test-gateway CONFIG.toml");
    };
    let mut config = axis_gateway::Config::from_file(std::path::Path::new(&path))?;
    // Statuses are read often in tests (the file's minimum is a second).
    config.status_poll = std::time::Duration::from_millis(200);
    let running = axis_gateway::start(config).await?;
    println!("listening {}", running.addr);
    running.until_signal().await;
    Ok(())
}
