#include "module.h"

#include "addon_data.h"
#include "amp.h"
#include "async_call.h"
#include "dtype.h"
#include "inference.h"
#include "module_mode.h"
#include "registry.h"
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

Napi::Value LinearInfo(const Napi::CallbackInfo& info, const NativeModule& native, bool in) {
  auto* linear = native.module->as<torch::nn::Linear>();
  if (linear == nullptr) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), static_cast<double>(in ? linear->options.in_features() : linear->options.out_features()));
}

}  // namespace

std::shared_ptr<NativeModule> MakeNativeModule(ModulePtr module, std::string head) {
  auto native = std::make_shared<NativeModule>();
  native->module = module;
  native->head = std::move(head);
  native->forward = [module](const torch::Tensor& x) { return Apply(*module, x); };
  return native;
}

Napi::Function ModuleWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "NativeModule",
      {
          StaticMethod<&ModuleWrap::Create>("create"),
          StaticMethod<&ModuleWrap::NewLinear>("linear"),
          StaticMethod<&ModuleWrap::ArchNames>("archNames"),
          InstanceAccessor<&ModuleWrap::Kind>("kind"),
          InstanceAccessor<&ModuleWrap::Head>("head"),
          InstanceMethod<&ModuleWrap::NamedChildren>("namedChildren"),
          InstanceAccessor<&ModuleWrap::InFeatures>("inFeatures"),
          InstanceAccessor<&ModuleWrap::OutFeatures>("outFeatures"),
          InstanceAccessor<&ModuleWrap::Training>("training"),
          InstanceMethod<&ModuleWrap::Train>("train"),
          InstanceMethod<&ModuleWrap::To>("to"),
          InstanceMethod<&ModuleWrap::ToMemoryFormat>("toMemoryFormat"),
          InstanceMethod<&ModuleWrap::NamedParameters>("namedParameters"),
          InstanceMethod<&ModuleWrap::StateDict>("stateDict"),
          InstanceMethod<&ModuleWrap::SetChild>("setChild"),
          InstanceMethod<&ModuleWrap::Child>("child"),
          InstanceMethod<&ModuleWrap::Forward>("forward"),
          InstanceMethod<&ModuleWrap::Features>("features"),
          InstanceMethod<&ModuleWrap::InferenceForward>("inferenceForward"),
          InstanceMethod<&ModuleWrap::InferenceInfo>("inferenceInfo"),
          InstanceMethod<&ModuleWrap::Dispose>("dispose"),
          InstanceAccessor<&ModuleWrap::Disposed>("isDisposed"),
      });
  DataOf(env).moduleConstructor = Napi::Persistent(ctor);
  return ctor;
}

std::shared_ptr<NativeModule> ModuleWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(DataOf(env).moduleConstructor.Value())) {
    throw TypeError(env, "Expected a native module for " + what);
  }
  return Napi::ObjectWrap<ModuleWrap>::Unwrap(value.As<Napi::Object>())->Shared(env);
}

NativeModule& ModuleWrap::Native(Napi::Env env) {
  if (!native_) throw Napi::Error::New(env, "Module has been disposed");
  return *native_;
}

std::shared_ptr<NativeModule> ModuleWrap::Shared(Napi::Env env) {
  Native(env);
  return native_;
}

// dispose(): lets go of the module now rather than at garbage collection. Its
// memory is freed once nothing else holds it: work already queued keeps its
// own reference and finishes; so do tensors taken from parameters() or
// stateDict() and an optimizer over them, until they are disposed.
Napi::Value ModuleWrap::Dispose(const Napi::CallbackInfo& info) {
  native_.reset();
  return info.Env().Undefined();
}

Napi::Value ModuleWrap::Disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !native_);
}

Napi::Object ModuleWrap::Wrap(Napi::Env env, std::shared_ptr<NativeModule> native) {
  auto* holder = new std::shared_ptr<NativeModule>(std::move(native));
  Napi::Object object = DataOf(env).moduleConstructor.New({Napi::External<std::shared_ptr<NativeModule>>::New(env, holder)});
  delete holder;
  return object;
}

ModuleWrap::ModuleWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModuleWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw TypeError(info.Env(), "Modules are made with tt.models.NAME() or new tt.nn.Linear()");
  }
  native_ = *info[0].As<Napi::External<std::shared_ptr<NativeModule>>>().Data();
}

// create(arch, options): a model by torchvision's name; options hold numbers and booleans.
Napi::Value ModuleWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for arch");
  const std::string arch = info[0].As<Napi::String>().Utf8Value();
  ArchOptions options;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object given = info[1].As<Napi::Object>();
    Napi::Array keys = given.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value value = given.Get(key);
      if (value.IsNumber()) {
        options.values[key] = value.As<Napi::Number>().DoubleValue();
      } else if (value.IsBoolean()) {
        options.values[key] = value.As<Napi::Boolean>().Value() ? 1 : 0;
      } else if (!value.IsUndefined()) {
        throw TypeError(env, "Expected a number or boolean for option " + key);
      }
    }
  }
  return Guarded(env, [&]() -> Napi::Value {
    Arch built = CreateArch(arch, options);
    return Wrap(env, MakeNativeModule(built.module, built.head));
  });
}

