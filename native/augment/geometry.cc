#include "geometry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace tt {
namespace augment {

namespace {

// CPython's math.radians and math.degrees.
constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;
constexpr double kRadToDeg = 180.0 / kPi;

// Geometry.c's COORD and FLOOR.
inline int Coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }
inline int Floor(double v) { return v < 0.0 ? static_cast<int>(std::floor(v)) : static_cast<int>(v); }

inline void Put(uint8_t* out, int outWidth, int x, int y, const uint8_t* in, int width, int xin, int yin) {
  std::memcpy(out + (static_cast<size_t>(y) * outWidth + x) * 3, in + (static_cast<size_t>(yin) * width + xin) * 3, 3);
}

// ImagingScaleAffine: no rotation or shear terms.
void ScaleAffine(const uint8_t* in, int height, int width, const Matrix& a, int outHeight, int outWidth, uint8_t* out) {
  std::vector<int> xintab(outWidth, 0);
  double xo = a[2] + a[0] * 0.5;
  double yo = a[5] + a[4] * 0.5;
  int xmin = outWidth, xmax = 0;
  for (int x = 0; x < outWidth; ++x) {
    const int xin = Coord(xo);
    if (xin >= 0 && xin < width) {
      xmax = x + 1;
      if (x < xmin) xmin = x;
      xintab[x] = xin;
    }
    xo += a[0];
  }
  for (int y = 0; y < outHeight; ++y) {
    const int yi = Coord(yo);
    if (yi >= 0 && yi < height) {
      for (int x = xmin; x < xmax; ++x) Put(out, outWidth, x, y, in, width, xintab[x], yi);
    }
    yo += a[4];
  }
}

bool CheckFixed(const Matrix& a, int x, int y) {
  return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
}

// affine_fixed: 16.16 fixed point, stepped along rows and columns.
void AffineFixed(const uint8_t* in, int height, int width, const Matrix& a, int outHeight, int outWidth, uint8_t* out) {
  auto fix = [](double v) { return Floor(v * 65536.0 + 0.5); };
  const int a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4]);
  int a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5);
  int a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
  for (int y = 0; y < outHeight; ++y) {
    int xx = a2, yy = a5;
    for (int x = 0; x < outWidth; ++x) {
      const int xin = xx >> 16;
      if (xin >= 0 && xin < width) {
        const int yin = yy >> 16;
        if (yin >= 0 && yin < height) Put(out, outWidth, x, y, in, width, xin, yin);
      }
      xx += a0;
      yy += a3;
    }
    a2 += a1;
    a5 += a4;
  }
}

// The double path, for matrices whose corners leave the fixed-point range.
void AffineDouble(const uint8_t* in, int height, int width, const Matrix& a, int outHeight, int outWidth, uint8_t* out) {
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5;
  double yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < outHeight; ++y) {
    double xx = xo, yy = yo;
    for (int x = 0; x < outWidth; ++x) {
      const int xin = Coord(xx);
      if (xin >= 0 && xin < width) {
        const int yin = Coord(yy);
        if (yin >= 0 && yin < height) Put(out, outWidth, x, y, in, width, xin, yin);
      }
      xx += a[0];
      yy += a[3];
    }
    xo += a[1];
    yo += a[4];
  }
}

// ImagingGenericTransform with affine_transform and bilinear_filter32RGB.
void AffineBilinear(const uint8_t* in, int height, int width, const Matrix& a, int outHeight, int outWidth, uint8_t* out) {
  const size_t row = static_cast<size_t>(width) * 3;
  auto xclip = [width](int x) { return x < 0 ? 0 : x < width ? x : width - 1; };
  auto yclip = [height](int y) { return y < 0 ? 0 : y < height ? y : height - 1; };
  for (int y = 0; y < outHeight; ++y) {
    for (int x = 0; x < outWidth; ++x) {
      const double xi = x + 0.5, yi = y + 0.5;
      double xin = a[0] * xi + a[1] * yi + a[2];
      double yin = a[3] * xi + a[4] * yi + a[5];
      if (xin < 0.0 || xin >= width || yin < 0.0 || yin >= height) continue;
      xin -= 0.5;
      yin -= 0.5;
      const int sx = Floor(xin), sy = Floor(yin);
      const double dx = xin - sx, dy = yin - sy;
      const int x0 = xclip(sx) * 3, x1 = xclip(sx + 1) * 3;
      uint8_t* o = out + (static_cast<size_t>(y) * outWidth + x) * 3;
      for (int b = 0; b < 3; ++b) {
        const uint8_t* r0 = in + yclip(sy) * row + b;
        double v1 = r0[x0] + (r0[x1] - r0[x0]) * dx, v2;
        if (sy + 1 >= 0 && sy + 1 < height) {
          const uint8_t* r1 = in + (sy + 1) * row + b;
          v2 = r1[x0] + (r1[x1] - r1[x0]) * dx;
        } else {
          v2 = v1;
        }
        v1 = v1 + (v2 - v1) * dy;
        o[b] = static_cast<uint8_t>(v1);
      }
    }
  }
}

