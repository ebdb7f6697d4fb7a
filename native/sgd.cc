#include "sgd.h"

namespace tt {

SgdState::SgdState(std::vector<std::vector<torch::Tensor>> groups) {
  for (auto& params : groups) AddGroup(std::move(params));
  options_.resize(NumGroups());
}

// torch.optim.SGD's single-tensor update, step for step, group by group.
void SgdState::Step() {
  torch::NoGradGuard noGrad;
  for (size_t g = 0; g < NumGroups(); ++g) {
    const Options& o = options_[g];
    std::vector<torch::Tensor>& params = GroupParams(g);
    for (size_t i = 0; i < params.size(); ++i) {
      torch::Tensor& p = params[i];
      if (!p.grad().defined()) continue;
      torch::Tensor d_p = p.grad();
      if (o.weightDecay != 0) d_p = d_p.add(p, o.weightDecay);
      if (o.momentum != 0) {
        auto& tensors = StateOf(g, i).tensors;
        auto found = tensors.find("momentumBuffer");
        torch::Tensor buf;
        if (found == tensors.end()) {
          buf = tensors["momentumBuffer"] = torch::clone(d_p).detach();
        } else {
          buf = found->second;
          buf.mul_(o.momentum).add_(d_p, 1 - o.dampening);
        }
        d_p = o.nesterov ? d_p.add(buf, o.momentum) : buf;
      }
      p.add_(d_p, -o.lr);
    }
  }
}

bool SgdState::HasOption(const std::string& name) const {
  return name == "lr" || name == "momentum" || name == "dampening" || name == "weightDecay" || name == "nesterov";
}

void SgdState::SetOption(size_t group, const std::string& name, double value) {
  TORCH_CHECK(group < options_.size(), "parameter group ", group, " out of range");
  Options& o = options_[group];
  if (name == "lr") o.lr = value;
  else if (name == "momentum") o.momentum = value;
  else if (name == "dampening") o.dampening = value;
  else if (name == "weightDecay") o.weightDecay = value;
  else if (name == "nesterov") o.nesterov = value != 0;
  else TORCH_CHECK(false, "SGD has no option ", name);
}

}  // namespace tt
