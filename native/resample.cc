#include "resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace tt {

namespace {

// Pillow's 8-bit coefficients carry 22 fraction bits: 32 - 8 (pixel) - 2 (headroom).
constexpr int kPrecisionBits = 32 - 8 - 2;

double BilinearFilter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's bicubic_filter: Keys' cubic convolution with a = -0.5. Its negative
// lobes make weights below zero, which Clip8 clamps as Pillow's clip8 does.
double BicubicFilter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Filter {
  double (*fn)(double);
  double support;
};

Filter FilterFor(Interpolation interpolation) {
  return interpolation == Interpolation::kBicubic ? Filter{BicubicFilter, 2.0} : Filter{BilinearFilter, 1.0};
}

// For each output index, the first input index used, how many, and their
// fixed-point weights (ksize of them, zero-padded).
struct Coefficients {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> weights;
};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc. The arithmetic (float
// box edges, double weights, truncating casts) is kept as Pillow has it, since
// a different rounding anywhere changes output pixels.
Coefficients Precompute(int inSize, float in0, float in1, int outSize, const Filter& filter) {
  double scale = static_cast<double>(in1 - in0) / outSize;
  const double filterScale = std::max(scale, 1.0);
  const double support = filter.support * filterScale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(outSize);
  c.count.resize(outSize);
  c.weights.assign(static_cast<size_t>(outSize) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < outSize; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterScale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), inSize) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = filter.fn((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    int32_t* out = &c.weights[static_cast<size_t>(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double w = (ww != 0.0 ? k[x] / ww : k[x]) * (1 << kPrecisionBits);
      out[x] = static_cast<int32_t>(w < 0 ? w - 0.5 : w + 0.5);
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

inline uint8_t Clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Each output pixel is a weighted sum along one axis; `step` is the distance
// between neighbouring input samples along that axis.
template <int C>
void Pass(const uint8_t* in, int64_t inStep, const Coefficients& k, int outCount, uint8_t* out, int channels) {
  const int n = C > 0 ? C : channels;
  for (int o = 0; o < outCount; ++o) {
    const int32_t* w = &k.weights[static_cast<size_t>(o) * k.ksize];
    const uint8_t* p = in + k.first[o] * inStep;
    int32_t acc[4] = {1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1)};
    for (int i = 0; i < k.count[o]; ++i, p += inStep) {
      for (int ch = 0; ch < n; ++ch) acc[ch] += p[ch] * w[i];
    }
    for (int ch = 0; ch < n; ++ch) out[o * n + ch] = Clip8(acc[ch]);
  }
}

// One row (horizontal) or one column (vertical) of the output; channel counts
// of 3 and 1 get unrolled inner loops.
void Line(const uint8_t* in, int64_t inStep, const Coefficients& k, int outCount, uint8_t* out, int channels) {
  if (channels == 3) return Pass<3>(in, inStep, k, outCount, out, channels);
  if (channels == 1) return Pass<1>(in, inStep, k, outCount, out, channels);
  Pass<0>(in, inStep, k, outCount, out, channels);
}

}  // namespace

void Resize(const PixelView& src, int outHeight, int outWidth, const Window& win, uint8_t* dst, Interpolation interpolation) {
  const int c = src.channels;
  const Filter filter = FilterFor(interpolation);
  const bool needHorizontal = outWidth != src.width, needVertical = outHeight != src.height;
  Coefficients kh = Precompute(src.width, 0.0f, static_cast<float>(src.width), outWidth, filter);
  Coefficients kv = Precompute(src.height, 0.0f, static_cast<float>(src.height), outHeight, filter);
  const int rowBytes = win.width * c;

  // The source rows the vertical pass reads for the window's rows (all of
  // them when there is no vertical pass).
  const int firstRow = needVertical ? kv.first[win.top] : win.top;
  const int lastRow = needVertical ? kv.first[win.top + win.height - 1] + kv.count[win.top + win.height - 1] : win.top + win.height;

  // Horizontal pass over those rows, for the window's columns only.
  std::unique_ptr<uint8_t[]> temp;
  const uint8_t* mid = src.data + firstRow * src.stride + static_cast<int64_t>(win.left) * c;
  int64_t midStride = src.stride;
  if (needHorizontal) {
    temp.reset(new uint8_t[static_cast<size_t>(lastRow - firstRow) * rowBytes]);  // every byte is written below
    Coefficients cols;
    cols.ksize = kh.ksize;
    cols.first.assign(kh.first.begin() + win.left, kh.first.begin() + win.left + win.width);
    cols.count.assign(kh.count.begin() + win.left, kh.count.begin() + win.left + win.width);
    cols.weights.assign(kh.weights.begin() + static_cast<size_t>(win.left) * kh.ksize,
                        kh.weights.begin() + static_cast<size_t>(win.left + win.width) * kh.ksize);
    for (int y = firstRow; y < lastRow; ++y) {
      // A row is a sequence of pixels `c` bytes apart.
      Line(src.data + y * src.stride, c, cols, win.width, temp.get() + static_cast<size_t>(y - firstRow) * rowBytes, c);
    }
    mid = temp.get();
    midStride = rowBytes;
  }
  if (!needVertical) {
    for (int y = 0; y < win.height; ++y) std::memcpy(dst + static_cast<size_t>(y) * rowBytes, mid + y * midStride, rowBytes);
    return;
  }
  // Vertical pass, one output row at a time: each source row is added into an
  // accumulator row, an order that vectorises (the sums are the same).
  std::vector<int32_t> acc(rowBytes);
  for (int y = 0; y < win.height; ++y) {
    const int oy = win.top + y;
    const int32_t* w = &kv.weights[static_cast<size_t>(oy) * kv.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int i = 0; i < kv.count[oy]; ++i) {
      const uint8_t* row = mid + (kv.first[oy] - firstRow + i) * midStride;
      const int32_t wi = w[i];
      for (int x = 0; x < rowBytes; ++x) acc[x] += row[x] * wi;
    }
    uint8_t* out = dst + static_cast<size_t>(y) * rowBytes;
    for (int x = 0; x < rowBytes; ++x) out[x] = Clip8(acc[x]);
  }
}

}  // namespace tt
