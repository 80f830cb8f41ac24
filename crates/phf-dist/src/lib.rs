//! phf-dist: data-parallel training on PyTorch's own c10d process groups, reached through a small C++ shim over
//! libtorch (`csrc/c10d_shim.cpp`) rather than a home-made collective library.
//!
//! Launch is torchrun-compatible: each process reads `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR` and
//! `MASTER_PORT` ([`Launch::from_env`]), rank 0 serves a TCPStore at the master address, and the ranks form a
//! process group over it: Gloo (c10d's, host memory) or NCCL (GPU memory; see [`Backend`]). So `torchrun`, Slurm's
//! `srun` and Kubernetes jobs can all start phf.
//! [`DataParallel`] is what the trainer holds: one process (no group) or one rank of many. [`GradientSync`]
//! averages the gradients over the ranks, by default during the backward pass with PyTorch DDP's own
//! `c10d::Reducer` ([`Reducer`], `csrc/reducer.cpp`), or after it in flat buckets (`PHF_DIST_OVERLAP=0`).
//!
//! The shim also carries the few libtorch functions outside c10d that tch does not bind: the fp32 matmul
//! precision switch, and the multi-tensor optimizer kernels phf-train's AdamW runs on CUDA ([`fused_adamw`],
//! [`clip_grad_norm`], [`zero_grads`]; `csrc/multi_tensor.cpp`).
//!
//! Failures are errors, never hangs: joining waits at most `PHF_DIST_TIMEOUT_S` seconds for the other ranks, every
//! collective carries the same timeout, and a rank that dies closes its sockets, which fails the others' next
//! collective at once.

mod backend;
mod data_parallel;
mod gradient_sync;
mod launch;
mod multi_tensor;
mod precision;
mod process_group;
mod reducer;

pub use backend::{Backend, BACKEND_ENV};
pub use data_parallel::DataParallel;
pub use gradient_sync::{GradientSync, SyncMode, FIND_UNUSED_ENV, OVERLAP_ENV};
pub use launch::{Launch, DEFAULT_TIMEOUT_S, TIMEOUT_ENV};
pub use multi_tensor::{clip_grad_norm, fused_adamw, zero_grads, AdamWGroup, AdamWHyper};
pub use precision::{float32_matmul_precision, set_float32_matmul_precision, MatmulPrecision};
pub use process_group::{ProcessGroup, ReduceOp, DEFAULT_BUCKET_BYTES};
pub use reducer::{Reducer, ReducerOptions, DEFAULT_FIRST_BUCKET_BYTES};

#[derive(Debug, thiserror::Error)]
pub enum DistError {
    #[error("environment variable {var}={value:?}: {message}")]
    Env {
        var: &'static str,
        value: String,
        message: String,
    },
    #[error(
        "rank {rank} of {world_size} could not join the process group at {addr}:{port} within {timeout_s} s: \
         {message}\n(is every rank started, with the same WORLD_SIZE, and do MASTER_ADDR/MASTER_PORT reach rank 0? \
         {TIMEOUT_ENV} sets how long to wait)"
    )]
    Join {
        rank: usize,
        world_size: usize,
        addr: String,
        port: u16,
        timeout_s: f64,
        message: String,
    },
    #[error(
        "{what} failed on rank {rank} of {world_size}: {message}\n(another rank has probably stopped: see its \
         output; or the network failed, or a rank was slower than {TIMEOUT_ENV} = {timeout_s} s)"
    )]
    Collective {
        what: String,
        rank: usize,
        world_size: usize,
        timeout_s: f64,
        message: String,
    },
    #[error("{0}")]
    Torch(String),
}
