//! The token's PIN: from a file or an environment variable, never from argv; zeroized on drop,
//! never printed.

use std::fmt;
use std::io::Read;

use zeroize::Zeroizing;

use crate::error::Error;
use crate::uri::PinSource;

/// Largest PIN file read.
const MAX_PIN_FILE: u64 = 4096;

/// A token PIN. Zeroized on drop; its `Debug` prints nothing of it.
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Wraps a PIN; trailing newlines (as `echo 1234 > pin` leaves) are removed.
    pub fn new(mut s: String) -> Self {
        while s.ends_with('\n') || s.ends_with('\r') {
            s.pop();
        }
        Pin(Zeroizing::new(s))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison (a second user of the same token must give the same PIN).
    pub(crate) fn same_as(&self, other: &Pin) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    pub(crate) fn auth(&self) -> cryptoki::types::AuthPin {
        cryptoki::types::AuthPin::from(self.0.as_str())
    }

    pub(crate) fn try_clone(&self) -> Pin {
        Pin(Zeroizing::new(self.0.as_str().to_owned()))
    }
}

impl From<&axis_pki::Passphrase> for Pin {
    fn from(p: &axis_pki::Passphrase) -> Self {
        Pin::new(p.expose_secret().to_owned())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}

/// Reads the PIN for `token` from `source`.
pub(crate) fn read(source: &PinSource, token: &str) -> Result<Pin, Error> {
    let fail = |detail: String| Error::PinSource {
        token: token.to_owned(),
        source_name: source.to_string(),
        detail,
    };
    let text = match source {
        PinSource::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
            let mut text = Zeroizing::new(String::new());
            file.take(MAX_PIN_FILE + 1)
                .read_to_string(&mut text)
                .map_err(|e| fail(e.to_string()))?;
            if text.len() as u64 > MAX_PIN_FILE {
                return Err(fail(format!("longer than {MAX_PIN_FILE} bytes")));
            }
            text.to_string()
        }
        PinSource::Env(var) => std::env::var(var).map_err(|e| fail(e.to_string()))?,
    };
    let pin = Pin::new(text);
    if pin.as_str().is_empty() {
        return Err(fail("it is empty".to_owned()));
    }
    Ok(pin)
}
