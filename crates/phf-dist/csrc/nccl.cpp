// The NCCL communicator: NCCL's C API called directly, on the current CUDA stream of libtorch.
//
// c10d's own ProcessGroupNCCL lives in libtorch_cuda.so and its headers need CUDA's, cuBLAS's and NCCL's; phf must
// build on a machine without any of them and start on one without a GPU. NCCL's C ABI is small and stable across
// NCCL 2.x, so the few functions phf calls are declared here and looked up at run time in the libnccl.so.2 that
// libtorch_cuda.so (dlopen-ed by phf-lm at start-up) already loaded. Streams and events go through c10's
// device-generic interfaces, which libtorch_cuda.so implements for CUDA. The unique id that lets the ranks find
// each other travels through the TCPStore, as in PyTorch.
//
// A collective is enqueued on libtorch's current stream (ordered after the backward pass that produced the
// gradients), then awaited on the host with a watchdog: NCCL's asynchronous error (a peer that died) or the
// timeout aborts the communicator and becomes an error instead of a hang.

#include "group.hpp"

#include <c10/core/DeviceGuard.h>
#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <dlfcn.h>

#include <cstring>
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

class Nccl final : public Communicator {
 public:
  Nccl(c10d::Store& store, int rank, int world_size, int device_index, std::chrono::milliseconds timeout)
      : device_(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device_index)), timeout_(timeout) {
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
    c10::DeviceGuard guard(device_);
    check(a.comm_init_rank(&comm_, world_size, id, rank), "ncclCommInitRank");
  }

  ~Nccl() override {
    if (comm_ != nullptr) {
      // after a failure the peers may be gone: abort frees local resources without waiting for them
      failed_ ? api().comm_abort(comm_) : api().comm_destroy(comm_);
    }
  }

  c10::Device device() const override { return device_; }

  void all_reduce(std::vector<at::Tensor>& flats, Op op) override {
    int nccl_op = op == Op::Min ? kMin : op == Op::Max ? kMax : kSum;
    run(flats, [&](at::Tensor& f, void* stream) {
      return api().all_reduce(f.data_ptr(), f.data_ptr(), f.numel(), nccl_dtype(f.scalar_type()), nccl_op, comm_,
                              stream);
    });
  }

  void broadcast(std::vector<at::Tensor>& flats, int root) override {
    run(flats, [&](at::Tensor& f, void* stream) {
      return api().broadcast(f.data_ptr(), f.data_ptr(), f.numel(), nccl_dtype(f.scalar_type()), root, comm_,
                             stream);
    });
  }

 private:
  template <typename Call>
  void run(std::vector<at::Tensor>& flats, Call call) {
    c10::DeviceGuard guard(device_);
    c10::impl::VirtualGuardImpl cuda(c10::DeviceType::CUDA);
    c10::Stream stream = cuda.getStream(device_);
    for (auto& flat : flats) {
      check(call(flat, stream.native_handle()), "NCCL collective");
    }
    c10::Event done(c10::DeviceType::CUDA);
    done.record(stream);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    while (!done.query()) {
      ncclResult_t async = kSuccess;
      api().comm_get_async_error(comm_, &async);
      if (async != kSuccess && async != kInProgress) {
        fail(async, "NCCL collective");
      }
      if (std::chrono::steady_clock::now() > deadline) {
        failed_ = true;
        api().comm_abort(comm_);
        comm_ = nullptr;
        TORCH_CHECK(false, "NCCL collective timed out after ", timeout_.count() / 1000.0, " s");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

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

  c10::Device device_;
  std::chrono::milliseconds timeout_;
  ncclComm_t comm_ = nullptr;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl(c10d::Store& store, int rank, int world_size, int device_index,
                                        std::chrono::milliseconds timeout) {
  return std::make_unique<Nccl>(store, rank, world_size, device_index, timeout);
}

}  // namespace phf
