// JPEG decoding with libjpeg-turbo, set up as Pillow sets it up (the islow
// IDCT, fancy upsampling, output in RGB), so that a JPEG decodes to the same
// 8-bit pixels PIL's Image.open(f).convert("RGB") gives on the same library.
#pragma once
#include <cstdint>

#include "pixel_buffer.h"

namespace tt {

struct DecodedImage {
  PixelBuffer pixels;  // height * width * 3, HWC
  int width = 0, height = 0;
};

// PIL's decompression-bomb limit (2 * Image.MAX_IMAGE_PIXELS), past which
// Image.open raises: a few hundred bytes of header may claim 65535 x 65535
// pixels, and we refuse before allocating them, as PyTorch's loader would.
constexpr uint64_t kMaxImagePixels = 2 * 89478485ull;

// More scans than any encoder writes (libjpeg-turbo's advice for untrusted
// input): each scan of a progressive JPEG passes over the whole image again.
constexpr int kMaxJpegScans = 1000;

bool LooksLikeJpeg(const uint8_t* data, size_t size);

// Whether this build can decode JPEG itself (libjpeg was found at build time).
bool JpegAvailable();

// Decodes a JPEG whose colour space converts to RGB the way PIL converts it
// (greyscale, YCbCr, RGB). Returns false, touching nothing, for CMYK and YCCK,
// which PIL opens as CMYK and converts with its own formula. Throws
// std::runtime_error with libjpeg's message for corrupt data, and for a file
// that ends early (PIL: "image file is truncated"), for more than
// kMaxImagePixels pixels and for more than kMaxJpegScans scans.
bool DecodeJpeg(const uint8_t* data, size_t size, DecodedImage& out);

}  // namespace tt
