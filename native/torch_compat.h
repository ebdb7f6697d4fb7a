// Every difference between the libtorch versions torch-transfer builds
// against, in one place: Debian 12's 1.13, Debian 13's 2.6, and pytorch.org's
// or pip's 2.x. Other sources call what is here and never test a version.
#pragma once
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace tt {
namespace compat {

// Whether the fast eval form may lay activations out for oneDNN (its blocked
// mkldnn tensors, or channels_last) before lib/layoutProbe.ts has run each
// layout once in a child process.
//
// Why: 2.x links oneDNN 3.x (Debian 13's own libdnnl 3.7, or the copy inside
// pytorch.org's and pip's builds), which on a CPU whose hypervisor zeroes
// CPUID's topology and cache leaves (0xB, 4, 0x8000001D) sizes its blocks
// from nothing: its sum primitive (`add` on mkldnn tensors, a ResNet block's
// residual add) and some channels_last convolutions kill the process with
// SIGFPE, an integer division by zero, and a 1x1 stride-2 channels_last
// convolution (256 to 512 channels, ResNet-18's layer4 downsample) gives wrong
// values. Seen on a 2-core AMD EPYC VM, family 26, on 2026-12-04, where
// Debian 13's python3-torch 2.6 does the same (`a.to_mkldnn() + b.to_mkldnn()`
// dies; a channels_last ResNet-18 is 0.05 off the contiguous one). 1.13's
// oneDNN 2.6 is right there, as on every CPU these tests have met. A signal
// cannot be caught and survived here, so on 2.x the fast form stays NCHW
// until the probe has seen a layout run and agree.
constexpr bool kFastLayoutsTrustedWithoutProbe = TORCH_VERSION_MAJOR < 2;

// That division by zero is oneDNN 3.x sizing its blocks by the CPU's cache
// sizes, which it reads from CPUID's cache leaves (4 on Intel, 0x8000001D on
// AMD); the VM above reports no cache in either. Convolutions in training hit
// it too: with the reference made without oneDNN, our ResNet-50 training step
// (crossEntropy.test.ts) killed the test process with SIGFPE there on 2.6. So
// on 2.x, where CPUID describes no cache, oneDNN is turned off at load
// (torch.backends.mkldnn.enabled = False: libtorch's own kernels instead,
// slower but right). 1.13's oneDNN 2.6 works there.
constexpr bool kOneDnnNeedsCacheLeaves = TORCH_VERSION_MAJOR >= 2;

// Autocast's thread-local switches for one device type (CPU or CUDA).
//
// Why: 1.13 has one pair of functions per device type (set_enabled and
// set_autocast_gpu_dtype for CUDA, set_cpu_enabled and set_autocast_cpu_dtype
// for CPU). 2.4 made them one pair taking the device type
// (set_autocast_enabled(at::kCPU, on), set_autocast_dtype) and deprecated the
// old ones, which warn on every call in 2.6.
inline bool AutocastEnabled(c10::DeviceType device) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return at::autocast::is_autocast_enabled(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline void SetAutocastEnabled(c10::DeviceType device, bool enabled) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

inline c10::ScalarType AutocastDtype(c10::DeviceType device) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return at::autocast::get_autocast_dtype(device);
#else
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void SetAutocastDtype(c10::DeviceType device, c10::ScalarType dtype) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_dtype(device, dtype);
#else
  if (device == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace compat
}  // namespace tt

#ifdef TT_WITH_DISTRIBUTED
// 2.x's ProcessGroupGloo.hpp declares only the Backend; the front comes from here.
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>

namespace tt {
namespace compat {

// What Gloo's and NCCL's process groups have in common, where collectives are
// issued (allreduce, broadcast, barrier).
//
// Why: in 1.x ProcessGroupGloo and ProcessGroupNCCL are ProcessGroups; from
// 2.0 they are c10d::Backends behind a ProcessGroup front (see below).
#if TORCH_VERSION_MAJOR < 2
using Collectives = c10d::ProcessGroup;
#else
using Collectives = c10d::Backend;
#endif

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
//
// NCCL (nccl true) the same way: 2.x's Python sets NCCL as the default and
// registers it for "cuda" only, since NCCL has no CPU tensors.
inline c10::intrusive_ptr<c10d::ProcessGroup> GroupOver(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                       const c10::intrusive_ptr<Collectives>& backend, bool nccl,
                                                       std::chrono::milliseconds timeout) {
#if TORCH_VERSION_MAJOR < 2
  (void)store, (void)rank, (void)size, (void)timeout, (void)nccl;
  return backend;
#else
#if TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 6
  auto options = c10::make_intrusive<c10d::ProcessGroup::Options>(nccl ? "nccl" : "gloo", timeout);
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size, options);
#else
  (void)timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroup>(store, rank, size);
#endif
  const auto type = nccl ? c10d::ProcessGroup::BackendType::NCCL : c10d::ProcessGroup::BackendType::GLOO;
  group->setDefaultBackend(type);
  if (nccl) {
    group->setBackend(c10::DeviceType::CUDA, type, backend);
  } else {
    for (c10::DeviceType device : {c10::DeviceType::CPU, c10::DeviceType::CUDA}) group->setBackend(device, type, backend);
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
