//! exahealth-dist: the world of processes a job runs in.
//!
//! Slide work (tiling, embedding, whole-slide prediction) is split across
//! the processes of a job by slide size, so that one 100,000-pixel slide
//! does not share a process with ten biopsies. Each process learns its
//! place from, in order: an explicit `--shard I/N`, a Slurm array job
//! (`SLURM_ARRAY_TASK_ID` counted from `SLURM_ARRAY_TASK_MIN`, out of
//! `SLURM_ARRAY_TASK_COUNT`), an MPI launcher (`mpirun -np N`: OpenMPI's
//! `OMPI_COMM_WORLD_RANK`/`SIZE`, MPICH's `PMI_RANK`/`PMI_SIZE`), a Slurm
//! step (`SLURM_PROCID` of `SLURM_STEP_NUM_TASKS`); without any of them it is the
//! only one.
//!
//! ```no_run
//! use exahealth_dist::{balance, Shard};
//!
//! # fn main() -> Result<(), exahealth_dist::DistError> {
//! let slides = ["a.svs", "b.svs", "c.svs"];
//! let bytes = [4_000_000_000u64, 40_000_000, 50_000_000];
//! // `--shard 1/2` if given, else Slurm's variables, else the only shard.
//! let shard = Shard::detect(Some("1/2"), &|name| std::env::var(name).ok())?;
//! for i in balance::items_of(&bytes, shard) {
//!     println!("shard {shard} tiles {}", slides[i]);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The collectives of data-parallel training (barrier, broadcast,
//! all-reduce) are the [`World`] trait; [`SingleProcess`] is the world of
//! one, and `MpiWorld` (feature `mpi`, rsmpi over the system's OpenMPI or
//! MPICH) the world `mpirun` or `srun` starts. dist moves plain `f32`
//! buffers and bytes, and knows nothing of models or files.
#![forbid(unsafe_code)]

pub mod balance;
mod error;
#[cfg(feature = "mpi")]
mod mpi_world;
mod shard;
mod world;

pub use error::DistError;
#[cfg(feature = "mpi")]
pub use mpi_world::MpiWorld;
pub use shard::{Shard, ShardSource};
pub use world::{SingleProcess, World};
