//! SoftHSM 2 tokens for tests: made in-process, each with a unique label and its own PIN file,
//! removed when dropped.
//!
//! SoftHSM reads its configuration once per process, from `SOFTHSM2_CONF`, which the
//! workspace's `.cargo/config.toml` points at `target/softhsm/softhsm2.conf`; this module writes
//! that file (tokens under `target/softhsm/tokens`) before the module is first loaded. Child
//! processes (a server, the CLIs) inherit the variable and see every token made before they
//! start.
//!
//! SoftHSM is required, never skipped: a test that needs it fails with what to install
//! (`apt-get install softhsm2`; `.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use axis_keys::Pin;

/// Where Debian's SoftHSM 2 module is; `AXIS_TEST_PKCS11_MODULE` overrides it.
pub const DEBIAN_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// The SO PIN of every test token.
pub const SO_PIN: &str = "so-pin-12345678";

/// The PKCS#11 module the tests use. Panics, saying what to install, when it is missing.
pub fn module() -> PathBuf {
    let path = std::env::var_os("AXIS_TEST_PKCS11_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEBIAN_MODULE));
    assert!(
        path.exists(),
        "the SoftHSM 2 PKCS#11 module {} is missing: install it (`apt-get install softhsm2`; \
         .ci/run does) or point AXIS_TEST_PKCS11_MODULE at a PKCS#11 module",
        path.display()
    );
    path
}

/// SOFTHSM2_CONF, with its configuration file and token directory made. Call before the module
/// is loaded (every helper here does).
pub fn config() -> &'static Path {
    static CONF: OnceLock<PathBuf> = OnceLock::new();
    CONF.get_or_init(|| {
        let conf = std::env::var_os("SOFTHSM2_CONF").map(PathBuf::from).expect(
            "SOFTHSM2_CONF is not set: run the tests with cargo from the workspace (its \
             .cargo/config.toml sets it) or set it to a SoftHSM 2 configuration file",
        );
        if !conf.exists() {
            let dir = conf.parent().expect("SOFTHSM2_CONF has a directory");
            let tokens = dir.join("tokens");
            std::fs::create_dir_all(&tokens).unwrap();
            let text = format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n\
                 slots.removable = false\n",
                tokens.display()
            );
            // Written whole, then renamed: test processes start in parallel.
            let tmp = dir.join(format!("softhsm2.conf.{}", std::process::id()));
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &conf).unwrap();
        }
        conf
    })
}

fn token_dir() -> PathBuf {
    let text = std::fs::read_to_string(config()).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("directories.tokendir"))
        .expect("a tokendir line");
    PathBuf::from(line.trim_start_matches([' ', '=']).trim())
}

/// A SoftHSM token of this test: its label, user PIN (also in a file) and module.
pub struct TestToken {
    /// The token's label (`<name>-<random>`).
    pub label: String,
    /// The user PIN.
    pub pin: String,
    /// A file holding the PIN (for `pin-source=file:`).
    pub pin_file: PathBuf,
    /// The PKCS#11 module.
    pub module: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestToken {
    /// A new token labelled `<name>-<random>`, initialised in this process.
    pub fn new(name: &str) -> Self {
        config();
        let module = module();
        let label = format!("{name}-{:08x}", rand_u32());
        let pin = format!("pin-{:08x}", rand_u32());
        let dir = tempfile::tempdir().unwrap();
        let pin_file = dir.path().join("token.pin");
        std::fs::write(&pin_file, format!("{pin}\n")).unwrap();
        axis_keys::init_token(
            Some(&module),
            &label,
            &Pin::new(SO_PIN.to_owned()),
            &Pin::new(pin.clone()),
        )
        .unwrap();
        TestToken {
            label,
            pin,
            pin_file,
            module,
            _dir: dir,
        }
    }

    /// The URI of key `object` on this token, with the module and the PIN file.
    pub fn uri(&self, object: &str) -> String {
        format!(
            "{}&pin-source=file:{}",
            self.uri_without_pin(object),
            self.pin_file.display()
        )
    }

    /// The URI of key `object`, with the module but no PIN source.
    pub fn uri_without_pin(&self, object: &str) -> String {
        format!(
            "pkcs11:token={};object={object}?module-path={}",
            self.label,
            self.module.display()
        )
    }

    /// The PIN as the key APIs take it.
    pub fn pin(&self) -> Pin {
        Pin::new(self.pin.clone())
    }
}

impl Drop for TestToken {
    fn drop(&mut self) {
        // SoftHSM names a token's directory by a UUID whose last 16 hex digits are its serial;
        // the token.object file holds the label. Remove this token's directory only.
        let Ok(entries) = std::fs::read_dir(token_dir()) else {
            return;
        };
        for e in entries.flatten() {
            let object = e.path().join("token.object");
            if std::fs::read(&object).is_ok_and(|b| {
                b.windows(self.label.len())
                    .any(|w| w == self.label.as_bytes())
            }) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    openssl::rand::rand_bytes(&mut b).unwrap();
    u32::from_le_bytes(b)
}
