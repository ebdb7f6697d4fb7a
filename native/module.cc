#include "module.h"

#include "addon_data.h"
#include "async_call.h"
#include "dtype.h"
#include "module_mode.h"
#include "tensor.h"

namespace tt {

namespace {

Napi::Array Pairs(Napi::Env env, const std::vector<std::pair<std::string, torch::Tensor>>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, items[i].first));
    pair.Set(1u, TensorWrap::Wrap(env, items[i].second));
    out.Set(i, pair);
  }
  return out;
}

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

}  // namespace

Napi::Function ModuleWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "NativeModule",
      {
          StaticMethod<&ModuleWrap::NewResNet18>("resnet18"),
          StaticMethod<&ModuleWrap::NewLinear>("linear"),
          InstanceAccessor<&ModuleWrap::Kind>("kind"),
          InstanceAccessor<&ModuleWrap::InFeatures>("inFeatures"),
          InstanceAccessor<&ModuleWrap::OutFeatures>("outFeatures"),
          InstanceAccessor<&ModuleWrap::Training>("training"),
          InstanceMethod<&ModuleWrap::Train>("train"),
          InstanceMethod<&ModuleWrap::To>("to"),
          InstanceMethod<&ModuleWrap::NamedParameters>("namedParameters"),
          InstanceMethod<&ModuleWrap::StateDict>("stateDict"),
          InstanceMethod<&ModuleWrap::SetChild>("setChild"),
          InstanceMethod<&ModuleWrap::Child>("child"),
          InstanceMethod<&ModuleWrap::Forward>("forward"),
          InstanceMethod<&ModuleWrap::Features>("features"),
      });
  DataOf(env).moduleConstructor = Napi::Persistent(ctor);
  return ctor;
}

std::shared_ptr<NativeModule> ModuleWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(DataOf(env).moduleConstructor.Value())) {
    throw TypeError(env, "Expected a native module for " + what);
  }
  return Napi::ObjectWrap<ModuleWrap>::Unwrap(value.As<Napi::Object>())->native_;
}

Napi::Object ModuleWrap::Wrap(Napi::Env env, std::shared_ptr<NativeModule> native) {
  auto* holder = new std::shared_ptr<NativeModule>(std::move(native));
  Napi::Object object = DataOf(env).moduleConstructor.New({Napi::External<std::shared_ptr<NativeModule>>::New(env, holder)});
  delete holder;
  return object;
}

ModuleWrap::ModuleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModuleWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw TypeError(info.Env(), "Modules are made with tt.models.resnet18() or new tt.nn.Linear()");
  }
  native_ = *info[0].As<Napi::External<std::shared_ptr<NativeModule>>>().Data();
}

// resnet18(numClasses)
Napi::Value ModuleWrap::NewResNet18(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw TypeError(env, "Expected a positive integer for numClasses");
  const int64_t numClasses = info[0].As<Napi::Number>().Int64Value();
  return Guarded(env, [&]() -> Napi::Value {
    auto native = std::make_shared<NativeModule>();
    native->resnet = ResNet(numClasses);
    native->module = native->resnet.ptr();
    ResNet resnet = native->resnet;
    native->forward = [resnet](const torch::Tensor& x) mutable { return resnet->forward(x); };
    return Wrap(env, native);
  });
}

// linear(inFeatures, outFeatures, bias)
Napi::Value ModuleWrap::NewLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw TypeError(env, "Expected positive integers for inFeatures and outFeatures");
  const int64_t in = info[0].As<Napi::Number>().Int64Value();
  const int64_t out = info[1].As<Napi::Number>().Int64Value();
  const bool bias = info.Length() < 3 || info[2].ToBoolean().Value();
  return Guarded(env, [&]() -> Napi::Value {
    auto native = std::make_shared<NativeModule>();
    native->linear = torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
    native->module = native->linear.ptr();
    torch::nn::Linear linear = native->linear;
    native->forward = [linear](const torch::Tensor& x) mutable { return linear->forward(x); };
    return Wrap(env, native);
  });
}

Napi::Value ModuleWrap::Kind(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), native_->resnet ? "ResNet" : "Linear");
}

Napi::Value ModuleWrap::InFeatures(const Napi::CallbackInfo& info) {
  if (!native_->linear) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(native_->linear->options.in_features()));
}

Napi::Value ModuleWrap::OutFeatures(const Napi::CallbackInfo& info) {
  if (!native_->linear) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(native_->linear->options.out_features()));
}

Napi::Value ModuleWrap::Training(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), RecordedMode(native_->module));
}

