//! The gradient all-reduce that overlaps the backward pass: PyTorch DDP's own engine, `c10d::Reducer` (inside
//! libtorch), driven through the shim (`csrc/reducer.cpp`) the way DDP's Python drives it.
//!
//! Per update: [`Reducer::before_forward`] before every micro-batch's forward pass, then on the last micro-batch
//! only [`Reducer::prepare_for_backward`] before its backward pass and [`Reducer::finish`] after it. The Reducer's
//! hooks on the parameters' gradient accumulators then all-reduce the (accumulated) gradients bucket by bucket
//! while autograd computes the rest, and the backward pass returns with every gradient averaged over the ranks.
//! The earlier micro-batches' backward passes only accumulate locally (DDP's `no_sync`), so the result is the
//! flat post-backward average exactly.

use std::ffi::{c_char, c_int, c_void, CString};

use tch::Tensor;
use torch_sys::C_tensor;

use crate::process_group::{take_message, DEFAULT_BUCKET_BYTES};
use crate::{DistError, ProcessGroup};

extern "C" {
    fn phf_reducer_new(
        group: *mut c_void,
        params: *const *mut C_tensor,
        names: *const *const c_char,
        n: usize,
        bucket_bytes: i64,
        first_bucket_bytes: i64,
        find_unused: c_int,
        err: *mut *mut c_char,
    ) -> *mut c_void;
    fn phf_reducer_free(reducer: *mut c_void);
    fn phf_reducer_before_forward(reducer: *mut c_void, sync: c_int, err: *mut *mut c_char) -> c_int;
    fn phf_reducer_prepare_for_backward(
        reducer: *mut c_void,
        outputs: *const *mut C_tensor,
        n: usize,
        err: *mut *mut c_char,
    ) -> c_int;
    fn phf_reducer_finish(reducer: *mut c_void, err: *mut *mut c_char) -> c_int;
}

/// DDP's first bucket (`dist._DEFAULT_FIRST_BUCKET_BYTES`): small, so the first all-reduce starts early.
pub const DEFAULT_FIRST_BUCKET_BYTES: usize = 1 << 20;

/// How the Reducer is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReducerOptions {
    /// Bucket size after the first update (DDP's `bucket_cap_mb`, 25 MB).
    pub bucket_bytes: usize,
    /// The first bucket to be reduced (1 MB).
    pub first_bucket_bytes: usize,
    /// DDP's `find_unused_parameters`: search the autograd graph from the loss for parameters that get no
    /// gradient in an update (they then count as zero on that rank). Off, every parameter must get a gradient
    /// in every update, or [`Reducer::finish`] fails naming the rule.
    pub find_unused_parameters: bool,
}

impl Default for ReducerOptions {
    fn default() -> Self {
        ReducerOptions {
            bucket_bytes: DEFAULT_BUCKET_BYTES,
            first_bucket_bytes: DEFAULT_FIRST_BUCKET_BYTES,
            find_unused_parameters: false,
        }
    }
}

/// One rank's c10d::Reducer over a model's trainable parameters.
pub struct Reducer {
    raw: *mut c_void,
    options: ReducerOptions,
    /// The parameters' names in the Reducer's order.
    names: Vec<String>,
    rank: usize,
    world_size: usize,
    timeout_s: f64,
}

// SAFETY: the Reducer is driven from one thread at a time (the training loop's); its hooks run inside that
// thread's backward pass, and c10d guards its state with its own mutex.
unsafe impl Send for Reducer {}

impl Reducer {
    /// A Reducer over `params` (trainable leaf tensors on the group's device), `names` naming them in errors.
    pub fn new(
        group: &ProcessGroup,
        params: &[(String, Tensor)],
        options: ReducerOptions,
    ) -> Result<Reducer, DistError> {
        let names: Vec<CString> = params
            .iter()
            .map(|(n, _)| CString::new(n.replace('\0', "?")).expect("NUL replaced"))
            .collect();
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let ptrs: Vec<*mut C_tensor> = params.iter().map(|(_, t)| t.as_ptr() as *mut C_tensor).collect();
        let mut err = std::ptr::null_mut();
        // SAFETY: live tensor handles and C strings for the duration of the call; the Reducer keeps its own
        // references to the tensors.
        let raw = unsafe {
            phf_reducer_new(
                group.raw(),
                ptrs.as_ptr(),
                name_ptrs.as_ptr(),
                ptrs.len(),
                options.bucket_bytes as i64,
                options.first_bucket_bytes as i64,
                options.find_unused_parameters as c_int,
                &mut err,
            )
        };
        let reducer = Reducer {
            raw,
            options,
            names: params.iter().map(|(n, _)| n.clone()).collect(),
            rank: group.rank(),
            world_size: group.world_size(),
            timeout_s: group.timeout().as_secs_f64(),
        };
        if raw.is_null() {
            return Err(reducer.error("setting up the overlapped all-reduce (c10d::Reducer)", err));
        }
        Ok(reducer)
    }

