// torchvision's EfficientNet B0-B3 (efficientnet.py): module tree, names,
// initialisation and forward as torchvision has them. Options: numClasses,
// dropout, stochasticDepthProb.
#include "models.h"

#include <cmath>

namespace tt {

namespace {

// libtorch's SiLU has no inplace option; the values are the same.
ModulePtr Silu() { return torch::nn::SiLU().ptr(); }

// ops.misc.Conv2dNormActivation with BatchNorm2d's defaults and SiLU, or no activation.
ModulePtr ConvNormActivation(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, bool activation) {
  auto seq = std::make_shared<Seq>("Conv2dNormActivation");
  seq->Push(Conv(in, out, kernel, stride, (kernel - 1) / 2, groups).ptr());
  seq->Push(BatchNorm(out).ptr());
  if (activation) seq->Push(Silu());
  return seq;
}

// ops.misc.SqueezeExcitation with SiLU inside and Sigmoid as its scale.
struct SqueezeExcitation : Layer {
  SqueezeExcitation(int64_t channels, int64_t squeeze) : Layer("SqueezeExcitation") {
    Add("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
    Add("fc1", Conv(channels, squeeze, 1, 1, 0, 1, /*bias=*/true));
    Add("fc2", Conv(squeeze, channels, 1, 1, 0, 1, /*bias=*/true));
    Add("activation", Silu());
    Add("scale_activation", std::make_shared<Fn>("Sigmoid", [](const torch::Tensor& x) { return torch::sigmoid(x); }));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor scale = Call("fc2", Call("activation", Call("fc1", Call("avgpool", x))));
    return Call("scale_activation", scale) * x;
  }
};

// One block of a stage, after _MBConvConfig's channel rounding.
struct BlockConfig {
  double expandRatio;
  int64_t kernel, stride, in, out;
};

struct MBConv : Layer {
  MBConv(const BlockConfig& c, double sdProb) : Layer("MBConv") {
    residual = c.stride == 1 && c.in == c.out;
    const int64_t expanded = MakeDivisible(c.in * c.expandRatio);
    auto block = std::make_shared<Seq>();
    if (expanded != c.in) block->Push(ConvNormActivation(c.in, expanded, 1, 1, 1, true));
    block->Push(ConvNormActivation(expanded, expanded, c.kernel, c.stride, expanded, true));
    block->Push(std::make_shared<SqueezeExcitation>(expanded, std::max<int64_t>(1, c.in / 4)));
    block->Push(ConvNormActivation(expanded, c.out, 1, 1, 1, false));
    Add("block", block);
    Add("stochastic_depth", std::make_shared<StochasticDepth>(sdProb));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor out = Call("block", x);
    return residual ? Call("stochastic_depth", out) + x : out;
  }

  bool residual;
};

struct EfficientNet : Layer {
  EfficientNet() : Layer("EfficientNet") {}

  // The classifier's input to its Linear: pooled features through Dropout.
  torch::Tensor features(const torch::Tensor& x) override {
    auto classifier = std::dynamic_pointer_cast<Seq>(Slot("classifier"));
    if (!classifier) throw std::runtime_error("features() needs EfficientNet's classifier to be a Sequential");
    return classifier->ForwardFirst(torch::flatten(Call("avgpool", Call("features", x)), 1), 1);
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return Call("classifier", torch::flatten(Call("avgpool", Call("features", x)), 1));
  }
};

// A row of _efficientnet_conf's table for the B models, before width and depth scaling.
struct StageConfig {
  double expandRatio;
  int64_t kernel, stride, in, out, layers;
};

Arch Build(double widthMult, double depthMult, double defaultDropout, const ArchOptions& options) {
  const int64_t numClasses = options.Int("numClasses", 1000);
  const double dropout = options.Number("dropout", defaultDropout);
  const double sdProb = options.Number("stochasticDepthProb", 0.2);
  const std::vector<StageConfig> table = {{1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},  {6, 3, 2, 40, 80, 3},
                                          {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}};
  std::vector<StageConfig> stages;
  int64_t total = 0;
  for (StageConfig s : table) {
    s.in = MakeDivisible(s.in * widthMult);
    s.out = MakeDivisible(s.out * widthMult);
    s.layers = static_cast<int64_t>(std::ceil(s.layers * depthMult));
    total += s.layers;
    stages.push_back(s);
  }

  auto net = std::make_shared<EfficientNet>();
  auto features = std::make_shared<Seq>();
  features->Push(ConvNormActivation(3, stages.front().in, 3, 2, 1, true));
  int64_t blockId = 0;
  for (const StageConfig& s : stages) {
    auto stage = std::make_shared<Seq>();
    for (int64_t i = 0; i < s.layers; ++i, ++blockId) {
      // The first block of a stage changes width and stride; the others keep them.
      const BlockConfig c{s.expandRatio, s.kernel, i == 0 ? s.stride : 1, i == 0 ? s.in : s.out, s.out};
      stage->Push(std::make_shared<MBConv>(c, sdProb * static_cast<double>(blockId) / static_cast<double>(total)));
    }
    features->Push(stage);
  }
  const int64_t lastConv = 4 * stages.back().out;
  features->Push(ConvNormActivation(stages.back().out, lastConv, 1, 1, 1, true));
  net->Add("features", features);
  net->Add("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
  net->Add("classifier", std::make_shared<Seq>(std::vector<ModulePtr>{
                             torch::nn::Dropout(torch::nn::DropoutOptions(dropout).inplace(true)).ptr(), Dense(lastConv, numClasses).ptr()}));

  torch::NoGradGuard noGrad;
  for (auto& module : net->modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      const double range = 1.0 / std::sqrt(static_cast<double>(linear->options.out_features()));
      torch::nn::init::uniform_(linear->weight, -range, range);
      torch::nn::init::zeros_(linear->bias);
    }
  }
  return {net, "classifier.1"};
}

}  // namespace

// efficientnet_bN's width and depth multipliers and classifier dropout.
Arch EfficientNetB0(const ArchOptions& o) { return Build(1.0, 1.0, 0.2, o); }
Arch EfficientNetB1(const ArchOptions& o) { return Build(1.0, 1.1, 0.2, o); }
Arch EfficientNetB2(const ArchOptions& o) { return Build(1.1, 1.2, 0.3, o); }
Arch EfficientNetB3(const ArchOptions& o) { return Build(1.2, 1.4, 0.3, o); }

}  // namespace tt
