//! `axis-server`: run an axis node, or write a local demo axis.
//!
//! ```text
//! axis-server demo [--dir axis-data] [--fresh] [--agency ID=NAME]…   # a throw-away PKI and configuration
//! axis-server [run] [--config axis-data/axis-server.toml] [--listen ADDR] [--database-url URL]
//! axis-server check-config [--config FILE] [--no-database]   # say what is wrong, then exit
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use axis_pki::{AgencyId, Passphrase};
use axis_server::config::{Config, DEFAULT_CONFIG};
use axis_server::keys;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// jemalloc, not the system's allocator: glibc's arenas keep what many concurrent calls freed
/// (server RSS after three 500-recipient broadcasts was 578 % of its idle figure, jemalloc's
/// 167 %, BENCHMARKS.md "Broadcast"), and an idle connection costs less in it. Its options are
/// set when it is built (`.cargo/config.toml`, `JEMALLOC_SYS_WITH_MALLOC_CONF`: background
/// threads return pages freed for a second, one arena; this crate forbids the `unsafe` that
/// setting them from code takes) and can be overridden at start with `MALLOC_CONF`.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const EXAMPLES: &str = "\
Examples:
  axis-server demo --dir axis-data --fresh           # a throw-away PKI and configuration
  axis-server --config axis-data/axis-server.toml    # run a node (the default command)
  axis-server --config prod.toml --database-url postgres://axis@db/axis --listen 0.0.0.0:7443

The key passphrase comes from passphrase_file in the configuration or AXIS_SERVER_KEY_PASS. \
gRPC (mutual TLS) carries the axis.v1 services, grpc.health.v1 and server reflection (v1 and \
v1alpha); GET /metrics and /healthz are on metrics_listen.";

const RUN_EXAMPLES: &str = "\
Examples:
  axis-server run --config axis-data/axis-server.toml
  AXIS_LOG=debug axis-server run --config prod.toml --log-json

The same as axis-server without a command. SIGTERM or Ctrl-C drains calls and stops.";

#[derive(Parser)]
#[command(
    name = "axis-server",
    version,
    about = "The Axis document interconnection server",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(clap::Args, Clone)]
struct RunArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "AXIS_CONFIG", default_value = DEFAULT_CONFIG, global = true)]
    config: PathBuf,
    /// gRPC listen address (overrides the file).
    #[arg(long, env = "AXIS_LISTEN", global = true)]
    listen: Option<SocketAddr>,
    /// Database URL, `sqlite://FILE` or `postgres://…` (overrides the file).
    #[arg(long, env = "AXIS_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Metrics listen address (overrides the file).
    #[arg(long, env = "AXIS_METRICS_LISTEN", global = true)]
    metrics_listen: Option<SocketAddr>,
    /// Log as JSON lines.
    #[arg(long, env = "AXIS_LOG_JSON", global = true)]
    log_json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node (the default).
    #[command(after_help = RUN_EXAMPLES)]
    Run,
    /// Load the configuration and everything it names, check it, print one line per item, and
    /// exit non-zero if anything would fail.
    #[command(
        name = "check-config",
        after_help = "Example:\n  axis-server check-config --config /etc/axis/axis-server.toml\n\n\
Checks the key passphrases, that each key decrypts and holds its certificate's key, that every \
certificate has the profile of its slot and chains to the root with revocation now, that every \
CA has a current CRL (and how long it stays current), and that the database answers (it is \
created or migrated as a start would; --no-database leaves it alone). Lines start with ok, \
WARN or FAIL; the exit code is 1 if any line is FAIL."
    )]
    CheckConfig {
        /// Check the files only; do not connect to the database (CRLs published to it are
        /// then not seen).
        #[arg(long)]
        no_database: bool,
    },
    /// Write a throw-away demo PKI and configuration for a local axis with two agencies
    /// (000.00.00.G22 and 000.00.00.H41), and any others given with --agency.
    #[command(
        after_help = "Examples:\n  axis-server demo --dir axis-data --fresh\n  axis-server demo --dir axis-data --fresh --agency \"000.00.00.H53=UBND tỉnh Tây Ninh\" \\\n      --agency \"000.00.00.H29=UBND tỉnh Hòa Bình\"\n  axis-server --config axis-data/axis-server.toml\n\nagencies/index.tsv lists every agency (id, tab, name), to register them with\n`axis directory register`."
    )]
    Demo {
        /// Directory to write.
        #[arg(long, default_value = "axis-data")]
        dir: PathBuf,
        /// Replace an existing demo directory.
        #[arg(long)]
        fresh: bool,
        /// The address the demo server will listen on.
        #[arg(long, default_value = "127.0.0.1:7443")]
        demo_listen: String,
        /// Another agency, as ID=NAME (repeat for several): its four certificates and its
        /// `axis` configuration, like the built-in ones.
        #[arg(long = "agency", value_name = "ID=NAME", value_parser = agency_arg)]
        agencies: Vec<(AgencyId, String)>,
    },
}

