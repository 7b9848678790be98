//! The memory budget: the most bytes any single decode may allocate.
//!
//! A header field is a promise made by whoever wrote the file. Decoders turn
//! the fields that size an output (width, height, frames, samples, tag
//! counts) into a byte count with checked arithmetic ([`bytes_for`]) and ask
//! [`check`] before allocating; a file that asks for more gets a typed
//! [`BudgetError`] instead of an out-of-memory abort.
//!
//! The limit is, in order: what [`set_limit`] set (the CLI's
//! `--memory-budget`), the environment variable `EXAHEALTH_MEMORY_BUDGET`
//! (`512M`, `2G`, `1.5GiB` or plain bytes), or the default: 4 GiB, lowered
//! to half the process's address-space limit (`ulimit -v`) and to half the
//! machine's memory where those are smaller, so a limited process refuses
//! instead of aborting.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that sets the budget.
pub const ENV_VAR: &str = "EXAHEALTH_MEMORY_BUDGET";

/// The budget when nothing else is known: enough for a 16k x 16k RGBA
/// image in `f32`, far above any tile, frame or thumbnail.
pub const DEFAULT_LIMIT: u64 = 4 << 30;

/// 0 means "not decided yet".
static LIMIT: AtomicU64 = AtomicU64::new(0);

/// An allocation that a file asked for and the budget refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct BudgetError {
    /// What would have been allocated ("a 70000 x 70000 RGB frame").
    pub what: String,
    /// The bytes it needs; `None` when the size overflows 64 bits.
    pub needed: Option<u64>,
    /// The budget in force.
    pub limit: u64,
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.needed {
            Some(n) => write!(
                f,
                "{} needs {}, over the memory budget of {}",
                self.what,
                human(n),
                human(self.limit)
            )?,
            None => write!(f, "{} has a size that overflows 64 bits", self.what)?,
        }
        write!(
            f,
            " (raise it with {ENV_VAR} or --memory-budget if the file is genuine)"
        )
    }
}

/// The budget in bytes for one allocation.
pub fn limit() -> u64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            let decided = from_env().unwrap_or_else(default_limit);
            // A racing set_limit wins over the default.
            match LIMIT.compare_exchange(0, decided, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => decided,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// Sets the budget for the rest of the process (the CLI's option).
pub fn set_limit(bytes: u64) {
    LIMIT.store(bytes.max(1), Ordering::Relaxed);
}

/// Refuses `bytes` if it is over the budget; otherwise returns it as a
/// `usize` ready for `Vec::with_capacity`.
pub fn check(what: impl Into<String> + AsRef<str>, bytes: u64) -> Result<usize, BudgetError> {
    let limit = limit();
    if bytes > limit {
        return Err(BudgetError {
            what: what.into(),
            needed: Some(bytes),
            limit,
        });
    }
    usize::try_from(bytes).map_err(|_| BudgetError {
        what: what.into(),
        needed: Some(bytes),
        limit,
    })
}

/// The product of `dims` times `bytes_per_item`, overflow-checked and held
/// to the budget: the size of a buffer a header describes.
pub fn bytes_for(
    what: impl Into<String> + AsRef<str>,
    dims: &[u64],
    bytes_per_item: u64,
) -> Result<usize, BudgetError> {
    let product = dims
        .iter()
        .try_fold(bytes_per_item, |acc, &d| acc.checked_mul(d));
    match product {
        Some(bytes) => check(what, bytes),
        None => Err(BudgetError {
            what: what.into(),
            needed: None,
            limit: limit(),
        }),
    }
}

/// Reads a whole file of at most `limit` bytes and no more than the budget,
/// counting what is read rather than trusting the stated length (a pipe or
/// a device reports 0 and may never end). Over the limit is an error of
/// kind [`std::io::ErrorKind::FileTooLarge`] that says the limit.
pub fn read_file(path: &std::path::Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let limit = limit.min(self::limit());
    let file = std::fs::File::open(path)?;
    let stated = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(stated.min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {}, the most read for a file of this kind (or the memory budget)",
                human(limit)
            ),
        ));
    }
    Ok(bytes)
}

/// Parses a size such as `512M`, `2G`, `1.5GiB`, `4096` (bytes). Suffixes
/// are binary (K = 1024) with or without `iB`/`B`, any case.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (try 512M, 2G or a number of bytes)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use K, M, G or T)"
            ))
        }
    };
    let bytes = value * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes >= u64::MAX as f64 {
        return Err(format!("`{text}` is not a usable size"));
    }
    Ok(bytes as u64)
}

/// A byte count for people: `1.5 GiB`, `512 MiB`, `300 B`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn from_env() -> Option<u64> {
    let text = std::env::var(ENV_VAR).ok()?;
    match parse_size(&text) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!("{ENV_VAR} ignored: {e}");
            None
        }
    }
}

fn default_limit() -> u64 {
    let mut limit = DEFAULT_LIMIT;
    if let Some(address_space) = address_space_limit() {
        limit = limit.min(address_space / 2);
    }
    if let Some(total) = physical_memory() {
        limit = limit.min(total / 2);
    }
    limit.max(64 << 20)
}

/// The soft `RLIMIT_AS` (`ulimit -v`), read from procfs so no FFI is needed.
fn address_space_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_address_space_limit(&text)
}

fn parse_address_space_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn address_space_limit_is_read_from_procfs_text() {
        let unlimited = "Limit                     Soft Limit           Hard Limit           Units\n\
                         Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(parse_address_space_limit(unlimited), None);
        let limited = "Max address space         2048000000           unlimited            bytes\n";
        assert_eq!(parse_address_space_limit(limited), Some(2_048_000_000));
    }

    #[test]
    fn files_are_read_up_to_the_limit_and_no_further() {
        let dir = std::env::temp_dir().join(format!("exahealth-base-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, [7u8; 100]).unwrap();
        assert_eq!(read_file(&p, 100).unwrap().len(), 100);
        let e = read_file(&p, 99).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        #[cfg(unix)]
        {
            // A device that never ends stops at the limit.
            let e = read_file(std::path::Path::new("/dev/zero"), 1 << 20).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn products_overflow_into_errors_not_wraps() {
        set_limit(1 << 20);
        assert_eq!(bytes_for("a tile", &[256, 256], 4), Ok(256 * 256 * 4));
        let over = bytes_for("a frame", &[70_000, 70_000], 3).unwrap_err();
        assert_eq!(over.needed, Some(70_000 * 70_000 * 3));
        assert!(
            over.to_string().contains("a frame needs 13.7 GiB"),
            "{over}"
        );
        let overflow = bytes_for("a level", &[u64::MAX, 2], 1).unwrap_err();
        assert_eq!(overflow.needed, None);
        assert!(check("ok", 1 << 20).is_ok());
        assert!(check("one byte more", (1 << 20) + 1).is_err());
    }
}
