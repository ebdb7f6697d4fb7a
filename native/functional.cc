#include "functional.h"

#include <cstring>

#include "async_call.h"
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
  return RunCompute<torch::Tensor>(
      env, grad, [logits, labels]() { return torch::nn::functional::cross_entropy(logits, labels); }, WrapTensor);
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

// Bilinear resampling with antialiasing of an 8-bit HWC image, rounded back to
// 8 bits as PIL's Image.resize(BILINEAR) returns it.
Napi::Value ResizeImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypeError(env, "Expected a Uint8Array for pixels");
  }
  for (int i = 1; i <= 5; ++i) {
    if (!info[i].IsNumber()) throw TypeError(env, "Expected positive integers for height, width, channels, outHeight, outWidth");
  }
  Napi::Uint8Array pixels = info[0].As<Napi::Uint8Array>();
  const int64_t h = info[1].As<Napi::Number>().Int64Value(), w = info[2].As<Napi::Number>().Int64Value();
  const int64_t c = info[3].As<Napi::Number>().Int64Value();
  const int64_t oh = info[4].As<Napi::Number>().Int64Value(), ow = info[5].As<Napi::Number>().Int64Value();
  if (h <= 0 || w <= 0 || c <= 0 || oh <= 0 || ow <= 0 || static_cast<int64_t>(pixels.ByteLength()) != h * w * c) {
    throw Napi::RangeError::New(env, "resizeImage: pixel buffer of " + std::to_string(pixels.ByteLength()) +
                                         " bytes does not match " + std::to_string(h) + "x" + std::to_string(w) + "x" + std::to_string(c));
  }
  torch::Tensor input = Guarded(env, [&] {
    torch::Tensor t = torch::empty({h, w, c}, torch::kUInt8);
    std::memcpy(t.data_ptr(), pixels.Data(), pixels.ByteLength());
    return t;
  });
  return RunAsync<torch::Tensor>(
      env, false,
      [input, oh, ow]() {
        torch::Tensor x = input.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat);
        namespace F = torch::nn::functional;
        torch::Tensor y = F::interpolate(x, F::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{oh, ow})
                                                .mode(torch::kBilinear)
                                                .align_corners(false)
                                                .antialias(true));
        return y.round_().clamp_(0, 255).to(torch::kUInt8).squeeze(0).permute({1, 2, 0}).contiguous();
      },
      [](Napi::Env env, torch::Tensor& out) -> Napi::Value {
        Napi::Uint8Array array = Napi::Uint8Array::New(env, static_cast<size_t>(out.numel()));
        std::memcpy(array.Data(), out.data_ptr(), static_cast<size_t>(out.numel()));
        return array;
      });
}

// One batch of train_model in one crossing: forward, loss and, when training,
// backward and the optimizer step.
Napi::Value TrainStep(const Napi::CallbackInfo& info) {
  StepArgs a = ParseStepArgs(info);
  return RunCompute<StepResult>(
      info.Env(), a.train, [a]() { return RunStep(*a.model, a.sgd.get(), a.inputs, a.labels, a.train); }, StepResultToJs);
}

}  // namespace tt
