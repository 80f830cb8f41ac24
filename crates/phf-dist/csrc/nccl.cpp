// The NCCL communicator: NCCL's C API called directly, on the current CUDA stream of libtorch.
//
// c10d's own ProcessGroupNCCL lives in libtorch_cuda.so and its headers need CUDA's, cuBLAS's and NCCL's; phf must
// build on a machine without any of them and start on one without a GPU. NCCL's C ABI is small and stable across
// NCCL 2.x, so the few functions phf calls are declared here and looked up at run time in the libnccl.so.2 that
// libtorch_cuda.so (dlopen-ed by phf-lm at start-up) already loaded. Streams and events go through c10's
// device-generic interfaces, which libtorch_cuda.so implements for CUDA. The unique id that lets the ranks find
// each other travels through the TCPStore, as in PyTorch.
//
// A blocking collective (Communicator) is enqueued on libtorch's current stream (ordered after the backward pass
// that produced the gradients), then awaited on the host with a watchdog: NCCL's asynchronous error (a peer that
// died) or the timeout aborts the communicator and becomes an error instead of a hang.
//
// The same communicator is also a c10d backend (NcclBackend) for c10d::Reducer, which all-reduces gradient buckets
// while the backward pass goes on: as in ProcessGroupNCCL, a launch waits (on the GPU) for the current stream,
// runs on a stream of its own so that it overlaps the next backward kernels, and returns a completed CUDA future
// whose wait() makes the waiting stream wait for the collective. The host-side watchdog then runs once, after
// the backward pass (wait_launched).

#include "group.hpp"

#include <c10/core/DeviceGuard.h>
#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <ATen/core/ivalue.h>

#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

namespace phf {
namespace {

// The slice of nccl.h used here (NCCL 2.x ABI): enums are ints, a stream is a pointer, the unique id is 128 bytes.
struct ncclComm;
using ncclComm_t = ncclComm*;
struct ncclUniqueId {
  char internal[128];
};
using ncclResult_t = int;
constexpr ncclResult_t kSuccess = 0;
constexpr ncclResult_t kInProgress = 7;
constexpr int kSum = 0, kMax = 2, kMin = 3;

struct Api {
  ncclResult_t (*get_unique_id)(ncclUniqueId*);
  ncclResult_t (*comm_init_rank)(ncclComm_t*, int, ncclUniqueId, int);
  ncclResult_t (*comm_destroy)(ncclComm_t);
  ncclResult_t (*comm_abort)(ncclComm_t);
  ncclResult_t (*comm_get_async_error)(ncclComm_t, ncclResult_t*);
  const char* (*get_error_string)(ncclResult_t);
  const char* (*get_last_error)(ncclComm_t);  // NCCL >= 2.13; may be null
  ncclResult_t (*all_reduce)(const void*, void*, size_t, int, int, ncclComm_t, void*);
  ncclResult_t (*broadcast)(const void*, void*, size_t, int, int, ncclComm_t, void*);
};

template <typename F>
void bind(void* lib, const char* name, F& slot, bool required = true) {
  slot = reinterpret_cast<F>(dlsym(lib, name));
  TORCH_CHECK(slot != nullptr || !required, "libnccl.so.2 has no ", name, ": NCCL 2.x is needed");
}

const Api& api() {
  static const Api loaded = [] {
    // normally already loaded by libtorch_cuda.so; otherwise searched for like any library
    void* lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (lib == nullptr) {
      lib = dlopen("libnccl.so.2", RTLD_NOW | RTLD_GLOBAL);
    }
    TORCH_CHECK(lib != nullptr, "NCCL (libnccl.so.2) could not be loaded: ", dlerror(),
                "; it comes with a CUDA build of torch (the nvidia-nccl wheel). Set PHF_DIST_BACKEND=gloo to use "
                "Gloo instead");
    Api a{};
    bind(lib, "ncclGetUniqueId", a.get_unique_id);
    bind(lib, "ncclCommInitRank", a.comm_init_rank);
    bind(lib, "ncclCommDestroy", a.comm_destroy);
    bind(lib, "ncclCommAbort", a.comm_abort);
    bind(lib, "ncclCommGetAsyncError", a.comm_get_async_error);
    bind(lib, "ncclGetErrorString", a.get_error_string);
    bind(lib, "ncclGetLastError", a.get_last_error, false);
    bind(lib, "ncclAllReduce", a.all_reduce);
    bind(lib, "ncclBroadcast", a.broadcast);
    return a;
  }();
  return loaded;
}

int nccl_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat:
      return 7;
    case at::kDouble:
      return 8;
    case at::kBFloat16:
      return 9;
    case at::kHalf:
      return 6;
    case at::kLong:
      return 4;
    case at::kInt:
      return 2;
    default:
      TORCH_CHECK(false, "NCCL collectives on ", t, " tensors are not supported here");
  }
}

