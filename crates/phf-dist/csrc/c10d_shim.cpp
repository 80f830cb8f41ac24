// A small C interface over PyTorch's c10d (inside libtorch), for phf-dist's Rust wrapper.
//
// Rendezvous is a TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT (what torchrun does); the collectives run
// on Gloo (gloo.cpp: c10d's ProcessGroupGloo, host memory) or NCCL (nccl.cpp: the GPU). Tensors cross the
// boundary as `at::Tensor*`, which is what a tch `Tensor` holds. A collective flattens its tensors into a few
// contiguous buckets on the communicator's device, runs one call per bucket, and copies the results back in
// place: one call per bucket instead of one per parameter.
// Every entry point catches C++ exceptions and returns their message: nothing unwinds into Rust.

#include "group.hpp"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <ATen/Context.h>

#include <cstdint>
#include <string>

namespace {

using phf::Group;
using phf::guarded;

// Consecutive runs of `tensors` whose sizes add up to at most `bucket_bytes` (a larger tensor is a bucket alone).
std::vector<std::vector<at::Tensor>> buckets_of(const std::vector<at::Tensor>& tensors, int64_t bucket_bytes) {
  std::vector<std::vector<at::Tensor>> buckets;
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    if (buckets.empty() || (bytes > 0 && bytes + size > bucket_bytes)) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(t);
    bytes += size;
  }
  return buckets;
}

// The tensors of one collective: all defined, of one dtype.
std::vector<at::Tensor> borrow_one_dtype(at::Tensor* const* tensors, size_t n) {
  std::vector<at::Tensor> out = phf::borrow(tensors, n);
  for (size_t i = 0; i < n; ++i) {
    const at::Tensor& t = out[i];
    TORCH_CHECK(t.defined(), "tensor ", i, " of ", n, " is undefined (a parameter without a gradient?)");
    TORCH_CHECK(t.scalar_type() == tensors[0]->scalar_type(), "tensor ", i, " has dtype ", t.scalar_type(),
                ", the first has ", tensors[0]->scalar_type(), ": collectives take one dtype at a time");
  }
  return out;
}

// One flat buffer per bucket on the communicator's device, `collective` on all of them, then the results
// (divided by `divisor`: world_size turns a sum into a mean) copied back into the tensors.
template <typename Collective>
void bucketed(Group* g, at::Tensor* const* raw, size_t n, int64_t bucket_bytes, int divisor, Collective collective) {
  if (n == 0) {
    return;
  }
  at::NoGradGuard no_grad;  // the tensors may be parameters, which autograd forbids writing in place otherwise
  std::vector<std::vector<at::Tensor>> buckets = buckets_of(borrow_one_dtype(raw, n), bucket_bytes);
  std::vector<at::Tensor> flats;
  for (const auto& bucket : buckets) {
    std::vector<at::Tensor> pieces;
    for (const auto& t : bucket) {
      pieces.push_back(t.reshape({-1}));
    }
    flats.push_back(at::cat(pieces).to(g->comm->device()).contiguous());
  }
  collective(flats);
  for (size_t b = 0; b < buckets.size(); ++b) {
    if (divisor != 1) {
      flats[b].div_(divisor);
    }
    int64_t offset = 0;
    for (auto& t : buckets[b]) {
      int64_t count = t.numel();
      t.copy_(flats[b].narrow(0, offset, count).view(t.sizes()));
      offset += count;
    }
  }
}

}  // namespace

extern "C" {

// Joins the group of `world_size` processes that rendezvous at `host:port` (rank 0 serves the store there), with
// backend 0 = Gloo, 1 = NCCL on GPU `cuda_device`. Waits at most `timeout_ms` for the others to arrive;
// collectives use the same timeout. NULL + `*err` on failure.
void* phf_pg_new(int backend, const char* host, uint16_t port, int rank, int world_size, int64_t timeout_ms,
                 int cuda_device, char** err) {
  Group* out = nullptr;
  guarded(err, [&] {
    auto timeout = std::chrono::milliseconds(timeout_ms);
    c10d::TCPStoreOptions opts;
    opts.port = port;
    opts.isServer = rank == 0;
    opts.numWorkers = world_size;
    opts.waitWorkers = true;
    opts.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
    std::unique_ptr<phf::Communicator> comm = backend == 1
        ? phf::make_nccl(*store, rank, world_size, cuda_device, timeout)
        : phf::make_gloo(store, host, rank, world_size, timeout);
    auto process_group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, world_size);
    process_group->setBackend(comm->device().type(), comm->backend_type(), comm->backend());
    process_group->setDefaultBackend(comm->backend_type());
    out = new Group{store, std::move(comm), process_group, world_size};
  });
  return out;
}

void phf_pg_free(void* group) {
  delete static_cast<Group*>(group);
}

void phf_string_free(char* s) {
  std::free(s);
}

// In place: each tensor becomes the element-wise `op` (0 sum, 1 min, 2 max, 3 mean) of that tensor over all ranks.
int phf_pg_all_reduce(void* group, at::Tensor* const* tensors, size_t n, int op, int64_t bucket_bytes, char** err) {
  return guarded(err, [&] {
    auto* g = static_cast<Group*>(group);
    TORCH_CHECK(op >= 0 && op <= 3, "unknown reduce op ", op);
    auto reduce = static_cast<phf::Op>(op);
    int divisor = reduce == phf::Op::Mean ? g->world_size : 1;
    bucketed(g, tensors, n, bucket_bytes, divisor,
             [&](std::vector<at::Tensor>& flats) { g->comm->all_reduce(flats, reduce); });
  });
}

// In place: every rank's tensors become rank `root`'s.
int phf_pg_broadcast(void* group, at::Tensor* const* tensors, size_t n, int root, int64_t bucket_bytes, char** err) {
  return guarded(err, [&] {
    auto* g = static_cast<Group*>(group);
    bucketed(g, tensors, n, bucket_bytes, 1, [&](std::vector<at::Tensor>& flats) { g->comm->broadcast(flats, root); });
  });
}

// cuBLAS matmuls in fp32 may use TF32 tensor cores ("high") or must not ("highest"); PyTorch's
// torch.set_float32_matmul_precision. tch does not expose it.
int phf_set_float32_matmul_precision(const char* precision, char** err) {
  return guarded(err, [&] { at::globalContext().setFloat32MatmulPrecision(precision); });
}

// 0 highest, 1 high (TF32 allowed), 2 medium.
int phf_float32_matmul_precision() {
  return static_cast<int>(at::globalContext().float32MatmulPrecision());
}

}  // extern "C"
