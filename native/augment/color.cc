#include "color.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tt {
namespace augment {

namespace {

// Image.blend(a, b, alpha) (Blend.c): float arithmetic, truncated; clipped
// only when alpha lies outside [0, 1], as Pillow does. `alpha` is a float
// there too (the Python double is narrowed on the way in).
void Blend(const uint8_t* a, const uint8_t* b, size_t count, float alpha, uint8_t* out) {
  if (alpha >= 0 && alpha <= 1.0) {
    for (size_t i = 0; i < count; ++i) out[i] = static_cast<uint8_t>(static_cast<int>(a[i]) + alpha * (static_cast<int>(b[i]) - static_cast<int>(a[i])));
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    const float temp = static_cast<float>(static_cast<int>(a[i]) + alpha * (static_cast<int>(b[i]) - static_cast<int>(a[i])));
    out[i] = temp <= 0.0 ? 0 : temp >= 255.0 ? 255 : static_cast<uint8_t>(temp);
  }
}

// convert("L") (Convert.c's L24): ITU-R 601-2 luma in 16.16 fixed point.
inline uint8_t Luma(const uint8_t* p) { return static_cast<uint8_t>((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16); }

// image.point(lut) with one table for all three bands.
void ApplyLut(const uint8_t* in, size_t n, const uint8_t lut[256], uint8_t* out) {
  for (size_t i = 0; i < n * 3; ++i) out[i] = lut[in[i]];
}

// image.point(luts) with a table per band.
void ApplyLuts(const uint8_t* in, size_t n, const std::vector<uint8_t> luts[3], uint8_t* out) {
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) out[i * 3 + c] = luts[c][in[i * 3 + c]];
  }
}

// image.histogram(): 256 counts per band.
void Histograms(const uint8_t* in, size_t n, std::vector<int64_t> h[3]) {
  for (int c = 0; c < 3; ++c) h[c].assign(256, 0);
  for (size_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) ++h[c][in[i * 3 + c]];
  }
}

}  // namespace

void AdjustBrightness(const uint8_t* in, size_t n, float factor, uint8_t* out) {
  // ImageEnhance.Brightness blends from a black image.
  std::vector<uint8_t> black(n * 3, 0);
  Blend(black.data(), in, n * 3, factor, out);
}

void AdjustContrast(const uint8_t* in, size_t n, float factor, uint8_t* out) {
  // ImageEnhance.Contrast: a grey image at int(mean(L) + 0.5), the mean as ImageStat computes it (sum / count in double).
  int64_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += Luma(in + i * 3);
  const double mean = n ? static_cast<double>(sum) / static_cast<double>(n) : 0.0;
  std::vector<uint8_t> grey(n * 3, static_cast<uint8_t>(static_cast<int>(mean + 0.5)));
  Blend(grey.data(), in, n * 3, factor, out);
}

void AdjustSaturation(const uint8_t* in, size_t n, float factor, uint8_t* out) {
  // ImageEnhance.Color: the image's own grey version (L, back to RGB).
  std::vector<uint8_t> grey(n * 3);
  for (size_t i = 0; i < n; ++i) std::fill_n(&grey[i * 3], 3, Luma(in + i * 3));
  Blend(grey.data(), in, n * 3, factor, out);
}

void AdjustSharpness(const uint8_t* in, int height, int width, float factor, uint8_t* out) {
  // ImageEnhance.Sharpness blends from ImageFilter.SMOOTH (Filter.c's
  // ImagingFilter3x3): kernel 1 1 1 / 1 5 1 / 1 1 1 over 13 in float32, +0.5
  // and truncation; the border rows and columns are copied. An image under
  // 3x3 is returned as it is.
  const size_t n = static_cast<size_t>(height) * width;
  std::vector<uint8_t> smooth(in, in + n * 3);
  if (height >= 3 && width >= 3) {
    const float k1 = 1.0f / 13.0f, k5 = 5.0f / 13.0f;
    const float offset = 0.0f + 0.5f;
    const size_t row = static_cast<size_t>(width) * 3;
    auto line = [](const uint8_t* p, float k0, float k1_, float k2) {
      return static_cast<float>(p[-3]) * k0 + static_cast<float>(p[0]) * k1_ + static_cast<float>(p[3]) * k2;
    };
    for (int y = 1; y < height - 1; ++y) {
      for (int x = 1; x < width - 1; ++x) {
        for (int c = 0; c < 3; ++c) {
          const uint8_t* p = in + y * row + x * 3 + c;
          float ss = offset;
          ss += line(p + row, k1, k1, k1);
          ss += line(p, k1, k5, k1);
          ss += line(p - row, k1, k1, k1);
          smooth[y * row + x * 3 + c] = ss <= 0.0 ? 0 : ss >= 255.0 ? 255 : static_cast<uint8_t>(ss);
        }
      }
    }
  }
  Blend(smooth.data(), in, n * 3, factor, out);
}

