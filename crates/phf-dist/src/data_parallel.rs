//! What a training loop holds to run data-parallel: one process alone, or one rank of a process group. Every
//! method is a no-op (or the identity) for a single process, so the loop has one code path.

use tch::{Kind, Tensor};

use crate::{Backend, DistError, Launch, ProcessGroup, ReduceOp};

pub struct DataParallel {
    group: Option<ProcessGroup>,
    backend: Option<Backend>,
    rank: usize,
    world_size: usize,
    local_rank: usize,
    local_world_size: Option<usize>,
}

impl Default for DataParallel {
    fn default() -> Self {
        DataParallel::single()
    }
}

impl DataParallel {
    /// One process, no group.
    pub fn single() -> DataParallel {
        DataParallel {
            group: None,
            backend: None,
            rank: 0,
            world_size: 1,
            local_rank: 0,
            local_world_size: Some(1),
        }
    }

    /// From the torchrun variables (see [`Launch::from_env`]), on CPU: a single process when `WORLD_SIZE` is unset
    /// or 1, otherwise joins a Gloo group.
    pub fn from_env() -> Result<DataParallel, DistError> {
        match Launch::from_env()? {
            Some(launch) => DataParallel::join(&launch, Backend::Gloo),
            None => Ok(DataParallel::single()),
        }
    }

    /// One rank of `launch` (a group only when the world has more than one process).
    pub fn join(launch: &Launch, backend: Backend) -> Result<DataParallel, DistError> {
        let group = (launch.world_size > 1)
            .then(|| ProcessGroup::join(launch, backend))
            .transpose()?;
        Ok(DataParallel {
            backend: group.as_ref().map(|_| backend),
            group,
            rank: launch.rank,
            world_size: launch.world_size,
            local_rank: launch.local_rank,
            local_world_size: launch.local_world_size,
        })
    }

    /// One rank of `launch` with a process group even when it is the only process: a group of one runs the
    /// collectives' real code path (benchmarks, and checking NCCL on a machine with one GPU).
    pub fn join_group(launch: &Launch, backend: Backend) -> Result<DataParallel, DistError> {
        Ok(DataParallel {
            group: Some(ProcessGroup::join(launch, backend)?),
            backend: Some(backend),
            rank: launch.rank,
            world_size: launch.world_size,
            local_rank: launch.local_rank,
            local_world_size: launch.local_world_size,
        })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// This process's rank on its machine (which GPU it uses).
    pub fn local_rank(&self) -> usize {
        self.local_rank
    }

    /// CPU threads for this process's tensor operations when several ranks share a machine: its cores split
    /// evenly, as torchrun's OMP_NUM_THREADS does (oversubscribed cores slow every rank down many times over).
    /// None when one process runs per machine, or the split is unknown.
    pub fn cpu_threads(&self) -> Option<usize> {
        let local = self.local_world_size.filter(|&n| n > 1)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Some((cores / local).max(1))
    }

    /// The process group, when there is one.
    pub fn group(&self) -> Option<&ProcessGroup> {
        self.group.as_ref()
    }

    /// The collectives' backend, when there is a group.
    pub fn backend(&self) -> Option<Backend> {
        self.backend
    }

    /// Rank 0: the one that writes logs and checkpoints.
    pub fn is_main(&self) -> bool {
        self.rank == 0
    }

    /// In place: each tensor becomes the mean of that tensor over all ranks (gradients after backward).
    pub fn average(&self, tensors: &[Tensor], what: &str) -> Result<(), DistError> {
        self.all_reduce(tensors, ReduceOp::Mean, what)
    }

    pub fn all_reduce(&self, tensors: &[Tensor], op: ReduceOp, what: &str) -> Result<(), DistError> {
        match &self.group {
            Some(g) => g.all_reduce(tensors, op, what),
            None => Ok(()),
        }
    }

    /// In place: every rank's tensors become rank 0's (parameters at the start, so all replicas begin equal).
    pub fn broadcast_from_main(&self, tensors: &[Tensor], what: &str) -> Result<(), DistError> {
        match &self.group {
            Some(g) => g.broadcast(tensors, 0, what),
            None => Ok(()),
        }
    }

    /// Sums of numbers over ranks (e.g. validation loss totals and counts), in f64.
    pub fn sum(&self, values: &[f64], what: &str) -> Result<Vec<f64>, DistError> {
        if self.group.is_none() {
            return Ok(values.to_vec());
        }
        let t = Tensor::from_slice(values);
        self.all_reduce(std::slice::from_ref(&t), ReduceOp::Sum, what)?;
        Vec::<f64>::try_from(&t).map_err(|e| DistError::Torch(e.to_string()))
    }

    /// The smallest and largest `value` over ranks.
    pub fn min_max(&self, value: f64, what: &str) -> Result<(f64, f64), DistError> {
        if self.group.is_none() {
            return Ok((value, value));
        }
        // max(v) and max(-v) = -min(v) in one call
        let t = Tensor::from_slice(&[value, -value]).to_kind(Kind::Double);
        self.all_reduce(std::slice::from_ref(&t), ReduceOp::Max, what)?;
        Ok((-t.double_value(&[1]), t.double_value(&[0])))
    }
}
