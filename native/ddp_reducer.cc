#include "ddp_reducer.h"

#ifdef TT_WITH_DISTRIBUTED
#include <algorithm>
#include <unordered_map>

namespace tt {

std::vector<torch::Tensor> DdpReducer::Trainable(const std::vector<std::pair<std::string, torch::Tensor>>& namedParameters) {
  std::vector<torch::Tensor> out;
  for (const auto& [name, p] : namedParameters) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

DdpReducer::DdpReducer(const std::vector<std::pair<std::string, torch::Tensor>>& namedParameters,
                       c10::intrusive_ptr<c10d::ProcessGroup> group, int64_t bucketBytes)
    : bucketBytes_(bucketBytes) {
  std::unordered_map<size_t, std::string> names;  // for the Reducer's own error messages
  for (const auto& [name, p] : namedParameters) {
    if (!p.requires_grad()) continue;
    names[params_.size()] = name;
    params_.push_back(p);
    bytes_ += p.numel() * static_cast<int64_t>(p.element_size());
  }
  const std::vector<bool> expectSparse(params_.size(), false);
  // As torch/nn/parallel/distributed.py: assigned in parameter order, then
  // reversed, since backward produces the last layers' gradients first.
  auto [bucketIndices, bucketLimits] = c10d::compute_bucket_assignment_by_size(
      params_, {static_cast<size_t>(c10d::kDefaultFirstBucketBytes), static_cast<size_t>(bucketBytes)}, expectSparse);
  std::reverse(bucketIndices.begin(), bucketIndices.end());
  std::reverse(bucketLimits.begin(), bucketLimits.end());
  reducer_ = std::make_unique<c10d::Reducer>(params_, std::move(bucketIndices), std::move(bucketLimits), std::move(group), expectSparse,
                                             bucketBytes, /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
                                             std::move(names), c10d::kDefaultFirstBucketBytes);
}

bool DdpReducer::Covers(const std::vector<torch::Tensor>& trainable, int64_t bucketBytes) const {
  if (bucketBytes != bucketBytes_ || trainable.size() != params_.size()) return false;
  for (size_t i = 0; i < trainable.size(); ++i) {
    if (!trainable[i].is_same(params_[i])) return false;
  }
  return true;
}

void DdpReducer::BeforeForward() {
  reducer_->prepare_for_forward();
  reducer_->rebuild_buckets();
}

void DdpReducer::BeforeBackward() { reducer_->prepare_for_backward({}); }

}  // namespace tt
#endif  // TT_WITH_DISTRIBUTED