/// `--agency ID=NAME`.
fn agency_arg(s: &str) -> Result<(AgencyId, String), String> {
    let (id, name) = s.split_once('=').ok_or_else(|| {
        format!("\"{s}\": write it as ID=NAME, e.g. 000.00.00.H53=UBND tỉnh Tây Ninh")
    })?;
    let id = AgencyId::parse(id.trim()).map_err(|e| format!("\"{id}\": {e}"))?;
    Ok((id, name.trim().to_owned()))
}

/// The shared passphrase, or (when every key has its own) an empty one that nothing uses.
fn passphrase(config: &Config) -> Result<Passphrase> {
    match keys::shared_passphrase(config)? {
        Some(p) => Ok(p.passphrase),
        None => {
            keys::check_passphrases(config, false)?;
            Ok(Passphrase::new(String::new()))
        }
    }
}

/// jemalloc's own statistics for `/metrics` (`axis_allocator_*`), read after advancing its
/// epoch (they are cached until then).
#[cfg(not(target_env = "msvc"))]
fn allocator_stats() -> Option<axis_server::metrics::AllocatorStats> {
    use tikv_jemalloc_ctl::{Access, AsName, epoch, stats};
    epoch::advance().ok()?;
    let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    Some(axis_server::metrics::AllocatorStats {
        allocated: n(stats::allocated::read().ok()?),
        active: n(stats::active::read().ok()?),
        metadata: n(stats::metadata::read().ok()?),
        resident: n(stats::resident::read().ok()?),
        // 4096 is MALLCTL_ARENAS_ALL: the sum over every arena.
        thread_caches: n(
            Access::<usize>::read(b"stats.arenas.4096.tcache_bytes\0".name()).unwrap_or(0),
        ),
    })
}

/// Hands the objects a thread's allocator cache keeps back to the arena, at most once every
/// [`thread_cache::FLUSH_EVERY`], when a runtime thread parks (has nothing to do).
#[cfg(not(target_env = "msvc"))]
mod thread_cache {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    use tikv_jemalloc_ctl::{Access, AsName};

    /// jemalloc's switch for the calling thread's cache.
    const ENABLED: &[u8] = b"thread.tcache.enabled\0";

    /// How often, at most, a parking thread flushes its cache.
    pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(5);

    thread_local! {
        static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
    }

    /// jemalloc keeps up to a few hundred freed objects of each size in every thread's cache,
    /// and trims it only as that thread allocates again: a burst of calls leaves the caches
    /// of runtime threads that then sit idle full, and the freed objects in them pin pages
    /// that would otherwise go back to the kernel (RSS settled after three 500-recipient
    /// broadcasts: BENCHMARKS.md "Broadcast"). Turning the thread's cache off flushes it
    /// whole; turning it on again starts an empty one (jemalloc's `thread.tcache.flush`
    /// itself takes an `unsafe` call, which this crate forbids).
    pub(crate) fn on_park() {
        let now = Instant::now();
        let due = LAST.with(|last| {
            let due = last
                .get()
                .is_none_or(|t| now.duration_since(t) >= FLUSH_EVERY);
            if due {
                last.set(Some(now));
            }
            due
        });
        if due {
            let name = ENABLED.name();
            if Access::<bool>::read(name) == Ok(true) && name.write(false).is_ok() {
                let _ = name.write(true);
            }
        }
    }

