// What the shim's entry points share: a process group is a TCPStore (rank 0 serves it) plus a communicator that
// runs collectives on flat buffers living on the communicator's device (host memory for Gloo, the GPU for NCCL).
// The communicator is also a c10d backend, so that c10d::Reducer (PyTorch DDP's engine, reducer.cpp) can launch
// its bucketed all-reduces during the backward pass.
#pragma once

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <ATen/ATen.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace phf {

// Reduce ops as the Rust side numbers them. Mean is a sum divided afterwards (Gloo has no AVG).
enum class Op { Sum = 0, Min = 1, Max = 2, Mean = 3 };

class Communicator {
 public:
  virtual ~Communicator() = default;
  // Where the flat buffers of a collective must live.
  virtual c10::Device device() const = 0;
  // In place on every buffer, all finished on return (or an exception).
  virtual void all_reduce(std::vector<at::Tensor>& flats, Op op) = 0;
  virtual void broadcast(std::vector<at::Tensor>& flats, int root) = 0;
  // The same collectives as a c10d backend (asynchronous: Work objects with futures), and the c10d type it
  // registers as, for tensors of device().type().
  virtual c10::intrusive_ptr<c10d::Backend> backend() const = 0;
  virtual c10d::ProcessGroup::BackendType backend_type() const = 0;
  // Waits on the host until every collective launched through backend() has finished, turning a failure or
  // the timeout into an exception (Gloo's Work objects already did when they were awaited: nothing to do).
  virtual void wait_launched() {}
};

std::unique_ptr<Communicator> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const std::string& master_addr,
                                        int rank, int world_size, std::chrono::milliseconds timeout);

// NCCL from the libnccl.so.2 that libtorch_cuda.so loaded, on GPU `device_index`; the unique id travels through
// `store`.
std::unique_ptr<Communicator> make_nccl(c10d::Store& store, int rank, int world_size, int device_index,
                                        std::chrono::milliseconds timeout);

// One rank's membership: the store, the communicator, and c10d's ProcessGroup over the communicator's backend.
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  std::shared_ptr<Communicator> comm;  // shared with the reducers built on this group
  c10::intrusive_ptr<c10d::ProcessGroup> process_group;
  int world_size;
};

// The tensors behind `n` tch handles, as a list libtorch's ops take (sharing storage: changes show through).
inline std::vector<at::Tensor> borrow(at::Tensor* const* tensors, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(*tensors[i]);
  }
  return out;
}

inline char* copy_message(const std::string& message) {
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

}  // namespace phf
