// DistributedDataParallel's gradient averaging, done the way PyTorch's DDP
// does it: libtorch's own c10d::Reducer hooks each trainable parameter's
// gradient accumulator and all-reduces a bucket (asynchronously, on Gloo's
// threads) as soon as backward has produced all of its gradients, so
// communication overlaps the rest of backward; at the end of backward it waits
// for every bucket and leaves the averages in .grad.
#pragma once
#include "torch_pch.h"

#ifdef TT_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tt {

class DdpReducer {
 public:
  // Only parameters that require a gradient take part (DDP's semantics: a
  // frozen backbone is neither hooked nor communicated). Buckets as DDP's
  // defaults: a first bucket of 1 MiB, then up to bucketBytes each, filled in
  // reverse parameter order (the order backward produces gradients).
  DdpReducer(const std::vector<std::pair<std::string, torch::Tensor>>& namedParameters, c10::intrusive_ptr<c10d::ProcessGroup> group,
             int64_t bucketBytes);

  // The trainable parameters of `namedParameters`, in order.
  static std::vector<torch::Tensor> Trainable(const std::vector<std::pair<std::string, torch::Tensor>>& namedParameters);

  // Whether this reducer was made for exactly these parameters and bucket size
  // (a layer unfrozen or replaced since needs a new one).
  bool Covers(const std::vector<torch::Tensor>& trainable, int64_t bucketBytes) const;

  // DDP's forward: prepare_for_forward, then, once after the first backward,
  // the buckets rebuilt in the order gradients actually arrived (rank 0's
  // order, broadcast: a collective, so every rank calls this).
  void BeforeForward();
  // Arms the hooks for the coming backward (prepare_for_backward).
  void BeforeBackward();

  // Bytes one backward all-reduces: every trainable parameter once.
  int64_t BytesPerBackward() const { return bytes_; }

 private:
  std::vector<torch::Tensor> params_;
  int64_t bucketBytes_ = 0, bytes_ = 0;
  std::unique_ptr<c10d::Reducer> reducer_;
};

}  // namespace tt
#endif  // TT_WITH_DISTRIBUTED
