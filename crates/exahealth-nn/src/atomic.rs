//! Crash-safe file writes: a reader sees the old file or the new one, never
//! a torn one, even after `kill -9` or a power cut mid-write.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{NnError, Result};

/// Writes `bytes` to `path` via a temporary file in the same directory,
/// `fsync`, rename, and `fsync` of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| NnError::io(dir, e))?;
    let name = path
        .file_name()
        .ok_or_else(|| NnError::Config(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // The rename is durable only once the directory entry is.
        File::open(dir)?.sync_all()
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        NnError::io(path, e)
    })?;
    remove_orphans(dir, &name.to_string_lossy());
    Ok(())
}

/// Removes temporaries of earlier writes of `name` that were killed before
/// their rename (`kill -9`, power cut): they are never read, only clutter.
/// A temporary whose writer (the process id in its name) still runs is
/// left alone; where that cannot be told (no `/proc`), none is removed.
fn remove_orphans(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| Path::new("/proc").join(p.to_string()).exists());
        if !alive {
            if let Err(e) = fs::remove_file(entry.path()) {
                tracing::warn!("cannot remove {}: {e}", entry.path().display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn removes_temporaries_of_killed_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.safetensors");
        // What a writer killed before its rename leaves behind.
        // A pid no process has (beyond Linux's pid_max), and pid 1 (init,
        // always running) as a writer still at work.
        fs::write(dir.path().join(".w.safetensors.tmp-4294967295"), b"torn").unwrap();
        let live = ".w.safetensors.tmp-1".to_string();
        fs::write(dir.path().join(&live), b"a live writer's").unwrap();
        fs::write(dir.path().join(".other.tmp-4294967295"), b"not ours").unwrap();
        write_atomic(&p, b"whole").unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want = vec![
            ".other.tmp-4294967295".to_string(),
            live,
            "w.safetensors".into(),
        ];
        want.sort();
        assert_eq!(names, want);
    }
}
