// One batch of train_model, shared by the single-process and data-parallel
// steps: forward, cross-entropy and, when training, backward and the SGD step.
#pragma once
#include "torch_pch.h"

#include <functional>
#include <memory>

#include "module.h"
#include "sgd.h"

namespace tt {

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
};

// beforeForward and afterBackward are where data-parallel training syncs
// buffers and averages gradients; either may be empty.
StepResult RunStep(NativeModule& model, SgdState* sgd, const torch::Tensor& inputs, const torch::Tensor& labels, bool train,
                   const std::function<void()>& beforeForward = nullptr, const std::function<void()>& afterBackward = nullptr);

Napi::Value StepResultToJs(Napi::Env env, StepResult& result);

// The arguments both step bindings take first: (model, optimizer | null, inputs, labels, train).
struct StepArgs {
  std::shared_ptr<NativeModule> model;
  std::shared_ptr<SgdState> sgd;
  torch::Tensor inputs, labels;
  bool train = false;
};
StepArgs ParseStepArgs(const Napi::CallbackInfo& info);

}  // namespace tt
