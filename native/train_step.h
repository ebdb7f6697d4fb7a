// One batch of train_model, shared by the single-process and data-parallel
// steps: forward, the criterion's cross-entropy and, when training, backward and the SGD step.
#pragma once
#include "torch_pch.h"

#include <functional>
#include <memory>

#include "amp.h"
#include "loss.h"
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

// With amp: forward and loss under autocast, backward outside it (as
// torch.amp's recipe has it); with a scaler, backward of the scaled loss and
// the scaler's step (skipped on an inf) and update.
StepResult RunStep(NativeModule& model, Optimizer* sgd, const torch::Tensor& inputs, const torch::Tensor& labels, bool train,
                   const LossOptions& loss, const StepHooks& hooks = {}, const AmpOptions& amp = {});

Napi::Value StepResultToJs(Napi::Env env, StepResult& result);

// The arguments both step bindings take first: (model, optimizer | null, inputs, labels, train),
// and the criterion's options at `lossIndex`.
struct StepArgs {
  std::shared_ptr<NativeModule> model;
  std::shared_ptr<Optimizer> sgd;  // any optimizer
  torch::Tensor inputs, labels;
  bool train = false;
  LossOptions loss;
  AmpOptions amp;
};
// The amp options follow the criterion's, at lossIndex + 1.
StepArgs ParseStepArgs(const Napi::CallbackInfo& info, size_t lossIndex);

}  // namespace tt