// One NCCL communicator on one GPU, shared by the blocking Communicator and the asynchronous backend.
class NcclComm {
 public:
  NcclComm(c10d::Store& store, int rank, int world_size, int device_index, std::chrono::milliseconds timeout)
      : device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device_index)), timeout(timeout) {
    const Api& a = api();
    ncclUniqueId id{};
    const std::string key = "phf/nccl_unique_id";
    if (rank == 0) {
      check(a.get_unique_id(&id), "ncclGetUniqueId");
      store.set(key, std::vector<uint8_t>(id.internal, id.internal + sizeof(id.internal)));
    } else {
      std::vector<uint8_t> bytes = store.get(key);  // waits for rank 0, at most the store's timeout
      TORCH_CHECK(bytes.size() == sizeof(id.internal), "the NCCL unique id from rank 0 has ", bytes.size(), " bytes");
      std::memcpy(id.internal, bytes.data(), bytes.size());
    }
    c10::DeviceGuard guard(device);
    check(a.comm_init_rank(&comm_, world_size, id, rank), "ncclCommInitRank");
  }

  ~NcclComm() {
    if (comm_ != nullptr) {
      // after a failure the peers may be gone: abort frees local resources without waiting for them
      failed_ ? api().comm_abort(comm_) : api().comm_destroy(comm_);
    }
  }

  // Enqueues an in-place all-reduce (kSum, kMin or kMax) of `f` on `stream`.
  void all_reduce(at::Tensor& f, int nccl_op, void* stream) {
    live();
    check(api().all_reduce(f.data_ptr(), f.data_ptr(), f.numel(), nccl_dtype(f.scalar_type()), nccl_op, comm_,
                           stream),
          "NCCL all-reduce");
  }

  void broadcast(at::Tensor& f, int root, void* stream) {
    live();
    check(api().broadcast(f.data_ptr(), f.data_ptr(), f.numel(), nccl_dtype(f.scalar_type()), root, comm_, stream),
          "NCCL broadcast");
  }

  // Waits on the host until `done` has happened on the GPU, watching for NCCL's asynchronous errors and the
  // timeout.
  void await(const c10::Event& done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done.query()) {
      live();
      ncclResult_t async = kSuccess;
      api().comm_get_async_error(comm_, &async);
      if (async != kSuccess && async != kInProgress) {
        fail(async, "NCCL collective");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        failed_ = true;
        api().comm_abort(comm_);
        comm_ = nullptr;
        TORCH_CHECK(false, "NCCL collective timed out after ", timeout.count() / 1000.0, " s");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  const c10::Device device;
  const std::chrono::milliseconds timeout;

 private:
  void live() const { TORCH_CHECK(comm_ != nullptr, "the NCCL communicator was aborted after an earlier failure"); }

  void check(ncclResult_t r, const char* what) {
    if (r != kSuccess) {
      fail(r, what);
    }
  }

  [[noreturn]] void fail(ncclResult_t r, const char* what) {
    const Api& a = api();
    std::string detail = a.get_last_error != nullptr ? a.get_last_error(comm_) : "";
    if (comm_ != nullptr) {
      a.comm_abort(comm_);
      comm_ = nullptr;
    }
    failed_ = true;
    TORCH_CHECK(false, what, " failed: ", a.get_error_string(r), detail.empty() ? "" : " (", detail,
                detail.empty() ? "" : ")");
  }

  ncclComm_t comm_ = nullptr;
  bool failed_ = false;
};

int nccl_op(Op op) {
  return op == Op::Min ? kMin : op == Op::Max ? kMax : kSum;
}

// A collective launched by NcclBackend: already enqueued, so "completed" for c10d; waiting on it makes the
// current stream wait for it on the GPU (the future's events), as ProcessGroupNCCL's work does.
class LaunchedWork final : public c10d::Work {
 public:
  LaunchedWork(c10d::OpType type, c10::intrusive_ptr<c10::ivalue::Future> future)
      : c10d::Work(-1, type), future_(std::move(future)) {}

  bool isCompleted() override { return true; }
  bool isSuccess() const override { return true; }
  bool wait(std::chrono::milliseconds /*timeout*/) override {
    future_->wait();
    return true;
  }
  c10::intrusive_ptr<c10::ivalue::Future> getFuture() override { return future_; }

 private:
  c10::intrusive_ptr<c10::ivalue::Future> future_;
};

class NcclBackend final : public c10d::Backend {
 public:
  NcclBackend(std::shared_ptr<NcclComm> comm, int rank, int world_size)
      : c10d::Backend(rank, world_size), comm_(std::move(comm)) {}

  const std::string getBackendName() const override { return "phf-nccl"; }

  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors,
                                           const c10d::AllreduceOptions& opts) override {
    auto red = opts.reduceOp.op_;
    TORCH_CHECK(red == c10d::ReduceOp::SUM || red == c10d::ReduceOp::MIN || red == c10d::ReduceOp::MAX,
                "phf's NCCL backend reduces by sum, min or max only");
    int op = red == c10d::ReduceOp::MIN ? kMin : red == c10d::ReduceOp::MAX ? kMax : kSum;
    return launch(tensors, c10d::OpType::ALLREDUCE,
                  [&](at::Tensor& t, void* stream) { comm_->all_reduce(t, op, stream); });
  }

  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors,
                                           const c10d::BroadcastOptions& opts) override {
    int root = static_cast<int>(opts.rootRank);
    return launch(tensors, c10d::OpType::BROADCAST,
                  [&](at::Tensor& t, void* stream) { comm_->broadcast(t, root, stream); });
  }

  // Host wait, with the watchdog, for everything launched so far.
  void wait_launched() {
    std::vector<c10::Event> launched;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      launched.swap(launched_);
    }
    for (const auto& done : launched) {
      comm_->await(done);
    }
  }

 private:
  template <typename Call>
  c10::intrusive_ptr<c10d::Work> launch(std::vector<at::Tensor>& tensors, c10d::OpType type, Call call) {
    std::lock_guard<std::mutex> lock(mutex_);
    const c10::Device device = comm_->device;
    c10::DeviceGuard guard(device);
    c10::impl::VirtualGuardImpl cuda(c10::DeviceType::CUDA);
    c10::Stream compute = cuda.getStream(device);
    if (!stream_) {
      stream_ = cuda.getStreamFromGlobalPool(device, /*isHighPriority=*/true);
    }
    c10::Event ready(c10::DeviceType::CUDA);
    ready.record(compute);
    ready.block(*stream_);  // the collective starts after what the current stream has queued (the gradients)
    for (auto& t : tensors) {
      TORCH_CHECK(t.device() == device && t.is_contiguous(), "NCCL collectives take contiguous tensors on ", device,
                  ", got one on ", t.device());
      call(t, stream_->native_handle());
      cuda.recordDataPtrOnStream(t.storage().data_ptr(), *stream_);  // keep the memory until the collective ends
    }
    c10::Event done(c10::DeviceType::CUDA);
    done.record(*stream_);
    launched_.push_back(std::move(done));
    auto future = c10::make_intrusive<c10::ivalue::Future>(c10::ListType::create(c10::TensorType::get()),
                                                           std::vector<c10::Device>{device});
    {
      c10::StreamGuard on_collective_stream(*stream_);  // the future's events mark the end of the collective
      future->markCompleted(c10::IValue(tensors));
    }
    return c10::make_intrusive<LaunchedWork>(type, future);
  }

  std::shared_ptr<NcclComm> comm_;
  std::mutex mutex_;
  std::optional<c10::Stream> stream_;
  std::vector<c10::Event> launched_;
};

