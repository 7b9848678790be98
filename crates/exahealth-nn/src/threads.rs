//! The worker count of CPU work: training, embedding and prediction run
//! their parallel kernels on the calling thread's rayon pool.

use crate::error::{NnError, Result};

/// Runs `f` on a rayon pool of `threads` workers (0: rayon's default), so
/// the CPU backend's parallel kernels use exactly that many.
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| NnError::Config(format!("cannot start {threads} threads: {e}")))?;
    Ok(pool.install(f))
}
