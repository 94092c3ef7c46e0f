//! Crash-safe file writes and the undo log that makes a command all-or-nothing.
//!
//! Every file is written to a temporary file in the same directory, fsynced, then moved into
//! place (`rename` to replace, `link` to create without clobbering), and the directory is
//! fsynced so the new name survives a power cut. A [`Txn`] remembers what it created or replaced;
//! unless committed, dropping it puts everything back, so a command that fails midway leaves the
//! CA directory (and its output directory) as it found them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Failure, Result};

/// File modes: private keys and PKCS#12 bundles are readable by the owner only.
pub(crate) const MODE_SECRET: u32 = 0o600;
/// Certificates, CRLs, the index.
pub(crate) const MODE_PUBLIC: u32 = 0o644;
/// Directories holding private keys.
pub(crate) const MODE_PRIVATE_DIR: u32 = 0o700;
/// Other directories.
pub(crate) const MODE_DIR: u32 = 0o755;

/// Reads a whole file, refusing anything larger than `max` bytes.
pub(crate) fn read_limited(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = File::open(path).map_err(|e| Failure::io(&format!("read {what}"), path, &e))?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Failure::io(&format!("read {what}"), path, &e))?;
    if buf.len() as u64 > max {
        return Err(Failure::new(format!(
            "{what} {} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Reads a whole UTF-8 text file, with a size limit.
pub(crate) fn read_text(path: &Path, max: u64, what: &str) -> Result<String> {
    let bytes = read_limited(path, max, what)?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::new(format!("{what} {} is not UTF-8 text", path.display())))
}

fn temp_name(target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsyncs a directory so that names created or renamed in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn open_new(path: &Path, mode: u32) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    o.open(path)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

fn mode_of(meta: &fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        MODE_PUBLIC
    }
}

/// Writes `bytes` to a fresh temporary file beside `target` and fsyncs it. Returns its path.
fn write_temp(target: &Path, bytes: &[u8], mode: u32) -> io::Result<PathBuf> {
    let tmp = temp_name(target);
    let result = (|| {
        let mut f = open_new(&tmp, mode)?;
        // The umask may have narrowed the mode; never widen a secret, but make public files
        // readable as intended.
        set_mode(&tmp, mode)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Atomically replaces (or creates) `target` with `bytes`.
fn replace_atomic(target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = write_temp(target, bytes, mode)?;
    if let Err(e) = fs::rename(&tmp, target) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(parent_of(target))
}

/// Atomically creates `target` with `bytes`; fails with `AlreadyExists` if it exists, even if
/// another process creates it concurrently.
fn create_atomic(target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let tmp = write_temp(target, bytes, mode)?;
    let linked = fs::hard_link(&tmp, target);
    let result = match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        // A filesystem without hard links: check, then rename (not race-free, but the CA
        // directory itself is protected by its lock).
        Err(_) => {
            if target.symlink_metadata().is_ok() {
                Err(io::Error::from(io::ErrorKind::AlreadyExists))
            } else {
                fs::rename(&tmp, target)
            }
        }
    };
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(parent_of(target))
}

enum Undo {
    Created(PathBuf),
    Replaced {
        path: PathBuf,
        bytes: Vec<u8>,
        mode: u32,
    },
    Dir(PathBuf),
}

/// An undo log: what a command created or replaced, put back on drop unless committed.
#[must_use = "a transaction that is dropped rolls back"]
pub(crate) struct Txn {
    undo: Vec<Undo>,
    committed: bool,
}

impl Txn {
    pub(crate) fn new() -> Self {
        Txn {
            undo: Vec::new(),
            committed: false,
        }
    }

    /// Creates `dir` and any missing parents, recording each one created.
    pub(crate) fn create_dir_all(&mut self, dir: &Path, mode: u32) -> Result<()> {
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.as_os_str().is_empty() || d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            match fs::create_dir(&d) {
                Ok(()) => {
                    self.undo.push(Undo::Dir(d.clone()));
                    set_mode(&d, mode).map_err(|e| Failure::io("set permissions of", &d, &e))?;
                    let _ = sync_dir(parent_of(&d));
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
                Err(e) => return Err(Failure::io("create directory", &d, &e)),
            }
        }
        if !dir.is_dir() {
            return Err(Failure::new(format!(
                "{} exists and is not a directory",
                dir.display()
            )));
        }
        Ok(())
    }

    /// Creates a new file; refuses to overwrite anything.
    pub(crate) fn create(&mut self, path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
        match create_atomic(path, bytes, mode) {
            Ok(()) => {
                self.undo.push(Undo::Created(path.to_path_buf()));
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Failure::new(format!(
                "{} already exists; axis-pki never overwrites a file",
                path.display()
            ))),
            Err(e) => Err(Failure::io("write", path, &e)),
        }
    }

    /// Creates or atomically replaces a file, remembering the previous content.
    pub(crate) fn replace(&mut self, path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
        let previous = match fs::read(path) {
            Ok(old) => {
                let meta = fs::metadata(path).map_err(|e| Failure::io("read", path, &e))?;
                Some((old, mode_of(&meta)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Failure::io("read", path, &e)),
        };
        replace_atomic(path, bytes, mode).map_err(|e| Failure::io("write", path, &e))?;
        self.undo.push(match previous {
            Some((bytes, mode)) => Undo::Replaced {
                path: path.to_path_buf(),
                bytes,
                mode,
            },
            None => Undo::Created(path.to_path_buf()),
        });
        Ok(())
    }

    /// Records a file created outside the transaction (the lock file of a new directory) so
    /// that rolling back removes it.
    pub(crate) fn record_created(&mut self, path: &Path) {
        self.undo.push(Undo::Created(path.to_path_buf()));
    }

    /// Keeps everything written.
    pub(crate) fn commit(mut self) {
        self.committed = true;
    }

    fn rollback(&mut self) {
        while let Some(u) = self.undo.pop() {
            let (path, result) = match &u {
                Undo::Created(p) => (p, fs::remove_file(p).and_then(|()| sync_dir(parent_of(p)))),
                Undo::Replaced { path, bytes, mode } => (path, replace_atomic(path, bytes, *mode)),
                Undo::Dir(p) => (p, fs::remove_dir(p).and_then(|()| sync_dir(parent_of(p)))),
            };
            if let Err(e) = result
                && e.kind() != io::ErrorKind::NotFound
            {
                eprintln!(
                    "axis-pki: warning: could not undo the change to {}: {e}",
                    path.display()
                );
            }
        }
    }
}

impl Drop for Txn {
    fn drop(&mut self) {
        if !self.committed {
            self.rollback();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dropped_transaction_restores_everything() {
        let dir = tempfile::tempdir().unwrap();
        let keep = dir.path().join("keep.txt");
        fs::write(&keep, b"before").unwrap();
        {
            let mut t = Txn::new();
            t.replace(&keep, b"after", MODE_PUBLIC).unwrap();
            t.create_dir_all(&dir.path().join("a/b"), MODE_DIR).unwrap();
            t.create(&dir.path().join("a/b/new"), b"x", MODE_SECRET)
                .unwrap();
            assert_eq!(fs::read(&keep).unwrap(), b"after");
        }
        assert_eq!(fs::read(&keep).unwrap(), b"before");
        assert!(!dir.path().join("a").exists());
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary files left behind");
    }

    #[test]
    fn create_never_clobbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, b"mine").unwrap();
        let mut t = Txn::new();
        assert!(t.create(&p, b"theirs", MODE_PUBLIC).is_err());
        t.commit();
        assert_eq!(fs::read(&p).unwrap(), b"mine");
    }
}
