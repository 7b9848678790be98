//! Crash-safe file writes for model folders, checkpoints and results,
//! through the workspace's one durable-write helper.

use std::fs;
use std::path::Path;

use exahealth_base::durable;

use crate::error::{NnError, Result};

/// Writes `bytes` to `path` durably (temporary file, fsync, rename, fsync of
/// the folder), creating the folder if needed, and removes temporaries that
/// earlier writes of `path` left when they were killed before their rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| NnError::io(dir, e))?;
    }
    durable::write(path, bytes).map_err(|e| NnError::io(path, e))?;
    durable::remove_stale_temporaries(path, durable::STALE_AFTER);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_folder_and_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run/a.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path().join("run")).unwrap().count(), 1);
    }
}
