#include "train_step.h"

#include "errors.h"
#include "inference.h"
#include "tensor.h"

#include <optional>

namespace tt {

StepResult RunStep(NativeModule& model, Optimizer* sgd, const torch::Tensor& inputs, const torch::Tensor& labels, bool train,
                   const LossOptions& lossOptions, const StepHooks& hooks, const AmpOptions& amp) {
  if (train) sgd->ZeroGrad();
  if (hooks.beforeForward) hooks.beforeForward();
  // An eval step runs the fused fast form (its own plain forward while any
  // module trains). Under autocast it runs the plain forward: the fast form's
  // folded weights and layouts are float32, and autocast chooses each op's type.
  std::optional<c10::InferenceMode> inferenceMode;
  if (!train) inferenceMode.emplace();
  torch::Tensor outputs, loss;
  {
    std::unique_ptr<AutocastScope> autocast;
    if (amp.autocast) autocast = std::make_unique<AutocastScope>(amp.device, amp.dtype);
    outputs = train || amp.autocast ? model.forward(inputs) : InferenceForwardInMode(model, inputs, DefaultInferenceLayout());
    loss = CrossEntropy(outputs, labels, lossOptions);
  }
  if (train) {
    if (hooks.beforeBackward) hooks.beforeBackward();
    if (amp.scaler) {
      amp.scaler->ScaleLoss(loss).backward();
    } else {
      loss.backward();
    }
    if (hooks.afterBackward) hooks.afterBackward();
    if (amp.scaler) {
      amp.scaler->Step(*sgd);
      amp.scaler->Update();
    } else {
      sgd->Step();
    }
  }
  StepResult r;
  r.loss = loss.item<double>();
  // Class-probability targets (mixup, cutmix) count as correct where their
  // largest entry is the prediction, as torchvision's references count them.
  const torch::Tensor classes = labels.dim() == 2 ? labels.argmax(1) : labels;
  r.correct = outputs.argmax(1).eq(classes).sum().item<int64_t>();
  return r;
}

Napi::Value StepResultToJs(Napi::Env env, StepResult& result) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", result.loss);
  out.Set("correct", static_cast<double>(result.correct));
  return out;
}

StepArgs ParseStepArgs(const Napi::CallbackInfo& info, size_t lossIndex) {
  StepArgs a;
  a.model = ModuleWrap::From(info[0], "model");
  a.sgd = info[1].IsNull() ? nullptr : OptimizerWrap::From(info[1], "optimizer");
  a.inputs = TensorWrap::From(info[2], "inputs");
  a.labels = TensorWrap::From(info[3], "labels");
  a.train = info[4].ToBoolean().Value();
  if (a.train && !a.sgd) throw TypeError(info.Env(), "Expected an optimizer for a training step");
  a.loss = ParseLossOptions(info[lossIndex]);
  a.amp = ParseAmpOptions(info[lossIndex + 1]);
  // A step reports one loss and backward needs a scalar.
  if (a.loss.reduction == "none") throw TypeError(info.Env(), "Expected reduction 'mean' or 'sum' for a training step, got 'none'");
  return a;
}

}  // namespace tt
