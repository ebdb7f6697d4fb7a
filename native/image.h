// Bindings for 8-bit image work done before a tensor exists: decoding JPEG
// and resizing, each on libuv's pool, single-threaded so that several images
// can be in flight while libtorch keeps its threads for the model.
#pragma once
#include "torch_pch.h"

namespace tt {
// async: (path | Uint8Array) -> { data, width, height } | null (not a JPEG this build decodes)
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info);
// async: (uint8 HWC, h, w, c, outH, outW[, crop, window]) -> Uint8Array; boxes are [top, left, height, width]
Napi::Value ResizeImage(const Napi::CallbackInfo& info);
// sync: (uint8 HWC, h, w, c[, mean, std]) -> float32 CHW Tensor, ToTensor (and Normalize)
Napi::Value ImageToTensor(const Napi::CallbackInfo& info);
}  // namespace tt
