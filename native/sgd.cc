#include "sgd.h"

#include "addon_data.h"
#include "async_call.h"
#include "tensor.h"

namespace tt {

void SgdState::ZeroGrad(bool setToNone) {
  for (auto& p : params) {
    torch::Tensor& grad = p.mutable_grad();
    if (!grad.defined()) continue;
    if (setToNone) {
      grad.reset();
    } else {
      // Fresh gradient memory every step costs page faults; zeroing keeps it.
      if (grad.grad_fn()) {
        grad = grad.detach();
      } else {
        grad.requires_grad_(false);
      }
      grad.zero_();
    }
  }
}

// torch.optim.SGD's single-tensor update, step for step.
void SgdState::Step() {
  torch::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); ++i) {
    torch::Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    torch::Tensor d_p = p.grad();
    if (weightDecay != 0) d_p = d_p.add(p, weightDecay);
    if (momentum != 0) {
      torch::Tensor& buf = momentumBuffers[i];
      if (!buf.defined()) {
        buf = torch::clone(d_p).detach();
      } else {
        buf.mul_(momentum).add_(d_p, 1 - dampening);
      }
      d_p = nesterov ? d_p.add(buf, momentum) : buf;
    }
    p.add_(d_p, -lr);
  }
}

Napi::Function SgdWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeSGD",
                                    {
                                        InstanceMethod<&SgdWrap::ZeroGrad>("zeroGrad"),
                                        InstanceMethod<&SgdWrap::Step>("step"),
                                        InstanceAccessor<&SgdWrap::Lr, &SgdWrap::SetLr>("lr"),
                                        InstanceMethod<&SgdWrap::MomentumBuffers>("momentumBuffers"),
                                        InstanceMethod<&SgdWrap::SetMomentumBuffer>("setMomentumBuffer"),
                                    });
  DataOf(env).sgdConstructor = Napi::Persistent(ctor);
  return ctor;
}

std::shared_ptr<SgdState> SgdWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(DataOf(env).sgdConstructor.Value())) {
    throw TypeError(env, "Expected a native SGD for " + what);
  }
  return Napi::ObjectWrap<SgdWrap>::Unwrap(value.As<Napi::Object>())->state_;
}

// new NativeSGD(params, lr, momentum, dampening, weightDecay, nesterov)
SgdWrap::SgdWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SgdWrap>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw TypeError(env, "Expected an array of Tensors for params");
  for (int i = 1; i <= 4; ++i) {
    if (!info[i].IsNumber()) throw TypeError(env, "Expected numbers for lr, momentum, dampening and weightDecay");
  }
  state_ = std::make_shared<SgdState>();
  Napi::Array params = info[0].As<Napi::Array>();
  for (uint32_t i = 0; i < params.Length(); ++i) state_->params.push_back(TensorWrap::From(params.Get(i), "params[" + std::to_string(i) + "]"));
  state_->momentumBuffers.resize(state_->params.size());
  state_->lr = lr_ = info[1].As<Napi::Number>().DoubleValue();
  state_->momentum = info[2].As<Napi::Number>().DoubleValue();
  state_->dampening = info[3].As<Napi::Number>().DoubleValue();
  state_->weightDecay = info[4].As<Napi::Number>().DoubleValue();
  state_->nesterov = info[5].ToBoolean().Value();
}

// zeroGrad(setToNone)
Napi::Value SgdWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  const bool setToNone = info.Length() > 0 && info[0].ToBoolean().Value();
  std::shared_ptr<SgdState> state = state_;
  ComputeQueue::PostDetached([state, setToNone] { state->ZeroGrad(setToNone); });
  return info.Env().Undefined();
}

Napi::Value SgdWrap::Step(const Napi::CallbackInfo& info) {
  std::shared_ptr<SgdState> state = state_;
  return RunCompute<bool>(
      info.Env(), false,
      [state]() {
        state->Step();
        return true;
      },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

Napi::Value SgdWrap::Lr(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), lr_); }

// A scheduler's new lr applies to steps called after it, even if earlier ones are still queued.
void SgdWrap::SetLr(const Napi::CallbackInfo& info, const Napi::Value& value) {
  if (!value.IsNumber()) throw TypeError(info.Env(), "Expected a number for lr");
  const double lr = lr_ = value.As<Napi::Number>().DoubleValue();
  std::shared_ptr<SgdState> state = state_;
  ComputeQueue::PostDetached([state, lr] { state->lr = lr; });
}

// The buffers as of every step called so far: it waits for queued steps, which
// create them.
Napi::Value SgdWrap::MomentumBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<SgdState> state = state_;
  std::vector<torch::Tensor> buffers =
      Guarded(env, [&] { return ComputeQueue::RunSync<std::vector<torch::Tensor>>([state] { return state->momentumBuffers; }); });
  Napi::Array out = Napi::Array::New(env, buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    out.Set(i, buffers[i].defined() ? Napi::Value(TensorWrap::Wrap(env, buffers[i])) : env.Null());
  }
  return out;
}

// setMomentumBuffer(index, tensor | null): restores a buffer from a checkpoint, on the parameter's device.
Napi::Value SgdWrap::SetMomentumBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw TypeError(env, "Expected an integer for index");
  const int64_t i = info[0].As<Napi::Number>().Int64Value();
  if (i < 0 || i >= static_cast<int64_t>(state_->params.size())) throw Napi::RangeError::New(env, "momentum buffer index out of range");
  if (info[1].IsNull() || info[1].IsUndefined()) {
    std::shared_ptr<SgdState> state = state_;
    ComputeQueue::PostDetached([state, i] { state->momentumBuffers[i] = torch::Tensor(); });
  } else {
    torch::Tensor value = TensorWrap::From(info[1], "buffer");
    std::shared_ptr<SgdState> state = state_;
    Guarded(env, [&] {
      const torch::Tensor& p = state_->params[i];
      TORCH_CHECK(value.sizes() == p.sizes(), "momentum buffer ", i, " has shape ", value.sizes(), " but its parameter has ", p.sizes());
      ComputeQueue::PostDetached([state, i, value] {
        const torch::Tensor& p = state->params[i];
        state->momentumBuffers[i] = value.detach().to(p.device(), p.scalar_type()).clone();
      });
    });
  }
  return env.Undefined();
}

}  // namespace tt
