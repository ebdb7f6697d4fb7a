#include "optimizer.h"

#include "adam.h"
#include "addon_data.h"
#include "async_call.h"
#include "sgd.h"
#include "tensor.h"

namespace tt {

void Optimizer::ZeroGrad(bool setToNone) {
  for (auto& params : groups_) {
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
}

std::vector<torch::Tensor> Optimizer::Gradients() const {
  std::vector<torch::Tensor> out;
  for (const auto& params : groups_) {
    for (const auto& p : params) {
      if (p.grad().defined()) out.push_back(p.grad());
    }
  }
  return out;
}

void Optimizer::AddGroup(std::vector<torch::Tensor> params) {
  offset_.push_back(index_.size());
  for (size_t i = 0; i < params.size(); ++i) index_.emplace_back(groups_.size(), i);
  state_.resize(index_.size());
  groups_.push_back(std::move(params));
}

ParamState Optimizer::GetState(size_t index) const {
  TORCH_CHECK(index < state_.size(), "parameter index ", index, " out of range");
  return state_[index];
}

void Optimizer::SetState(size_t index, const ParamState& state) {
  TORCH_CHECK(index < state_.size(), "parameter index ", index, " out of range");
  const auto [group, i] = index_[index];
  const torch::Tensor& p = groups_[group][i];
  ParamState copy;
  copy.numbers = state.numbers;
  for (const auto& [name, t] : state.tensors) {
    TORCH_CHECK(t.sizes() == p.sizes(), "optimizer state ", name, " of parameter ", index, " has shape ", t.sizes(),
                " but its parameter has ", p.sizes());
    copy.tensors[name] = t.detach().to(p.device(), p.scalar_type()).clone();
  }
  state_[index] = std::move(copy);
}

Napi::Function OptimizerWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeOptimizer",
                                    {
                                        InstanceMethod<&OptimizerWrap::ZeroGrad>("zeroGrad"),
                                        InstanceMethod<&OptimizerWrap::Step>("step"),
                                        InstanceMethod<&OptimizerWrap::SetOption>("setOption"),
                                        InstanceMethod<&OptimizerWrap::State>("state"),
                                        InstanceMethod<&OptimizerWrap::SetState>("setState"),
                                    });
  DataOf(env).optimizerConstructor = Napi::Persistent(ctor);
  return ctor;
}

std::shared_ptr<Optimizer> OptimizerWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(DataOf(env).optimizerConstructor.Value())) {
    throw TypeError(env, "Expected a native optimizer for " + what);
  }
  return Napi::ObjectWrap<OptimizerWrap>::Unwrap(value.As<Napi::Object>())->optimizer_;
}

// new NativeOptimizer(kind, [{ params, ...options }])
OptimizerWrap::OptimizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<OptimizerWrap>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for kind");
  if (!info[1].IsArray()) throw TypeError(env, "Expected an array of parameter groups for groups");
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  Napi::Array groups = info[1].As<Napi::Array>();
  std::vector<std::vector<torch::Tensor>> params(groups.Length());
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Napi::Value group = groups.Get(g);
    const std::string where = "paramGroups[" + std::to_string(g) + "]";
    if (!group.IsObject() || !group.As<Napi::Object>().Get("params").IsArray()) throw TypeError(env, "Expected { params: Tensor[] } for " + where);
    Napi::Array list = group.As<Napi::Object>().Get("params").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) {
      params[g].push_back(TensorWrap::From(list.Get(i), where + ".params[" + std::to_string(i) + "]"));
    }
  }
  if (kind == "sgd") {
    optimizer_ = std::make_shared<SgdState>(std::move(params));
  } else if (kind == "adam" || kind == "adamw") {
    optimizer_ = std::make_shared<AdamState>(std::move(params), kind == "adamw");
  } else {
    throw TypeError(env, "Expected sgd, adam or adamw for kind, got " + kind);
  }
  for (uint32_t g = 0; g < groups.Length(); ++g) {
    Napi::Object group = groups.Get(g).As<Napi::Object>();
    Napi::Array names = group.GetPropertyNames();
    for (uint32_t k = 0; k < names.Length(); ++k) {
      const std::string name = names.Get(k).As<Napi::String>().Utf8Value();
      if (name == "params") continue;
      Napi::Value value = group.Get(name);
      if (!optimizer_->HasOption(name) || !(value.IsNumber() || value.IsBoolean())) {
        throw TypeError(env, "Expected a " + kind + " option with a number or boolean value, got " + name);
      }
      optimizer_->SetOption(g, name, value.IsBoolean() ? (value.As<Napi::Boolean>().Value() ? 1 : 0) : value.As<Napi::Number>().DoubleValue());
    }
  }
}

