// Bytes for pixels, left uninitialised: the decoder or the resampler writes
// every one, and zero-filling half a megabyte per image showed in profiles.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tt {

struct PixelBuffer {
  std::unique_ptr<uint8_t[]> data;
  size_t size = 0;

  static PixelBuffer Allocate(size_t size) { return PixelBuffer{std::unique_ptr<uint8_t[]>(new uint8_t[size]), size}; }
};

}  // namespace tt
