//! The server under test: the release `axis-server` binary as a process of its own, on a fresh
//! database, with a configuration written here. Its memory (`VmHWM`) and CPU time are read from
//! `/proc/<pid>`, apart from the client's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use axis_proto::v1 as pb;
use axis_tests::{PASS, TestPki, channel_to};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Which database the server stores on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DbKind {
    Sqlite,
    Postgres,
}

impl DbKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            DbKind::Sqlite => "SQLite",
            DbKind::Postgres => "PostgreSQL",
        }
    }
}

/// A running server process on its own fresh database.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) metrics: SocketAddr,
    pg: Option<(String, String)>,
    /// The database URL (a second node on the same database starts from it).
    pub(crate) url: String,
    pub(crate) dir: tempfile::TempDir,
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// TOML basic string.
fn quoted(p: &Path) -> String {
    let s = p.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Server {
    /// Starts `binary` on a fresh database (a new SQLite file, or a new PostgreSQL database
    /// created through `pg_admin`) and registers every agency of `pki`.
    pub(crate) async fn start(
        binary: &Path,
        pki: &TestPki,
        db: DbKind,
        pg_admin: &str,
        log_level: &str,
    ) -> Result<Server> {
        Self::start_limited(binary, pki, db, pg_admin, log_level, "", None).await
    }

    /// As [`Server::start`], with `extra` appended to the configuration file and, with
    /// `nofile`, the process started under that descriptor limit (soft and hard, `prlimit`).
    pub(crate) async fn start_limited(
        binary: &Path,
        pki: &TestPki,
        db: DbKind,
        pg_admin: &str,
        log_level: &str,
        extra: &str,
        nofile: Option<u64>,
    ) -> Result<Server> {
        let server =
            Self::start_unregistered_limited(binary, pki, db, pg_admin, log_level, extra, nofile)
                .await?;
        server.register(pki).await?;
        Ok(server)
    }

    /// As [`Server::start`], with `extra` appended to the configuration file, and no agency
    /// registered (the caller registers them its own way).
    pub(crate) async fn start_unregistered(
        binary: &Path,
        pki: &TestPki,
        db: DbKind,
        pg_admin: &str,
        log_level: &str,
        extra: &str,
    ) -> Result<Server> {
        Self::start_unregistered_limited(binary, pki, db, pg_admin, log_level, extra, None).await
    }

    async fn start_unregistered_limited(
        binary: &Path,
        pki: &TestPki,
        db: DbKind,
        pg_admin: &str,
        log_level: &str,
        extra: &str,
        nofile: Option<u64>,
    ) -> Result<Server> {
        let dir = tempfile::Builder::new().prefix("axis-bench-").tempdir()?;
        let (url, pg) = match db {
            DbKind::Sqlite => (
                format!("sqlite://{}", dir.path().join("axis.db").display()),
                None,
            ),
            DbKind::Postgres => {
                let name = format!(
                    "axis_bench_{}",
                    axis_signer::MessageId::random()?.as_uuid().simple()
                );
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(pg_admin)
                    .await
                    .with_context(|| format!("connecting to {pg_admin}"))?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await?;
                let base = pg_admin.rsplit_once('/').map_or(pg_admin, |(b, _)| b);
                (format!("{base}/{name}"), Some((pg_admin.to_owned(), name)))
            }
        };
        Self::spawn(binary, pki, dir, url, pg, log_level, extra, nofile).await
    }

    /// Starts `binary` as another node on `url` (already migrated, agencies registered), with
    /// `extra` appended to its configuration file; stopping it leaves the database alone.
    pub(crate) async fn join(
        binary: &Path,
        pki: &TestPki,
        url: &str,
        log_level: &str,
        extra: &str,
    ) -> Result<Server> {
        let dir = tempfile::Builder::new().prefix("axis-bench-").tempdir()?;
        Self::spawn(
            binary,
            pki,
            dir,
            url.to_owned(),
            None,
            log_level,
            extra,
            None,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn spawn(
        binary: &Path,
        pki: &TestPki,
        dir: tempfile::TempDir,
        url: String,
        pg: Option<(String, String)>,
        log_level: &str,
        extra: &str,
        nofile: Option<u64>,
    ) -> Result<Server> {
        let config = pki.server_config(dir.path(), &url);
        let (port, mport) = (free_port()?, free_port()?);
        std::fs::write(dir.path().join("pass"), PASS)?;
        let list = |v: &[PathBuf]| v.iter().map(|p| quoted(p)).collect::<Vec<_>>().join(", ");
        let toml = format!(
            "listen = \"127.0.0.1:{port}\"\n\
             metrics_listen = \"127.0.0.1:{mport}\"\n\
             database_url = \"{url}\"\n\
             passphrase_file = \"pass\"\n\
             shutdown_drain_secs = 2\n\
             [tls]\ncert = {}\nkey = {}\n\
             [log_signer]\ncert = {}\nkey = {}\n\
             [trust]\nroot = {}\nintermediates = [{}]\ncrls = [{}]\n{extra}",
            quoted(&config.tls.cert),
            quoted(&config.tls.key),
            quoted(&config.log_signer.cert),
            quoted(&config.log_signer.key),
            quoted(&config.trust.root),
            list(&config.trust.intermediates),
            list(&config.trust.crls),
        );
        let config_path = dir.path().join("axis-server.toml");
        std::fs::write(&config_path, toml)?;
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut command = match nofile {
            Some(n) => {
                // prlimit execs the server: the child's pid is the server's.
                let mut c = Command::new("prlimit");
                c.arg(format!("--nofile={n}:{n}")).arg("--").arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let child = command
            .arg("--config")
            .arg(&config_path)
            .env("AXIS_LOG", log_level)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            metrics: SocketAddr::from(([127, 0, 0, 1], mport)),
            pg,
            url,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                let log = std::fs::read_to_string(server.dir.path().join("server.log"))
                    .unwrap_or_default();
                bail!("axis-server exited at start ({status}):\n{log}");
            }
            // The gRPC socket is bound before the metrics one: healthz answering means the
            // node accepts connections.
            if server.http_get("/healthz").await.is_ok() {
                break;
            }
            if Instant::now() > deadline {
                bail!("axis-server did not come up within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(server)
    }

    async fn register(&self, pki: &TestPki) -> Result<()> {
        let mut dir = pb::directory_client::DirectoryClient::new(
            channel_to(self.addr, pki, &pki.operator).await?,
        );
        for a in &pki.agencies {
            dir.register_agency(pb::RegisterAgencyRequest {
                agency_id: a.id.to_string(),
                name: a.name.clone(),
                encryption_certificate: a.encryption.cert.clone(),
                seal_certificate: a.seal.cert.clone(),
                parent_id: String::new(),
            })
            .await?;
        }
        Ok(())
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) async fn http_get(&self, path: &str) -> Result<String> {
        let mut s = tokio::net::TcpStream::connect(self.metrics).await?;
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await?;
        let mut out = String::new();
        s.read_to_string(&mut out).await?;
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .context("no HTTP body")?;
        Ok(body)
    }

    /// One metric's value as `/metrics` shows it now (the first line named so; 0 if none).
    pub(crate) async fn metric(&self, name: &str) -> Result<f64> {
        let text = self.http_get("/metrics").await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit_once(' '))
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0.0))
    }

    /// Where the server's memory is, in MiB, as one line: its RSS split into anonymous pages
    /// and pages of files (the binary's code read in as it runs), its peak; and the
    /// allocator's own figures from `/metrics` (`axis_allocator_*`): what the program holds,
    /// the pages holding it, and what is resident.
    pub(crate) async fn memory_detail(&self) -> Result<String> {
        let status = self.status_kib()?;
        let kib = |name: &str| status(name) as f64 / 1024.0;
        let rss = format!(
            "RSS {:.2} MiB (anonymous {:.2}, files {:.2}), peak {:.1} MiB",
            kib("VmRSS:"),
            kib("RssAnon:"),
            kib("RssFile:"),
            kib("VmHWM:")
        );
        let text = self.http_get("/metrics").await?;
        let get = |n: &str| {
            text.lines()
                .filter_map(|l| l.rsplit_once(' '))
                .find(|(name, _)| *name == n)
                .and_then(|(_, v)| v.parse::<f64>().ok())
                .map(|v| v / (1024.0 * 1024.0))
        };
        Ok(
            match (
                get("axis_allocator_allocated_bytes"),
                get("axis_allocator_active_bytes"),
                get("axis_allocator_metadata_bytes"),
                get("axis_allocator_resident_bytes"),
                get("axis_allocator_thread_cache_bytes"),
            ) {
                (Some(a), Some(c), Some(m), Some(r), Some(t)) => format!(
                    "{rss}; allocator: allocated {a:.2} MiB (thread caches {t:.2}), active \
                     {c:.2} MiB, metadata {m:.2} MiB, resident {r:.2} MiB"
                ),
                _ => format!("{rss}; allocator: not reported"),
            },
        )
    }

    /// The server's counters and histogram sums, by metric name.
    pub(crate) async fn metrics(&self) -> Result<Metrics> {
        let text = self.http_get("/metrics").await?;
        let mut m = Metrics::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((name, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let v: f64 = value.parse().unwrap_or(0.0);
            // A histogram's series carry a label set, even an empty one (`…_sum{} 1.5`).
            let name = name.split_once('{').map_or(name, |(n, _)| n);
            match name {
                "axis_commit_batches_total" => m.batches = v,
                "axis_commit_jobs_total" => m.jobs = v,
                "axis_commit_seconds_sum" => m.commit_seconds = v,
                "axis_documents_accepted_total" => m.accepted = v,
                "axis_statements_logged_total" => m.statements = v,
                "axis_submissions_refused_total" => m.refused = v,
                "axis_commit_conflicts_total" => m.conflicts = v,
                "axis_commit_turns_total" => m.turns = v,
                "axis_commit_turn_waits_total" => m.turn_waits = v,
                _ => {}
            }
        }
        Ok(m)
    }

    /// Peak and current resident memory of the server process, in KiB.
    pub(crate) fn memory_kib(&self) -> Result<(u64, u64)> {
        let field = self.status_kib()?;
        Ok((field("VmHWM:"), field("VmRSS:")))
    }

    /// The server's `/proc/PID/status` now, read as fields in KiB by name (`"VmRSS:"`; 0 if
    /// none).
    fn status_kib(&self) -> Result<impl Fn(&str) -> u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        Ok(move |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        })
    }

    /// CPU seconds (user + system) the server has used so far.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        cpu_seconds_of(&format!("/proc/{}/stat", self.pid()))
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and drops its database.
    /// With `keep`, the server's log is copied to `keep/<label>.log` first.
    pub(crate) async fn stop(mut self, keep: Option<(&Path, &str)>) -> Result<()> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                self.child.wait()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Some((dir, label)) = keep {
            std::fs::create_dir_all(dir)?;
            std::fs::copy(
                self.dir.path().join("server.log"),
                dir.join(format!("{label}.log")),
            )?;
        }
        if let Some((admin, name)) = &self.pg {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await?;
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A bench that failed half-way must not leave the server running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads utime + stime from a `/proc/…/stat` file, in seconds.
pub(crate) fn cpu_seconds_of(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name and state.
    (ticks(11) + ticks(12)) / 100.0
}

/// The client's own CPU seconds.
pub(crate) fn client_cpu_seconds() -> f64 {
    cpu_seconds_of("/proc/self/stat")
}

/// Counters from `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) batches: f64,
    pub(crate) jobs: f64,
    pub(crate) commit_seconds: f64,
    pub(crate) accepted: f64,
    pub(crate) statements: f64,
    pub(crate) refused: f64,
    /// Races lost to another node (PostgreSQL, several nodes).
    pub(crate) conflicts: f64,
    /// Turns taken after losing races.
    pub(crate) turns: f64,
    /// Waits for another node's turn.
    pub(crate) turn_waits: f64,
}

impl Metrics {
    /// What happened between `before` and `self`.
    pub(crate) fn since(&self, before: &Metrics) -> Metrics {
        Metrics {
            batches: self.batches - before.batches,
            jobs: self.jobs - before.jobs,
            commit_seconds: self.commit_seconds - before.commit_seconds,
            accepted: self.accepted - before.accepted,
            statements: self.statements - before.statements,
            refused: self.refused - before.refused,
            conflicts: self.conflicts - before.conflicts,
            turns: self.turns - before.turns,
            turn_waits: self.turn_waits - before.turn_waits,
        }
    }

    pub(crate) fn mean_batch(&self) -> f64 {
        if self.batches > 0.0 {
            self.jobs / self.batches
        } else {
            0.0
        }
    }

    pub(crate) fn mean_commit_ms(&self) -> f64 {
        if self.batches > 0.0 {
            1000.0 * self.commit_seconds / self.batches
        } else {
            0.0
        }
    }
}
