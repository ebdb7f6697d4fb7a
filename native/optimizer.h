// Optimizer: what a training step needs of any optimizer (SgdState, AdamState),
// and the one JavaScript class that binds them all.
//   sync:  zeroGrad(), setOption(), state(), setState()
//   async: step()
// State the compute thread uses (gradients, options, per-parameter state)
// changes only on the compute queue, in call order; the synchronous calls post
// their change there.
#pragma once
#include "torch_pch.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tt {

// One parameter's optimizer state, as torch.optim's state_dict holds it:
// tensors (momentumBuffer, expAvg, ...) and numbers (step). Empty before the
// parameter's first step.
struct ParamState {
  std::map<std::string, torch::Tensor> tensors;
  std::map<std::string, double> numbers;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // setToNone: drop gradients (PyTorch 2's default); otherwise zero them in
  // place (PyTorch 1.13's default), which reuses their memory step after step.
  void ZeroGrad(bool setToNone = false);
  virtual void Step() = 0;

  // A group's hyper-parameter by name (lr, momentum, beta1, ...; booleans as 0 or 1).
  virtual bool HasOption(const std::string& name) const = 0;
  virtual void SetOption(size_t group, const std::string& name, double value) = 0;

  // Parameters are numbered across groups, in order, as torch.optim's state_dict numbers them.
  size_t NumParams() const { return index_.size(); }
  size_t NumGroups() const { return groups_.size(); }
  // Every parameter's gradient that is defined, in parameter order (what GradScaler unscales).
  std::vector<torch::Tensor> Gradients() const;
  ParamState GetState(size_t index) const;
  // Tensors are moved to the parameter's device and dtype, as load_state_dict does.
  void SetState(size_t index, const ParamState& state);

 protected:
  // Called once per group, in order, before any other call.
  void AddGroup(std::vector<torch::Tensor> params);
  std::vector<torch::Tensor>& GroupParams(size_t group) { return groups_[group]; }
  // The state of the `i`th parameter of `group`.
  ParamState& StateOf(size_t group, size_t i) { return state_[offset_[group] + i]; }

 private:
  std::vector<std::vector<torch::Tensor>> groups_;
  std::vector<size_t> offset_;                      // the first global index of each group
  std::vector<std::pair<size_t, size_t>> index_;    // global index -> (group, position)
  std::vector<ParamState> state_;
};

// new Optimizer(kind, groups): kind "sgd", "adam" or "adamw"; groups an array of
// { params: Tensor[], <option>: number | boolean, ... }, checked in TypeScript.
class OptimizerWrap : public Napi::ObjectWrap<OptimizerWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static std::shared_ptr<Optimizer> From(const Napi::Value& value, const std::string& what);
  explicit OptimizerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value SetOption(const Napi::CallbackInfo& info);
  Napi::Value State(const Napi::CallbackInfo& info);
  Napi::Value SetState(const Napi::CallbackInfo& info);

  std::shared_ptr<Optimizer> optimizer_;
};

}  // namespace tt
