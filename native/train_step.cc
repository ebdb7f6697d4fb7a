#include "train_step.h"

namespace tt {

StepResult RunStep(NativeModule& model, SgdState* sgd, const torch::Tensor& inputs, const torch::Tensor& labels, bool train,
                   const std::function<void()>& beforeForward, const std::function<void()>& afterBackward) {
  if (train) sgd->ZeroGrad();
  if (beforeForward) beforeForward();
  torch::Tensor outputs = model.forward(inputs);
  torch::Tensor loss = torch::nn::functional::cross_entropy(outputs, labels);
  if (train) {
    loss.backward();
    if (afterBackward) afterBackward();
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

}  // namespace tt
