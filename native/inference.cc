#include "inference.h"

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "layers.h"
#include "module.h"
#include "torch_compat.h"

namespace tt {

namespace {

struct ConvPlan {
  torch::Tensor weight, bias;  // folded, and laid out for the plan's layout
  std::vector<int64_t> stride, padding, dilation;
  int64_t groups = 1;
};

// What the plan was built from: each parameter and buffer with its storage and
// version, and a copy of each folded BatchNorm's running statistics.
struct Signature {
  std::vector<std::tuple<const void*, const void*, int64_t>> tensors;  // impl, data, version
  bool operator==(const Signature& other) const { return tensors == other.tensors; }
};

Signature SignatureOf(torch::nn::Module& root) {
  Signature s;
  auto add = [&s](const torch::Tensor& t) {
    if (!t.defined()) return;
    s.tensors.emplace_back(t.unsafeGetTensorImpl(), t.data_ptr(), static_cast<int64_t>(t._version()));
  };
  for (const auto& p : root.parameters(/*recurse=*/true)) add(p);
  for (const auto& b : root.buffers(/*recurse=*/true)) add(b);
  return s;
}

bool AnyTraining(torch::nn::Module& root) {
  for (const auto& m : root.modules(/*include_self=*/true)) {
    if (m->is_training()) return true;
  }
  return false;
}

// Mkldnn only for a CPU fp32 model where every Layer of the tree says its
// forward runs on mkldnn tensors (oneDNN's reordered weights take nothing
// else), else ChannelsLast. On the CPU a layout the probe refused
// (LayoutUsable, lib/layoutProbe.ts) falls back: Mkldnn to ChannelsLast,
// ChannelsLast to Contiguous; the probe runs oneDNN, which a GPU does not use.
InferenceLayout Effective(torch::nn::Module& root, InferenceLayout wanted) {
  if (wanted == InferenceLayout::Contiguous) return wanted;
  bool cpu = true, cpuFloat = true;
  for (const auto& p : root.parameters(/*recurse=*/true)) {
    cpu = cpu && p.device().is_cpu();
    cpuFloat = cpuFloat && p.device().is_cpu() && p.scalar_type() == torch::kFloat;
  }
  if (wanted == InferenceLayout::Mkldnn && cpuFloat && LayoutUsable(InferenceLayout::Mkldnn)) {
    bool allLayers = true;
    for (const auto& m : root.modules(/*include_self=*/true)) {
      auto* layer = dynamic_cast<Layer*>(m.get());
      allLayers = allLayers && (layer == nullptr || layer->RunsOnMkldnn());
    }
    if (allLayers) return InferenceLayout::Mkldnn;
  }
  return cpu && !LayoutUsable(InferenceLayout::ChannelsLast) ? InferenceLayout::Contiguous : InferenceLayout::ChannelsLast;
}

// Only zero-padded convolutions with explicit padding fold here (every registry one is).
bool Foldable(const torch::nn::Conv2dImpl& conv) {
  std::vector<int64_t> padding;
  return compat::ExplicitZeroPadding(conv.options, padding);
}

std::vector<int64_t> Vec(const torch::ExpandingArray<2>& a) { return {a->at(0), a->at(1)}; }

}  // namespace

struct InferencePlan : ModuleSubstitution {
  Signature signature;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> statistics;  // (running stat, copy at build)
  std::unordered_map<const torch::nn::Module*, ConvPlan> convs;
  std::unordered_set<const torch::nn::Module*> skipped;  // BatchNorms folded away
  InferenceLayout wanted = InferenceLayout::Contiguous;
  InferenceLayout layout = InferenceLayout::Contiguous;
  std::pair<bool, bool> usable;  // LayoutUsable(ChannelsLast), LayoutUsable(Mkldnn) at the build
  int64_t folded = 0;
  int64_t builds = 0;

  bool Current(torch::nn::Module& root, InferenceLayout want) const {
    if (want != wanted || !(SignatureOf(root) == signature)) return false;
    if (usable != std::make_pair(LayoutUsable(InferenceLayout::ChannelsLast), LayoutUsable(InferenceLayout::Mkldnn))) return false;
    for (const auto& [live, copy] : statistics) {
      if (!torch::equal(live, copy)) return false;
    }
    return true;
  }

