//! Disk primitives: atomic replace, advisory locks, directory walks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

/// Prefix of our temporary files. Hidden, so `ls` and MLflow's directory
/// listings (which only look at sub-directories of experiment and run
/// folders) never take one for data.
const TMP_PREFIX: &str = ".tmp-";

/// Replaces `dest` with `bytes` so that a reader sees either the old file or
/// the whole new one, never a prefix.
///
/// The temporary file lives in `tmp_dir`, which must be on the same file
/// system as `dest` (rename is only atomic within one). Callers pass the run
/// or experiment directory rather than `dest`'s own directory: a stray temp
/// file in `params/` or `artifacts/` would be listed by MLflow as a param or
/// an artifact while it exists, whereas the run directory itself is only
/// scanned for `meta.yaml` and known sub-folders.
pub(crate) fn atomic_write(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write_with(tmp_dir, dest, |file| file.write_all(bytes))
}

/// Like [`atomic_write`], with the content produced by `fill`.
pub(crate) fn atomic_write_with(
    tmp_dir: &Path,
    dest: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    if let Some(parent) = dest.parent() {
        create_dir_all(parent)?;
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(tmp_dir)
        .map_err(StoreError::io("create a temporary file in", tmp_dir))?;
    fill(tmp.as_file_mut()).map_err(StoreError::io("write a temporary file for", dest))?;
    // Without the fsync a crash after the rename could leave `dest` empty:
    // the rename may reach the disk before the data does.
    tmp.as_file()
        .sync_all()
        .map_err(StoreError::io("sync a temporary file for", dest))?;
    tmp.persist(dest)
        .map_err(|e| StoreError::io("rename a temporary file onto", dest)(e.error))?;
    Ok(())
}

pub(crate) fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(StoreError::io("create directory", dir))
}

pub(crate) fn read_to_string(path: &Path) -> Result<String> {
    let bytes = fs::read(path).map_err(StoreError::io("read", path))?;
    String::from_utf8(bytes).map_err(|_| StoreError::Malformed {
        path: path.to_path_buf(),
        reason: "not valid UTF-8".into(),
    })
}

/// Like [`read_to_string`], but `None` when the file does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| StoreError::Malformed {
                path: path.to_path_buf(),
                reason: "not valid UTF-8".into(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("read", path)(e)),
    }
}

/// An exclusive advisory lock on a file, held until dropped.
///
/// `File::lock` is `flock` on Unix and `LockFileEx` on Windows: both lock per
/// open file handle, so it serialises threads of one process (each opens its
/// own handle) as well as separate processes.
#[derive(Debug)]
pub(crate) struct FileLock {
    file: File,
}

impl FileLock {
    pub(crate) fn acquire(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(StoreError::io("open lock file", path))?;
        file.lock().map_err(StoreError::io("lock", path))?;
        Ok(Self { file })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the handle releases the lock anyway; unlocking first just
        // makes the release independent of when the OS reclaims the handle.
        let _ = self.file.unlock();
    }
}

/// Names of the sub-directories of `dir`, or nothing if `dir` is missing.
pub(crate) fn subdirs(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("list directory", dir)(e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io("list directory", dir))?;
        let is_dir = entry
            .file_type()
            .map_err(StoreError::io("inspect", entry.path()))?
            .is_dir();
        if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

/// Every regular file below `dir`, as `/`-separated paths relative to `dir`,
/// sorted. A missing `dir` has no files.
pub(crate) fn walk_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    walk_into(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

fn walk_into(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("list directory", dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(StoreError::io("list directory", dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let file_type = entry
            .file_type()
            .map_err(StoreError::io("inspect", &path))?;
        if file_type.is_dir() {
            walk_into(&path, &rel, out)?;
        } else {
            out.push((rel, path));
        }
    }
    Ok(())
}

/// `file://` URI of an absolute path, percent-encoded the way Python's
/// `pathlib.Path.as_uri()` does it (MLflow compares and parses these).
pub(crate) fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}
