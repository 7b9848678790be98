//! The collectives of a job's processes.

use crate::DistError;

/// The processes of one job and what they do together. Every process of
/// the job calls each collective in the same order; a process that fails
/// ends the job (`abort`) rather than leaving the others waiting. A world
/// belongs to the thread that made it (MPI's communicators are not shared
/// between threads here).
pub trait World {
    /// This process, `0..size()`.
    fn rank(&self) -> usize;
    /// How many processes the job has.
    fn size(&self) -> usize;
    /// Returns once every process has called it.
    fn barrier(&self) -> Result<(), DistError>;
    /// `bytes` of rank `root`, in every process.
    fn broadcast(&self, root: usize, bytes: &mut Vec<u8>) -> Result<(), DistError>;
    /// Element-wise sum of `values` over all processes, in place in every
    /// process; all must pass the same length.
    fn all_reduce_sum(&self, values: &mut [f32]) -> Result<(), DistError>;
    /// Element-wise sum of `f64` values over all processes, in place.
    fn all_reduce_sum_f64(&self, values: &mut [f64]) -> Result<(), DistError>;
    /// Element-wise sum of counts over all processes, in place (exact,
    /// where an `f32` sum stops counting at 2^24).
    fn all_reduce_sum_u64(&self, values: &mut [u64]) -> Result<(), DistError>;
    /// Element-wise maximum of counts over all processes, in place.
    fn all_reduce_max_u64(&self, values: &mut [u64]) -> Result<(), DistError>;
    /// Every process's `bytes`, in rank order, at `root` (`None` elsewhere).
    fn gather(&self, root: usize, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>, DistError>;
    /// Ends every process of the job with `code`, after printing `message`.
    fn abort(&self, code: i32, message: &str) -> !;

    /// Element-wise mean over all processes, in place.
    fn all_reduce_mean(&self, values: &mut [f32]) -> Result<(), DistError> {
        self.all_reduce_sum(values)?;
        let n = self.size() as f32;
        if n > 1.0 {
            values.iter_mut().for_each(|v| *v /= n);
        }
        Ok(())
    }

    /// Whether this is rank 0, the one that writes shared files.
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// The world of one process: every collective is immediate.
#[derive(Debug, Default, Clone, Copy)]
pub struct SingleProcess;

impl World for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn barrier(&self) -> Result<(), DistError> {
        Ok(())
    }

    fn broadcast(&self, _root: usize, _bytes: &mut Vec<u8>) -> Result<(), DistError> {
        Ok(())
    }

    fn all_reduce_sum(&self, _values: &mut [f32]) -> Result<(), DistError> {
        Ok(())
    }

    fn all_reduce_sum_f64(&self, _values: &mut [f64]) -> Result<(), DistError> {
        Ok(())
    }

    fn all_reduce_sum_u64(&self, _values: &mut [u64]) -> Result<(), DistError> {
        Ok(())
    }

    fn all_reduce_max_u64(&self, _values: &mut [u64]) -> Result<(), DistError> {
        Ok(())
    }

    fn gather(&self, _root: usize, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>, DistError> {
        Ok(Some(vec![bytes.to_vec()]))
    }

    fn abort(&self, code: i32, message: &str) -> ! {
        eprintln!("error: {message}");
        std::process::exit(code)
    }
}