  void Build(torch::nn::Module& root, InferenceLayout want) {
    torch::NoGradGuard noGrad;
    convs.clear();
    skipped.clear();
    statistics.clear();
    folded = 0;
    wanted = want;
    usable = {LayoutUsable(InferenceLayout::ChannelsLast), LayoutUsable(InferenceLayout::Mkldnn)};
    layout = Effective(root, want);
    std::unordered_map<const torch::nn::Module*, torch::nn::BatchNorm2dImpl*> bnOf;
    for (const auto& m : root.modules(/*include_self=*/true)) {
      auto* layer = dynamic_cast<Layer*>(m.get());
      if (layer == nullptr) continue;
      for (const auto& [convName, bnName] : layer->ConvBatchNormPairs()) {
        auto* conv = layer->Slot(convName)->as<torch::nn::Conv2d>();
        auto* bn = layer->Slot(bnName)->as<torch::nn::BatchNorm2d>();
        if (conv == nullptr || bn == nullptr || !Foldable(*conv) || !bn->options.track_running_stats()) continue;
        if (bn->options.num_features() != conv->options.out_channels()) continue;
        bnOf[conv] = bn;
      }
    }
    for (const auto& m : root.modules(/*include_self=*/true)) {
      auto* conv = m->as<torch::nn::Conv2d>();
      if (conv == nullptr || !Foldable(*conv)) continue;
      ConvPlan plan;
      plan.stride = Vec(conv->options.stride());
      compat::ExplicitZeroPadding(conv->options, plan.padding);
      plan.dilation = Vec(conv->options.dilation());
      plan.groups = conv->options.groups();
      torch::Tensor weight = conv->weight.detach();
      torch::Tensor bias = conv->bias.defined() ? conv->bias.detach() : torch::Tensor();
      auto found = bnOf.find(conv);
      if (found != bnOf.end()) {
        // w' = w * g / sqrt(var + eps), b' = (b - mean) * g / sqrt(var + eps) + beta,
        // worked in double so that folding adds no rounding of its own beyond the final cast.
        torch::nn::BatchNorm2dImpl& bn = *found->second;
        const auto dtype = weight.scalar_type();
        torch::Tensor scale = (bn.running_var.to(torch::kDouble) + bn.options.eps()).rsqrt();
        if (bn.options.affine()) scale = scale * bn.weight.detach().to(torch::kDouble);
        torch::Tensor shifted = (bias.defined() ? bias.to(torch::kDouble) : torch::zeros_like(scale)) - bn.running_mean.to(torch::kDouble);
        torch::Tensor newBias = shifted * scale;
        if (bn.options.affine()) newBias = newBias + bn.bias.detach().to(torch::kDouble);
        std::vector<int64_t> shape(weight.dim(), 1);
        shape[0] = -1;
        weight = (weight.to(torch::kDouble) * scale.view(shape)).to(dtype);
        bias = newBias.to(dtype);
        skipped.insert(found->second);
        statistics.emplace_back(bn.running_mean, bn.running_mean.clone());
        statistics.emplace_back(bn.running_var, bn.running_var.clone());
        ++folded;
      }
      if (layout == InferenceLayout::Mkldnn) {
        // As torch.utils.mkldnn converts a Conv2d: the weight reordered once into oneDNN's blocked form.
        weight = at::mkldnn_reorder_conv2d_weight(weight.contiguous().to_mkldnn(), plan.padding, plan.stride, plan.dilation, plan.groups);
        if (bias.defined()) bias = bias.contiguous().to_mkldnn();
      } else if (layout == InferenceLayout::ChannelsLast) {
        weight = weight.contiguous(at::MemoryFormat::ChannelsLast);
      } else {
        weight = weight.contiguous();
      }
      plan.weight = weight;
      plan.bias = bias;
      convs.emplace(conv, std::move(plan));
    }
    signature = SignatureOf(root);
    ++builds;
  }