// zeroGrad(setToNone)
Napi::Value OptimizerWrap::ZeroGrad(const Napi::CallbackInfo& info) {
  const bool setToNone = info.Length() > 0 && info[0].ToBoolean().Value();
  std::shared_ptr<Optimizer> optimizer = optimizer_;
  ComputeQueue::PostDetached([optimizer, setToNone] { optimizer->ZeroGrad(setToNone); });
  return info.Env().Undefined();
}

Napi::Value OptimizerWrap::Step(const Napi::CallbackInfo& info) {
  std::shared_ptr<Optimizer> optimizer = optimizer_;
  return RunCompute<bool>(
      info.Env(), false,
      [optimizer]() {
        optimizer->Step();
        return true;
      },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

// setOption(group, name, value): a scheduler's new lr (or momentum) applies to
// steps called after it, even if earlier ones are still queued.
Napi::Value OptimizerWrap::SetOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsString() || !(info[2].IsNumber() || info[2].IsBoolean())) {
    throw TypeError(env, "Expected (group, name, number | boolean)");
  }
  const int64_t group = info[0].As<Napi::Number>().Int64Value();
  const std::string name = info[1].As<Napi::String>().Utf8Value();
  const double value = info[2].IsBoolean() ? (info[2].As<Napi::Boolean>().Value() ? 1 : 0) : info[2].As<Napi::Number>().DoubleValue();
  if (!optimizer_->HasOption(name)) throw TypeError(env, "This optimizer has no option " + name);
  if (group < 0 || group >= static_cast<int64_t>(optimizer_->NumGroups())) throw Napi::RangeError::New(env, "parameter group out of range");
  std::shared_ptr<Optimizer> optimizer = optimizer_;
  ComputeQueue::PostDetached([optimizer, group, name, value] { optimizer->SetOption(static_cast<size_t>(group), name, value); });
  return env.Undefined();
}

// The state as of every step called so far (it waits for queued steps, which
// create it): one object per parameter, or null before its first step. The
// tensors are the optimizer's own, as torch.optim's state_dict gives them.
Napi::Value OptimizerWrap::State(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Optimizer> optimizer = optimizer_;
  std::vector<ParamState> states = Guarded(env, [&] {
    return ComputeQueue::RunSync<std::vector<ParamState>>([optimizer] {
      std::vector<ParamState> out;
      for (size_t i = 0; i < optimizer->NumParams(); ++i) out.push_back(optimizer->GetState(i));
      return out;
    });
  });
  Napi::Array out = Napi::Array::New(env, states.size());
  for (size_t i = 0; i < states.size(); ++i) {
    if (states[i].tensors.empty() && states[i].numbers.empty()) {
      out.Set(i, env.Null());
      continue;
    }
    Napi::Object entry = Napi::Object::New(env);
    for (const auto& [name, value] : states[i].numbers) entry.Set(name, value);
    for (const auto& [name, t] : states[i].tensors) entry.Set(name, TensorWrap::Wrap(env, t));
    out.Set(i, entry);
  }
  return out;
}

// setState(index, { name: Tensor | number } | null), names and shapes checked in TypeScript.
Napi::Value OptimizerWrap::SetState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw TypeError(env, "Expected an integer for index");
  const int64_t index = info[0].As<Napi::Number>().Int64Value();
  if (index < 0 || index >= static_cast<int64_t>(optimizer_->NumParams())) throw Napi::RangeError::New(env, "parameter index out of range");
  ParamState state;
  if (info[1].IsObject()) {
    Napi::Object entry = info[1].As<Napi::Object>();
    Napi::Array names = entry.GetPropertyNames();
    for (uint32_t k = 0; k < names.Length(); ++k) {
      const std::string name = names.Get(k).As<Napi::String>().Utf8Value();
      Napi::Value value = entry.Get(name);
      if (value.IsNumber()) {
        state.numbers[name] = value.As<Napi::Number>().DoubleValue();
      } else {
        state.tensors[name] = TensorWrap::From(value, "state." + name);
      }
    }
  } else if (!info[1].IsNull() && !info[1].IsUndefined()) {
    throw TypeError(env, "Expected an object or null for state");
  }
  std::shared_ptr<Optimizer> optimizer = optimizer_;
  ComputeQueue::PostDetached([optimizer, index, state] { optimizer->SetState(static_cast<size_t>(index), state); });
  return env.Undefined();
}

}  // namespace tt
