//! libtorch's multi-tensor optimizer kernels, which tch does not bind (`csrc/multi_tensor.cpp`): PyTorch's fused
//! AdamW, and `clip_grad_norm_`'s foreach norm and scale. A handful of kernel launches for all the parameters
//! instead of several per parameter: what keeps a GPU from waiting on the host between updates.

use std::ffi::{c_char, c_int};

use tch::Tensor;
use torch_sys::C_tensor;

use crate::process_group::{pointers, take_message};
use crate::DistError;

extern "C" {
    fn phf_fused_adamw(
        params: *const *mut C_tensor,
        grads: *const *mut C_tensor,
        exp_avgs: *const *mut C_tensor,
        exp_avg_sqs: *const *mut C_tensor,
        n: usize,
        step: *const C_tensor,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        err: *mut *mut c_char,
    ) -> c_int;
    fn phf_clip_grad_norm(
        grads: *const *mut C_tensor,
        n: usize,
        max_norm: f64,
        total: *mut C_tensor,
        err: *mut *mut c_char,
    ) -> c_int;
    fn phf_zero_grads(grads: *const *mut C_tensor, n: usize, err: *mut *mut c_char) -> c_int;
}

/// AdamW's hyperparameters for one [`fused_adamw`] call (one weight-decay group).
#[derive(Debug, Clone, Copy)]
pub struct AdamWHyper {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
    pub eps: f64,
}

/// The tensors of one fused AdamW group, position by position: parameter, its gradient, its two moments.
pub struct AdamWGroup<'a> {
    pub params: &'a [Tensor],
    pub grads: &'a [Tensor],
    pub exp_avgs: &'a [Tensor],
    pub exp_avg_sqs: &'a [Tensor],
}

/// One update of `torch.optim.AdamW` (no amsgrad) by PyTorch's fused kernel (`fused=True`), in place. `step` is the
/// update's number counting this one, as a 0-dim fp32 tensor on the parameters' device; all tensors on one
/// device, of one dtype.
pub fn fused_adamw(group: &AdamWGroup, step: &Tensor, hyper: AdamWHyper) -> Result<(), DistError> {
    let n = group.params.len();
    for (what, list) in [
        ("gradients", group.grads),
        ("exp_avgs", group.exp_avgs),
        ("exp_avg_sqs", group.exp_avg_sqs),
    ] {
        if list.len() != n {
            return Err(DistError::Torch(format!(
                "fused AdamW: {n} parameters but {} {what}",
                list.len()
            )));
        }
    }
    let (params, grads) = (pointers(group.params), pointers(group.grads));
    let (exp_avgs, exp_avg_sqs) = (pointers(group.exp_avgs), pointers(group.exp_avg_sqs));
    let mut err = std::ptr::null_mut();
    // SAFETY: four arrays of n live tensor handles and one live step tensor; the shim catches C++ exceptions.
    let rc = unsafe {
        phf_fused_adamw(
            params.as_ptr(),
            grads.as_ptr(),
            exp_avgs.as_ptr(),
            exp_avg_sqs.as_ptr(),
            n,
            step.as_ptr(),
            hyper.lr,
            hyper.beta1,
            hyper.beta2,
            hyper.weight_decay,
            hyper.eps,
            &mut err,
        )
    };
    check(rc, err)
}

/// `torch.nn.utils.clip_grad_norm_(grads, max_norm)` (foreach): returns the global L2 norm before clipping as a
/// 0-dim fp32 tensor on the gradients' device; when `max_norm` > 0 the gradients are scaled by
/// min(1, max_norm / (norm + 1e-6)) without the host waiting for the norm.
pub fn clip_grad_norm(grads: &[Tensor], max_norm: f64) -> Result<Tensor, DistError> {
    let device = grads.first().map_or(tch::Device::Cpu, Tensor::device);
    let total = Tensor::zeros([], (tch::Kind::Float, device));
    let ptrs = pointers(grads);
    let mut err = std::ptr::null_mut();
    // SAFETY: an array of live tensor handles and a live output tensor; the shim catches C++ exceptions.
    let rc = unsafe {
        phf_clip_grad_norm(
            ptrs.as_ptr(),
            ptrs.len(),
            max_norm,
            total.as_ptr() as *mut C_tensor,
            &mut err,
        )
    };
    check(rc, err)?;
    Ok(total)
}

/// Zeroes the gradients in place in one multi-tensor kernel.
pub fn zero_grads(grads: &[Tensor]) -> Result<(), DistError> {
    let ptrs = pointers(grads);
    let mut err = std::ptr::null_mut();
    // SAFETY: an array of live tensor handles; the shim catches C++ exceptions.
    let rc = unsafe { phf_zero_grads(ptrs.as_ptr(), ptrs.len(), &mut err) };
    check(rc, err)
}

fn check(rc: c_int, err: *mut c_char) -> Result<(), DistError> {
    match rc {
        0 => Ok(()),
        _ => Err(DistError::Torch(take_message(err))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn clipping_scales_only_above_the_bound() {
        let grads = [Tensor::from_slice(&[3.0f32]), Tensor::from_slice(&[4.0f32])];
        let norm = |gs: &[Tensor]| {
            gs.iter()
                .map(|g| g.pow_tensor_scalar(2).sum(Kind::Float).double_value(&[]))
                .sum::<f64>()
                .sqrt()
        };
        for max_norm in [0.0, 10.0] {
            let total = clip_grad_norm(&grads, max_norm).unwrap();
            assert_eq!(total.double_value(&[]), 5.0);
            assert_eq!(norm(&grads), 5.0, "max_norm {max_norm} must leave a norm of 5 alone");
        }
        let total = clip_grad_norm(&grads, 1.0).unwrap();
        assert_eq!(total.double_value(&[]), 5.0, "the norm before clipping");
        assert!((norm(&grads) - 1.0).abs() < 1e-6, "{}", norm(&grads));
        zero_grads(&grads).unwrap();
        assert_eq!(norm(&grads), 0.0);
    }

    #[test]
    fn mismatched_lists_are_errors() {
        let one = [Tensor::zeros([2], (Kind::Float, tch::Device::Cpu))];
        let group = AdamWGroup {
            params: &one,
            grads: &one,
            exp_avgs: &one,
            exp_avg_sqs: &[],
        };
        let hyper = AdamWHyper {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            weight_decay: 0.0,
            eps: 1e-8,
        };
        let step = Tensor::from(1.0f32);
        let err = fused_adamw(&group, &step, hyper).unwrap_err().to_string();
        assert!(err.contains("1 parameters but 0 exp_avg_sqs"), "{err}");
        // a gradient of another size (libtorch's CPU kernel would read past its end)
        let big = [Tensor::zeros([3], (Kind::Float, tch::Device::Cpu))];
        let group = AdamWGroup {
            params: &one,
            grads: &big,
            exp_avgs: &one,
            exp_avg_sqs: &one,
        };
        let err = fused_adamw(&group, &step, hyper).unwrap_err().to_string();
        assert!(err.contains("parameter 0 ([2], Float on cpu) or its gradient"), "{err}");
        // a step count of another dtype would be misread by the kernel
        let group = AdamWGroup {
            params: &one,
            grads: &one,
            exp_avgs: &one,
            exp_avg_sqs: &one,
        };
        let err = fused_adamw(&group, &Tensor::from(1.0f64), hyper)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the step count must be one fp32 value"), "{err}");
        fused_adamw(&group, &step, hyper).unwrap();
    }
}
