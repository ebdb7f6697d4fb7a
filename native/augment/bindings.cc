#include "augment/bindings.h"

#include <cstring>
#include <functional>
#include <string>

#include "augment/color.h"
#include "augment/geometry.h"
#include "errors.h"
#include "pixel_buffer.h"

namespace tt {

namespace {

using PixelWork = std::function<void(const uint8_t* in, uint8_t* out)>;

// Runs `work` from the caller's Uint8Array (kept alive by the reference until
// OnOK) into a new buffer on libuv's pool.
class PixelWorker : public Napi::AsyncWorker {
 public:
  PixelWorker(Napi::Env env, Napi::Uint8Array pixels, size_t outBytes, PixelWork work)
      : Napi::AsyncWorker(env, "torch-transfer:augment"),
        deferred_(Napi::Promise::Deferred::New(env)),
        pixels_(Napi::Persistent(pixels)),
        in_(pixels.Data()),
        outBytes_(outBytes),
        work_(std::move(work)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      out_ = PixelBuffer::Allocate(outBytes_);
      work_(in_, out_.data.get());
    } catch (const std::exception& e) {
      SetError(std::string("augment: ") + e.what());
    }
  }
  void OnOK() override {
    const size_t size = out_.size;
    deferred_.Resolve(Napi::Buffer<uint8_t>::New(Env(), out_.data.release(), size, [](Napi::Env, uint8_t* data) { delete[] data; }));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> pixels_;
  const uint8_t* in_;
  size_t outBytes_;
  PixelWork work_;
  PixelBuffer out_;
};

Napi::Promise Queue(Napi::Env env, Napi::Uint8Array pixels, size_t outBytes, PixelWork work) {
  auto* worker = new PixelWorker(env, pixels, outBytes, std::move(work));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

struct Rgb {
  Napi::Uint8Array pixels;
  int height, width;
};

// (pixels, height, width, 3): checked here too, since a wrong size would read out of bounds.
Rgb ReadRgb(const Napi::CallbackInfo& info, const char* binding) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypeError(env, std::string(binding) + ": expected a Uint8Array for pixels");
  }
  for (int i = 1; i <= 3; ++i) {
    if (!info[i].IsNumber()) throw TypeError(env, std::string(binding) + ": expected integers for height, width and channels");
  }
  const int64_t h = info[1].As<Napi::Number>().Int64Value(), w = info[2].As<Napi::Number>().Int64Value();
  const int64_t c = info[3].As<Napi::Number>().Int64Value();
  Napi::Uint8Array pixels = info[0].As<Napi::Uint8Array>();
  if (c != 3 || h <= 0 || w <= 0 || h > (1 << 20) || w > (1 << 20) || static_cast<int64_t>(pixels.ByteLength()) != h * w * 3) {
    throw Napi::RangeError::New(env, std::string(binding) + ": expected " + std::to_string(h) + "x" + std::to_string(w) +
                                         "x3 bytes (RGB), got " + std::to_string(pixels.ByteLength()) + " bytes and " + std::to_string(c) + " channels");
  }
  return {pixels, static_cast<int>(h), static_cast<int>(w)};
}

double NumberArg(const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) throw TypeError(v.Env(), "expected a number for " + name);
  return v.As<Napi::Number>().DoubleValue();
}

Napi::Array ToArray(Napi::Env env, const augment::Matrix& m) {
  Napi::Array a = Napi::Array::New(env, 6);
  for (uint32_t i = 0; i < 6; ++i) a.Set(i, m[i]);
  return a;
}

augment::Matrix ReadMatrix(const Napi::Value& v) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 6) throw TypeError(v.Env(), "warpImage: expected 6 numbers for matrix");
  augment::Matrix m;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 6; ++i) m[i] = NumberArg(a.Get(i), "matrix[" + std::to_string(i) + "]");
  return m;
}

}  // namespace

Napi::Value AdjustImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Rgb in = ReadRgb(info, "adjustImage");
  if (!info[4].IsString()) throw TypeError(env, "adjustImage: expected an operation name");
  const std::string op = info[4].As<Napi::String>().Utf8Value();
  const double value = info[5].IsNumber() ? info[5].As<Napi::Number>().DoubleValue() : 0.0;
  const int h = in.height, w = in.width;
  const size_t n = static_cast<size_t>(h) * w;
  PixelWork work;
  // Pillow narrows the blend factor to a C float.
  const float factor = static_cast<float>(value);
  if (op == "brightness") {
    work = [n, factor](const uint8_t* i, uint8_t* o) { augment::AdjustBrightness(i, n, factor, o); };
  } else if (op == "contrast") {
    work = [n, factor](const uint8_t* i, uint8_t* o) { augment::AdjustContrast(i, n, factor, o); };
  } else if (op == "saturation") {
    work = [n, factor](const uint8_t* i, uint8_t* o) { augment::AdjustSaturation(i, n, factor, o); };
  } else if (op == "sharpness") {
    work = [h, w, factor](const uint8_t* i, uint8_t* o) { augment::AdjustSharpness(i, h, w, factor, o); };
  } else if (op == "hue") {
    const uint8_t shift = static_cast<uint8_t>(static_cast<int>(value) & 255);
    work = [n, shift](const uint8_t* i, uint8_t* o) { augment::AdjustHue(i, n, shift, o); };
  } else if (op == "posterize") {
    const int bits = static_cast<int>(value);
    if (bits < 0 || bits > 8) throw Napi::RangeError::New(env, "adjustImage: posterize bits must be in [0, 8]");
    work = [n, bits](const uint8_t* i, uint8_t* o) { augment::Posterize(i, n, bits, o); };
  } else if (op == "solarize") {
    work = [n, value](const uint8_t* i, uint8_t* o) { augment::Solarize(i, n, value, o); };
  } else if (op == "autocontrast") {
    work = [n](const uint8_t* i, uint8_t* o) { augment::Autocontrast(i, n, o); };
  } else if (op == "equalize") {
    work = [n](const uint8_t* i, uint8_t* o) { augment::Equalize(i, n, o); };
  } else if (op == "invert") {
    work = [n](const uint8_t* i, uint8_t* o) { augment::Invert(i, n, o); };
  } else {
    throw TypeError(env, "adjustImage: unknown operation '" + op + "'");
  }
  return Queue(env, in.pixels, n * 3, std::move(work));
}

