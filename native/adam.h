// Adam and AdamW: torch.optim.Adam's and AdamW's single-tensor updates (PyTorch
// 1.13), per parameter group. State per parameter: step, expAvg, expAvgSq and,
// with amsgrad, maxExpAvgSq.
#pragma once
#include "optimizer.h"

namespace tt {

class AdamState : public Optimizer {
 public:
  // decoupled: AdamW's weight decay (the weights shrink by lr * weightDecay),
  // rather than Adam's (weightDecay * weights added to the gradient).
  AdamState(std::vector<std::vector<torch::Tensor>> groups, bool decoupled);
  void Step() override;
  bool HasOption(const std::string& name) const override;
  void SetOption(size_t group, const std::string& name, double value) override;

 private:
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0;
    bool amsgrad = false;
  };
  bool decoupled_;
  std::vector<Options> options_;
};

}  // namespace tt
