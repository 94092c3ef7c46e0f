//! An axis node as a process of its own (`axis-test-node`), for tests that kill it with
//! SIGKILL: nothing runs after the kill, exactly as when a host loses a node.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axis_server::config::Config;

use crate::PASS;

/// A running node process.
pub struct NodeProcess {
    child: Child,
    /// Its gRPC address.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// A TOML basic string.
fn quoted(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `config` as an `axis-server.toml` (gRPC and metrics on ports of their own).
pub fn server_toml(config: &Config) -> String {
    let list =
        |v: &[std::path::PathBuf]| v.iter().map(|p| quoted(p)).collect::<Vec<_>>().join(", ");
    format!(
        "listen = \"127.0.0.1:0\"\n\
         metrics_listen = \"127.0.0.1:0\"\n\
         database_url = \"{}\"\n\
         shutdown_drain_secs = 2\n\
         [tls]\ncert = {}\nkey = {}\n\
         [log_signer]\ncert = {}\nkey = {}\n\
         [trust]\nroot = {}\nintermediates = [{}]\ncrls = [{}]\n",
        config.database_url,
        quoted(&config.tls.cert),
        quoted(&config.tls.key),
        quoted(&config.log_signer.cert),
        quoted(&config.log_signer.key),
        quoted(&config.trust.root),
        list(&config.trust.intermediates),
        list(&config.trust.crls),
    )
}

impl NodeProcess {
    /// Starts `binary` (the `axis-test-node` the test was built with) on `config` and waits
    /// until it listens.
    pub fn start(binary: &Path, config: &Config) -> NodeProcess {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("axis-server.toml");
        std::fs::write(&path, server_toml(config)).unwrap();
        let mut child = Command::new(binary)
            .arg(&path)
            .env("AXIS_SERVER_KEY_PASS", PASS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(a) = line.strip_prefix("listening ") {
                    let _ = tx.send(a.parse::<SocketAddr>());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the node did not start within 60 s")
            .unwrap();
        NodeProcess {
            child,
            addr,
            _dir: dir,
        }
    }

    /// `https://` and the address, as an SDK endpoint.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// SIGKILL, then reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
