//! The other stacks: Java (javac once per test run, BouncyCastle from Debian's jars), Go (one
//! `go build` per run, its cache kept in the target directory), Python 3 and the `openssl`
//! CLI. A missing tool fails the test with the command that installs it: these tests are
//! never skipped (`.ci/run` installs everything).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

/// Debian's BouncyCastle (`libbcprov-java`, `libbcpkix-java`; bcutil comes with bcpkix).
const BC_JARS: [&str; 3] = [
    "/usr/share/java/bcprov.jar",
    "/usr/share/java/bcpkix.jar",
    "/usr/share/java/bcutil.jar",
];

/// What every helper program is given at most.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// `tests/interop/`: the helper programs' sources.
pub fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Where compiled helpers live (kept between runs; rebuilt once per run).
fn out() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop")
}

/// Runs `cmd` to completion within [`TIMEOUT`] (killed and reported after it); panics with
/// `install` if it cannot start.
pub fn run(mut cmd: Command, install: &str) -> Output {
    run_with_input(&mut cmd, install, None)
}

/// [`run`], writing `input` to the child's stdin first.
pub fn run_with_input(cmd: &mut Command, install: &str, input: Option<&[u8]>) -> Output {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}; install it: {install}"));
    let mut stdin = child.stdin.take();
    if let (Some(pipe), Some(data)) = (&mut stdin, input) {
        pipe.write_all(data).unwrap();
    }
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let stdout = reader(Box::new(child.stdout.take().unwrap()));
    let stderr = reader(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} ran longer than {TIMEOUT:?}:\n{}{}",
                String::from_utf8_lossy(&stdout.join().unwrap()),
                String::from_utf8_lossy(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Runs `cmd` off the async runtime (the axis under test runs on it).
pub async fn run_async(cmd: Command, install: &'static str) -> Output {
    tokio::task::spawn_blocking(move || run(cmd, install))
        .await
        .unwrap()
}

/// stdout and stderr, for assertions.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
pub fn assert_ok(o: &Output, what: &str) -> String {
    let t = text(o);
    assert!(o.status.success(), "{what} failed ({}):\n{t}", o.status);
    t
}

fn classpath(classes: &Path) -> String {
    let mut parts = vec![classes.display().to_string()];
    parts.extend(BC_JARS.iter().map(|s| (*s).to_owned()));
    parts.join(":")
}

const JAVA_INSTALL: &str = "apt-get install openjdk-17-jdk-headless libbcprov-java libbcpkix-java";

/// Compiles `interop/java/*.java` once per test run; returns the class directory.
pub fn java_classes() -> &'static Path {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    CLASSES.get_or_init(|| {
        for jar in BC_JARS {
            assert!(
                Path::new(jar).exists(),
                "{jar} is missing; install it: {JAVA_INSTALL}"
            );
        }
        let dir = out().join("java");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new("javac");
        cmd.args(["-Xlint:all,-path", "-Werror", "-d"])
            .arg(&dir)
            .arg("-cp")
            .arg(BC_JARS.join(":"));
        for name in ["BcCms.java", "Der.java", "JsseClient.java"] {
            cmd.arg(sources().join("java").join(name));
        }
        assert_ok(&run(cmd, JAVA_INSTALL), "javac");
        dir
    })
}

/// `java -cp CLASSES:BC CLASS ARGS…`.
pub fn java<I, S>(class: &str, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new("java");
    cmd.arg("-cp").arg(classpath(java_classes())).arg(class);
    cmd.args(args);
    cmd
}

const GO_INSTALL: &str = "apt-get install golang-go";

fn go_env(cmd: &mut Command) {
    let o = out();
    // Offline, reproducible, and a build cache that survives between runs.
    cmd.env("GOCACHE", o.join("go-cache"))
        .env("GOPATH", o.join("go-path"))
        .env("GOPROXY", "off")
        .env("GOFLAGS", "")
        .env("CGO_ENABLED", "0");
}

/// Builds `interop/go/main.go` once per test run; returns the binary.
pub fn go_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let bin = out().join("go-interop");
        std::fs::create_dir_all(out()).unwrap();
        let mut cmd = Command::new("go");
        cmd.arg("build").arg("-o").arg(&bin).arg("main.go");
        cmd.current_dir(sources().join("go"));
        go_env(&mut cmd);
        assert_ok(&run(cmd, GO_INSTALL), "go build");
        bin
    })
}

/// The Go toolchain's version, `(major, minor)`.
pub fn go_version() -> (u32, u32) {
    let mut cmd = Command::new("go");
    cmd.arg("version");
    go_env(&mut cmd);
    let t = assert_ok(&run(cmd, GO_INSTALL), "go version");
    // "go version go1.19.8 linux/amd64"
    let v = t
        .split_whitespace()
        .find_map(|w| w.strip_prefix("go1."))
        .unwrap_or_else(|| panic!("unexpected `go version`: {t}"));
    let minor = v.split('.').next().unwrap().parse().unwrap();
    (1, minor)
}

pub const PYTHON_INSTALL: &str = "apt-get install python3";
pub const OPENSSL_INSTALL: &str = "apt-get install openssl";
