// c10d/reducer.hpp includes this distributed-autograd (RPC) header, which
// Debian's libtorch-dev does not ship although libtorch exports the Reducer.
// The Reducer only names two of its types (a context pointer it keeps for
// RPC's dist autograd, and the gradient callback type it asserts equal to its
// own), so where the real header is missing this declares just those; where
// it exists (a libtorch from pytorch.org or pip) the real one is used.
#pragma once

#if defined(__has_include_next)
#if __has_include_next(<torch/csrc/distributed/autograd/context/context.h>)
#define TT_HAVE_DIST_AUTOGRAD_CONTEXT 1
#endif
#endif

#ifdef TT_HAVE_DIST_AUTOGRAD_CONTEXT
#include_next <torch/csrc/distributed/autograd/context/context.h>
#else
#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

// Never made nor used by torch-transfer: DDP over dist autograd (RPC) is out of scope.
class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
#endif
