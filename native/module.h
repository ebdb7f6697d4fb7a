// Module: a JavaScript handle on a libtorch module: a whole model built by
// name (Module.create), a Linear, or any submodule of either.
//   sync:  create(), linear(), archNames(), kind, head, namedParameters(), stateDict(), train(), training, to(), toMemoryFormat(),
//          namedChildren(), child(), setChild(), inFeatures, outFeatures, dispose(), isDisposed
//   async: forward(), features(), inferenceForward()
#pragma once
#include "torch_pch.h"

#include <functional>
#include <memory>
#include <string>

#include "layers.h"

namespace tt {

struct InferencePlan;

struct NativeModule {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::string head;  // a whole model's classifier path (fc, classifier.3); empty for parts of models
  std::shared_ptr<InferencePlan> inference;  // the fused eval form (native/inference.h), built on first use; compute queue only
};

// A handle on `module`; submodules and whole models alike run through Apply.
std::shared_ptr<NativeModule> MakeNativeModule(ModulePtr module, std::string head = "");

class ModuleWrap : public Napi::ObjectWrap<ModuleWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static std::shared_ptr<NativeModule> From(const Napi::Value& value, const std::string& what);

  explicit ModuleWrap(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value NewLinear(const Napi::CallbackInfo& info);
  static Napi::Value ArchNames(const Napi::CallbackInfo& info);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<NativeModule> native);

  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value Head(const Napi::CallbackInfo& info);
  Napi::Value NamedChildren(const Napi::CallbackInfo& info);
  Napi::Value InFeatures(const Napi::CallbackInfo& info);
  Napi::Value OutFeatures(const Napi::CallbackInfo& info);
  Napi::Value Training(const Napi::CallbackInfo& info);
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value ToMemoryFormat(const Napi::CallbackInfo& info);
  Napi::Value NamedParameters(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value SetChild(const Napi::CallbackInfo& info);
  Napi::Value Child(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Features(const Napi::CallbackInfo& info);
  Napi::Value InferenceForward(const Napi::CallbackInfo& info);
  Napi::Value InferenceInfo(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);

  // The module, or a JS Error once dispose() has let go of it.
  NativeModule& Native(Napi::Env env);
  std::shared_ptr<NativeModule> Shared(Napi::Env env);

  std::shared_ptr<NativeModule> native_;
};

}  // namespace tt