class Nccl final : public Communicator {
 public:
  Nccl(c10d::Store& store, int rank, int world_size, int device_index, std::chrono::milliseconds timeout)
      : comm_(std::make_shared<NcclComm>(store, rank, world_size, device_index, timeout)),
        backend_(c10::make_intrusive<NcclBackend>(comm_, rank, world_size)) {}

  c10::Device device() const override { return comm_->device; }

  c10::intrusive_ptr<c10d::Backend> backend() const override { return backend_; }

  c10d::ProcessGroup::BackendType backend_type() const override { return c10d::ProcessGroup::BackendType::CUSTOM; }

  void wait_launched() override { backend_->wait_launched(); }

  void all_reduce(std::vector<at::Tensor>& flats, Op op) override {
    int o = nccl_op(op);
    run(flats, [&](at::Tensor& f, void* stream) { comm_->all_reduce(f, o, stream); });
  }

  void broadcast(std::vector<at::Tensor>& flats, int root) override {
    run(flats, [&](at::Tensor& f, void* stream) { comm_->broadcast(f, root, stream); });
  }

 private:
  // on libtorch's current stream, then awaited on the host
  template <typename Call>
  void run(std::vector<at::Tensor>& flats, Call call) {
    c10::DeviceGuard guard(comm_->device);
    c10::impl::VirtualGuardImpl cuda(c10::DeviceType::CUDA);
    c10::Stream stream = cuda.getStream(comm_->device);
    for (auto& flat : flats) {
      call(flat, stream.native_handle());
    }
    c10::Event done(c10::DeviceType::CUDA);
    done.record(stream);
    comm_->await(done);
  }

  std::shared_ptr<NcclComm> comm_;
  c10::intrusive_ptr<NcclBackend> backend_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl(c10d::Store& store, int rank, int world_size, int device_index,
                                        std::chrono::milliseconds timeout) {
  return std::make_unique<Nccl>(store, rank, world_size, device_index, timeout);
}

}  // namespace phf
