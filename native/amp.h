// Mixed precision as torch.amp does it: autocast for a block of forward work,
// and GradScaler's loss scaling with its inf check and scale schedule.
//
// GradScaler: new GradScaler({ initScale, growthFactor, backoffFactor, growthInterval })
//   sync:  scale (number), growthTracker (number), setState(scale, growthTracker)
//   async: scaleLoss(loss) -> Tensor, step(optimizer) -> boolean (stepped), update()
// Its state changes only on the compute queue, in call order; the sync reads
// take a lock and see the last finished change.
#pragma once
#include "torch_pch.h"

#include <memory>
#include <mutex>
#include <vector>

namespace tt {

class Optimizer;

// torch.autocast(device_type, dtype) as a scope on the calling thread (the
// compute thread): entered as __enter__ does, left as __exit__ does, clearing
// the cast-weights cache when the outermost one ends.
class AutocastScope {
 public:
  AutocastScope(c10::DeviceType device, c10::ScalarType dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  c10::DeviceType device_;
  bool previousEnabled_;
  c10::ScalarType previousDtype_;
};

// torch.amp.GradScaler's arithmetic, device-generic. The scale is a float32
// value as torch keeps it (a one-element float32 tensor).
class GradScaler {
 public:
  struct Options {
    double initScale = 65536.0, growthFactor = 2.0, backoffFactor = 0.5;
    int64_t growthInterval = 2000;
  };
  explicit GradScaler(const Options& options);

  // loss * scale (scaler.scale(loss)).
  torch::Tensor ScaleLoss(const torch::Tensor& loss) const;
  // scaler.step(optimizer): unscales every gradient in place, and steps only
  // when none holds an inf or NaN. Returns whether it stepped.
  bool Step(Optimizer& optimizer);
  // scaler.update(): backoff after an inf, growth after growthInterval clean steps.
  void Update();

  float Scale() const;
  int64_t GrowthTracker() const;
  void SetState(float scale, int64_t growthTracker);

 private:
  // Whether any gradient is inf or NaN; every one multiplied by 1/scale either way.
  bool UnscaleAndCheck(const std::vector<torch::Tensor>& grads, float scale) const;

  Options options_;
  mutable std::mutex mutex_;
  float scale_;
  int64_t growthTracker_ = 0;
  bool foundInf_ = false, stepped_ = false;
};

// What a training step runs under: autocast (device type and dtype) or none,
// and a GradScaler or none.
struct AmpOptions {
  bool autocast = false;
  c10::DeviceType device = c10::DeviceType::CPU;
  c10::ScalarType dtype = c10::ScalarType::BFloat16;
  std::shared_ptr<GradScaler> scaler;
};
// { device: "cpu" | "cuda", dtype: "bfloat16" | "float16", scaler?: GradScaler } | null | undefined
AmpOptions ParseAmpOptions(const Napi::Value& value);

class GradScalerWrap : public Napi::ObjectWrap<GradScalerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static std::shared_ptr<GradScaler> From(const Napi::Value& value, const std::string& what);
  explicit GradScalerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value GetScale(const Napi::CallbackInfo& info);
  Napi::Value GetGrowthTracker(const Napi::CallbackInfo& info);
  Napi::Value SetState(const Napi::CallbackInfo& info);
  Napi::Value ScaleLoss(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);

  std::shared_ptr<GradScaler> scaler_;
};

}  // namespace tt
