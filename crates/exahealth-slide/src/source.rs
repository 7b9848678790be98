//! Positional reads from a file or a byte buffer.
//!
//! Every reader in this crate goes through [`ReadAt`], which takes `&self`: many
//! threads read the same file at once with `pread`, so the read path holds no
//! lock and no shared cursor.

use crate::error::{Result, SlideError};
use std::fs::File;
use std::path::{Path, PathBuf};

/// Random-access bytes with a known length.
pub trait ReadAt: Send + Sync {
    /// Fills `buf` from `offset`; short files are an error, not a short read.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()>;
    /// Length in bytes.
    fn len(&self) -> u64;
    /// Whether there are no bytes at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Bytes in memory (fuzzing, tests, embedded files).
pub struct MemSource<'a>(pub &'a [u8]);

impl ReadAt for MemSource<'_> {
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        let src = self.0.get(start..end).ok_or_else(eof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
}

impl ReadAt for Vec<u8> {
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        MemSource(self).read_exact_at(offset, buf)
    }
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
}

fn eof() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "read past the end of the data",
    )
}

/// A file opened once and read from many threads.
#[derive(Debug)]
pub struct FileSource {
    file: File,
    len: u64,
    path: PathBuf,
}

impl FileSource {
    /// Opens `path` for reading and records its length.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |source| SlideError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Ok(Self {
            file,
            len,
            path: path.to_path_buf(),
        })
    }

    /// The path opened, for error messages.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ReadAt for FileSource {
    #[cfg(unix)]
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, offset)
    }
    #[cfg(windows)]
    fn read_exact_at(&self, mut offset: u64, mut buf: &mut [u8]) -> std::io::Result<()> {
        use std::os::windows::fs::FileExt;
        while !buf.is_empty() {
            let n = self.file.seek_read(buf, offset)?;
            if n == 0 {
                return Err(eof());
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Ok(())
    }
    fn len(&self) -> u64 {
        self.len
    }
}

/// Reads `len` bytes at `offset` after checking the range lies inside the
/// source and the memory budget, so a corrupt offset or length can never
/// drive a huge allocation.
pub fn read_range(src: &dyn ReadAt, offset: u64, len: u64, path: &Path) -> Result<Vec<u8>> {
    let end = offset.checked_add(len);
    if end.is_none_or(|e| e > src.len()) {
        return Err(SlideError::Malformed {
            path: path.to_path_buf(),
            format: "slide",
            reason: format!(
                "data at offset {offset} with length {len} runs past the end of the file ({} bytes)",
                src.len()
            ),
        });
    }
    let len = exahealth_base::budget::check(format!("a block of {len} bytes"), len)
        .map_err(|e| SlideError::budget(path, e))?;
    let mut buf = vec![0u8; len];
    src.read_exact_at(offset, &mut buf)
        .map_err(|source| SlideError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(buf)
}
