// Pillow 9's Image.transform(AFFINE) and Image.rotate on 8-bit RGB, as
// torchvision's PIL path calls them, and the matrices torchvision and Pillow
// build for them. The matrices are computed here rather than in JavaScript
// because Python's math module is the C library's (cos, sin, tan, atan), and
// V8's own functions may differ from it in the last bit, which can move a
// nearest-neighbour sample to the next pixel.
#pragma once
#include <array>
#include <cstdint>

namespace tt {
namespace augment {

using Matrix = std::array<double, 6>;

// Output pixel (x + 0.5, y + 0.5) samples the input at `m` applied to it;
// pixels that fall outside keep `fill`. Nearest neighbour takes Pillow's
// three paths (scale only, 16.16 fixed point, double); bilinear is
// ImagingGenericTransform with bilinear_filter32RGB.
void Affine(const uint8_t* in, int height, int width, const Matrix& m, bool bilinear, const uint8_t fill[3], int outHeight,
            int outWidth, uint8_t* out);

// Image.transpose: the exact quarter and half turns Image.rotate takes for
// angles of 90, 180 and 270 degrees (counter-clockwise).
void Transpose(const uint8_t* in, int height, int width, int quarterTurns, uint8_t* out);

// How Image.rotate(angle, expand, center) turns an image: by a transpose
// (quarterTurns 0 to 3; 0 a copy) or by the affine matrix, into outHeight x outWidth.
struct RotatePlan {
  bool transpose = false;
  int quarterTurns = 0;
  Matrix matrix{};
  int outHeight = 0, outWidth = 0;
};
RotatePlan PlanRotate(int height, int width, double angle, bool expand, bool hasCenter, double cx, double cy);

// torchvision's _get_inverse_affine_matrix (inverted=True).
Matrix InverseAffineMatrix(double cx, double cy, double angle, double tx, double ty, double scale, double shearX, double shearY);

// math.degrees(math.atan(x)), the shear of autoaugment's ShearX and ShearY.
double AtanDegrees(double x);

}  // namespace augment
}  // namespace tt
