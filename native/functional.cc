#include "functional.h"

#include <cstring>

#include "async_call.h"
#include "loss.h"
#include "module.h"
#include "sgd.h"
#include "tensor.h"
#include "train_step.h"

namespace tt {

namespace {
Napi::Value WrapTensor(Napi::Env env, torch::Tensor& t) { return TensorWrap::Wrap(env, t); }
}  // namespace

Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor logits = TensorWrap::From(info[0], "input");
  torch::Tensor labels = TensorWrap::From(info[1], "target");
  const bool grad = info.Length() < 3 || info[2].ToBoolean().Value();
  LossOptions options = ParseLossOptions(info[3]);
  return RunCompute<torch::Tensor>(
      env, grad, [logits, labels, options]() { return tt::CrossEntropy(logits, labels, options); }, WrapTensor);
}

Napi::Value Stack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw TypeError(env, "Expected an array of Tensors for tensors");
  Napi::Array array = info[0].As<Napi::Array>();
  std::vector<torch::Tensor> tensors;
  for (uint32_t i = 0; i < array.Length(); ++i) tensors.push_back(TensorWrap::From(array.Get(i), "tensors[" + std::to_string(i) + "]"));
  return Guarded(env, [&]() -> Napi::Value { return TensorWrap::Wrap(env, torch::stack(tensors)); });
}

Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor input = TensorWrap::From(info[0], "input");
  const int64_t dim = info[1].IsNumber() ? info[1].As<Napi::Number>().Int64Value() : -1;
  return RunAsync<torch::Tensor>(env, false, [input, dim]() { return torch::softmax(input, dim); }, WrapTensor);
}

// One batch of train_model in one crossing: forward, loss and, when training,
// backward and the optimizer step. (model, optimizer | null, inputs, labels, train, criterionOptions)
Napi::Value TrainStep(const Napi::CallbackInfo& info) {
  StepArgs a = ParseStepArgs(info, 5);
  return RunCompute<StepResult>(
      info.Env(), a.train, [a]() { return RunStep(*a.model, a.sgd.get(), a.inputs, a.labels, a.train, a.loss, {}, a.amp); }, StepResultToJs);
}

}  // namespace tt
