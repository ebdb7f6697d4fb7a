// torch.nn.CrossEntropyLoss's options, read once from JavaScript and applied
// by both the functional binding and the fused training step.
#pragma once
#include "torch_pch.h"

#include <string>

namespace tt {

struct LossOptions {
  torch::Tensor weight;  // per-class rescaling; undefined for none
  double labelSmoothing = 0;
  std::string reduction = "mean";  // mean | sum | none
};

// From { weight?: Tensor, labelSmoothing?: number, reduction?: string }; undefined or null gives the defaults.
LossOptions ParseLossOptions(const Napi::Value& value);

torch::Tensor CrossEntropy(const torch::Tensor& input, const torch::Tensor& target, const LossOptions& options);

}  // namespace tt
