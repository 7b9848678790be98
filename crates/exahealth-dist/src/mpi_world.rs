//! The MPI world (feature `mpi`), through rsmpi over the system's MPI
//! library (OpenMPI or MPICH).

use mpi::collective::SystemOperation;
use mpi::datatype::PartitionMut;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Equivalence, Root};

use crate::{DistError, World};

/// Values per all-reduce call: large buffers go in pieces, so the copy
/// each piece needs stays at 16 MiB of floats (32 of doubles and counts).
const CHUNK: usize = 4 << 20;

/// The processes `mpirun`/`srun` started; MPI is finalised when this is
/// dropped, so keep it for the life of the program.
pub struct MpiWorld {
    _universe: Universe,
    world: SimpleCommunicator,
}

impl MpiWorld {
    /// Initialises MPI, or `None` when this process already did (MPI can
    /// be initialised once per process).
    pub fn init() -> Option<MpiWorld> {
        let universe = mpi::initialize()?;
        let world = universe.world();
        Some(MpiWorld {
            _universe: universe,
            world,
        })
    }

    fn root(&self, root: usize) -> mpi::topology::Process<'_> {
        self.world.process_at_rank(root as i32)
    }

    /// An all-reduce of `values` in place, in pieces of [`CHUNK`], after
    /// checking that every rank passes the same length (MPI would read
    /// past a shorter buffer).
    fn reduce<T>(&self, values: &mut [T], op: SystemOperation) -> Result<(), DistError>
    where
        T: Equivalence + Copy,
    {
        let mine = values.len() as u64;
        let (mut longest, mut shortest) = (0u64, 0u64);
        self.world
            .all_reduce_into(&mine, &mut longest, SystemOperation::max());
        self.world
            .all_reduce_into(&mine, &mut shortest, SystemOperation::min());
        if longest != shortest {
            return Err(DistError::LengthMismatch {
                operation: "all-reduce",
                mine: values.len(),
                other: if mine == longest { shortest } else { longest } as usize,
            });
        }
        for chunk in values.chunks_mut(CHUNK) {
            let send = chunk.to_vec();
            self.world.all_reduce_into(&send[..], chunk, op);
        }
        Ok(())
    }
}

impl World for MpiWorld {
    fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    fn size(&self) -> usize {
        self.world.size() as usize
    }

    fn barrier(&self) -> Result<(), DistError> {
        self.world.barrier();
        Ok(())
    }

    fn broadcast(&self, root: usize, bytes: &mut Vec<u8>) -> Result<(), DistError> {
        let mut len = bytes.len() as u64;
        self.root(root).broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        self.root(root).broadcast_into(&mut bytes[..]);
        Ok(())
    }

    fn all_reduce_sum(&self, values: &mut [f32]) -> Result<(), DistError> {
        self.reduce(values, SystemOperation::sum())
    }

    fn all_reduce_sum_f64(&self, values: &mut [f64]) -> Result<(), DistError> {
        self.reduce(values, SystemOperation::sum())
    }

    fn all_reduce_sum_u64(&self, values: &mut [u64]) -> Result<(), DistError> {
        self.reduce(values, SystemOperation::sum())
    }

    fn all_reduce_max_u64(&self, values: &mut [u64]) -> Result<(), DistError> {
        self.reduce(values, SystemOperation::max())
    }

    fn gather(&self, root: usize, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>, DistError> {
        let len = i32::try_from(bytes.len()).map_err(|_| DistError::TooLarge {
            operation: "gather",
            bytes: bytes.len(),
            limit: i32::MAX as usize,
        })?;
        let process = self.root(root);
        if self.rank() != root {
            process.gather_into(&len);
            process.gather_varcount_into(bytes);
            return Ok(None);
        }
        let mut lens = vec![0i32; self.size()];
        process.gather_into_root(&len, &mut lens[..]);
        let displs: Vec<i32> = lens
            .iter()
            .scan(0i32, |at, &n| {
                let here = *at;
                *at = at.saturating_add(n);
                Some(here)
            })
            .collect();
        let total: usize = lens.iter().map(|&n| n as usize).sum();
        let mut all = vec![0u8; total];
        {
            let mut partition = PartitionMut::new(&mut all[..], &lens[..], &displs[..]);
            process.gather_varcount_into_root(bytes, &mut partition);
        }
        let mut parts = Vec::with_capacity(lens.len());
        let mut at = 0usize;
        for &n in &lens {
            parts.push(all[at..at + n as usize].to_vec());
            at += n as usize;
        }
        Ok(Some(parts))
    }

    fn abort(&self, code: i32, message: &str) -> ! {
        eprintln!("error (rank {} of {}): {message}", self.rank(), self.size());
        self.world.abort(code)
    }
}
