// SGD: PyTorch's torch.optim.SGD update, with momentum buffers we own so that
// checkpoints can save and restore them.
//   sync:  zeroGrad(), lr (get/set), momentumBuffers(), setMomentumBuffer()
//   async: step()
// State the compute thread uses (gradients, lr, buffers) changes only on the
// compute queue, in call order; the synchronous calls post their change there.
#pragma once
#include "torch_pch.h"

#include <memory>
#include <vector>

namespace tt {

struct SgdState {
  std::vector<torch::Tensor> params;
  std::vector<torch::Tensor> momentumBuffers;  // undefined until the first step that has a gradient
  double lr = 1e-3, momentum = 0, dampening = 0, weightDecay = 0;
  bool nesterov = false;

  // setToNone: drop gradients (PyTorch 2's default); otherwise zero them in
  // place (PyTorch 1.13's default), which reuses their memory step after step.
  void ZeroGrad(bool setToNone = false);
  void Step();
};

class SgdWrap : public Napi::ObjectWrap<SgdWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static std::shared_ptr<SgdState> From(const Napi::Value& value, const std::string& what);
  explicit SgdWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Lr(const Napi::CallbackInfo& info);
  void SetLr(const Napi::CallbackInfo& info, const Napi::Value& value);
  Napi::Value MomentumBuffers(const Napi::CallbackInfo& info);
  Napi::Value SetMomentumBuffer(const Napi::CallbackInfo& info);

  std::shared_ptr<SgdState> state_;
  double lr_;  // as JavaScript last set it; the queued change reaches state_->lr in call order
};

}  // namespace tt