  bool Run(torch::nn::Module& module, const torch::Tensor& x, torch::Tensor& out) const override {
    if (skipped.count(&module) != 0) {
      out = x;
      return true;
    }
    auto conv = convs.find(&module);
    if (conv != convs.end()) {
      const ConvPlan& p = conv->second;
      if (x.is_mkldnn()) {
        out = at::mkldnn_convolution(x, p.weight, p.bias, p.padding, p.stride, p.dilation, p.groups);
      } else {
        out = at::conv2d(x, p.weight, p.bias, p.stride, p.padding, p.dilation, p.groups);
      }
      return true;
    }
    if (!x.is_mkldnn() || dynamic_cast<Layer*>(&module) != nullptr) return false;
    // oneDNN tensors go on into ReLU and max pooling; anything else gets an ordinary tensor.
    if (module.as<torch::nn::ReLU>() != nullptr || module.as<torch::nn::MaxPool2d>() != nullptr) return false;
    out = Apply(module, x.to_dense());
    return true;
  }
};

InferenceLayout InferenceLayoutFromName(const std::string& name) {
  if (name == "contiguous") return InferenceLayout::Contiguous;
  if (name == "channels_last") return InferenceLayout::ChannelsLast;
  if (name == "mkldnn") return InferenceLayout::Mkldnn;
  throw std::invalid_argument("Expected \"contiguous\", \"channels_last\" or \"mkldnn\" for layout, got \"" + name + "\"");
}

std::string InferenceLayoutName(InferenceLayout layout) {
  switch (layout) {
    case InferenceLayout::Contiguous: return "contiguous";
    case InferenceLayout::ChannelsLast: return "channels_last";
    case InferenceLayout::Mkldnn: return "mkldnn";
  }
  return "contiguous";
}

// mkldnn measured fastest or level at batch 1 and 4 on the 2-core AVX2 EPYC
// (npm run bench -- --only serve, model alone; channels_last was the slowest
// at batch 4 there), as on the AVX-512 EPYC issue 13 measured. Trees that
// cannot take oneDNN tensors get channels_last.
InferenceLayout DefaultInferenceLayout() { return InferenceLayout::Mkldnn; }

namespace {
std::atomic<bool> channelsLastUsable{compat::kFastLayoutsTrustedWithoutProbe};
std::atomic<bool> mkldnnUsable{compat::kFastLayoutsTrustedWithoutProbe};
}  // namespace

bool LayoutUsable(InferenceLayout layout) {
  if (layout == InferenceLayout::ChannelsLast) return channelsLastUsable.load();
  if (layout == InferenceLayout::Mkldnn) return mkldnnUsable.load();
  return true;
}

void SetLayoutUsable(InferenceLayout layout, bool usable) {
  if (layout == InferenceLayout::ChannelsLast) channelsLastUsable.store(usable);
  if (layout == InferenceLayout::Mkldnn) mkldnnUsable.store(usable);
}

double LayoutSelfTest(InferenceLayout layout) {
  c10::InferenceMode inferenceMode;
  struct Case {
    int64_t in, out, kernel, stride, groups, size;
  };
  // ResNet's stem, 3x3 and 1x1/3x3 stride-2 downsamples (layer4's 256 to 512
  // is the one seen wrong), and MobileNet/EfficientNet's depthwise 3x3.
  const Case cases[] = {{3, 64, 7, 2, 1, 32},    {64, 64, 3, 1, 1, 16},   {64, 128, 1, 2, 1, 16},
                        {256, 512, 1, 2, 1, 14}, {256, 512, 3, 2, 1, 14}, {96, 96, 3, 1, 96, 16}};
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20261204);
  double worst = 0;
  for (const Case& c : cases) {
    const std::vector<int64_t> stride{c.stride, c.stride}, padding{c.kernel / 2, c.kernel / 2}, dilation{1, 1};
    torch::Tensor x = at::rand({2, c.in, c.size, c.size}, gen, torch::kFloat);
    torch::Tensor w = at::rand({c.out, c.in / c.groups, c.kernel, c.kernel}, gen, torch::kFloat) - 0.5;
    torch::Tensor b = at::rand({c.out}, gen, torch::kFloat);
    auto rest = [](const torch::Tensor& y) { return torch::max_pool2d(torch::relu(y) + y, {3, 3}, {2, 2}, {1, 1}); };
    torch::Tensor expected = rest(at::conv2d(x, w, b, stride, padding, dilation, c.groups));
    torch::Tensor got;
    if (layout == InferenceLayout::Mkldnn) {
      torch::Tensor wm = at::mkldnn_reorder_conv2d_weight(w.to_mkldnn(), padding, stride, dilation, c.groups);
      got = rest(at::mkldnn_convolution(x.to_mkldnn(), wm, b.to_mkldnn(), padding, stride, dilation, c.groups)).to_dense();
    } else {
      const auto format = layout == InferenceLayout::ChannelsLast ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
      got = rest(at::conv2d(x.contiguous(format), w.contiguous(format), b, stride, padding, dilation, c.groups));
    }
    worst = std::max(worst, (got - expected).abs().max().item<double>() / expected.abs().max().item<double>());
  }
  return worst;
}

torch::Tensor InferenceForwardInMode(NativeModule& model, const torch::Tensor& input, InferenceLayout layout) {
  torch::nn::Module& root = *model.module;
  if (AnyTraining(root)) return model.forward(input);
  if (!model.inference) model.inference = std::make_shared<InferencePlan>();
  InferencePlan& plan = *model.inference;
  if (!plan.Current(root, layout)) plan.Build(root, layout);
  torch::Tensor x = input;
  if (input.dim() == 4 && input.device().is_cpu() && input.scalar_type() == torch::kFloat) {
    if (plan.layout == InferenceLayout::Mkldnn) {
      x = input.to_mkldnn();
    } else if (plan.layout == InferenceLayout::ChannelsLast) {
      x = input.contiguous(at::MemoryFormat::ChannelsLast);
    }
  }
  SubstitutionGuard guard(&plan);
  torch::Tensor out = model.forward(x);
  return out.is_mkldnn() ? out.to_dense() : out;
}

torch::Tensor InferenceForward(NativeModule& model, const torch::Tensor& input, InferenceLayout layout) {
  torch::Tensor out;
  {
    c10::InferenceMode inferenceMode;
    out = InferenceForwardInMode(model, input, layout);
  }
  // An inference tensor cannot be written in place or saved for backward
  // outside InferenceMode; the logits are small, so hand back an ordinary copy.
  return out.is_inference() ? out.clone() : out;
}

InferenceInfo InferenceInfoOf(const NativeModule& model) {
  InferenceInfo info;
  if (!model.inference) return info;
  info.folded = model.inference->folded;
  info.builds = model.inference->builds;
  info.layout = model.inference->layout;
  return info;
}

}  // namespace tt