Napi::Value ModuleWrap::ArchNames(const Napi::CallbackInfo& info) {
  std::vector<std::string> names = tt::ArchNames();
  Napi::Array out = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), names[i]));
  return out;
}

// linear(inFeatures, outFeatures, bias)
Napi::Value ModuleWrap::NewLinear(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw TypeError(env, "Expected positive integers for inFeatures and outFeatures");
  const int64_t in = info[0].As<Napi::Number>().Int64Value();
  const int64_t out = info[1].As<Napi::Number>().Int64Value();
  const bool bias = info.Length() < 3 || info[2].ToBoolean().Value();
  return Guarded(env, [&]() -> Napi::Value {
    return Wrap(env, MakeNativeModule(Dense(in, out, bias).ptr()));
  });
}

Napi::Value ModuleWrap::Kind(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), KindOf(*Native(info.Env()).module)); }

Napi::Value ModuleWrap::Head(const Napi::CallbackInfo& info) {
  if (Native(info.Env()).head.empty()) return info.Env().Undefined();
  return Napi::String::New(info.Env(), Native(info.Env()).head);
}

Napi::Value ModuleWrap::InFeatures(const Napi::CallbackInfo& info) { return LinearInfo(info, Native(info.Env()), true); }

Napi::Value ModuleWrap::OutFeatures(const Napi::CallbackInfo& info) { return LinearInfo(info, Native(info.Env()), false); }

Napi::Value ModuleWrap::Training(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), RecordedMode(Native(info.Env()).module));
}

// train(on): takes effect in call order on the compute queue, so work queued
// before it runs in the mode it was called in.
Napi::Value ModuleWrap::Train(const Napi::CallbackInfo& info) {
  const bool on = info.Length() == 0 || info[0].ToBoolean().Value();
  RecordMode(Native(info.Env()).module, on);
  std::shared_ptr<torch::nn::Module> module = Native(info.Env()).module;
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
    std::shared_ptr<torch::nn::Module> module = Native(info.Env()).module;
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

// toMemoryFormat(format): module.to(memory_format=...). As PyTorch's _apply,
// every 4-D parameter and buffer (and a parameter's gradient) is rewritten in
// place in the format, keeping its identity, so optimizers and hooks that hold
// it see the new layout. Convolutions then run in the weights' format whatever
// the input's (oneDNN's channels-last kernels where the weights are).
Napi::Value ModuleWrap::ToMemoryFormat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for memoryFormat");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (name != "channels_last" && name != "contiguous") {
    throw TypeError(env, "Expected \"channels_last\" or \"contiguous\" for memoryFormat, got \"" + name + "\"");
  }
  const auto format = name == "channels_last" ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  std::shared_ptr<torch::nn::Module> module = Native(env).module;
  ComputeQueue::PostDetached([module, format] {
    torch::NoGradGuard noGrad;
    // suggest_memory_format and clone, not is_contiguous and contiguous: a
    // [C, K, 1, 1] weight is contiguous in both formats, yet the gradients of
    // a channels-last convolution come with channels-last strides, and DDP's
    // reducer compares strides as they are (it warns and copies where they
    // differ). Restriding every 4-D tensor, as torch's Module.to does, keeps
    // each parameter's strides its gradient's.
    auto converted = [format](const torch::Tensor& t) {
      return t.defined() && t.dim() == 4 && t.suggest_memory_format() != format ? t.clone(format) : torch::Tensor();
    };
    for (auto& p : module->parameters(/*recurse=*/true)) {
      if (torch::Tensor c = converted(p); c.defined()) p.set_data(c);
      if (torch::Tensor g = converted(p.grad()); g.defined()) p.mutable_grad() = g;
    }
    for (auto& b : module->buffers(/*recurse=*/true)) {
      if (torch::Tensor c = converted(b); c.defined()) b.set_data(c);
    }
  });
  return env.Undefined();
}

Napi::Value ModuleWrap::NamedParameters(const Napi::CallbackInfo& info) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& item : Native(info.Env()).module->named_parameters(/*recurse=*/true)) items.emplace_back(item.key(), item.value());
  return Pairs(info.Env(), items);
}

