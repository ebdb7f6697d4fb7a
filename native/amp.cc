#include "amp.h"

#include <cmath>

#include "addon_data.h"
#include "async_call.h"
#include "dtype.h"
#include "optimizer.h"
#include "tensor.h"
#include "torch_compat.h"

namespace tt {

AutocastScope::AutocastScope(c10::DeviceType device, c10::ScalarType dtype)
    : device_(device), previousEnabled_(compat::AutocastEnabled(device)), previousDtype_(compat::AutocastDtype(device)) {
  compat::SetAutocastEnabled(device, true);
  compat::SetAutocastDtype(device, dtype);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  // As torch.autocast.__exit__: the cache of weights cast for this forward
  // goes when the outermost scope ends, so the next step casts the new weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::SetAutocastEnabled(device_, previousEnabled_);
  compat::SetAutocastDtype(device_, previousDtype_);
}

GradScaler::GradScaler(const Options& options) : options_(options), scale_(static_cast<float>(options.initScale)) {}

torch::Tensor GradScaler::ScaleLoss(const torch::Tensor& loss) const {
  const float scale = Scale();
  // torch multiplies by its float32 scale tensor: the product is float32 (or wider).
  return loss * torch::scalar_tensor(scale, loss.options().dtype(torch::kFloat));
}

bool GradScaler::UnscaleAndCheck(const std::vector<torch::Tensor>& grads, float scale) const {
  torch::NoGradGuard noGrad;
  if (grads.empty()) return false;
  // torch: inv_scale = scale.double().reciprocal().float().
  const float inverse = static_cast<float>(1.0 / static_cast<double>(scale));
  bool allCuda = true;
  for (const auto& g : grads) allCuda = allCuda && g.is_cuda() && g.device() == grads.front().device();
  if (allCuda) {
    // CUDA: torch's own fused kernel (one launch for every gradient), which
    // GradScaler.unscale_ calls. libtorch has no CPU kernel for it before 2.3.
    auto options = grads.front().options().dtype(torch::kFloat);
    torch::Tensor foundInf = torch::zeros({1}, options);
    at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf, torch::full({1}, inverse, options));
    return foundInf.item<float>() != 0;
  }
  // The same arithmetic as that kernel, in tensor operations: the check reads
  // each gradient before it is multiplied (a finite value times 1/scale may
  // overflow when the scale has backed off below 1; the kernel does not count that).
  torch::Tensor found = torch::zeros({}, torch::TensorOptions().dtype(torch::kBool).device(grads.front().device()));
  for (const auto& g : grads) {
    torch::Tensor bad = torch::isfinite(g).logical_not().any();
    found = found.logical_or(bad.to(found.device()));
    // The kernel computes in float (opmath) and stores in the gradient's dtype.
    torch::Tensor grad = g;
    grad.mul_(inverse);
  }
  return found.item<bool>();
}

bool GradScaler::Step(Optimizer& optimizer) {
  float scale;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    TORCH_CHECK(!stepped_, "GradScaler: step() has already been called since the last update()");
    scale = scale_;
  }
  const bool foundInf = UnscaleAndCheck(optimizer.Gradients(), scale);
  // torch.amp: the step is skipped when any gradient is inf or NaN (the loss
  // scale was too large for this batch); update() then backs off.
  if (!foundInf) optimizer.Step();
  std::lock_guard<std::mutex> lock(mutex_);
  stepped_ = true;
  foundInf_ = foundInf;
  return !foundInf;
}

void GradScaler::Update() {
  std::lock_guard<std::mutex> lock(mutex_);
  TORCH_CHECK(stepped_, "GradScaler: no inf checks were recorded prior to update() (call step(optimizer) first)");
  stepped_ = false;
  // _amp_update_scale_'s kernel, in float for the scale as it is stored.
  if (foundInf_) {
    scale_ = static_cast<float>(scale_ * options_.backoffFactor);
    growthTracker_ = 0;
    return;
  }
  const int64_t successful = growthTracker_ + 1;
  if (successful == options_.growthInterval) {
    const float grown = static_cast<float>(scale_ * options_.growthFactor);
    if (std::isfinite(grown)) scale_ = grown;
    growthTracker_ = 0;
  } else {
    growthTracker_ = successful;
  }
}

float GradScaler::Scale() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return scale_;
}

int64_t GradScaler::GrowthTracker() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return growthTracker_;
}

void GradScaler::SetState(float scale, int64_t growthTracker) {
  std::lock_guard<std::mutex> lock(mutex_);
  scale_ = scale;
  growthTracker_ = growthTracker;
  stepped_ = false;
}

