// Pillow 9's colour and histogram operations on 8-bit RGB (HWC, 3 bytes a
// pixel), as torchvision's PIL path calls them: ImageEnhance (Brightness,
// Contrast, Color, Sharpness), the HSV round trip of adjust_hue, and ImageOps
// (posterize, solarize, autocontrast, equalize, invert). Each writes `n`
// pixels to `out` and keeps Pillow's arithmetic, integer or float, as it is.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tt {
namespace augment {

void AdjustBrightness(const uint8_t* in, size_t n, float factor, uint8_t* out);
void AdjustContrast(const uint8_t* in, size_t n, float factor, uint8_t* out);
void AdjustSaturation(const uint8_t* in, size_t n, float factor, uint8_t* out);
// Needs the image's shape: the SMOOTH filter is 3x3.
void AdjustSharpness(const uint8_t* in, int height, int width, float factor, uint8_t* out);
// `shift` is what torchvision adds to the HSV hue byte: np.uint8(hue_factor * 255).
void AdjustHue(const uint8_t* in, size_t n, uint8_t shift, uint8_t* out);
void Posterize(const uint8_t* in, size_t n, int bits, uint8_t* out);
void Solarize(const uint8_t* in, size_t n, double threshold, uint8_t* out);
void Autocontrast(const uint8_t* in, size_t n, uint8_t* out);
void Equalize(const uint8_t* in, size_t n, uint8_t* out);
void Invert(const uint8_t* in, size_t n, uint8_t* out);

}  // namespace augment
}  // namespace tt
