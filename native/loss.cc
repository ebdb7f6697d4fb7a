#include "loss.h"

#include "errors.h"
#include "tensor.h"

namespace tt {

LossOptions ParseLossOptions(const Napi::Value& value) {
  LossOptions options;
  if (value.IsUndefined() || value.IsNull()) return options;
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw TypeError(env, "Expected an options object for criterion");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value weight = o.Get("weight");
  if (!weight.IsUndefined() && !weight.IsNull()) options.weight = TensorWrap::From(weight, "weight");
  Napi::Value smoothing = o.Get("labelSmoothing");
  if (smoothing.IsNumber()) options.labelSmoothing = smoothing.As<Napi::Number>().DoubleValue();
  Napi::Value reduction = o.Get("reduction");
  if (reduction.IsString()) options.reduction = reduction.As<Napi::String>().Utf8Value();
  if (options.reduction != "mean" && options.reduction != "sum" && options.reduction != "none") {
    throw TypeError(env, "Expected 'mean', 'sum' or 'none' for reduction, got '" + options.reduction + "'");
  }
  return options;
}

torch::Tensor CrossEntropy(const torch::Tensor& input, const torch::Tensor& target, const LossOptions& options) {
  auto fn = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(options.labelSmoothing);
  if (options.weight.defined()) {
    // Under autocast the loss runs in float32 (cross_entropy is on autocast's
    // float32 list) while the logits are half or bfloat16: the weight must not
    // be rounded to their type on its way in.
    const bool reduced = input.scalar_type() == torch::kHalf || input.scalar_type() == torch::kBFloat16;
    fn.weight(options.weight.to(input.device(), reduced ? options.weight.scalar_type() : input.scalar_type()));
  }
  if (options.reduction == "sum") {
    fn.reduction(torch::kSum);
  } else if (options.reduction == "none") {
    fn.reduction(torch::kNone);
  } else {
    fn.reduction(torch::kMean);
  }
  return torch::nn::functional::cross_entropy(input, target, fn);
}

}  // namespace tt
