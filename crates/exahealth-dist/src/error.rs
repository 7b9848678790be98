//! The crate's error type.

/// What can go wrong in exahealth-dist.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DistError {
    /// A shard given as text is not `I/N` with `I < N`.
    #[error("shard {text:?} is not I/N with 0 <= I < N (e.g. 0/4 for the first of four)")]
    BadShard {
        /// What was given.
        text: String,
    },
    /// Slurm's or an MPI launcher's variables name an impossible place in
    /// the job.
    #[error("{variable}={value}: {problem}")]
    BadEnvironment {
        /// The variable at fault.
        variable: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Buffers of different lengths were handed to one collective.
    #[error("{operation}: this process has {mine} values, another rank {other}")]
    LengthMismatch {
        /// The collective.
        operation: &'static str,
        /// The length here.
        mine: usize,
        /// The length of another rank (the longest or the shortest).
        other: usize,
    },
    /// A buffer larger than the collective can carry.
    #[error("{operation}: {bytes} bytes from one rank, at most {limit}")]
    TooLarge {
        /// The collective.
        operation: &'static str,
        /// The size here.
        bytes: usize,
        /// The most it takes.
        limit: usize,
    },
}
