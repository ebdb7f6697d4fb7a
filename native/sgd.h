// SGD: torch.optim.SGD's update, per parameter group, with momentum buffers
// we own so that checkpoints can save and restore them.
#pragma once
#include "optimizer.h"

namespace tt {

class SgdState : public Optimizer {
 public:
  explicit SgdState(std::vector<std::vector<torch::Tensor>> groups);
  void Step() override;
  bool HasOption(const std::string& name) const override;
  void SetOption(size_t group, const std::string& name, double value) override;

 private:
  struct Options {
    double lr = 1e-3, momentum = 0, dampening = 0, weightDecay = 0;
    bool nesterov = false;
  };
  std::vector<Options> options_;
};

}  // namespace tt
