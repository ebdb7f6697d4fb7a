#include "layers.h"

#include <algorithm>
#include <stdexcept>

namespace tt {

torch::Tensor Layer::features(const torch::Tensor&) {
  throw std::runtime_error("features() needs a whole model, not a " + name());
}

void Layer::Replace(const std::string& name, ModulePtr module) {
  for (auto& slot : slots_) {
    if (slot.first != name) continue;
    replace_module(name, module);
    slot.second = std::move(module);
    return;
  }
  throw std::runtime_error(this->name() + " has no child named '" + name + "'");
}

torch::Tensor Layer::Call(const std::string& name, const torch::Tensor& x) const { return Apply(*Slot(name), x); }

ModulePtr Layer::Slot(const std::string& name) const {
  for (const auto& slot : slots_) {
    if (slot.first == name) return slot.second;
  }
  throw std::runtime_error(this->name() + " has no child named '" + name + "'");
}

torch::Tensor StochasticDepth::forward(const torch::Tensor& x) {
  if (!is_training() || p == 0) return x;
  const double survival = 1.0 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  torch::Tensor noise = torch::empty(shape, x.options()).bernoulli_(survival);
  if (survival > 0) noise.div_(survival);
  return x * noise;
}

int64_t MakeDivisible(double v, int64_t divisor) {
  int64_t out = std::max<int64_t>(divisor, static_cast<int64_t>(v + divisor / 2.0) / divisor * divisor);
  if (out < 0.9 * v) out += divisor;
  return out;
}

Seq::Seq(std::vector<ModulePtr> modules, std::string kind) : Seq(std::move(kind)) {
  for (auto& m : modules) Push(std::move(m));
}

Seq& Seq::Push(ModulePtr module) {
  Add(std::to_string(slots_.size()), std::move(module));
  return *this;
}

torch::Tensor Seq::forward(const torch::Tensor& x) { return ForwardFirst(x, 0); }

torch::Tensor Seq::ForwardFirst(const torch::Tensor& x, size_t skip) const {
  torch::Tensor out = x;
  for (size_t i = 0; i + skip < slots_.size(); ++i) out = Apply(*slots_[i].second, out);
  return out;
}

namespace {
thread_local const ModuleSubstitution* activeSubstitution = nullptr;
}  // namespace

SubstitutionGuard::SubstitutionGuard(const ModuleSubstitution* substitution) : previous_(activeSubstitution) {
  activeSubstitution = substitution;
}

SubstitutionGuard::~SubstitutionGuard() { activeSubstitution = previous_; }

std::vector<std::pair<std::string, std::string>> Seq::ConvBatchNormPairs() const {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i + 1 < slots_.size(); ++i) {
    if (slots_[i].second->as<torch::nn::Conv2d>() && slots_[i + 1].second->as<torch::nn::BatchNorm2d>()) {
      pairs.emplace_back(slots_[i].first, slots_[i + 1].first);
    }
  }
  return pairs;
}

torch::Tensor Apply(torch::nn::Module& module, const torch::Tensor& x) {
  if (activeSubstitution != nullptr) {
    torch::Tensor out;
    if (activeSubstitution->Run(module, x, out)) return out;
  }
  if (auto* layer = dynamic_cast<Layer*>(&module)) return layer->forward(x);
  if (auto* m = module.as<torch::nn::Conv2d>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::BatchNorm2d>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::ReLU>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::Linear>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::MaxPool2d>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::AdaptiveAvgPool2d>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::Dropout>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::Identity>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::Flatten>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::SiLU>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::GELU>()) return m->forward(x);
  if (auto* m = module.as<torch::nn::LayerNorm>()) return m->forward(x);
  throw std::runtime_error("cannot run a module of type " + KindOf(module));
}

std::string KindOf(const torch::nn::Module& module) {
  std::string name = module.name();
  const std::string prefix = "torch::nn::";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  if (name.size() > 4 && name.compare(name.size() - 4, 4, "Impl") == 0) name.resize(name.size() - 4);
  return name;
}

namespace {

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

ModulePtr ChildAt(const ModulePtr& root, const std::string& path) {
  ModulePtr current = root;
  if (path.empty()) return current;
  std::string walked;
  for (const std::string& part : Split(path)) {
    const auto children = current->named_children();
    const ModulePtr* next = children.find(part);
    if (next == nullptr) {
      throw std::runtime_error("no submodule '" + part + "' in " + (walked.empty() ? KindOf(*root) : walked) +
                               " (path '" + path + "')");
    }
    current = *next;
    walked = walked.empty() ? part : walked + "." + part;
  }
  return current;
}

void ReplaceAt(const ModulePtr& root, const std::string& path, ModulePtr module) {
  if (path.empty()) throw std::runtime_error("cannot replace a model itself; give a child's path");
  const size_t dot = path.rfind('.');
  const std::string parentPath = dot == std::string::npos ? "" : path.substr(0, dot);
  const std::string name = dot == std::string::npos ? path : path.substr(dot + 1);
  ModulePtr parent = ChildAt(root, parentPath);
  auto* layer = dynamic_cast<Layer*>(parent.get());
  if (layer == nullptr) throw std::runtime_error("cannot replace children of a " + KindOf(*parent) + " (path '" + path + "')");
  ChildAt(parent, name);  // names a missing child the way ChildAt does
  layer->Replace(name, std::move(module));
}

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding, int64_t groups, bool bias,
                       int64_t dilation) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).groups(groups).bias(bias).dilation(dilation));
}

torch::nn::BatchNorm2d BatchNorm(int64_t channels, double eps, double momentum) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(channels).eps(eps).momentum(momentum));
}

torch::nn::ReLU Relu(bool inplace) { return torch::nn::ReLU(torch::nn::ReLUOptions(inplace)); }

torch::nn::Linear Dense(int64_t in, int64_t out, bool bias) { return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias)); }

}  // namespace tt
