// libtorch's multi-tensor kernels for the optimizer, which tch does not bind (its generator skips ops that take a
// list of tensors to change in place): PyTorch's fused AdamW (`torch.optim.AdamW(fused=True)`), and the foreach
// norm and scale of `torch.nn.utils.clip_grad_norm_`. Each runs over all the parameters in a few kernel launches
// instead of several per parameter: on a GPU, where each launch costs the host microseconds while the kernel itself
// takes less, about 1,500 launches an update for `gpt2` become a handful.

#include "group.hpp"

#include <ATen/ATen.h>

#include <vector>

using phf::borrow;

extern "C" {

// One AdamW update of `n` parameters (torch.optim.AdamW's rule, decoupled weight decay, no amsgrad) by the fused
// kernel. `step` is the update's number after this update (1 for the first), a 0-dim fp32 tensor on the
// parameters' device that every parameter shares (the kernel only reads it). Parameters, gradients and moments
// must be on one device, of one floating dtype, and dense.
int phf_fused_adamw(at::Tensor* const* params, at::Tensor* const* grads, at::Tensor* const* exp_avgs,
                    at::Tensor* const* exp_avg_sqs, size_t n, const at::Tensor* step, double lr, double beta1,
                    double beta2, double weight_decay, double eps, char** err) {
  return phf::guarded(err, [&] {
    if (n == 0) {
      return;
    }
    std::vector<at::Tensor> p = borrow(params, n), g = borrow(grads, n), m = borrow(exp_avgs, n),
                            v = borrow(exp_avg_sqs, n);
    // the kernels trust their inputs: on CPU a mismatched or strided tensor is read out of bounds, on CUDA the
    // step is read through a raw float pointer on the device
    const at::Device device = p[0].device();
    TORCH_CHECK(step->defined() && step->scalar_type() == at::kFloat && step->numel() == 1 && step->device() == device,
                "fused AdamW: the step count must be one fp32 value on ", device);
    for (size_t i = 0; i < n; ++i) {
      for (const at::Tensor* t : {&p[i], &g[i], &m[i], &v[i]}) {
        TORCH_CHECK(t->defined() && t->sizes() == p[i].sizes() && t->device() == device &&
                        t->scalar_type() == p[0].scalar_type() && t->is_contiguous(),
                    "fused AdamW: parameter ", i, " (", p[i].sizes(), ", ", p[i].scalar_type(), " on ", p[i].device(),
                    ") or its gradient or moments differ from it or from parameter 0 in shape, dtype or device, or "
                    "are not contiguous");
      }
    }
    std::vector<at::Tensor> steps(n, *step);
    at::NoGradGuard no_grad;
    at::_fused_adamw_(p, g, m, v, {}, steps, lr, beta1, beta2, weight_decay, eps, /*amsgrad=*/false,
                      /*maximize=*/false);
  });
}

// torch.nn.utils.clip_grad_norm_ (foreach): the global L2 norm of the `n` gradients goes to `total` (a 0-dim fp32
// tensor on their device), and when `max_norm` > 0 they are scaled by min(1, max_norm / (norm + 1e-6)) — on the
// device, so the host never waits for the norm.
int phf_clip_grad_norm(at::Tensor* const* grads, size_t n, double max_norm, at::Tensor* total, char** err) {
  return phf::guarded(err, [&] {
    at::NoGradGuard no_grad;
    if (n == 0) {
      total->zero_();
      return;
    }
    std::vector<at::Tensor> list = borrow(grads, n);
    at::Tensor norm = at::linalg_vector_norm(at::stack(at::_foreach_norm(list, 2)), 2);
    total->copy_(norm);
    if (max_norm > 0) {
      at::Tensor coef = (max_norm / (norm + 1e-6)).clamp_max(1.0);
      at::_foreach_mul_(list, coef);
    }
  });
}

// Sets the `n` gradients to zero in one multi-tensor kernel.
int phf_zero_grads(at::Tensor* const* grads, size_t n, char** err) {
  return phf::guarded(err, [&] {
    if (n > 0) {
      at::_foreach_zero_(borrow(grads, n));
    }
  });
}

}  // extern "C"
