#include "registry.h"

#include <cmath>
#include <stdexcept>

#include "models/models.h"

namespace tt {

namespace {

const std::map<std::string, ArchBuilder>& Builders() {
  static const std::map<std::string, ArchBuilder> table = {
      {"resnet18", ResNet18},
      {"resnet34", ResNet34},
      {"resnet50", ResNet50},
      {"resnet101", ResNet101},
      {"resnet152", ResNet152},
      {"resnext50_32x4d", ResNeXt50_32x4d},
      {"wide_resnet50_2", WideResNet50_2},
      {"mobilenet_v3_large", MobileNetV3Large},
      {"mobilenet_v3_small", MobileNetV3Small},
      {"convnext_tiny", ConvNeXtTiny},
      {"efficientnet_b0", EfficientNetB0},
      {"efficientnet_b1", EfficientNetB1},
      {"efficientnet_b2", EfficientNetB2},
      {"efficientnet_b3", EfficientNetB3},
      {"vit_b_16", VitB16},
  };
  return table;
}

}  // namespace

double ArchOptions::Number(const std::string& name, double fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

int64_t ArchOptions::Int(const std::string& name, int64_t fallback) const {
  const double v = Number(name, static_cast<double>(fallback));
  if (std::floor(v) != v || v < 1) throw std::invalid_argument("Expected a positive integer for " + name);
  return static_cast<int64_t>(v);
}

bool ArchOptions::Flag(const std::string& name, bool fallback) const { return Number(name, fallback ? 1 : 0) != 0; }

Arch CreateArch(const std::string& name, const ArchOptions& options) {
  auto it = Builders().find(name);
  if (it == Builders().end()) {
    std::string known;
    for (const auto& n : ArchNames()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("Unknown architecture '" + name + "' (known: " + known + ")");
  }
  return it->second(options);
}

std::vector<std::string> ArchNames() {
  std::vector<std::string> names;
  for (const auto& entry : Builders()) names.push_back(entry.first);
  return names;
}

}  // namespace tt
