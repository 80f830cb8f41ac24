// A small C interface over PyTorch's c10d process groups (inside libtorch_cpu.so), for phf-dist's Rust wrapper.
//
// Rendezvous is a TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT (what torchrun does); the process group
// is ProcessGroupGloo. Tensors cross the boundary as `at::Tensor*`, which is what a tch `Tensor` holds.
// Collectives flatten their tensors into a few contiguous buckets, reduce each bucket with one c10d call
// (issued together, awaited together), and copy the results back: one call per bucket instead of one per
// parameter. CUDA tensors are staged through host memory, since Gloo reduces on the CPU.
// Every entry point catches C++ exceptions and returns their message: nothing unwinds into Rust.

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <ATen/ATen.h>
#include <ATen/Context.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  int rank;
  int world_size;
  std::chrono::milliseconds timeout;
};

char* copy_message(const std::string& message) {
  char* out = static_cast<char*>(std::malloc(message.size() + 1));
  if (out != nullptr) {
    std::memcpy(out, message.c_str(), message.size() + 1);
  }
  return out;
}

// Runs `body`; on a C++ exception stores its message (without libtorch's C++ backtrace) in `*err`, returns -1.
template <typename F>
int guarded(char** err, F&& body) {
  try {
    body();
    return 0;
  } catch (const c10::Error& e) {
    *err = copy_message(e.what_without_backtrace());
  } catch (const std::exception& e) {
    *err = copy_message(e.what());
  } catch (...) {
    *err = copy_message("unknown C++ exception");
  }
  return -1;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The address this rank's Gloo transport listens on: GLOO_SOCKET_IFNAME when set (as in PyTorch), loopback when
// the master is on loopback (one machine), otherwise the address this machine's hostname resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (is_loopback(master_addr)) {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Gloo has no AVG: a mean is a SUM divided by world_size afterwards.
c10d::ReduceOp reduce_op(int op) {
  switch (op) {
    case 0:
    case 3:
      return c10d::ReduceOp::SUM;
    case 1:
      return c10d::ReduceOp::MIN;
    case 2:
      return c10d::ReduceOp::MAX;
    default:
      throw std::invalid_argument("unknown reduce op " + std::to_string(op));
  }
}

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

std::vector<at::Tensor> borrow(at::Tensor* const* tensors, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const at::Tensor& t = *tensors[i];
    TORCH_CHECK(t.defined(), "tensor ", i, " of ", n, " is undefined (a parameter without a gradient?)");
    TORCH_CHECK(t.scalar_type() == tensors[0]->scalar_type(), "tensor ", i, " has dtype ", t.scalar_type(),
                ", the first has ", tensors[0]->scalar_type(), ": collectives take one dtype at a time");
    out.push_back(t);
  }
  return out;
}

// One flat host-or-device buffer per bucket, the collective on each, then the results copied back in place.
// The results are divided by `divisor` (world_size turns a sum into a mean).
template <typename Collective>
void bucketed(Group* g, const std::vector<at::Tensor>& tensors, int64_t bucket_bytes, int divisor,
              Collective collective) {
  at::NoGradGuard no_grad;  // the tensors may be parameters, which autograd forbids writing in place otherwise
  std::vector<std::vector<at::Tensor>> buckets = buckets_of(tensors, bucket_bytes);
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (const auto& bucket : buckets) {
    std::vector<at::Tensor> pieces;
    for (const auto& t : bucket) {
      pieces.push_back(t.reshape({-1}));
    }
    at::Tensor flat = at::cat(pieces).to(at::kCPU).contiguous();
    std::vector<at::Tensor> one{flat};
    works.push_back(collective(one));
    flats.push_back(flat);
  }
  for (size_t b = 0; b < buckets.size(); ++b) {
    works[b]->wait(g->timeout);
    if (divisor != 1) {
      flats[b].div_(divisor);
    }
    int64_t offset = 0;
    for (auto& t : buckets[b]) {
      int64_t n = t.numel();
      t.copy_(flats[b].narrow(0, offset, n).view(t.sizes()));
      offset += n;
    }
  }
}

}  // namespace

extern "C" {

// Joins the group of `world_size` processes that rendezvous at `host:port` (rank 0 serves the store there).
// Waits at most `timeout_ms` for the others to arrive; collectives use the same timeout. NULL + `*err` on failure.
void* phf_pg_new_gloo(const char* host, uint16_t port, int rank, int world_size, int64_t timeout_ms, char** err) {
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
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(gloo_device(host));
    auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
    out = new Group{store, backend, rank, world_size, timeout};
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
    if (n == 0) {
      return;
    }
    c10d::AllreduceOptions opts;
    opts.reduceOp = reduce_op(op);
    opts.timeout = g->timeout;
    bucketed(g, borrow(tensors, n), bucket_bytes, op == 3 ? g->world_size : 1,
             [&](std::vector<at::Tensor>& one) { return g->backend->allreduce(one, opts); });
  });
}

// In place: every rank's tensors become rank `root`'s.
int phf_pg_broadcast(void* group, at::Tensor* const* tensors, size_t n, int root, int64_t bucket_bytes, char** err) {
  return guarded(err, [&] {
    auto* g = static_cast<Group*>(group);
    if (n == 0) {
      return;
    }
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = g->timeout;
    bucketed(g, borrow(tensors, n), bucket_bytes, 1,
             [&](std::vector<at::Tensor>& one) { return g->backend->broadcast(one, opts); });
  });
}

// cuBLAS matmuls in fp32 may use TF32 tensor cores ("high") or must not ("highest"); PyTorch's
// torch.set_float32_matmul_precision. tch does not expose it.
int phf_set_float32_matmul_precision(const char* precision, char** err) {
  return guarded(err, [&] { at::globalContext().setFloat32MatmulPrecision(precision); });
}

}  // extern "C"
