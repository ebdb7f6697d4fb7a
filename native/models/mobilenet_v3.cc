// torchvision's MobileNetV3 (mobilenetv3.py), large and small: module tree,
// names and initialisation as torchvision has them. Options: numClasses, dropout.
#include "models.h"

#include <cmath>

namespace tt {

namespace {

ModulePtr Activation(bool hardswish) {
  if (hardswish) return std::make_shared<Fn>("Hardswish", [](const torch::Tensor& x) { return torch::hardswish(x); });
  return Relu().ptr();
}

ModulePtr Hardsigmoid() {
  return std::make_shared<Fn>("Hardsigmoid", [](const torch::Tensor& x) { return torch::hardsigmoid(x); });
}

// ops.misc.Conv2dNormActivation: convolution, BatchNorm(eps 1e-3, momentum 0.01), and an activation unless none.
ModulePtr ConvNormActivation(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, ModulePtr activation) {
  auto seq = std::make_shared<Seq>("Conv2dNormActivation");
  seq->Push(Conv(in, out, kernel, stride, (kernel - 1) / 2, groups).ptr());
  seq->Push(BatchNorm(out, 1e-3, 0.01).ptr());
  if (activation) seq->Push(activation);
  return seq;
}

// ops.misc.SqueezeExcitation with Hardsigmoid as its scale.
struct SqueezeExcitation : Layer {
  SqueezeExcitation(int64_t channels, int64_t squeeze) : Layer("SqueezeExcitation") {
    Add("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
    Add("fc1", Conv(channels, squeeze, 1, 1, 0, 1, /*bias=*/true));
    Add("fc2", Conv(squeeze, channels, 1, 1, 0, 1, /*bias=*/true));
    Add("activation", Relu(false));
    Add("scale_activation", Hardsigmoid());
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor scale = Call("fc2", Call("activation", Call("fc1", Call("avgpool", x))));
    return Call("scale_activation", scale) * x;
  }
};

struct BlockConfig {
  int64_t in, kernel, expanded, out;
  bool se, hardswish;
  int64_t stride;
};

struct InvertedResidual : Layer {
  explicit InvertedResidual(const BlockConfig& c) : Layer("InvertedResidual") {
    residual = c.stride == 1 && c.in == c.out;
    auto block = std::make_shared<Seq>();
    if (c.expanded != c.in) block->Push(ConvNormActivation(c.in, c.expanded, 1, 1, 1, Activation(c.hardswish)));
    block->Push(ConvNormActivation(c.expanded, c.expanded, c.kernel, c.stride, c.expanded, Activation(c.hardswish)));
    if (c.se) block->Push(std::make_shared<SqueezeExcitation>(c.expanded, MakeDivisible(c.expanded / 4)));
    block->Push(ConvNormActivation(c.expanded, c.out, 1, 1, 1, nullptr));
    Add("block", block);
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor out = Call("block", x);
    return residual ? out + x : out;
  }

  bool residual;
};

struct MobileNetV3 : Layer {
  MobileNetV3() : Layer("MobileNetV3") {}

  // The classifier's input to its last Linear: pooled features through Linear, Hardswish and Dropout.
  torch::Tensor features(const torch::Tensor& x) override {
    torch::Tensor pooled = torch::flatten(Call("avgpool", Call("features", x)), 1);
    auto classifier = std::dynamic_pointer_cast<Seq>(Slot("classifier"));
    if (!classifier) throw std::runtime_error("features() needs MobileNetV3's classifier to be a Sequential");
    return classifier->ForwardFirst(pooled, 1);
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    return Call("classifier", torch::flatten(Call("avgpool", Call("features", x)), 1));
  }
};

Arch Build(const std::vector<BlockConfig>& blocks, int64_t lastChannel, const ArchOptions& options) {
  const int64_t numClasses = options.Int("numClasses", 1000);
  const double dropout = options.Number("dropout", 0.2);
  auto net = std::make_shared<MobileNetV3>();
  auto features = std::make_shared<Seq>();
  features->Push(ConvNormActivation(3, blocks.front().in, 3, 2, 1, Activation(true)));
  for (const BlockConfig& c : blocks) features->Push(std::make_shared<InvertedResidual>(c));
  const int64_t lastConv = 6 * blocks.back().out;
  features->Push(ConvNormActivation(blocks.back().out, lastConv, 1, 1, 1, Activation(true)));
  net->Add("features", features);
  net->Add("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
  net->Add("classifier", std::make_shared<Seq>(std::vector<ModulePtr>{
                             Dense(lastConv, lastChannel).ptr(), Activation(true),
                             torch::nn::Dropout(torch::nn::DropoutOptions(dropout).inplace(true)).ptr(),
                             Dense(lastChannel, numClasses).ptr()}));

  torch::NoGradGuard noGrad;
  for (auto& module : net->modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(linear->weight, 0, 0.01);
      torch::nn::init::zeros_(linear->bias);
    }
  }
  return {net, "classifier.3"};
}

}  // namespace

// The tables of _mobilenet_v3_conf: in, kernel, expanded, out, SE, Hardswish, stride.
Arch MobileNetV3Large(const ArchOptions& o) {
  return Build({{16, 3, 16, 16, false, false, 1},    {16, 3, 64, 24, false, false, 2},   {24, 3, 72, 24, false, false, 1},
                {24, 5, 72, 40, true, false, 2},     {40, 5, 120, 40, true, false, 1},   {40, 5, 120, 40, true, false, 1},
                {40, 3, 240, 80, false, true, 2},    {80, 3, 200, 80, false, true, 1},   {80, 3, 184, 80, false, true, 1},
                {80, 3, 184, 80, false, true, 1},    {80, 3, 480, 112, true, true, 1},   {112, 3, 672, 112, true, true, 1},
                {112, 5, 672, 160, true, true, 2},   {160, 5, 960, 160, true, true, 1},  {160, 5, 960, 160, true, true, 1}},
               1280, o);
}

Arch MobileNetV3Small(const ArchOptions& o) {
  return Build({{16, 3, 16, 16, true, false, 2},  {16, 3, 72, 24, false, false, 2}, {24, 3, 88, 24, false, false, 1},
                {24, 5, 96, 40, true, true, 2},   {40, 5, 240, 40, true, true, 1},  {40, 5, 240, 40, true, true, 1},
                {40, 5, 120, 48, true, true, 1},  {48, 5, 144, 48, true, true, 1},  {48, 5, 288, 96, true, true, 2},
                {96, 5, 576, 96, true, true, 1},  {96, 5, 576, 96, true, true, 1}},
               1024, o);
}

}  // namespace tt