Napi::Value WarpImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Rgb in = ReadRgb(info, "warpImage");
  if (!info[4].IsObject()) throw TypeError(env, "warpImage: expected a warp object");
  Napi::Object spec = info[4].As<Napi::Object>();
  const int h = in.height, w = in.width;
  const bool bilinear = spec.Get("bilinear").ToBoolean().Value();
  const double oh = NumberArg(spec.Get("outHeight"), "outHeight"), ow = NumberArg(spec.Get("outWidth"), "outWidth");
  if (!(oh >= 1 && ow >= 1 && oh <= (1 << 20) && ow <= (1 << 20))) throw Napi::RangeError::New(env, "warpImage: output size out of range");
  const int outH = static_cast<int>(oh), outW = static_cast<int>(ow);
  std::array<uint8_t, 3> fill{0, 0, 0};
  Napi::Value f = spec.Get("fill");
  if (f.IsArray() && f.As<Napi::Array>().Length() == 3) {
    for (uint32_t i = 0; i < 3; ++i) fill[i] = static_cast<uint8_t>(static_cast<int>(NumberArg(f.As<Napi::Array>().Get(i), "fill")) & 255);
  }
  PixelWork work;
  Napi::Value turns = spec.Get("quarterTurns");
  if (turns.IsNumber()) {
    const int q = turns.As<Napi::Number>().Int32Value();
    const bool swapped = ((q % 4) + 4) % 4 % 2 == 1;
    if ((swapped ? w : h) != outH || (swapped ? h : w) != outW) throw Napi::RangeError::New(env, "warpImage: a transpose's output size is the input's");
    work = [h, w, q](const uint8_t* i, uint8_t* o) { augment::Transpose(i, h, w, q, o); };
  } else {
    const augment::Matrix m = ReadMatrix(spec.Get("matrix"));
    work = [h, w, m, bilinear, fill, outH, outW](const uint8_t* i, uint8_t* o) { augment::Affine(i, h, w, m, bilinear, fill.data(), outH, outW, o); };
  }
  return Queue(env, in.pixels, static_cast<size_t>(outH) * outW * 3, std::move(work));
}

Napi::Value RotatePlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double h = NumberArg(info[0], "height"), w = NumberArg(info[1], "width"), angle = NumberArg(info[2], "angle");
  const bool expand = info[3].ToBoolean().Value();
  const bool hasCenter = info[4].IsArray();
  double cx = 0, cy = 0;
  if (hasCenter) {
    cx = NumberArg(info[4].As<Napi::Array>().Get(0u), "center[0]");
    cy = NumberArg(info[4].As<Napi::Array>().Get(1u), "center[1]");
  }
  const augment::RotatePlan plan = augment::PlanRotate(static_cast<int>(h), static_cast<int>(w), angle, expand, hasCenter, cx, cy);
  Napi::Object out = Napi::Object::New(env);
  out.Set("transpose", plan.transpose);
  out.Set("quarterTurns", plan.quarterTurns);
  out.Set("matrix", ToArray(env, plan.matrix));
  out.Set("outHeight", plan.outHeight);
  out.Set("outWidth", plan.outWidth);
  return out;
}

Napi::Value InverseAffineMatrix(const Napi::CallbackInfo& info) {
  const char* names[] = {"cx", "cy", "angle", "tx", "ty", "scale", "shearX", "shearY"};
  double v[8];
  for (int i = 0; i < 8; ++i) v[i] = NumberArg(info[i], names[i]);
  return ToArray(info.Env(), augment::InverseAffineMatrix(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]));
}

Napi::Value AtanDegrees(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), augment::AtanDegrees(NumberArg(info[0], "x")));
}

Napi::Value Linspace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double start = NumberArg(info[0], "start"), end = NumberArg(info[1], "end"), steps = NumberArg(info[2], "steps");
  if (steps < 1 || steps > (1 << 20) || steps != static_cast<double>(static_cast<int64_t>(steps))) {
    throw Napi::RangeError::New(env, "Expected steps to be an integer from 1 to 2^20, got " + std::to_string(steps));
  }
  torch::Tensor t = torch::linspace(start, end, static_cast<int64_t>(steps), torch::kFloat32);
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(t.numel()));
  std::memcpy(out.Data(), t.data_ptr<float>(), out.ByteLength());
  return out;
}

}  // namespace tt
