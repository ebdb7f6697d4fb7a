// torchvision's ResNet-18, module for module and name for name, so that
// torchvision's state dicts load unchanged.
#pragma once
#include "torch_pch.h"

namespace tt {

struct BasicBlockImpl : torch::nn::Module {
  BasicBlockImpl(int64_t inPlanes, int64_t planes, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::Conv2d conv2{nullptr};
  torch::nn::BatchNorm2d bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

struct ResNetImpl : torch::nn::Module {
  // ResNet-18: two BasicBlocks per stage.
  explicit ResNetImpl(int64_t numClasses);
  torch::Tensor forward(const torch::Tensor& x);
  // Everything before fc: the 512 pooled features a linear probe trains on.
  torch::Tensor features(const torch::Tensor& x);

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::ReLU relu{nullptr};
  torch::nn::MaxPool2d maxpool{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  torch::nn::AdaptiveAvgPool2d avgpool{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace tt
