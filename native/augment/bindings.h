// Bindings for torchvision's augmentations on 8-bit RGB images (PIL's path):
// colour and histogram operations and affine warps, each on libuv's pool like
// resizeImage, plus the matrices the warps take, computed with the C
// library's maths as Python's math module does.
#pragma once
#include "torch_pch.h"

namespace tt {
// async: (uint8 HWC, h, w, 3, op, value) -> Uint8Array of the same size;
//   op: brightness | contrast | saturation | sharpness (value: factor), hue (value: the hue byte's shift),
//   posterize (bits), solarize (threshold), autocontrast | equalize | invert (value ignored)
Napi::Value AdjustImage(const Napi::CallbackInfo& info);
// async: (uint8 HWC, h, w, 3, { matrix?, quarterTurns?, bilinear, fill: [r, g, b], outHeight, outWidth }) -> Uint8Array
Napi::Value WarpImage(const Napi::CallbackInfo& info);
// sync: (h, w, angle, expand, center: [x, y] | null) -> { transpose, quarterTurns, matrix, outHeight, outWidth }
Napi::Value RotatePlan(const Napi::CallbackInfo& info);
// sync: (cx, cy, angle, tx, ty, scale, shearX, shearY) -> number[6]
Napi::Value InverseAffineMatrix(const Napi::CallbackInfo& info);
// sync: (x) -> math.degrees(math.atan(x))
Napi::Value AtanDegrees(const Napi::CallbackInfo& info);
// sync: (start, end, steps) -> Float32Array: torch.linspace in float32 by the
// linked libtorch's own kernel. The magnitude bins of TrivialAugment and
// RandAugment are linspaces, and its rounding changed between releases (1.13 and
// 2.6 differ in the last bit of some bins), so no formula of ours can match
// every version: the kernel itself does.
Napi::Value Linspace(const Napi::CallbackInfo& info);
}  // namespace tt
