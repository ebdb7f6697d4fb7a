#include "image.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <sys/stat.h>

#include "async_call.h"
#include "jpeg.h"
#include "pixel_buffer.h"
#include "resample.h"
#include "tensor.h"

namespace tt {

namespace {

using Bytes = std::shared_ptr<std::vector<uint8_t>>;

// Hands a vector's memory to JavaScript without a copy. V8 counts an
// ArrayBuffer's backing store towards its GC decisions by itself (adjusting
// external memory as well made it collect twice as often, for nothing).
Napi::Uint8Array ToJs(Napi::Env env, PixelBuffer&& bytes) {
  const size_t size = bytes.size;
  return Napi::Buffer<uint8_t>::New(env, bytes.data.release(), size, [](Napi::Env, uint8_t* data) { delete[] data; });
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) throw std::runtime_error(std::strerror(errno));
  // One read of the whole file when its size is known (a regular file), then
  // chunks for whatever else there is (a pipe, a file still growing).
  std::vector<uint8_t> bytes;
  struct stat info;
  if (fstat(fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode)) {
    bytes.resize(static_cast<size_t>(info.st_size));
    bytes.resize(std::fread(bytes.data(), 1, bytes.size(), file.get()));
  }
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  if (std::ferror(file.get())) throw std::runtime_error(std::strerror(errno));
  return bytes;
}

Bytes CopyOf(const Napi::Uint8Array& array) { return std::make_shared<std::vector<uint8_t>>(array.Data(), array.Data() + array.ByteLength()); }

}  // namespace

Napi::Value DecodeJpeg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  Bytes bytes;
  if (info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
  } else if (info[0].IsTypedArray() && info[0].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    bytes = CopyOf(info[0].As<Napi::Uint8Array>());
  } else {
    throw TypeError(env, "Expected a path or a Uint8Array for source");
  }
  if (!JpegAvailable()) return env.Null();
  return RunAsync<std::shared_ptr<DecodedImage>>(
      env, false,
      [path, bytes]() -> std::shared_ptr<DecodedImage> {
        const std::vector<uint8_t>& data = bytes ? *bytes : ReadFile(path);
        auto image = std::make_shared<DecodedImage>();
        if (!LooksLikeJpeg(data.data(), data.size()) || !DecodeJpeg(data.data(), data.size(), *image)) return nullptr;
        return image;
      },
      [](Napi::Env env, std::shared_ptr<DecodedImage>& image) -> Napi::Value {
        if (!image) return env.Null();
        Napi::Object result = Napi::Object::New(env);
        result.Set("width", image->width);
        result.Set("height", image->height);
        result.Set("data", ToJs(env, std::move(image->pixels)));
        return result;
      });
}

namespace {

// Resizes straight out of the caller's Uint8Array: the reference keeps it
// alive until OnOK, and the AsyncWorker is deleted on the JavaScript thread.
class ResizeWorker : public Napi::AsyncWorker {
 public:
  ResizeWorker(Napi::Env env, Napi::Uint8Array pixels, PixelView view, int outHeight, int outWidth, Window window,
               Interpolation interpolation)
      : Napi::AsyncWorker(env, "torch-transfer:resize"),
        deferred_(Napi::Promise::Deferred::New(env)),
        pixels_(Napi::Persistent(pixels)),
        view_(view),
        outHeight_(outHeight),
        outWidth_(outWidth),
        window_(window),
        interpolation_(interpolation) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      out_ = PixelBuffer::Allocate(static_cast<size_t>(window_.height) * window_.width * view_.channels);
      Resize(view_, outHeight_, outWidth_, window_, out_.data.get(), interpolation_);
    } catch (const std::exception& e) {
      SetError(std::string("resizeImage: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(ToJs(Env(), std::move(out_))); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> pixels_;
  PixelView view_;
  int outHeight_, outWidth_;
  Window window_;
  Interpolation interpolation_;
  PixelBuffer out_;
};

}  // namespace

namespace {

// An optional [top, left, height, width] argument.
bool ReadBox(const Napi::Value& value, const char* name, int64_t box[4]) {
  if (value.IsUndefined() || value.IsNull()) return false;
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 4) {
    throw TypeError(value.Env(), std::string("Expected [top, left, height, width] for ") + name);
  }
  Napi::Array a = value.As<Napi::Array>();
  for (uint32_t i = 0; i < 4; ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) throw TypeError(value.Env(), std::string("Expected integers in ") + name);
    box[i] = v.As<Napi::Number>().Int64Value();
  }
  return true;
}

bool BoxInside(const int64_t box[4], int64_t h, int64_t w) {
  return box[0] >= 0 && box[1] >= 0 && box[2] > 0 && box[3] > 0 && box[0] + box[2] <= h && box[1] + box[3] <= w;
}

// The arguments every image binding starts with: (pixels, height, width, channels).
struct PixelsArg {
  Napi::Uint8Array pixels;
  int64_t height, width, channels;
};

PixelsArg ReadPixels(const Napi::CallbackInfo& info, const char* binding) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypeError(env, "Expected a Uint8Array for pixels");
  }
  for (int i = 1; i <= 3; ++i) {
    if (!info[i].IsNumber()) throw TypeError(env, "Expected positive integers for height, width and channels");
  }
  PixelsArg a{info[0].As<Napi::Uint8Array>(), info[1].As<Napi::Number>().Int64Value(), info[2].As<Napi::Number>().Int64Value(),
              info[3].As<Napi::Number>().Int64Value()};
  if (a.height <= 0 || a.width <= 0 || a.channels <= 0 || a.channels > 4 ||
      static_cast<int64_t>(a.pixels.ByteLength()) != a.height * a.width * a.channels) {
    throw Napi::RangeError::New(env, std::string(binding) + ": pixel buffer of " + std::to_string(a.pixels.ByteLength()) +
                                         " bytes does not match " + std::to_string(a.height) + "x" + std::to_string(a.width) + "x" +
                                         std::to_string(a.channels));
  }
  return a;
}

}  // namespace

