// What the shim's entry points share: a process group is a TCPStore (rank 0 serves it) plus a communicator that
// runs collectives on flat buffers living on the communicator's device (host memory for Gloo, the GPU for NCCL).
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>

#include <ATen/ATen.h>

#include <chrono>
#include <memory>
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
};

std::unique_ptr<Communicator> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const std::string& master_addr,
                                        int rank, int world_size, std::chrono::milliseconds timeout);

// NCCL from the libnccl.so.2 that libtorch_cuda.so loaded, on GPU `device_index`; the unique id travels through
// `store`.
std::unique_ptr<Communicator> make_nccl(c10d::Store& store, int rank, int world_size, int device_index,
                                        std::chrono::milliseconds timeout);

}  // namespace phf
