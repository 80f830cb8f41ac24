// The Gloo communicator: c10d's ProcessGroupGloo (inside libtorch_cpu.so). Gloo reduces in host memory.

#include "group.hpp"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include <cstdlib>
#include <string>

namespace phf {
namespace {

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

class Gloo final : public Communicator {
 public:
  Gloo(c10::intrusive_ptr<c10d::Backend> backend, std::chrono::milliseconds timeout)
      : backend_(std::move(backend)), timeout_(timeout) {}

  c10::Device device() const override { return c10::Device(c10::kCPU); }

  c10::intrusive_ptr<c10d::Backend> backend() const override { return backend_; }

  c10d::ProcessGroup::BackendType backend_type() const override { return c10d::ProcessGroup::BackendType::GLOO; }

  void all_reduce(std::vector<at::Tensor>& flats, Op op) override {
    c10d::AllreduceOptions opts;
    opts.reduceOp = op == Op::Min ? c10d::ReduceOp::MIN : op == Op::Max ? c10d::ReduceOp::MAX : c10d::ReduceOp::SUM;
    opts.timeout = timeout_;
    run(flats, [&](std::vector<at::Tensor>& one) { return backend_->allreduce(one, opts); });
  }

  void broadcast(std::vector<at::Tensor>& flats, int root) override {
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = timeout_;
    run(flats, [&](std::vector<at::Tensor>& one) { return backend_->broadcast(one, opts); });
  }

 private:
  // one c10d call per buffer, all issued before any is awaited
  template <typename Call>
  void run(std::vector<at::Tensor>& flats, Call call) {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& flat : flats) {
      std::vector<at::Tensor> one{flat};
      works.push_back(call(one));
    }
    for (auto& work : works) {
      work->wait(timeout_);
    }
  }

  c10::intrusive_ptr<c10d::Backend> backend_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Communicator> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const std::string& master_addr,
                                        int rank, int world_size, std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(gloo_device(master_addr));
  auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
  return std::make_unique<Gloo>(backend, timeout);
}

}  // namespace phf
