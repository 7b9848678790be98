//! Where samples come from: anything that can load sample `i` of `len()`
//! from any thread.

use super::{LoaderError, Sample};

/// A random-access collection of samples shared by the loader's workers.
///
/// `load` is called concurrently from several threads, each time for a
/// different index; it must not hold more than the one sample it returns.
pub trait SampleSource: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;

    /// Whether the source holds no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads sample `index` (`0..len()`). Errors name the file that failed.
    fn load(&self, index: usize) -> Result<Sample, LoaderError>;
}
