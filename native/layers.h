// The pieces every architecture is built from. A Layer runs its children by
// name through the slots it registered them in, so that a child replaced by
// path (`fc`, `classifier.3`, `heads.head`) is the one that runs next time,
// as assigning an attribute does in PyTorch.
#pragma once
#include "torch_pch.h"

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tt {

using ModulePtr = std::shared_ptr<torch::nn::Module>;

struct Layer : torch::nn::Module {
  // `name` is torchvision's class name (Sequential, Bottleneck, ...), which kind reports.
  explicit Layer(std::string name) : torch::nn::Module(std::move(name)) {}

  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // A whole model's input to its classifier layer; parts of models have none.
  virtual torch::Tensor features(const torch::Tensor& x);
  // Children (conv, batchnorm) where the Conv2d's output goes only into the
  // BatchNorm2d, so eval mode may fold the one into the other (native/inference.h).
  virtual std::vector<std::pair<std::string, std::string>> ConvBatchNormPairs() const { return {}; }
  // Whether forward() uses only ops that take oneDNN (mkldnn) tensors: its
  // children through Call(), and in-place adds of their outputs.
  virtual bool RunsOnMkldnn() const { return false; }

  template <typename M>
  std::shared_ptr<M> Add(const std::string& name, std::shared_ptr<M> module) {
    register_module(name, module);
    slots_.emplace_back(name, module);
    return module;
  }
  template <typename Holder>
  auto Add(const std::string& name, Holder holder) -> std::decay_t<decltype(holder.ptr())> {
    return Add(name, holder.ptr());
  }

  // Swaps the child `name` (which must exist) for `module`, keeping its place.
  void Replace(const std::string& name, ModulePtr module);
  torch::Tensor Call(const std::string& name, const torch::Tensor& x) const;
  ModulePtr Slot(const std::string& name) const;

 protected:
  std::vector<std::pair<std::string, ModulePtr>> slots_;
};

// nn.Sequential: children named 0, 1, 2, ... run in order.
struct Seq : Layer {
  // `kind`: torchvision's subclasses of Sequential (Conv2dNormActivation) keep their own name.
  explicit Seq(std::string kind = "Sequential") : Layer(std::move(kind)) {}
  explicit Seq(std::vector<ModulePtr> modules, std::string kind = "Sequential");
  Seq& Push(ModulePtr module);
  torch::Tensor forward(const torch::Tensor& x) override;
  // The output of all but the last `skip` children (a classifier without its final Linear).
  torch::Tensor ForwardFirst(const torch::Tensor& x, size_t skip) const;
  size_t size() const { return slots_.size(); }
  // Each Conv2d directly followed by a BatchNorm2d: in a Sequential, one feeds the next.
  std::vector<std::pair<std::string, std::string>> ConvBatchNormPairs() const override;
  bool RunsOnMkldnn() const override { return true; }
};

// A parameter-free function as a module (Hardswish, Hardsigmoid, ...), so that it
// shows in the module tree where torchvision has it.
struct Fn : Layer {
  Fn(std::string name, std::function<torch::Tensor(const torch::Tensor&)> fn) : Layer(std::move(name)), fn_(std::move(fn)) {}
  torch::Tensor forward(const torch::Tensor& x) override { return fn_(x); }

 private:
  std::function<torch::Tensor(const torch::Tensor&)> fn_;
};

// ops.StochasticDepth(p, "row"): in training, each sample's residual branch is
// dropped with probability p and the survivors scaled by 1 / (1 - p); the identity in eval.
struct StochasticDepth : Layer {
  explicit StochasticDepth(double p) : Layer("StochasticDepth"), p(p) {}
  torch::Tensor forward(const torch::Tensor& x) override;
  double p;
};

// torchvision's _make_divisible(v, divisor): the nearest multiple of divisor, never more than 10% down.
int64_t MakeDivisible(double v, int64_t divisor = 8);

// Runs any module of the tree: ours, or one of the libtorch modules torchvision's trees use.
// While a ModuleSubstitution is active on this thread, it is asked first.
torch::Tensor Apply(torch::nn::Module& module, const torch::Tensor& x);

// Another way to run some modules of a tree (the fused eval form): Run gives
// true and sets `out` for a module it runs itself.
struct ModuleSubstitution {
  virtual ~ModuleSubstitution() = default;
  virtual bool Run(torch::nn::Module& module, const torch::Tensor& x, torch::Tensor& out) const = 0;
};

// Makes `substitution` the one Apply asks on this thread while the guard lives.
class SubstitutionGuard {
 public:
  explicit SubstitutionGuard(const ModuleSubstitution* substitution);
  ~SubstitutionGuard();
  SubstitutionGuard(const SubstitutionGuard&) = delete;
  SubstitutionGuard& operator=(const SubstitutionGuard&) = delete;

 private:
  const ModuleSubstitution* previous_;
};

// torchvision's class name for a module: "Linear" for torch::nn::LinearImpl.
std::string KindOf(const torch::nn::Module& module);

// The submodule at a dotted path ("" is `root` itself), or an error naming the missing part.
ModulePtr ChildAt(const ModulePtr& root, const std::string& path);
// Replaces the submodule at a dotted path, as `model.classifier[3] = nn.Linear(...)` does.
void ReplaceAt(const ModulePtr& root, const std::string& path, ModulePtr module);

// Building blocks with torchvision's options.
torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, int64_t groups = 1,
                       bool bias = false, int64_t dilation = 1);
torch::nn::BatchNorm2d BatchNorm(int64_t channels, double eps = 1e-5, double momentum = 0.1);
torch::nn::ReLU Relu(bool inplace = true);
torch::nn::Linear Dense(int64_t in, int64_t out, bool bias = true);

}  // namespace tt
