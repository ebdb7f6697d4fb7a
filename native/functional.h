// Free functions over tensors (torch.nn.functional and friends).
#pragma once
#include "torch_pch.h"

namespace tt {
Napi::Value CrossEntropy(const Napi::CallbackInfo& info);  // async: (logits, labels, grad, { weight, labelSmoothing, reduction }?) -> Tensor
Napi::Value Stack(const Napi::CallbackInfo& info);         // sync:  (tensors) -> Tensor
Napi::Value Softmax(const Napi::CallbackInfo& info);       // async: (tensor, dim) -> Tensor
Napi::Value TrainStep(const Napi::CallbackInfo& info);     // async: (module, sgd|null, inputs, labels, train) -> {loss, correct}
}  // namespace tt
