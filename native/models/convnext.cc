// torchvision's ConvNeXt-Tiny (convnext.py): module tree, names and forward
// as torchvision has them. Options: numClasses, stochasticDepthProb.
#include "models.h"

namespace tt {

namespace {

// torchvision's LayerNorm2d: LayerNorm over the channels of an NCHW tensor.
struct LayerNorm2d : Layer {
  LayerNorm2d(int64_t channels, double eps) : Layer("LayerNorm2d"), channels(channels), eps(eps) {
    weight = register_parameter("weight", torch::ones({channels}));
    bias = register_parameter("bias", torch::zeros({channels}));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor y = torch::layer_norm(x.permute({0, 2, 3, 1}), {channels}, weight, bias, eps);
    return y.permute({0, 3, 1, 2});
  }

  int64_t channels;
  double eps;
  torch::Tensor weight, bias;
};

ModulePtr Permute(std::vector<int64_t> dims) {
  return std::make_shared<Fn>("Permute", [dims](const torch::Tensor& x) { return x.permute(dims); });
}

struct CNBlock : Layer {
  CNBlock(int64_t dim, double layerScale, double sdProb) : Layer("CNBlock") {
    Add("block", std::make_shared<Seq>(std::vector<ModulePtr>{
                     Conv(dim, dim, 7, 1, 3, dim, /*bias=*/true).ptr(), Permute({0, 2, 3, 1}),
                     torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)).ptr(), Dense(dim, 4 * dim).ptr(),
                     torch::nn::GELU().ptr(), Dense(4 * dim, dim).ptr(), Permute({0, 3, 1, 2})}));
    layer_scale = register_parameter("layer_scale", torch::ones({dim, 1, 1}) * layerScale);
    Add("stochastic_depth", std::make_shared<StochasticDepth>(sdProb));
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor out = Call("stochastic_depth", layer_scale * Call("block", x));
    return out + x;
  }

  torch::Tensor layer_scale;
};

struct ConvNeXt : Layer {
  ConvNeXt() : Layer("ConvNeXt") {}

  // The classifier's input to its Linear: pooled, LayerNorm2d-ed and flattened features.
  torch::Tensor features(const torch::Tensor& x) override {
    auto classifier = std::dynamic_pointer_cast<Seq>(Slot("classifier"));
    if (!classifier) throw std::runtime_error("features() needs ConvNeXt's classifier to be a Sequential");
    return classifier->ForwardFirst(Call("avgpool", Call("features", x)), 1);
  }

  torch::Tensor forward(const torch::Tensor& x) override { return Call("classifier", Call("avgpool", Call("features", x))); }
};

struct StageConfig {
  int64_t in, out, layers;  // out 0: no downsampling after the stage
};

Arch Build(const std::vector<StageConfig>& stages, double defaultSdProb, const ArchOptions& options) {
  const int64_t numClasses = options.Int("numClasses", 1000);
  const double sdProb = options.Number("stochasticDepthProb", defaultSdProb);
  auto net = std::make_shared<ConvNeXt>();
  auto features = std::make_shared<Seq>();
  auto stem = std::make_shared<Seq>("Conv2dNormActivation");
  stem->Push(Conv(3, stages.front().in, 4, 4, 0, 1, /*bias=*/true).ptr());
  stem->Push(std::make_shared<LayerNorm2d>(stages.front().in, 1e-6));
  features->Push(stem);
  int64_t total = 0;
  for (const auto& s : stages) total += s.layers;
  int64_t blockId = 0;
  for (const auto& s : stages) {
    auto stage = std::make_shared<Seq>();
    for (int64_t i = 0; i < s.layers; ++i, ++blockId) {
      stage->Push(std::make_shared<CNBlock>(s.in, 1e-6, sdProb * blockId / (total - 1.0)));
    }
    features->Push(stage);
    if (s.out != 0) {
      features->Push(std::make_shared<Seq>(std::vector<ModulePtr>{std::make_shared<LayerNorm2d>(s.in, 1e-6),
                                                                  Conv(s.in, s.out, 2, 2, 0, 1, /*bias=*/true).ptr()}));
    }
  }
  const int64_t last = stages.back().out != 0 ? stages.back().out : stages.back().in;
  net->Add("features", features);
  net->Add("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
  net->Add("classifier", std::make_shared<Seq>(std::vector<ModulePtr>{
                             std::make_shared<LayerNorm2d>(last, 1e-6), torch::nn::Flatten().ptr(), Dense(last, numClasses).ptr()}));

  // torchvision's trunc_normal_(std=0.02) truncates at +-2 absolute, 100 standard
  // deviations out: a plain normal draw is the same distribution.
  torch::NoGradGuard noGrad;
  for (auto& module : net->modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::normal_(conv->weight, 0, 0.02);
      if (conv->bias.defined()) torch::nn::init::zeros_(conv->bias);
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(linear->weight, 0, 0.02);
      if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
    }
  }
  return {net, "classifier.2"};
}

}  // namespace

Arch ConvNeXtTiny(const ArchOptions& o) { return Build({{96, 192, 3}, {192, 384, 3}, {384, 768, 9}, {768, 0, 3}}, 0.1, o); }

}  // namespace tt
