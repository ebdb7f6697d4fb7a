#include "resnet.h"

namespace tt {

namespace {

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

torch::nn::BatchNorm2d Norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(channels).eps(1e-5).momentum(0.1));
}

torch::nn::Sequential Stage(int64_t& inPlanes, int64_t planes, int64_t stride) {
  torch::nn::Sequential stage;
  stage->push_back(BasicBlock(inPlanes, planes, stride));
  inPlanes = planes;
  stage->push_back(BasicBlock(inPlanes, planes, 1));
  return stage;
}

}  // namespace

BasicBlockImpl::BasicBlockImpl(int64_t inPlanes, int64_t planes, int64_t stride) {
  conv1 = register_module("conv1", Conv(inPlanes, planes, 3, stride, 1));
  bn1 = register_module("bn1", Norm(planes));
  relu = register_module("relu", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  conv2 = register_module("conv2", Conv(planes, planes, 3, 1, 1));
  bn2 = register_module("bn2", Norm(planes));
  if (stride != 1 || inPlanes != planes) {
    downsample = register_module("downsample", torch::nn::Sequential(Conv(inPlanes, planes, 1, stride, 0), Norm(planes)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = relu(bn1(conv1(x)));
  out = bn2(conv2(out));
  out += downsample ? downsample->forward(x) : x;
  return relu(out);
}

ResNetImpl::ResNetImpl(int64_t numClasses) {
  int64_t inPlanes = 64;
  conv1 = register_module("conv1", Conv(3, 64, 7, 2, 3));
  bn1 = register_module("bn1", Norm(64));
  relu = register_module("relu", torch::nn::ReLU(torch::nn::ReLUOptions(true)));
  maxpool = register_module("maxpool", torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  layer1 = register_module("layer1", Stage(inPlanes, 64, 1));
  layer2 = register_module("layer2", Stage(inPlanes, 128, 2));
  layer3 = register_module("layer3", Stage(inPlanes, 256, 2));
  layer4 = register_module("layer4", Stage(inPlanes, 512, 2));
  avgpool = register_module("avgpool", torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions({1, 1})));
  fc = register_module("fc", torch::nn::Linear(512, numClasses));

  // torchvision's initialisation; Linear keeps its default (Kaiming-uniform).
  torch::NoGradGuard noGrad;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::constant_(bn->weight, 1);
      torch::nn::init::constant_(bn->bias, 0);
    }
  }
}

torch::Tensor ResNetImpl::features(const torch::Tensor& x) {
  torch::Tensor out = maxpool(relu(bn1(conv1(x))));
  out = layer4->forward(layer3->forward(layer2->forward(layer1->forward(out))));
  return torch::flatten(avgpool(out), 1);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& x) { return fc(features(x)); }

}  // namespace tt
