#include "train_step.h"

#include "errors.h"
#include "tensor.h"

namespace tt {

StepResult RunStep(NativeModule& model, Optimizer* sgd, const torch::Tensor& inputs, const torch::Tensor& labels, bool train,
                   const StepHooks& hooks) {
  if (train) sgd->ZeroGrad();
  if (hooks.beforeForward) hooks.beforeForward();
  torch::Tensor outputs = model.forward(inputs);
  torch::Tensor loss = torch::nn::functional::cross_entropy(outputs, labels);
  if (train) {
    if (hooks.beforeBackward) hooks.beforeBackward();
    loss.backward();
    if (hooks.afterBackward) hooks.afterBackward();
    sgd->Step();
  }
  StepResult r;
  r.loss = loss.item<double>();
  r.correct = outputs.argmax(1).eq(labels).sum().item<int64_t>();
  return r;
}

Napi::Value StepResultToJs(Napi::Env env, StepResult& result) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", result.loss);
  out.Set("correct", static_cast<double>(result.correct));
  return out;
}

StepArgs ParseStepArgs(const Napi::CallbackInfo& info) {
  StepArgs a;
  a.model = ModuleWrap::From(info[0], "model");
  a.sgd = info[1].IsNull() ? nullptr : OptimizerWrap::From(info[1], "optimizer");
  a.inputs = TensorWrap::From(info[2], "inputs");
  a.labels = TensorWrap::From(info[3], "labels");
  a.train = info[4].ToBoolean().Value();
  if (a.train && !a.sgd) throw TypeError(info.Env(), "Expected an optimizer for a training step");
  return a;
}

}  // namespace tt
