//! The workspace's one durable-write helper.
//!
//! A write that matters (a model, a plan, a label table, a slide, a patch)
//! goes to a temporary file beside its target, is fsynced, renamed over the
//! target and the folder is fsynced: a reader sees the old content or the
//! new, never a part, even after `kill -9` or a power cut.
//!
//! - The temporary's name is unique (process, counter, clock) and it is
//!   opened with `create_new`, so a symlink planted under that name in a
//!   shared folder is refused rather than followed, and two threads writing
//!   the same target never share a temporary.
//! - A failed fsync of the folder after a successful rename is logged, not
//!   returned: the data is in place and some file systems cannot sync
//!   folders.
//! - Temporaries left by writers that died are removed only once they have
//!   not been touched for [`STALE_AFTER`]: by age, not by "is that process
//!   id alive", which is wrong on a file system shared by several hosts.
//!
//! [`write`] writes a byte buffer; [`DurableFile`] streams (a pyramidal TIFF
//! of many gigabytes) and is removed if dropped before [`DurableFile::commit`].

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a temporary must sit untouched before cleanup removes it. A
/// live writer touches its temporary with every write; one stalled this long
/// fails at its rename, loudly, instead of leaving a torn target.
pub const STALE_AFTER: Duration = Duration::from_secs(6 * 3600);

/// How much fsync a write gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file before the rename and the folder after it.
    Fsync,
    /// Rename only: atomic for readers, but a power cut may leave the old
    /// content. For thousands of small files that are cheap to redo, where a
    /// resume check (not the file system) decides what is complete.
    RenameOnly,
}

/// Writes `bytes` to `path` durably.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, bytes, Durability::Fsync)
}

/// Writes `bytes` to `path` with the given [`Durability`].
pub fn write_with(path: &Path, bytes: &[u8], sync: Durability) -> io::Result<()> {
    let mut file = DurableFile::create_with(path, sync)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file being written under a temporary name; [`commit`](Self::commit)
/// renames it over the target, dropping it removes it.
#[derive(Debug)]
pub struct DurableFile {
    file: Option<File>,
    temporary: PathBuf,
    target: PathBuf,
    sync: Durability,
}

impl DurableFile {
    /// Starts a durable write of `path`. The folder must exist.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::create_with(path, Durability::Fsync)
    }

    /// Starts a write of `path` with the given [`Durability`].
    pub fn create_with(path: &Path, sync: Durability) -> io::Result<Self> {
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            )
        })?;
        let folder = folder_of(path);
        let stem = name.to_string_lossy();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        // A name taken by a planted file or symlink is skipped, not opened.
        for _ in 0..16 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let temporary = folder.join(format!(
                ".{stem}.{}-{n}-{nanos:x}{TMP_SUFFIX}",
                std::process::id()
            ));
            match open_exclusive(&temporary) {
                Ok(file) => {
                    return Ok(Self {
                        file: Some(file),
                        temporary,
                        target: path.to_path_buf(),
                        sync,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("no free temporary name beside {}", path.display()),
        ))
    }

    /// The file being written (for callers that seek back to patch
    /// offsets).
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("file is present until commit")
    }

    /// Flushes, fsyncs (per [`Durability`]), renames over the target and fsyncs
    /// the folder. On error the temporary is removed and the target is
    /// untouched.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("file is present until commit");
        if self.sync == Durability::Fsync {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&self.temporary, &self.target)?;
        if self.sync == Durability::Fsync {
            let folder = folder_of(&self.target);
            if let Err(e) = File::open(&folder).and_then(|d| d.sync_all()) {
                tracing::debug!("folder {} not synced: {e}", folder.display());
            }
        }
        Ok(())
    }
}

impl Write for DurableFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file().write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file().write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

impl Seek for DurableFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file().seek(pos)
    }
}

impl Drop for DurableFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

const TMP_SUFFIX: &str = ".exahealth-tmp";

/// Removes temporaries of earlier writes of `target` (same folder, same
/// name) untouched for longer than `older_than`; returns how many went.
/// Errors are logged: cleanup never fails a write.
pub fn remove_stale_temporaries(target: &Path, older_than: Duration) -> usize {
    let Some(name) = target.file_name() else {
        return 0;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let folder = folder_of(target);
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !(file_name.starts_with(&prefix) && file_name.ends_with(TMP_SUFFIX)) {
            continue;
        }
        // symlink_metadata: a planted link is judged by itself, never followed.
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if meta.is_file() && age > older_than {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!("cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
    removed
}

/// Opens a new file; an existing name, a symlink included, is refused
/// (`O_EXCL`), so a link planted in a shared folder is never followed.
fn open_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .open(path)
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_content_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write(&p, b"old").unwrap();
        write_with(&p, b"new", Durability::RenameOnly).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn a_dropped_write_leaves_the_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("model.safetensors");
        write(&p, b"whole").unwrap();
        let mut f = DurableFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"whole");
        assert_eq!(names(dir.path()), ["model.safetensors"]);
    }

    #[test]
    fn streams_with_seeks_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.tiff");
        let mut f = DurableFile::create(&p).unwrap();
        f.write_all(b"0000tail").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.write_all(b"head").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"headtail");
    }

    #[test]
    fn many_threads_writing_one_path_never_share_a_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan.csv");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let p = &p;
                s.spawn(move || {
                    for _ in 0..20 {
                        write(p, &[t; 4096]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|&b| b == bytes[0]), "torn write");
        assert_eq!(names(dir.path()), ["plan.csv"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let planted = dir.path().join(format!(".out.json.1-0-0{TMP_SUFFIX}"));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let refused = open_exclusive(&planted).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn only_old_temporaries_of_the_same_target_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("w.safetensors");
        let old = dir.path().join(format!(".w.safetensors.1-0-0{TMP_SUFFIX}"));
        let fresh = dir.path().join(format!(".w.safetensors.2-0-0{TMP_SUFFIX}"));
        let other = dir.path().join(format!(".other.1-0-0{TMP_SUFFIX}"));
        for p in [&old, &fresh, &other] {
            std::fs::write(p, b"torn").unwrap();
        }
        let week_ago = SystemTime::now() - Duration::from_secs(7 * 24 * 3600);
        for p in [&old, &other] {
            File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(week_ago)
                .unwrap();
        }
        assert_eq!(remove_stale_temporaries(&target, STALE_AFTER), 1);
        assert!(!old.exists());
        assert!(fresh.exists() && other.exists());
    }
}
