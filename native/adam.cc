#include "adam.h"

#include <cmath>

namespace tt {

AdamState::AdamState(std::vector<std::vector<torch::Tensor>> groups, bool decoupled) : decoupled_(decoupled) {
  for (auto& params : groups) AddGroup(std::move(params));
  options_.resize(NumGroups());
}

// torch.optim.Adam's and AdamW's _single_tensor_* functions of PyTorch 1.13,
// op for op, so that the same libtorch gives the same bits. The bias
// corrections are double-precision scalars, as Python computes them.
void AdamState::Step() {
  torch::NoGradGuard noGrad;
  for (size_t g = 0; g < NumGroups(); ++g) {
    const Options& o = options_[g];
    std::vector<torch::Tensor>& params = GroupParams(g);
    for (size_t i = 0; i < params.size(); ++i) {
      torch::Tensor& p = params[i];
      if (!p.grad().defined()) continue;
      ParamState& state = StateOf(g, i);
      if (state.tensors.empty()) {
        state.numbers["step"] = 0;
        state.tensors["expAvg"] = torch::zeros_like(p, torch::MemoryFormat::Preserve);
        state.tensors["expAvgSq"] = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      }
      // amsgrad may be switched on after the first step; PyTorch would fail, we start the maximum from zero.
      if (o.amsgrad && !state.tensors.count("maxExpAvgSq")) {
        state.tensors["maxExpAvgSq"] = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      }
      torch::Tensor grad = p.grad();
      torch::Tensor& expAvg = state.tensors["expAvg"];
      torch::Tensor& expAvgSq = state.tensors["expAvgSq"];
      double& step = state.numbers["step"];
      step += 1;
      if (decoupled_) {
        p.mul_(1 - o.lr * o.weightDecay);
      } else if (o.weightDecay != 0) {
        grad = grad.add(p, o.weightDecay);
      }
      expAvg.mul_(o.beta1).add_(grad, 1 - o.beta1);
      expAvgSq.mul_(o.beta2).addcmul_(grad, grad, 1 - o.beta2);
      const double biasCorrection1 = 1 - std::pow(o.beta1, step);
      const double biasCorrection2 = 1 - std::pow(o.beta2, step);
      const double stepSize = o.lr / biasCorrection1;
      const double biasCorrection2Sqrt = std::sqrt(biasCorrection2);
      torch::Tensor denom;
      if (o.amsgrad) {
        torch::Tensor& maxExpAvgSq = state.tensors["maxExpAvgSq"];
        torch::maximum_out(maxExpAvgSq, maxExpAvgSq, expAvgSq);
        denom = (maxExpAvgSq.sqrt() / biasCorrection2Sqrt).add_(o.eps);
      } else {
        denom = (expAvgSq.sqrt() / biasCorrection2Sqrt).add_(o.eps);
      }
      p.addcdiv_(expAvg, denom, -stepSize);
    }
  }
}

bool AdamState::HasOption(const std::string& name) const {
  return name == "lr" || name == "beta1" || name == "beta2" || name == "eps" || name == "weightDecay" || name == "amsgrad";
}

void AdamState::SetOption(size_t group, const std::string& name, double value) {
  TORCH_CHECK(group < options_.size(), "parameter group ", group, " out of range");
  Options& o = options_[group];
  if (name == "lr") o.lr = value;
  else if (name == "beta1") o.beta1 = value;
  else if (name == "beta2") o.beta2 = value;
  else if (name == "eps") o.eps = value;
  else if (name == "weightDecay") o.weightDecay = value;
  else if (name == "amsgrad") o.amsgrad = value != 0;
  else TORCH_CHECK(false, "Adam has no option ", name);
}

}  // namespace tt
