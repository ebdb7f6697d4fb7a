// One batch of train_model, shared by the single-process and data-parallel
// steps: forward, cross-entropy and, when training, backward and the SGD step.
#pragma once
#include "torch_pch.h"

#include <functional>
#include <memory>

#include "module.h"
#include "optimizer.h"

namespace tt {

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
};

// Where data-parallel training joins a training step: buffers synced before
// forward, the Reducer armed before backward (it averages gradients while
// backward runs). Any of them may be empty; eval steps call only beforeForward.
struct StepHooks {
  std::function<void()> beforeForward, beforeBackward, afterBackward;
};

StepResult RunStep(NativeModule& model, Optimizer* sgd, const torch::Tensor& inputs, const torch::Tensor& labels, bool train,
                   const StepHooks& hooks = {});

Napi::Value StepResultToJs(Napi::Env env, StepResult& result);

// The arguments both step bindings take first: (model, optimizer | null, inputs, labels, train).
struct StepArgs {
  std::shared_ptr<NativeModule> model;
  std::shared_ptr<Optimizer> sgd;  // any optimizer
  torch::Tensor inputs, labels;
  bool train = false;
};
StepArgs ParseStepArgs(const Napi::CallbackInfo& info);

}  // namespace tt
