// Pillow's resampling (Image.resize with BILINEAR or BICUBIC), reproduced to the bit so
// that our Resize and RandomResizedCrop give torchvision's PIL pixels.
#pragma once
#include <cstdint>

namespace tt {

// A read-only view of 8-bit interleaved pixels; `stride` is bytes per row, so
// a crop of a larger image can be resized without copying it first.
struct PixelView {
  const uint8_t* data;
  int height, width, channels;
  int64_t stride;
};

// The part of a resized image to compute: a crop taken right after the resize
// costs only its own pixels, and they come out as they would have.
struct Window {
  int top, left, height, width;
};

// Pillow's filters torchvision's InterpolationMode names reach.
enum class Interpolation { kBilinear, kBicubic };

// Resizes `src` to outHeight x outWidth as Pillow does (a horizontal then a
// vertical pass, each with fixed-point coefficients and rounding back to 8
// bits) and writes the `window` of the result to `dst` (window.height *
// window.width * channels bytes).
void Resize(const PixelView& src, int outHeight, int outWidth, const Window& window, uint8_t* dst, Interpolation interpolation);

}  // namespace tt