    /// Whether this thread has an allocator cache now.
    #[cfg(test)]
    pub(crate) fn enabled() -> bool {
        Access::<bool>::read(ENABLED.name()).unwrap_or(false)
    }
}

fn main() -> Result<()> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    #[cfg(not(target_env = "msvc"))]
    runtime.on_thread_park(thread_cache::on_park);
    let runtime = runtime.build().context("cannot start the async runtime")?;
    // On a runtime thread, not this one: `block_on` runs its future on the calling thread,
    // which never parks as a runtime thread does, so its allocator cache would never be
    // flushed.
    let node = runtime.spawn(run());
    match runtime.block_on(node) {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(anyhow::anyhow!("the node's task ended: {e}")),
    }
}

async fn run() -> Result<()> {
    let cli = Cli::parse();
    #[cfg(not(target_env = "msvc"))]
    axis_server::metrics::set_allocator_stats(allocator_stats);
    let filter = EnvFilter::try_from_env("AXIS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    if cli.run.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    match cli.command.unwrap_or(Command::Run) {
        Command::Demo {
            dir,
            fresh,
            demo_listen,
            agencies,
        } => {
            axis_server::demo::write_demo(&dir, fresh, &demo_listen, &agencies)?;
            println!("Demo axis written to {}:", dir.display());
            println!(
                "  server configuration   {}/axis-server.toml",
                dir.display()
            );
            println!(
                "  operator CLI config    {}/operator/axis/axis.toml",
                dir.display()
            );
            for (id, name, _, _) in axis_server::demo::demo_agencies(&agencies)? {
                println!("  {id} ({name})  {}/agencies/{id}/axis.toml", dir.display());
            }
            println!(
                "Start it with: axis-server --config {}/axis-server.toml",
                dir.display()
            );
            Ok(())
        }
        Command::CheckConfig { no_database } => {
            let mut config = Config::from_file(&cli.run.config)?;
            if let Some(u) = cli.run.database_url {
                config.database_url = u;
            }
            let database = if no_database {
                axis_server::check::Database::Skip
            } else {
                axis_server::check::Database::Check
            };
            let report =
                axis_server::check::check(&config, time::OffsetDateTime::now_utc(), database).await;
            for f in &report.findings {
                println!("{f}");
            }
            let problems = report.problems().count();
            if report.failed() {
                println!(
                    "{}: {problems} problem(s); the node would not work as configured",
                    cli.run.config.display()
                );
                std::process::exit(1);
            }
            println!(
                "{}: ready ({problems} warning(s))",
                cli.run.config.display()
            );
            Ok(())
        }
        Command::Run => {
            let mut config = Config::from_file(&cli.run.config)?;
            if let Some(l) = cli.run.listen {
                config.listen = l;
            }
            if let Some(u) = cli.run.database_url {
                config.database_url = u;
            }
            if let Some(m) = cli.run.metrics_listen {
                config.metrics_listen = Some(m);
            }
            let pass = passphrase(&config)?;
            let mut node = axis_server::start(config, &pass)
                .await
                .context("starting the axis node")?;
            println!("axis-server listening on {}", node.addr);
            tokio::select! {
                r = node.wait() => r.context("server stopped")?,
                _ = shutdown_signal() => {
                    tracing::info!("shutting down: draining streams");
                    node.shutdown().await;
                    tracing::info!("stopped");
                }
            }
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// The tests that read the allocator's process-wide counts run one at a time: one's
    /// allocations and frees would move another's figures.
    static ALLOCATOR: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn allocator_alone() -> std::sync::MutexGuard<'static, ()> {
        ALLOCATOR.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[test]
    fn every_command_has_an_example() {
        let cli = super::Cli::command();
        cli.clone().debug_assert();
        let missing = axis_testkit::cli::commands_without_example(&cli);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
    }

    /// A parking runtime thread hands what its allocator cache kept back to the arena (the
    /// caches' total falls by what this thread put there) and goes on with a cache.
    #[cfg(not(target_env = "msvc"))]
    #[test]
    fn a_parking_thread_empties_its_allocator_cache_and_keeps_one() {
        let _alone = allocator_alone();
        let cached = || {
            super::allocator_stats()
                .expect("jemalloc's statistics")
                .thread_caches
        };
        std::thread::spawn(move || {
            assert!(super::thread_cache::enabled());
            // Objects of many sizes, freed: this thread's cache keeps them.
            let held: Vec<Vec<u8>> = (0..40)
                .flat_map(|_| (1..=32).map(|k| vec![1u8; k * 256]))
                .collect();
            let before = cached();
            drop(held);
            let filled = cached();
            assert!(
                filled >= before + 64 * 1024,
                "the thread's cache kept {before} → {filled} B"
            );
            super::thread_cache::on_park();
            let after = cached();
            assert!(
                after + (filled - before) / 2 <= filled,
                "the cache held {filled} B with this thread's objects and {after} B after it parked"
            );
            assert!(
                super::thread_cache::enabled(),
                "the thread's cache is on again"
            );
            // Within FLUSH_EVERY of the last, a park leaves the cache alone.
            let again: Vec<Vec<u8>> = (1..=32).map(|k| vec![1u8; k * 256]).collect();
            drop(again);
            let refilled = cached();
            super::thread_cache::on_park();
            let left = cached();
            assert!(
                left + refilled.saturating_sub(after) / 2 >= refilled,
                "flushed again within {:?}: {refilled} → {left} B",
                super::thread_cache::FLUSH_EVERY
            );
        })
        .join()
        .unwrap();
    }

    /// `/metrics` shows jemalloc's own figures once the binary registered its reader, and they
    /// are consistent: what is held lies in active pages, which are resident.
    #[cfg(not(target_env = "msvc"))]
    #[test]
    fn metrics_show_the_allocators_own_figures() {
        let _alone = allocator_alone();
        let s = super::allocator_stats().expect("jemalloc's statistics");
        assert!(s.allocated > 0, "{s:?}");
        assert!(s.active >= s.allocated, "{s:?}");
        assert!(s.resident >= s.active, "{s:?}");
        assert!(s.thread_caches <= s.allocated, "{s:?}");
        axis_server::metrics::set_allocator_stats(super::allocator_stats);
        let text = axis_server::metrics::render();
        for name in [
            "axis_allocator_allocated_bytes",
            "axis_allocator_active_bytes",
            "axis_allocator_metadata_bytes",
            "axis_allocator_resident_bytes",
            "axis_allocator_thread_cache_bytes",
        ] {
            let value = text
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .unwrap_or_else(|| panic!("no {name} in /metrics"));
            assert!(value.parse::<u64>().is_ok(), "{name} {value}");
        }
    }

    /// The binary allocates from jemalloc, configured as `.cargo/config.toml` says: a build
    /// without that configuration (the variable not set) would keep freed memory for 10 s
    /// and purge it only when something allocates, and fails here.
    #[cfg(not(target_env = "msvc"))]
    #[test]
    fn the_allocator_is_jemalloc_returning_freed_pages_within_a_second() {
        let _alone = allocator_alone();
        use tikv_jemalloc_ctl::{config, epoch, opt, stats};
        let conf = config::malloc_conf::read().unwrap();
        let options: Vec<&str> = conf.trim_end_matches('\0').split(',').collect();
        for wanted in [
            "background_thread:true",
            "dirty_decay_ms:1000",
            "muzzy_decay_ms:0",
            "narenas:1",
        ] {
            assert!(options.contains(&wanted), "{wanted} not in {conf:?}");
        }
        assert!(opt::background_thread::read().unwrap());
        if std::env::var_os("MALLOC_CONF").is_none() {
            // One for every thread (`arenas.narenas` also counts the one for huge allocations).
            assert_eq!(opt::narenas::read().unwrap(), 1);
        }
        // Rust's allocations are jemalloc's: 16 MiB held shows in its count (at least half of
        // it: the other tests' threads allocate and free meanwhile).
        epoch::advance().unwrap();
        let before = stats::allocated::read().unwrap();
        let held = vec![1u8; 16 << 20];
        epoch::advance().unwrap();
        let during = stats::allocated::read().unwrap();
        assert!(during >= before + held.len() / 2, "{before} → {during}");
        drop(held);
    }
}
