// Every difference between the libtorch versions torch-transfer builds
// against, in one place: Debian 12's 1.13, Debian 13's 2.6, and pytorch.org's
// or pip's 2.x. Other sources call what is here and never test a version.
#pragma once
#include <torch/version.h>

#ifdef TT_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>

namespace tt {
namespace compat {

// The ProcessGroup that c10d::Reducer (and so DDP) takes, over a Gloo group.
//
// Why: in 1.x ProcessGroupGloo is itself a ProcessGroup. From 2.0 it is a
// c10d::Backend, and a ProcessGroup is a front that routes each collective to
// the Backend registered for the tensors' device type; intrusive_ptr refuses
// to turn one into the other. 2.x's own Python (distributed_c10d.py,
// _new_process_group_helper) makes ProcessGroup(store, rank, size), sets Gloo
// as its default backend type and registers the one Gloo Backend for both
// "cpu" and "cuda" (BackendConfig("gloo")); this does the same. Until 2.5 the
// constructor also took ProcessGroup::Options naming the backend; 2.6
// dropped them (the 2.0-2.5 branch follows those releases' headers but is not
// compiled by our CI, which builds 1.13 and 2.6).
inline c10::intrusive_ptr<c10d::ProcessGroup> GroupOverGloo(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                           const c10::intrusive_ptr<c10d::ProcessGroupGloo>& gloo,
                                                           std::chrono::milliseconds timeout) {
#if TORCH_VERSION_MAJOR < 2
  (void)store, (void)rank, (void)size, (void)timeout;
  return gloo;
#else
#if TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 6
  auto options = c10::make_intrusive<c10d::ProcessGroup::Options>("gloo", timeout);
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size, options);
#else
  (void)timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
#endif
  group->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
  for (c10::DeviceType device : {c10::DeviceType::CPU, c10::DeviceType::CUDA}) {
    group->setBackend(device, c10d::ProcessGroup::BackendType::GLOO, c10::intrusive_ptr<c10d::Backend>(gloo));
  }
  return group;
#endif
}

// TCPStore's options: the classic server, on every version.
//
// Why: from 2.4 TCPStoreOptions::useLibUV defaults to true, and a libtorch
// built without libuv then refuses to make the store at all: Debian 13's 2.6
// fails every rendezvous with "use_libuv was requested but PyTorch was build
// without libuv support". The classic server is in every version, and it is
// the one our failure reports (native/liveness.cc) were written against.
inline void UseClassicStoreServer(c10d::TCPStoreOptions& options) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  options.useLibUV = false;
#else
  (void)options;
#endif
}

}  // namespace compat
}  // namespace tt
#endif  // TT_WITH_DISTRIBUTED

#include <torch/nn/options/conv.h>

#include <variant>

namespace tt {
namespace compat {

// A Conv2d's explicit padding, or false for "same"/"valid" or a padding mode
// other than zeros (the fused eval form folds only zero-padded convolutions).
//
// Why: ConvOptions' padding and padding_mode are c10::variant in 1.13 and
// std::variant from 2.x (c10/util/variant.h was dropped), and each has its own
// holds_alternative/get. With std's named here, argument-dependent lookup adds
// c10's for a c10::variant, so the same call compiles against both.
inline bool ExplicitZeroPadding(const torch::nn::detail::ConvNdOptions<2>& options, std::vector<int64_t>& padding) {
  using std::get;
  using std::holds_alternative;
  if (!holds_alternative<torch::enumtype::kZeros>(options.padding_mode())) return false;
  if (!holds_alternative<torch::ExpandingArray<2>>(options.padding())) return false;
  const auto& p = get<torch::ExpandingArray<2>>(options.padding());
  padding = {(*p)[0], (*p)[1]};
  return true;
}

}  // namespace compat
}  // namespace tt