AmpOptions ParseAmpOptions(const Napi::Value& value) {
  AmpOptions amp;
  if (value.IsUndefined() || value.IsNull()) return amp;
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw TypeError(env, "Expected an options object for amp");
  Napi::Object o = value.As<Napi::Object>();
  Napi::Value device = o.Get("device");
  if (device.IsString()) {
    const std::string name = device.As<Napi::String>().Utf8Value();
    if (name != "cpu" && name != "cuda") throw TypeError(env, "Expected \"cpu\" or \"cuda\" for amp.device, got \"" + name + "\"");
    amp.autocast = true;
    amp.device = name == "cuda" ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
    Napi::Value dtype = o.Get("dtype");
    const std::string dtypeName = dtype.IsString() ? dtype.As<Napi::String>().Utf8Value() : "";
    if (dtypeName == "bfloat16") {
      amp.dtype = c10::ScalarType::BFloat16;
    } else if (dtypeName == "float16") {
      amp.dtype = c10::ScalarType::Half;
    } else {
      throw TypeError(env, "Expected \"bfloat16\" or \"float16\" for amp.dtype, got \"" + dtypeName + "\"");
    }
  }
  Napi::Value scaler = o.Get("scaler");
  if (!scaler.IsUndefined() && !scaler.IsNull()) amp.scaler = GradScalerWrap::From(scaler, "amp.scaler");
  return amp;
}

Napi::Function GradScalerWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeGradScaler",
                                    {
                                        InstanceAccessor<&GradScalerWrap::GetScale>("scale"),
                                        InstanceAccessor<&GradScalerWrap::GetGrowthTracker>("growthTracker"),
                                        InstanceMethod<&GradScalerWrap::SetState>("setState"),
                                        InstanceMethod<&GradScalerWrap::ScaleLoss>("scaleLoss"),
                                        InstanceMethod<&GradScalerWrap::Step>("step"),
                                        InstanceMethod<&GradScalerWrap::Update>("update"),
                                    });
  DataOf(env).gradScalerConstructor = Napi::Persistent(ctor);
  return ctor;
}

std::shared_ptr<GradScaler> GradScalerWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(DataOf(env).gradScalerConstructor.Value())) {
    throw TypeError(env, "Expected a GradScaler for " + what);
  }
  return Napi::ObjectWrap<GradScalerWrap>::Unwrap(value.As<Napi::Object>())->scaler_;
}

// new GradScaler({ initScale, growthFactor, backoffFactor, growthInterval }): checked in TypeScript.
GradScalerWrap::GradScalerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GradScalerWrap>(info) {
  GradScaler::Options options;
  if (info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    auto number = [&](const char* key, double fallback) {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
    };
    options.initScale = number("initScale", options.initScale);
    options.growthFactor = number("growthFactor", options.growthFactor);
    options.backoffFactor = number("backoffFactor", options.backoffFactor);
    options.growthInterval = static_cast<int64_t>(number("growthInterval", static_cast<double>(options.growthInterval)));
  }
  scaler_ = std::make_shared<GradScaler>(options);
}

Napi::Value GradScalerWrap::GetScale(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), scaler_->Scale()); }

Napi::Value GradScalerWrap::GetGrowthTracker(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(scaler_->GrowthTracker()));
}

// setState(scale, growthTracker): what a checkpoint restores, in call order on the compute queue.
Napi::Value GradScalerWrap::SetState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw TypeError(env, "Expected numbers for scale and growthTracker");
  const float scale = info[0].As<Napi::Number>().FloatValue();
  const int64_t tracker = info[1].As<Napi::Number>().Int64Value();
  std::shared_ptr<GradScaler> scaler = scaler_;
  ComputeQueue::PostDetached([scaler, scale, tracker] { scaler->SetState(scale, tracker); });
  return env.Undefined();
}

Napi::Value GradScalerWrap::ScaleLoss(const Napi::CallbackInfo& info) {
  torch::Tensor loss = TensorWrap::From(info[0], "loss");
  std::shared_ptr<GradScaler> scaler = scaler_;
  return RunCompute<torch::Tensor>(
      info.Env(), true, [scaler, loss]() { return scaler->ScaleLoss(loss); },
      [](Napi::Env env, torch::Tensor& t) -> Napi::Value { return TensorWrap::Wrap(env, t); });
}

Napi::Value GradScalerWrap::Step(const Napi::CallbackInfo& info) {
  std::shared_ptr<Optimizer> optimizer = OptimizerWrap::From(info[0], "optimizer");
  std::shared_ptr<GradScaler> scaler = scaler_;
  return RunCompute<bool>(
      info.Env(), false, [scaler, optimizer]() { return scaler->Step(*optimizer); },
      [](Napi::Env env, bool& stepped) -> Napi::Value { return Napi::Boolean::New(env, stepped); });
}

Napi::Value GradScalerWrap::Update(const Napi::CallbackInfo& info) {
  std::shared_ptr<GradScaler> scaler = scaler_;
  return RunCompute<bool>(
      info.Env(), false, [scaler]() { scaler->Update(); return true; },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

}  // namespace tt
