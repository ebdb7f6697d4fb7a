// The builders registry.cc lists, one file per family.
#pragma once
#include "../registry.h"

namespace tt {

// resnet.cc
Arch ResNet18(const ArchOptions& options);
Arch ResNet34(const ArchOptions& options);
Arch ResNet50(const ArchOptions& options);
Arch ResNet101(const ArchOptions& options);
Arch ResNet152(const ArchOptions& options);
Arch ResNeXt50_32x4d(const ArchOptions& options);
Arch WideResNet50_2(const ArchOptions& options);

// mobilenet_v3.cc
Arch MobileNetV3Large(const ArchOptions& options);
Arch MobileNetV3Small(const ArchOptions& options);

// convnext.cc
Arch ConvNeXtTiny(const ArchOptions& options);

// efficientnet.cc
Arch EfficientNetB0(const ArchOptions& options);
Arch EfficientNetB1(const ArchOptions& options);
Arch EfficientNetB2(const ArchOptions& options);
Arch EfficientNetB3(const ArchOptions& options);

// vision_transformer.cc
Arch VitB16(const ArchOptions& options);

}  // namespace tt