// The state dict in torchvision's order: each module's own parameters, then its
// own buffers, modules in registration order (depth first).
Napi::Value ModuleWrap::StateDict(const Napi::CallbackInfo& info) {
  std::vector<std::pair<std::string, torch::Tensor>> items;
  for (const auto& named : Native(info.Env()).module->named_modules("", /*include_self=*/true)) {
    for (const auto& p : named.value()->named_parameters(/*recurse=*/false)) items.emplace_back(Join(named.key(), p.key()), p.value());
    for (const auto& b : named.value()->named_buffers(/*recurse=*/false)) items.emplace_back(Join(named.key(), b.key()), b.value());
  }
  return Pairs(info.Env(), items);
}

// namedChildren(): [name, handle] for each direct child, in registration order.
Napi::Value ModuleWrap::NamedChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto children = Native(info.Env()).module->named_children();
  Napi::Array out = Napi::Array::New(env, children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, children[i].key()));
    pair.Set(1u, Wrap(env, MakeNativeModule(children[i].value())));
    out.Set(static_cast<uint32_t>(i), pair);
  }
  return out;
}

// setChild(path, module): replaces a submodule by dotted path, as `model.fc = nn.Linear(...)`
// or `model.classifier[3] = ...` does; the model shares the given module's parameters.
Napi::Value ModuleWrap::SetChild(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<NativeModule> child = From(info[1], path);
  // The tree must not change under a queued forward, and what follows this
  // call (parameters() for a new optimizer) must see the new child.
  std::shared_ptr<torch::nn::Module> root = Native(info.Env()).module;
  std::shared_ptr<torch::nn::Module> replacement = child->module;
  Guarded(env, [&] {
    ComputeQueue::RunSync<bool>([root, path, replacement]() {
      ReplaceAt(root, path, replacement);
      return true;
    });
  });
  return env.Undefined();
}

// child(path): a handle on the submodule at a dotted path, sharing its parameters.
Napi::Value ModuleWrap::Child(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  return Guarded(env, [&]() -> Napi::Value { return Wrap(env, MakeNativeModule(ChildAt(Native(info.Env()).module, path))); });
}

// forward(input, gradEnabled)
Napi::Value ModuleWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor input = TensorWrap::From(info[0], "input");
  const bool grad = info.Length() < 2 || info[1].ToBoolean().Value();
  // tt.autocast's state travels with the call, as grad mode does: libtorch keeps both per thread.
  const AmpOptions amp = ParseAmpOptions(info[2]);
  std::shared_ptr<NativeModule> native = Shared(env);
  return RunCompute<torch::Tensor>(
      env, grad,
      [native, input, amp]() {
        std::unique_ptr<AutocastScope> autocast;
        if (amp.autocast) autocast = std::make_unique<AutocastScope>(amp.device, amp.dtype);
        return native->forward(input);
      },
      [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return TensorWrap::Wrap(env, out); });
}

}  // namespace tt

namespace tt {

// features(input, gradEnabled): a whole model's input to its classifier layer
// (a ResNet's pooled 512 or 2048 numbers).
Napi::Value ModuleWrap::Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto layer = std::dynamic_pointer_cast<Layer>(Native(info.Env()).module);
  if (!layer || Native(info.Env()).head.empty()) throw TypeError(env, "features() needs a whole model, not a " + KindOf(*Native(info.Env()).module));
  torch::Tensor input = TensorWrap::From(info[0], "input");
  const bool grad = info.Length() < 2 || info[1].ToBoolean().Value();
  return RunCompute<torch::Tensor>(
      env, grad, [layer, input]() { return layer->features(input); },
      [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return TensorWrap::Wrap(env, out); });
}

}  // namespace tt

namespace tt {

// inferenceForward(input, layout?): the eval-mode output through the fused
// fast form (native/inference.h); the plain forward while any module trains.
Napi::Value ModuleWrap::InferenceForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor input = TensorWrap::From(info[0], "input");
  InferenceLayout layout = DefaultInferenceLayout();
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsString()) throw TypeError(env, "Expected a string for layout");
    layout = Guarded(env, [&] { return InferenceLayoutFromName(info[1].As<Napi::String>().Utf8Value()); });
  }
  std::shared_ptr<NativeModule> native = Shared(env);
  return RunCompute<torch::Tensor>(
      env, false, [native, input, layout]() { return tt::InferenceForward(*native, input, layout); },
      [](Napi::Env env, torch::Tensor& out) -> Napi::Value { return TensorWrap::Wrap(env, out); });
}

// inferenceInfo(): { folded, builds, layout } of the fast form's last build, in call order.
Napi::Value ModuleWrap::InferenceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<NativeModule> native = Shared(env);
  return RunCompute<tt::InferenceInfo>(
      env, false, [native]() { return InferenceInfoOf(*native); },
      [](Napi::Env env, tt::InferenceInfo& r) -> Napi::Value {
        Napi::Object out = Napi::Object::New(env);
        out.Set("folded", static_cast<double>(r.folded));
        out.Set("builds", static_cast<double>(r.builds));
        out.Set("layout", InferenceLayoutName(r.layout));
        return out;
      });
}

}  // namespace tt