// Python's round(x, 15): correctly rounded to 15 decimals, as printf's %.15f is.
double Round15(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15f", x);
  return std::strtod(buf, nullptr);
}

// Python's float %: the sign of the divisor.
double PyMod(double x, double m) {
  double r = std::fmod(x, m);
  if (r != 0.0) {
    if ((m < 0) != (r < 0)) r += m;
  } else {
    r = std::copysign(0.0, m);
  }
  return r;
}

}  // namespace

void Affine(const uint8_t* in, int height, int width, const Matrix& m, bool bilinear, const uint8_t fill[3], int outHeight,
            int outWidth, uint8_t* out) {
  // Image.transform starts from a new image in the fill colour and only writes the pixels that sample inside.
  const size_t n = static_cast<size_t>(outHeight) * outWidth;
  for (size_t i = 0; i < n; ++i) std::memcpy(out + i * 3, fill, 3);
  if (bilinear) return AffineBilinear(in, height, width, m, outHeight, outWidth, out);
  if (m[1] == 0 && m[3] == 0) return ScaleAffine(in, height, width, m, outHeight, outWidth, out);
  if (CheckFixed(m, 0, 0) && CheckFixed(m, outWidth, outHeight) && CheckFixed(m, 0, outHeight) && CheckFixed(m, outWidth, 0)) {
    return AffineFixed(in, height, width, m, outHeight, outWidth, out);
  }
  AffineDouble(in, height, width, m, outHeight, outWidth, out);
}

void Transpose(const uint8_t* in, int height, int width, int quarterTurns, uint8_t* out) {
  const int turns = ((quarterTurns % 4) + 4) % 4;
  const int outWidth = turns % 2 ? height : width;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      int ox = x, oy = y;
      if (turns == 1) {  // ROTATE_90, counter-clockwise
        ox = y;
        oy = width - 1 - x;
      } else if (turns == 2) {
        ox = width - 1 - x;
        oy = height - 1 - y;
      } else if (turns == 3) {
        ox = height - 1 - y;
        oy = x;
      }
      std::memcpy(out + (static_cast<size_t>(oy) * outWidth + ox) * 3, in + (static_cast<size_t>(y) * width + x) * 3, 3);
    }
  }
}

RotatePlan PlanRotate(int height, int width, double angle, bool expand, bool hasCenter, double cx, double cy) {
  RotatePlan plan;
  angle = PyMod(angle, 360.0);
  plan.outHeight = height;
  plan.outWidth = width;
  if (!hasCenter) {
    if (angle == 0 || angle == 180 || ((angle == 90 || angle == 270) && (expand || width == height))) {
      plan.transpose = true;
      plan.quarterTurns = static_cast<int>(angle / 90);
      if (plan.quarterTurns % 2) std::swap(plan.outHeight, plan.outWidth);
      return plan;
    }
    cx = width / 2.0;
    cy = height / 2.0;
  }
  const double rad = -(angle * kDegToRad);
  Matrix& m = plan.matrix;
  m = {Round15(std::cos(rad)), Round15(std::sin(rad)), 0.0, Round15(-std::sin(rad)), Round15(std::cos(rad)), 0.0};
  auto apply = [&m](double x, double y, double& ox, double& oy) {
    ox = m[0] * x + m[1] * y + m[2];
    oy = m[3] * x + m[4] * y + m[5];
  };
  double t2, t5;
  apply(-cx - 0, -cy - 0, t2, t5);
  m[2] = t2 + cx;
  m[5] = t5 + cy;
  if (expand) {
    double xs[4], ys[4];
    const double corners[4][2] = {{0, 0}, {static_cast<double>(width), 0}, {static_cast<double>(width), static_cast<double>(height)}, {0, static_cast<double>(height)}};
    for (int i = 0; i < 4; ++i) apply(corners[i][0], corners[i][1], xs[i], ys[i]);
    double minX = xs[0], maxX = xs[0], minY = ys[0], maxY = ys[0];
    for (int i = 1; i < 4; ++i) {
      minX = std::fmin(minX, xs[i]), maxX = std::fmax(maxX, xs[i]);
      minY = std::fmin(minY, ys[i]), maxY = std::fmax(maxY, ys[i]);
    }
    const int nw = static_cast<int>(std::ceil(maxX) - std::floor(minX));
    const int nh = static_cast<int>(std::ceil(maxY) - std::floor(minY));
    apply(-(nw - width) / 2.0, -(nh - height) / 2.0, t2, t5);
    m[2] = t2;
    m[5] = t5;
    plan.outWidth = nw;
    plan.outHeight = nh;
  }
  return plan;
}

Matrix InverseAffineMatrix(double cx, double cy, double angle, double tx, double ty, double scale, double shearX, double shearY) {
  const double rot = angle * kDegToRad, sx = shearX * kDegToRad, sy = shearY * kDegToRad;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  Matrix m = {d, -b, 0.0, -c, a, 0.0};
  for (double& v : m) v = v / scale;
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

double AtanDegrees(double x) { return std::atan(x) * kRadToDeg; }

}  // namespace augment
}  // namespace tt