Napi::Value ResizeImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PixelsArg in = ReadPixels(info, "resizeImage");
  Napi::Uint8Array pixels = in.pixels;
  const int64_t h = in.height, w = in.width, c = in.channels;
  if (!info[4].IsNumber() || !info[5].IsNumber()) throw TypeError(env, "Expected positive integers for outHeight and outWidth");
  const int64_t oh = info[4].As<Napi::Number>().Int64Value(), ow = info[5].As<Napi::Number>().Int64Value();
  if (oh <= 0 || ow <= 0) throw Napi::RangeError::New(env, "resizeImage: outHeight and outWidth must be positive");
  // crop: the part of the input to resize; window: the part of the output to compute.
  int64_t crop[4] = {0, 0, h, w}, window[4] = {0, 0, oh, ow};
  if (ReadBox(info[6], "crop", crop) && !BoxInside(crop, h, w)) {
    throw Napi::RangeError::New(env, "resizeImage: crop box outside the " + std::to_string(h) + "x" + std::to_string(w) + " image");
  }
  if (ReadBox(info[7], "window", window) && !BoxInside(window, oh, ow)) {
    throw Napi::RangeError::New(env, "resizeImage: window outside the " + std::to_string(oh) + "x" + std::to_string(ow) + " output");
  }
  Interpolation interpolation = Interpolation::kBilinear;
  if (!info[8].IsUndefined() && !info[8].IsNull()) {
    const std::string name = info[8].IsString() ? info[8].As<Napi::String>().Utf8Value() : "";
    if (name == "bicubic") interpolation = Interpolation::kBicubic;
    else if (name != "bilinear") throw TypeError(env, "Expected \"bilinear\" or \"bicubic\" for interpolation");
  }
  PixelView view{pixels.Data() + (crop[0] * w + crop[1]) * c, static_cast<int>(crop[2]), static_cast<int>(crop[3]), static_cast<int>(c), w * c};
  Window win{static_cast<int>(window[0]), static_cast<int>(window[1]), static_cast<int>(window[2]), static_cast<int>(window[3])};
  auto* worker = new ResizeWorker(env, pixels, view, static_cast<int>(oh), static_cast<int>(ow), win, interpolation);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// ToTensor, optionally followed by Normalize, in float32 arithmetic as torch
// does it: x / 255, then (x - mean) / std.
Napi::Value ImageToTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const PixelsArg in = ReadPixels(info, "imageToTensor");
  Napi::Uint8Array pixels = in.pixels;
  const int64_t h = in.height, w = in.width, c = in.channels;
  std::vector<float> mean(c, 0.0f), stdev(c, 1.0f);
  const bool normalize = info.Length() >= 6 && info[4].IsArray() && info[5].IsArray();
  if (normalize) {
    Napi::Array m = info[4].As<Napi::Array>(), s = info[5].As<Napi::Array>();
    if (m.Length() != static_cast<uint32_t>(c) || s.Length() != static_cast<uint32_t>(c)) {
      throw Napi::RangeError::New(env, "imageToTensor: mean and std need one value per channel (" + std::to_string(c) + ")");
    }
    for (int64_t k = 0; k < c; ++k) {
      mean[k] = static_cast<float>(m.Get(static_cast<uint32_t>(k)).As<Napi::Number>().DoubleValue());
      stdev[k] = static_cast<float>(s.Get(static_cast<uint32_t>(k)).As<Napi::Number>().DoubleValue());
    }
  }
  return Guarded(env, [&]() -> Napi::Value {
    torch::Tensor out = torch::empty({c, h, w}, torch::kFloat);
    float* dst = out.data_ptr<float>();
    const uint8_t* src = pixels.Data();
    const int64_t plane = h * w;
    // The result depends only on the byte, so each channel gets a 256-entry
    // table computed with torch's float32 operations: the same values, and
    // the loop becomes a lookup.
    for (int64_t k = 0; k < c; ++k) {
      float table[256];
      for (int b = 0; b < 256; ++b) {
        const float x = static_cast<float>(b) / 255.0f;
        table[b] = normalize ? (x - mean[k]) / stdev[k] : x;
      }
      float* o = dst + k * plane;
      for (int64_t p = 0; p < plane; ++p) o[p] = table[src[p * c + k]];
    }
    return TensorWrap::Wrap(env, out);
  });
}

}  // namespace tt
