// torchvision's ResNet family (resnet.py): module for module and name for
// name, so that torchvision's state dicts load unchanged. Options: numClasses,
// zeroInitResidual.
#include "models.h"

#include <array>

namespace tt {

namespace {

struct BasicBlock : Layer {
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t inPlanes, int64_t planes, int64_t stride, ModulePtr downsample, int64_t, int64_t) : Layer("BasicBlock") {
    Add("conv1", Conv(inPlanes, planes, 3, stride, 1));
    Add("bn1", BatchNorm(planes));
    Add("relu", Relu());
    Add("conv2", Conv(planes, planes, 3, 1, 1));
    Add("bn2", BatchNorm(planes));
    if (downsample) Add("downsample", downsample);
    hasDownsample = downsample != nullptr;
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor out = Call("relu", Call("bn1", Call("conv1", x)));
    out = Call("bn2", Call("conv2", out));
    out += hasDownsample ? Call("downsample", x) : x;
    return Call("relu", out);
  }

  std::vector<std::pair<std::string, std::string>> ConvBatchNormPairs() const override { return {{"conv1", "bn1"}, {"conv2", "bn2"}}; }
  bool RunsOnMkldnn() const override { return true; }

  bool hasDownsample;
};

// The stride sits on the 3x3 convolution (conv2), as in torchvision ("ResNet V1.5").
struct Bottleneck : Layer {
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t inPlanes, int64_t planes, int64_t stride, ModulePtr downsample, int64_t groups, int64_t baseWidth)
      : Layer("Bottleneck") {
    const int64_t width = static_cast<int64_t>(planes * (baseWidth / 64.0)) * groups;
    Add("conv1", Conv(inPlanes, width, 1));
    Add("bn1", BatchNorm(width));
    Add("conv2", Conv(width, width, 3, stride, 1, groups));
    Add("bn2", BatchNorm(width));
    Add("conv3", Conv(width, planes * kExpansion, 1));
    Add("bn3", BatchNorm(planes * kExpansion));
    Add("relu", Relu());
    if (downsample) Add("downsample", downsample);
    hasDownsample = downsample != nullptr;
  }

  torch::Tensor forward(const torch::Tensor& x) override {
    torch::Tensor out = Call("relu", Call("bn1", Call("conv1", x)));
    out = Call("relu", Call("bn2", Call("conv2", out)));
    out = Call("bn3", Call("conv3", out));
    out += hasDownsample ? Call("downsample", x) : x;
    return Call("relu", out);
  }

  std::vector<std::pair<std::string, std::string>> ConvBatchNormPairs() const override {
    return {{"conv1", "bn1"}, {"conv2", "bn2"}, {"conv3", "bn3"}};
  }
  bool RunsOnMkldnn() const override { return true; }

  bool hasDownsample;
};

struct ResNet : Layer {
  ResNet() : Layer("ResNet") {}

  torch::Tensor features(const torch::Tensor& x) override {
    torch::Tensor out = Call("maxpool", Call("relu", Call("bn1", Call("conv1", x))));
    out = Call("layer4", Call("layer3", Call("layer2", Call("layer1", out))));
    return torch::flatten(Call("avgpool", out), 1);
  }

  torch::Tensor forward(const torch::Tensor& x) override { return Call("fc", features(x)); }

  std::vector<std::pair<std::string, std::string>> ConvBatchNormPairs() const override { return {{"conv1", "bn1"}}; }
  // flatten() gets avgpool's output, which the fast form gives back as an ordinary tensor.
  bool RunsOnMkldnn() const override { return true; }
};

template <typename Block>
std::shared_ptr<Seq> Stage(int64_t& inPlanes, int64_t planes, int64_t blocks, int64_t stride, int64_t groups, int64_t baseWidth) {
  ModulePtr downsample;
  if (stride != 1 || inPlanes != planes * Block::kExpansion) {
    downsample = std::make_shared<Seq>(std::vector<ModulePtr>{Conv(inPlanes, planes * Block::kExpansion, 1, stride).ptr(),
                                                              BatchNorm(planes * Block::kExpansion).ptr()});
  }
  auto stage = std::make_shared<Seq>();
  stage->Push(std::make_shared<Block>(inPlanes, planes, stride, downsample, groups, baseWidth));
  inPlanes = planes * Block::kExpansion;
  for (int64_t i = 1; i < blocks; ++i) stage->Push(std::make_shared<Block>(inPlanes, planes, 1, nullptr, groups, baseWidth));
  return stage;
}

template <typename Block>
Arch Build(std::array<int64_t, 4> layers, int64_t groups, int64_t widthPerGroup, const ArchOptions& options) {
  const int64_t numClasses = options.Int("numClasses", 1000);
  auto net = std::make_shared<ResNet>();
  int64_t inPlanes = 64;
  net->Add("conv1", Conv(3, 64, 7, 2, 3));
  net->Add("bn1", BatchNorm(64));
  net->Add("relu", Relu());
  net->Add("maxpool", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  net->Add("layer1", Stage<Block>(inPlanes, 64, layers[0], 1, groups, widthPerGroup));
  net->Add("layer2", Stage<Block>(inPlanes, 128, layers[1], 2, groups, widthPerGroup));
  net->Add("layer3", Stage<Block>(inPlanes, 256, layers[2], 2, groups, widthPerGroup));
  net->Add("layer4", Stage<Block>(inPlanes, 512, layers[3], 2, groups, widthPerGroup));
  net->Add("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
  net->Add("fc", Dense(512 * Block::kExpansion, numClasses));

  // torchvision's initialisation; Linear keeps its default (Kaiming-uniform).
  torch::NoGradGuard noGrad;
  for (auto& module : net->modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::constant_(bn->weight, 1);
      torch::nn::init::constant_(bn->bias, 0);
    }
  }
  // Each residual branch starts as the identity: its last BatchNorm scales by zero.
  if (options.Flag("zeroInitResidual", false)) {
    for (const auto& named : net->named_modules()) {
      auto* block = dynamic_cast<Layer*>(named.value().get());
      if (block == nullptr || (block->name() != "Bottleneck" && block->name() != "BasicBlock")) continue;
      const std::string last = block->name() == "Bottleneck" ? "bn3" : "bn2";
      torch::nn::init::constant_(block->named_children()[last]->as<torch::nn::BatchNorm2d>()->weight, 0);
    }
  }
  return {net, "fc"};
}

}  // namespace

Arch ResNet18(const ArchOptions& o) { return Build<BasicBlock>({2, 2, 2, 2}, 1, 64, o); }
Arch ResNet34(const ArchOptions& o) { return Build<BasicBlock>({3, 4, 6, 3}, 1, 64, o); }
Arch ResNet50(const ArchOptions& o) { return Build<Bottleneck>({3, 4, 6, 3}, 1, 64, o); }
Arch ResNet101(const ArchOptions& o) { return Build<Bottleneck>({3, 4, 23, 3}, 1, 64, o); }
Arch ResNet152(const ArchOptions& o) { return Build<Bottleneck>({3, 8, 36, 3}, 1, 64, o); }
Arch ResNeXt50_32x4d(const ArchOptions& o) { return Build<Bottleneck>({3, 4, 6, 3}, 32, 4, o); }
Arch WideResNet50_2(const ArchOptions& o) { return Build<Bottleneck>({3, 4, 6, 3}, 1, 64 * 2, o); }

}  // namespace tt
