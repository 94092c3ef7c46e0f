//! An axis node (`axis-test-node`) or a gateway (`axis-test-gateway`) as a process of its own,
//! for tests that kill it with SIGKILL: nothing runs after the kill, exactly as when a host
//! loses a node.

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
    /// Its metrics address (`/metrics`, `/healthz`, `/readyz`).
    pub metrics: SocketAddr,
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
         [limits]\nmax_connections = {}\nmax_streams_per_agency = {}\n\
         [tls]\ncert = {}\nkey = {}\n\
         [log_signer]\ncert = {}\nkey = {}\n\
         [trust]\nroot = {}\nintermediates = [{}]\ncrls = [{}]\n\
         crl_warn_before_secs = {}\ncrl_poll_secs = {}\n",
        config.database_url,
        config.limits.max_connections,
        config.limits.max_streams_per_agency,
        quoted(&config.tls.cert),
        quoted(&config.tls.key),
        quoted(&config.log_signer.cert),
        quoted(&config.log_signer.key),
        quoted(&config.trust.root),
        list(&config.trust.intermediates),
        list(&config.trust.crls),
        config.trust.crl_warn_before_secs,
        config.trust.crl_poll_secs,
    )
}

impl NodeProcess {
    /// Starts `binary` (the `axis-test-node` the test was built with) on `config` and waits
    /// until it listens.
    pub fn start(binary: &Path, config: &Config) -> NodeProcess {
        Self::spawn(Command::new(binary), config)
    }

    /// As [`NodeProcess::start`], with the process's descriptor limit (soft and hard) set to
    /// `nofile` first, as `ulimit -n` does.
    pub fn start_with_descriptor_limit(binary: &Path, config: &Config, nofile: u64) -> NodeProcess {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
            .arg(binary);
        Self::spawn(sh, config)
    }

    /// As [`NodeProcess::start`], its log (`info`, JSON lines) written to the file `log`.
    pub fn start_logged(binary: &Path, config: &Config, log: &Path) -> NodeProcess {
        let mut command = Command::new(binary);
        command
            .env("AXIS_LOG", "info")
            .stderr(std::fs::File::create(log).unwrap());
        Self::spawn(command, config)
    }

    fn spawn(mut command: Command, config: &Config) -> NodeProcess {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("axis-server.toml");
        std::fs::write(&path, server_toml(config)).unwrap();
        if command.get_envs().all(|(k, _)| k != "AXIS_LOG") {
            command.stderr(Stdio::inherit());
        }
        let mut child = command
            .arg(&path)
            .env("AXIS_SERVER_KEY_PASS", PASS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(a) = line.strip_prefix("listening ") {
                    let mut addrs = a.split(' ').map(|a| a.parse::<SocketAddr>().unwrap());
                    let _ = tx.send((addrs.next().unwrap(), addrs.next().unwrap()));
                }
            }
        });
        let (addr, metrics) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the node did not start within 60 s");
        NodeProcess {
            child,
            addr,
            metrics,
            _dir: dir,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the process has used so far (user and system), from `/proc`.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        // The fields after the command name (which is in parentheses and may hold spaces):
        // utime and stime are the 14th and 15th fields of the line, in clock ticks.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // Linux reports these in USER_HZ, 100 per second on every architecture it runs on.
        Duration::from_millis(ticks * 10)
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

/// A running gateway process.
pub struct GatewayProcess {
    child: Child,
    /// Where its DMS-facing APIs listen.
    pub addr: SocketAddr,
}

impl GatewayProcess {
    /// Starts `binary` (the `axis-test-gateway` the test was built with) on the gateway
    /// configuration file `config` and waits until it listens.
    pub fn start(binary: &Path, config: &Path) -> GatewayProcess {
        let mut child = Command::new(binary)
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary:?}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Some(a) = line.strip_prefix("listening ") {
                    let _ = tx.send(a.trim().parse::<SocketAddr>().unwrap());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the gateway did not start within 60 s");
        GatewayProcess { child, addr }
    }

    /// SIGKILL, then reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
