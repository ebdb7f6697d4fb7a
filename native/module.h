// Module: a JavaScript handle on a libtorch module (ResNet-18 or Linear).
//   sync:  namedParameters(), stateDict(), train(), training, to(), child(), setChild(), inFeatures, outFeatures, dispose(), isDisposed
//   async: forward(), features()
#pragma once
#include "torch_pch.h"

#include <functional>
#include <memory>
#include <string>

#include "resnet.h"

namespace tt {

struct NativeModule {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  ResNet resnet{nullptr};
  torch::nn::Linear linear{nullptr};
};

class ModuleWrap : public Napi::ObjectWrap<ModuleWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static std::shared_ptr<NativeModule> From(const Napi::Value& value, const std::string& what);

  explicit ModuleWrap(const Napi::CallbackInfo& info);

 private:
  static Napi::Value NewResNet18(const Napi::CallbackInfo& info);
  static Napi::Value NewLinear(const Napi::CallbackInfo& info);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<NativeModule> native);

  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value InFeatures(const Napi::CallbackInfo& info);
  Napi::Value OutFeatures(const Napi::CallbackInfo& info);
  Napi::Value Training(const Napi::CallbackInfo& info);
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value NamedParameters(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value SetChild(const Napi::CallbackInfo& info);
  Napi::Value Child(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Features(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);

  // The module, or a JS Error once dispose() has let go of it.
  NativeModule& Native(Napi::Env env);
  std::shared_ptr<NativeModule> Shared(Napi::Env env);

  std::shared_ptr<NativeModule> native_;
};

}  // namespace tt
