//! A process group (TCPStore rendezvous, Gloo or NCCL collectives): the safe face of the C++ shim in `csrc/`.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::time::Duration;

use tch::Tensor;
use torch_sys::C_tensor;

use crate::{Backend, DistError, Launch};

extern "C" {
    fn phf_pg_new(
        backend: c_int,
        host: *const c_char,
        port: u16,
        rank: c_int,
        world_size: c_int,
        timeout_ms: i64,
        cuda_device: c_int,
        err: *mut *mut c_char,
    ) -> *mut c_void;
    fn phf_pg_free(group: *mut c_void);
    fn phf_pg_all_reduce(
        group: *mut c_void,
        tensors: *const *mut C_tensor,
        n: usize,
        op: c_int,
        bucket_bytes: i64,
        err: *mut *mut c_char,
    ) -> c_int;
    fn phf_pg_broadcast(
        group: *mut c_void,
        tensors: *const *mut C_tensor,
        n: usize,
        root: c_int,
        bucket_bytes: i64,
        err: *mut *mut c_char,
    ) -> c_int;
    pub(crate) fn phf_string_free(s: *mut c_char);
}

/// Tensors are flattened into buckets of at most this many bytes, one collective call per bucket (PyTorch DDP's
/// default bucket size).
pub const DEFAULT_BUCKET_BYTES: usize = 25 << 20;

/// How an all-reduce combines the ranks' values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Min,
    Max,
    /// The sum divided by the world size.
    Mean,
}

impl ReduceOp {
    fn code(self) -> c_int {
        match self {
            ReduceOp::Sum => 0,
            ReduceOp::Min => 1,
            ReduceOp::Max => 2,
            ReduceOp::Mean => 3,
        }
    }
}

/// One rank's membership of a process group (rendezvous through a TCPStore served by rank 0).
pub struct ProcessGroup {
    raw: *mut c_void,
    rank: usize,
    world_size: usize,
    timeout: Duration,
    bucket_bytes: usize,
}

// SAFETY: the C++ group is only reached through `&self` methods that c10d makes safe to call from any thread
// (ProcessGroupGloo queues work on its own threads); it is freed once, in Drop.
unsafe impl Send for ProcessGroup {}

impl ProcessGroup {
    /// Joins the group described by `launch`; blocks until every rank has joined, or fails after its timeout.
    pub fn join(launch: &Launch, backend: Backend) -> Result<ProcessGroup, DistError> {
        let join_err = |message: String| DistError::Join {
            rank: launch.rank,
            world_size: launch.world_size,
            addr: launch.master_addr.clone(),
            port: launch.master_port,
            timeout_s: launch.timeout.as_secs_f64(),
            message,
        };
        let host = CString::new(launch.master_addr.clone()).map_err(|_| join_err("MASTER_ADDR holds a NUL".into()))?;
        let mut err = std::ptr::null_mut();
        // SAFETY: valid C string and out-pointer; the shim catches every C++ exception.
        let (code, cuda_device) = match backend {
            Backend::Gloo => (0, -1),
            Backend::Nccl { device } => (1, device as c_int),
        };
        let raw = unsafe {
            phf_pg_new(
                code,
                host.as_ptr(),
                launch.master_port,
                launch.rank as c_int,
                launch.world_size as c_int,
                launch.timeout.as_millis() as i64,
                cuda_device,
                &mut err,
            )
        };
        if raw.is_null() {
            return Err(join_err(take_message(err)));
        }
        Ok(ProcessGroup {
            raw,
            rank: launch.rank,
            world_size: launch.world_size,
            timeout: launch.timeout,
            bucket_bytes: DEFAULT_BUCKET_BYTES,
        })
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// How long joining and each collective may wait for the other ranks.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The shim's group, for the Reducer built on it.
    pub(crate) fn raw(&self) -> *mut c_void {
        self.raw
    }

    pub fn bucket_bytes(&self) -> usize {
        self.bucket_bytes
    }

    /// Collectives flatten their tensors into buckets of at most this many bytes (one c10d call per bucket).
    pub fn set_bucket_bytes(&mut self, bytes: usize) {
        self.bucket_bytes = bytes.max(1);
    }

    /// In place on every rank: each tensor becomes `op` of that tensor over all ranks. All tensors share one dtype;
    /// `what` names them in errors ("all-reduce of gradients").
    pub fn all_reduce(&self, tensors: &[Tensor], op: ReduceOp, what: &str) -> Result<(), DistError> {
        let ptrs = pointers(tensors);
        let mut err = std::ptr::null_mut();
        // SAFETY: `ptrs` are live at::Tensor handles borrowed from `tensors` for the duration of the call.
        let rc = unsafe {
            phf_pg_all_reduce(
                self.raw,
                ptrs.as_ptr(),
                ptrs.len(),
                op.code(),
                self.bucket_bytes as i64,
                &mut err,
            )
        };
        self.check(rc, err, what)
    }

    /// In place: every rank's tensors become rank `root`'s.
    pub fn broadcast(&self, tensors: &[Tensor], root: usize, what: &str) -> Result<(), DistError> {
        let ptrs = pointers(tensors);
        let mut err = std::ptr::null_mut();
        // SAFETY: as in all_reduce.
        let bucket = self.bucket_bytes as i64;
        let rc = unsafe { phf_pg_broadcast(self.raw, ptrs.as_ptr(), ptrs.len(), root as c_int, bucket, &mut err) };
        self.check(rc, err, what)
    }

    fn check(&self, rc: c_int, err: *mut c_char, what: &str) -> Result<(), DistError> {
        if rc == 0 {
            return Ok(());
        }
        Err(DistError::Collective {
            what: what.to_string(),
            rank: self.rank,
            world_size: self.world_size,
            timeout_s: self.timeout.as_secs_f64(),
            message: take_message(err),
        })
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // SAFETY: `raw` came from phf_pg_new_gloo and is freed exactly once.
        unsafe { phf_pg_free(self.raw) }
    }
}

/// The raw handles of `tensors`, for the shim's entry points.
pub(crate) fn pointers(tensors: &[Tensor]) -> Vec<*mut C_tensor> {
    tensors.iter().map(|t| t.as_ptr() as *mut C_tensor).collect()
}

/// The shim's error message (malloc'd, or null), freed here.
pub(crate) fn take_message(err: *mut c_char) -> String {
    if err.is_null() {
        return "unknown error in the c10d shim".into();
    }
    // SAFETY: a NUL-terminated string malloc'd by the shim, freed once here.
    let message = unsafe { CStr::from_ptr(err) }.to_string_lossy().trim().to_string();
    unsafe { phf_string_free(err) };
    message
}
