// Gradient all-reduce overlapping the backward pass: c10d::Reducer, the engine of PyTorch's
// DistributedDataParallel (inside libtorch_cpu.so), driven from C++ as DDP's Python drives it.
//
// The Reducer registers a hook on every parameter's gradient accumulator. After `prepare_for_backward`, each
// hook copies its (accumulated) gradient, divided by the world size, into its bucket; a full bucket is
// all-reduced at once, asynchronously, while autograd goes on computing the earlier layers' gradients. At the
// end of the backward pass an autograd callback waits for the buckets and copies the averaged values back into
// the gradients. Without `prepare_for_backward` the hooks do nothing: that is DDP's no_sync, used for every
// micro-batch of an update but the last.
//
// Buckets as DDP sets them up (torch/nn/parallel/distributed.py, 2.11): the first update reduces all gradients
// in one bucket (parameters need not be in the order autograd produces their gradients); before the next forward
// pass `rebuild_buckets` regroups them in the order their gradients became ready, the first bucket 1 MB, the
// others `bucket_bytes` (25 MB), and broadcasts rank 0's grouping. With `find_unused_parameters` the first
// grouping is already [1 MB, 25 MB] in reverse parameter order, never rebuilt (DDP's rule), and the autograd
// graph is searched from the loss for parameters that get no gradient.

#include "group.hpp"

#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <cstdint>
#include <limits>

namespace {

struct Reducer {
  std::shared_ptr<c10d::Reducer> reducer;
  std::shared_ptr<phf::Communicator> comm;  // for wait_launched
  bool find_unused;
};

}  // namespace

extern "C" {

// A Reducer over `params` (leaf tensors that require grad, on the group's device), named `names` in its
// errors. NULL + `*err` on failure.
void* phf_reducer_new(void* group, at::Tensor* const* params, const char* const* names, size_t n,
                      int64_t bucket_bytes, int64_t first_bucket_bytes, int find_unused, char** err) {
  Reducer* out = nullptr;
  phf::guarded(err, [&] {
    auto* g = static_cast<phf::Group*>(group);
    TORCH_CHECK(n > 0, "no parameters to reduce");
    std::vector<at::Tensor> tensors = phf::borrow(params, n);
    std::unordered_map<size_t, std::string> param_names;
    for (size_t i = 0; i < n; ++i) {
      const at::Tensor& t = tensors[i];
      TORCH_CHECK(t.defined() && t.requires_grad() && t.is_leaf(), "parameter ", names[i],
                  " is not a leaf tensor that requires grad");
      TORCH_CHECK(t.device().type() == g->comm->device().type(), "parameter ", names[i], " is on ", t.device(),
                  " but the process group reduces on ", g->comm->device().type(),
                  " (set PHF_DIST_OVERLAP=0 for the flat all-reduce, which copies to the group's device)");
      param_names[i] = names[i];
    }
    std::vector<size_t> limits = find_unused != 0
        ? std::vector<size_t>{static_cast<size_t>(first_bucket_bytes), static_cast<size_t>(bucket_bytes)}
        : std::vector<size_t>{std::numeric_limits<size_t>::max()};
    auto [buckets, bucket_limits] = c10d::compute_bucket_assignment_by_size(tensors, limits);
    std::reverse(buckets.begin(), buckets.end());  // autograd produces the last parameters' gradients first
    auto reducer = std::make_shared<c10d::Reducer>(
        tensors, std::move(buckets), g->process_group, std::vector<bool>(n, false), bucket_bytes, find_unused != 0,
        /*gradient_as_bucket_view=*/false, std::move(param_names), first_bucket_bytes,
        /*skip_all_reduce_unused_params=*/false, /*use_python_reducer=*/false,
        /*bucket_bytes_cap_list=*/std::vector<int64_t>{});
    out = new Reducer{std::move(reducer), g->comm, find_unused != 0};
  });
  return out;
}

void phf_reducer_free(void* reducer) {
  try {
    delete static_cast<Reducer*>(reducer);
  } catch (...) {
    // ~Reducer may throw (noexcept(false)); a process that is ending has nothing better to do with it
  }
}

// Before each training forward pass, as DDP's _pre_forward: regroups the buckets once, after the first update
// (a collective: every rank calls it at the same point), and on an update's last micro-batch (`sync`) starts
// the Reducer's iteration.
int phf_reducer_before_forward(void* reducer, int sync, char** err) {
  return phf::guarded(err, [&] {
    auto* r = static_cast<Reducer*>(reducer);
    if (sync != 0) {
      r->reducer->prepare_for_forward();
    }
    r->reducer->rebuild_buckets();
  });
}

// Arms the hooks for the next backward pass, whose gradients are then all-reduced; `outputs` (the loss) is
// searched for unused parameters when the reducer was built with find_unused.
int phf_reducer_prepare_for_backward(void* reducer, at::Tensor* const* outputs, size_t n, char** err) {
  return phf::guarded(err, [&] {
    auto* r = static_cast<Reducer*>(reducer);
    r->reducer->prepare_for_backward(r->find_unused ? phf::borrow(outputs, n) : std::vector<at::Tensor>{});
  });
}

// After the armed backward pass: fails if it did not finish the reduction (a parameter got no gradient), and
// waits on the host for the collectives it launched (NCCL's watchdog; nothing for Gloo).
int phf_reducer_finish(void* reducer, char** err) {
  return phf::guarded(err, [&] {
    auto* r = static_cast<Reducer*>(reducer);
    r->reducer->check_finalized();
    r->comm->wait_launched();
  });
}

}  // extern "C"