void AdjustHue(const uint8_t* in, size_t n, uint8_t shift, uint8_t* out) {
  // convert("HSV") (Convert.c rgb2hsv_row), the hue byte shifted modulo 256,
  // then convert("RGB") (hsv2rgb); float and double mixed as Pillow mixes them.
  auto clip8 = [](int v) { return static_cast<uint8_t>(v <= 0 ? 0 : v >= 255 ? 255 : v); };
  for (size_t i = 0; i < n; ++i) {
    const uint8_t r = in[i * 3], g = in[i * 3 + 1], b = in[i * 3 + 2];
    const uint8_t maxc = std::max(r, std::max(g, b)), minc = std::min(r, std::min(g, b));
    uint8_t uh = 0, us = 0;
    const uint8_t uv = maxc;
    if (minc != maxc) {
      const float cr = static_cast<float>(maxc - minc);
      const float s = cr / static_cast<float>(maxc);
      const float rc = static_cast<float>(maxc - r) / cr;
      const float gc = static_cast<float>(maxc - g) / cr;
      const float bc = static_cast<float>(maxc - b) / cr;
      float h;
      if (r == maxc) {
        h = bc - gc;
      } else if (g == maxc) {
        h = 2.0 + rc - bc;
      } else {
        h = 4.0 + gc - rc;
      }
      h = std::fmod((h / 6.0 + 1.0), 1.0);
      uh = clip8(static_cast<int>(h * 255.0));
      us = clip8(static_cast<int>(s * 255.0));
    }
    const uint8_t hh = static_cast<uint8_t>(uh + shift);
    uint8_t* o = out + i * 3;
    if (us == 0) {
      o[0] = o[1] = o[2] = uv;
      continue;
    }
    const int k = static_cast<int>(std::floor(static_cast<float>(hh) * 6.0 / 255.0));
    const float f = static_cast<float>(hh) * 6.0 / 255.0 - static_cast<float>(k);
    const float fs = static_cast<float>(us) / 255.0;
    const uint8_t p = clip8(static_cast<int>(std::round(static_cast<float>(uv) * (1.0 - fs))));
    const uint8_t q = clip8(static_cast<int>(std::round(static_cast<float>(uv) * (1.0 - fs * f))));
    const uint8_t t = clip8(static_cast<int>(std::round(static_cast<float>(uv) * (1.0 - fs * (1.0 - f)))));
    switch (k % 6) {
      case 0: o[0] = uv, o[1] = t, o[2] = p; break;
      case 1: o[0] = q, o[1] = uv, o[2] = p; break;
      case 2: o[0] = p, o[1] = uv, o[2] = t; break;
      case 3: o[0] = p, o[1] = q, o[2] = uv; break;
      case 4: o[0] = t, o[1] = p, o[2] = uv; break;
      default: o[0] = uv, o[1] = p, o[2] = q; break;
    }
  }
}

void Posterize(const uint8_t* in, size_t n, int bits, uint8_t* out) {
  uint8_t lut[256];
  const int mask = ~((1 << (8 - bits)) - 1);
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i & mask);
  ApplyLut(in, n, lut, out);
}

void Solarize(const uint8_t* in, size_t n, double threshold, uint8_t* out) {
  uint8_t lut[256];
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i < threshold ? i : 255 - i);
  ApplyLut(in, n, lut, out);
}

void Invert(const uint8_t* in, size_t n, uint8_t* out) {
  uint8_t lut[256];
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(255 - i);
  ApplyLut(in, n, lut, out);
}

void Autocontrast(const uint8_t* in, size_t n, uint8_t* out) {
  // ImageOps.autocontrast(cutoff=0): each band stretched from its lowest to
  // its highest value, int(ix * scale + offset) in double.
  std::vector<int64_t> h[3];
  Histograms(in, n, h);
  std::vector<uint8_t> luts[3];
  for (int c = 0; c < 3; ++c) {
    luts[c].resize(256);
    int lo = 0, hi = 255;
    while (lo < 255 && !h[c][lo]) ++lo;
    while (hi > 0 && !h[c][hi]) --hi;
    if (hi <= lo) {
      for (int i = 0; i < 256; ++i) luts[c][i] = static_cast<uint8_t>(i);
      continue;
    }
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    for (int i = 0; i < 256; ++i) {
      const int v = static_cast<int>(i * scale + offset);
      luts[c][i] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  ApplyLuts(in, n, luts, out);
}

void Equalize(const uint8_t* in, size_t n, uint8_t* out) {
  // ImageOps.equalize: integer steps of the cumulative histogram; point()
  // clips a table entry above 255.
  std::vector<int64_t> h[3];
  Histograms(in, n, h);
  std::vector<uint8_t> luts[3];
  for (int c = 0; c < 3; ++c) {
    luts[c].resize(256);
    int64_t total = 0, last = 0, nonzero = 0;
    for (int i = 0; i < 256; ++i) {
      if (h[c][i]) {
        total += h[c][i];
        last = h[c][i];
        ++nonzero;
      }
    }
    const int64_t step = nonzero <= 1 ? 0 : (total - last) / 255;
    if (!step) {
      for (int i = 0; i < 256; ++i) luts[c][i] = static_cast<uint8_t>(i);
      continue;
    }
    int64_t acc = step / 2;
    for (int i = 0; i < 256; ++i) {
      luts[c][i] = static_cast<uint8_t>(std::min<int64_t>(acc / step, 255));
      acc += h[c][i];
    }
  }
  ApplyLuts(in, n, luts, out);
}

}  // namespace augment
}  // namespace tt