// train(on): takes effect in call order on the compute queue, so work queued
// before it runs in the mode it was called in.
Napi::Value ModuleWrap::Train(const Napi::CallbackInfo& info) {
  const bool on = info.Length() == 0 || info[0].ToBoolean().Value();
  RecordMode(native_->module, on);
  std::shared_ptr<torch::nn::Module> module = native_->module;
  ComputeQueue::PostDetached([module, on] { module->train(on); });
  return info.Env().Undefined();
}

// to(device, dtype?): moves parameters and buffers in place, as nn.Module.to
// does, in call order on the compute queue. The device string is parsed now
// (its availability is checked in JavaScript), so the queued move can only
// fail on a libtorch error.
Napi::Value ModuleWrap::To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a device string for device");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const bool withDtype = info.Length() > 1 && info[1].IsString();
  const std::string dtypeName = withDtype ? info[1].As<Napi::String>().Utf8Value() : "";
  Guarded(env, [&] {
    torch::Device device(name);
    if (withDtype) DtypeFromName(dtypeName);
    std::shared_ptr<torch::nn::Module> module = native_->module;
    ComputeQueue::PostDetached([module, device, withDtype, dtypeName] {
      if (withDtype) {
        module->to(device, DtypeFromName(dtypeName));
      } else {
        module->to(device);
      }
    });
  });
  return env.Undefined();
}

Napi::Value ModuleWrap::NamedParameters(const Napi::CallbackInfo& info) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& item : native_->module->named_parameters(/*recurse=*/true)) items.emplace_back(item.key(), item.value());
  return Pairs(info.Env(), items);
}

// The state dict in torchvision's order: each module's own parameters, then its
// own buffers, modules in registration order (depth first).
Napi::Value ModuleWrap::StateDict(const Napi::CallbackInfo& info) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& named : native_->module->named_modules("", /*include_self=*/true)) {
    for (const auto& p : named.value()->named_parameters(/*recurse=*/false)) items.emplace_back(Join(named.key(), p.key()), p.value());
    for (const auto& b : named.value()->named_buffers(/*recurse=*/false)) items.emplace_back(Join(named.key(), b.key()), b.value());
  }
  return Pairs(info.Env(), items);
}

// setChild(name, module): replaces a child, as `model.fc = nn.Linear(...)` does.
Napi::Value ModuleWrap::SetChild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for name");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NativeModule> child = From(info[1], name);
  if (!native_->resnet || name != "fc" || !child->linear) {
    throw TypeError(env, "Only a ResNet's fc can be replaced, and only by a Linear");
  }
  // The tree must not change under a queued forward, and what follows this
  // call (parameters() for a new optimizer) must see the new child.
  ResNet resnet = native_->resnet;
  Guarded(env, [&] {
    ComputeQueue::RunSync<bool>([resnet, child]() mutable {
      resnet->fc = resnet->replace_module("fc", child->linear);
      return true;
    });
  });
  return env.Undefined();
}

// child(name): a handle on a ResNet's current fc, sharing its parameters.
Napi::Value ModuleWrap::Child(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!native_->resnet || !info[0].IsString() || info[0].As<Napi::String>().Utf8Value() != "fc") {
    throw TypeError(env, "Only a ResNet's fc child can be taken");
  }
  auto child = std::make_shared<NativeModule>();
  child->linear = native_->resnet->fc;
  child->module = child->linear.ptr();
  torch::nn::Linear linear = child->linear;
  child->forward = [linear](const torch::Tensor& x) mutable { return linear->forward(x); };
  return Wrap(env, child);
}

// forward(input, gradEnabled)
Napi::Value ModuleWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor input = TensorWrap::From(info[0], "input");
  const bool grad = info.Length() < 2 || info[1].ToBoolean().Value();
  std::shared_ptr<NativeModule> native = native_;
  return RunCompute<torch::Tensor>(
      env, grad, [native, input]() { return native->forward(input); },
      [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return TensorWrap::Wrap(env, out); });
}

}  // namespace tt

namespace tt {

// features(input, gradEnabled): a ResNet's pooled features, without fc.
Napi::Value ModuleWrap::Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!native_->resnet) throw TypeError(env, "features() needs a ResNet");
  torch::Tensor input = TensorWrap::From(info[0], "input");
  const bool grad = info.Length() < 2 || info[1].ToBoolean().Value();
  ResNet resnet = native_->resnet;
  return RunCompute<torch::Tensor>(
      env, grad, [resnet, input]() mutable { return resnet->features(input); },
      [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return TensorWrap::Wrap(env, out); });
}

}  // namespace tt
