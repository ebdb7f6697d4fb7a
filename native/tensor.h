// Tensor: a JavaScript handle on a torch::Tensor.
//   sync:  shape, dtype, device, requiresGrad, grad, isPinned, to(), pinMemory(), copy_(), detach(), dispose()
//   async: data(), item(), backward()
#pragma once
#include "torch_pch.h"

#include <optional>
#include <string>

namespace tt {

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new JavaScript Tensor owning `tensor`.
  static Napi::Object Wrap(Napi::Env env, torch::Tensor tensor);
  // The tensor behind a JavaScript value, or a TypeError naming `what`.
  static torch::Tensor From(const Napi::Value& value, const std::string& what);

  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;

 private:
  torch::Tensor& Live(Napi::Env env);
  void Release();

  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info);
  void SetRequiresGrad(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value Grad(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value PinMemory(const Napi::CallbackInfo& info);
  Napi::Value IsPinned(const Napi::CallbackInfo& info);
  Napi::Value IsContiguous(const Napi::CallbackInfo& info);
  Napi::Value Copy(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value Data(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info);
  Napi::Value Backward(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::optional<torch::Tensor> tensor_;
  int64_t externalBytes_ = 0;
};

// Functions that make tensors: fromTypedArray(array, shape), fromBytes(bytes, dtype, shape, strides, offset).
Napi::Value FromTypedArray(const Napi::CallbackInfo& info);
Napi::Value FromBytes(const Napi::CallbackInfo& info);

}  // namespace tt