    pub fn options(&self) -> ReducerOptions {
        self.options
    }

    /// Before every training forward pass, on every rank (it may regroup the buckets, a collective). `sync`: this
    /// micro-batch is the update's last, whose backward pass reduces.
    pub fn before_forward(&mut self, sync: bool) -> Result<(), DistError> {
        let mut err = std::ptr::null_mut();
        // SAFETY: `raw` is a live Reducer.
        let rc = unsafe { phf_reducer_before_forward(self.raw, sync as c_int, &mut err) };
        self.check(rc, err, "regrouping the gradient buckets")
    }

    /// Arms the hooks: the next backward pass (of `loss`) all-reduces the gradients as they become ready.
    pub fn prepare_for_backward(&mut self, loss: &Tensor) -> Result<(), DistError> {
        let ptrs = [loss.as_ptr() as *mut C_tensor];
        let mut err = std::ptr::null_mut();
        // SAFETY: as above; `loss` is live for the call.
        let rc = unsafe { phf_reducer_prepare_for_backward(self.raw, ptrs.as_ptr(), ptrs.len(), &mut err) };
        self.check(rc, err, "preparing the overlapped all-reduce")
    }

    /// After the armed backward pass: checks that every bucket was reduced and waits (on the host, with the
    /// timeout) for the collectives to finish; the gradients then hold the averages over the ranks.
    pub fn finish(&mut self) -> Result<(), DistError> {
        let mut err = std::ptr::null_mut();
        // SAFETY: as above.
        let rc = unsafe { phf_reducer_finish(self.raw, &mut err) };
        if rc == 0 {
            return Ok(());
        }
        let e = self.error("all-reduce of gradients during the backward pass", err);
        match &e {
            DistError::Collective { message, .. } if message.contains("Expected to have finished reduction") => {
                Err(DistError::Torch(format!(
                    "rank {} of {}: parameters without a gradient in this update: {}; their buckets were never \
                     all-reduced. Every trainable parameter must take part in the loss of every update, or set \
                     {}=1 (DDP's find_unused_parameters)",
                    self.rank,
                    self.world_size,
                    self.names_without_gradient(message),
                    crate::FIND_UNUSED_ENV
                )))
            }
            _ => Err(e),
        }
    }

    /// The parameters c10d lists by index ("... did not receive grad for rank R: 3 5"), by name.
    fn names_without_gradient(&self, message: &str) -> String {
        let listed = message
            .lines()
            .find_map(|l| l.split_once("did not receive grad for rank").map(|(_, rest)| rest))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, indices)| indices);
        let names: Vec<&str> = listed
            .into_iter()
            .flat_map(str::split_whitespace)
            .filter_map(|i| i.parse::<usize>().ok())
            .filter_map(|i| self.names.get(i).map(String::as_str))
            .collect();
        match names.is_empty() {
            true => "(not listed by c10d)".into(),
            false => names.join(", "),
        }
    }

    fn check(&self, rc: c_int, err: *mut c_char, what: &str) -> Result<(), DistError> {
        match rc {
            0 => Ok(()),
            _ => Err(self.error(what, err)),
        }
    }

    fn error(&self, what: &str, err: *mut c_char) -> DistError {
        self.failed(what, take_message(err))
    }

    /// A collective of this rank's group that failed: `what` it was, and c10d's `message`.
    pub fn failed(&self, what: &str, message: String) -> DistError {
        DistError::Collective {
            what: what.to_string(),
            rank: self.rank,
            world_size: self.world_size,
            timeout_s: self.timeout_s,
            message,
        }
    }
}

impl Drop for Reducer {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // SAFETY: `raw` came from phf_reducer_new and is freed once; it removes its autograd hooks.
            unsafe { phf_reducer_free(self.raw) }
        }
    }
}
