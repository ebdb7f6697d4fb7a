#include "tensor.h"

#include <cstring>

#include "addon_data.h"
#include "async_call.h"
#include "dtype.h"

namespace tt {

namespace {

std::vector<int64_t> ShapeFrom(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throw TypeError(env, std::string("Expected an array of integers for ") + what);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> dims(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value v = array.Get(i);
    if (!v.IsNumber()) throw TypeError(env, std::string("Expected an array of integers for ") + what);
    dims[i] = v.As<Napi::Number>().Int64Value();
  }
  return dims;
}

int64_t Numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw std::invalid_argument("shape has a negative dimension");
    n *= d;
  }
  return n;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// The typed array borrows the worker's private copy of the tensor, which lives
// until the array is collected: no second copy on the JavaScript thread.
template <typename T>
Napi::Value TypedArrayOut(Napi::Env env, const torch::Tensor& t, napi_typedarray_type type) {
  const size_t n = static_cast<size_t>(t.numel());
  if (n == 0) return Napi::TypedArrayOf<T>::New(env, 0, Napi::ArrayBuffer::New(env, 0), 0, type);
  auto* owner = new torch::Tensor(t);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, owner->data_ptr(), n * sizeof(T), [](Napi::Env, void*, torch::Tensor* hint) { delete hint; }, owner);
  return Napi::TypedArrayOf<T>::New(env, n, buffer, 0, type);
}

}  // namespace

Napi::Function TensorWrap::Define(Napi::Env env) {
  // Methods stay writable: lib/tensor.ts checks arguments in front of them.
  Napi::Function ctor = DefineClass(
      env, "NativeTensor",
      {
          InstanceAccessor<&TensorWrap::Shape>("shape"),
          InstanceAccessor<&TensorWrap::Dtype>("dtype"),
          InstanceAccessor<&TensorWrap::Device>("device"),
          InstanceAccessor<&TensorWrap::Disposed>("isDisposed"),
          InstanceAccessor<&TensorWrap::RequiresGrad, &TensorWrap::SetRequiresGrad>("requiresGrad"),
          InstanceAccessor<&TensorWrap::Grad>("grad"),
          InstanceAccessor<&TensorWrap::IsPinned>("isPinned"),
          InstanceMethod<&TensorWrap::To>("to", napi_default_method),
          InstanceMethod<&TensorWrap::PinMemory>("pinMemory", napi_default_method),
          InstanceMethod<&TensorWrap::IsContiguous>("isContiguous", napi_default_method),
          InstanceMethod<&TensorWrap::Copy>("copy_", napi_default_method),
          InstanceMethod<&TensorWrap::Detach>("detach", napi_default_method),
          InstanceMethod<&TensorWrap::Data>("data", napi_default_method),
          InstanceMethod<&TensorWrap::Item>("item", napi_default_method),
          InstanceMethod<&TensorWrap::Backward>("backward", napi_default_method),
          InstanceMethod<&TensorWrap::Dispose>("dispose", napi_default_method),
      });
  DataOf(env).tensorConstructor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Object TensorWrap::Wrap(Napi::Env env, torch::Tensor tensor) {
  auto* holder = new torch::Tensor(std::move(tensor));
  Napi::External<torch::Tensor> external = Napi::External<torch::Tensor>::New(env, holder);
  Napi::Object object = DataOf(env).tensorConstructor.New({external});
  delete holder;
  return object;
}

torch::Tensor TensorWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() ||
      !value.As<Napi::Object>().InstanceOf(DataOf(env).tensorConstructor.Value())) {
    throw TypeError(env, "Expected a Tensor for " + what);
  }
  return Napi::ObjectWrap<TensorWrap>::Unwrap(value.As<Napi::Object>())->Live(env);
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw TypeError(info.Env(), "Tensors are made with tt.tensor(), not new Tensor()");
  }
  tensor_ = *info[0].As<Napi::External<torch::Tensor>>().Data();
  // Tell V8 about memory only this handle keeps alive, so the GC backstop sees
  // it; parameters and views shared with a module are not counted twice.
  if (tensor_->defined() && tensor_->device().is_cpu() && tensor_->has_storage() &&
      tensor_->storage().use_count() == 1) {
    externalBytes_ = static_cast<int64_t>(tensor_->nbytes());
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), externalBytes_);
  }
}

TensorWrap::~TensorWrap() { tensor_.reset(); }

void TensorWrap::Release() {
  if (externalBytes_) {
    Napi::MemoryManagement::AdjustExternalMemory(Env(), -externalBytes_);
    externalBytes_ = 0;
  }
  tensor_.reset();
}

torch::Tensor& TensorWrap::Live(Napi::Env env) {
  if (!tensor_) throw Napi::Error::New(env, "Tensor has been disposed");
  return *tensor_;
}

Napi::Value TensorWrap::Shape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto sizes = Live(env).sizes();
  Napi::Array out = Napi::Array::New(env, sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out.Set(i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  return out;
}

Napi::Value TensorWrap::Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(Live(info.Env()).scalar_type()));
}

Napi::Value TensorWrap::Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), Live(info.Env()).device().str());
}

Napi::Value TensorWrap::Disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !tensor_.has_value());
}

Napi::Value TensorWrap::RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Live(info.Env()).requires_grad());
}

void TensorWrap::SetRequiresGrad(const Napi::CallbackInfo& info, const Napi::Value& value) {
  Napi::Env env = info.Env();
  if (!value.IsBoolean()) throw TypeError(env, "Expected a boolean for requiresGrad");
  Guarded(env, [&] { Live(env).set_requires_grad(value.As<Napi::Boolean>().Value()); });
}

Napi::Value TensorWrap::Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const torch::Tensor& grad = Live(env).grad();
  if (!grad.defined()) return env.Null();
  return Wrap(env, grad);
}

// to(device: string, dtype?: string, nonBlocking?: boolean). nonBlocking, as
// PyTorch's non_blocking: a copy between pinned host memory and a GPU is
// queued on the current CUDA stream and returns at once (the steps that read
// the copy run on that stream after it); from pageable memory it has no effect.
Napi::Value TensorWrap::To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor& self = Live(env);
  return Guarded(env, [&]() -> Napi::Value {
    torch::Device device = info[0].IsString() ? torch::Device(info[0].As<Napi::String>().Utf8Value()) : self.device();
    c10::ScalarType dtype = info.Length() > 1 && info[1].IsString()
                                ? DtypeFromName(info[1].As<Napi::String>().Utf8Value())
                                : self.scalar_type();
    const bool nonBlocking = info.Length() > 2 && info[2].ToBoolean().Value();
    return Wrap(env, self.to(device, dtype, nonBlocking));
  });
}

// pinMemory(): a copy in page-locked host memory (CUDA's host allocator), so
// that a later to("cuda", ..., nonBlocking) overlaps the copy with compute.
// Needs CUDA; lib/tensor.ts says so before a CPU-only build is asked.
Napi::Value TensorWrap::PinMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor& self = Live(env);
  return Guarded(env, [&]() -> Napi::Value { return Wrap(env, self.pin_memory()); });
}

// isContiguous(format): tensor.is_contiguous(memory_format=...); format is
// "contiguous" or "channels_last", checked by lib/tensor.ts.
Napi::Value TensorWrap::IsContiguous(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor self = Live(env);
  const auto format = info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "channels_last" ? at::MemoryFormat::ChannelsLast
                                                                                                      : at::MemoryFormat::Contiguous;
  // Asked on the compute queue: a module's to({ memoryFormat }) queued before
  // this call rewrites its parameters there, and this must see it.
  return Napi::Boolean::New(env, ComputeQueue::RunSync<bool>([self, format] { return self.is_contiguous(format); }));
}

Napi::Value TensorWrap::IsPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor& self = Live(env);
  // is_pinned() asks CUDA; a CPU-only build holds no pinned memory.
  return Guarded(env, [&]() -> Napi::Value { return Napi::Boolean::New(env, torch::cuda::is_available() && self.is_pinned()); });
}

// copy_(source): in-place copy without recording it in autograd, as
// load_state_dict does, in call order on the compute queue: a forward queued
// before it reads the old values, one queued after it the new. Shapes are
// checked in JavaScript.
Napi::Value TensorWrap::Copy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor self = Live(env);
  torch::Tensor source = From(info[0], "source");
  ComputeQueue::PostDetached([self, source]() mutable {
    torch::NoGradGuard noGrad;
    self.copy_(source);
  });
  return info.This();
}

Napi::Value TensorWrap::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value { return Wrap(env, Live(env).detach().clone()); });
}

// data(): on the compute queue, so it sees every write queued before it (an
// optimizer step on a parameter, a copy_) and none queued after.
Napi::Value TensorWrap::Data(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor self = Live(env);
  return RunCompute<torch::Tensor>(
      env, false,
      [self]() {
        // Always a private copy: the caller's array must not change when training does.
        torch::Tensor t = self.detach();
        if (t.scalar_type() == c10::kHalf || t.scalar_type() == c10::kBFloat16) t = t.to(torch::kFloat);
        return t.to(torch::kCPU).clone(at::MemoryFormat::Contiguous);
      },
      [](Napi::Env env, torch::Tensor& t) -> Napi::Value {
        switch (t.scalar_type()) {
          case c10::kFloat: return TypedArrayOut<float>(env, t, napi_float32_array);
          case c10::kDouble: return TypedArrayOut<double>(env, t, napi_float64_array);
          case c10::kLong: return TypedArrayOut<int64_t>(env, t, napi_bigint64_array);
          case c10::kInt: return TypedArrayOut<int32_t>(env, t, napi_int32_array);
          case c10::kShort: return TypedArrayOut<int16_t>(env, t, napi_int16_array);
          case c10::kChar: return TypedArrayOut<int8_t>(env, t, napi_int8_array);
          case c10::kByte:
          case c10::kBool: return TypedArrayOut<uint8_t>(env, t, napi_uint8_array);
          default: throw Napi::Error::New(env, "data(): unsupported dtype " + DtypeName(t.scalar_type()));
        }
      });
}

Napi::Value TensorWrap::Item(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor self = Live(env);
  return RunCompute<double>(
      env, false, [self]() { return self.item().toDouble(); },
      [](Napi::Env env, double& v) -> Napi::Value { return Napi::Number::New(env, v); });
}

Napi::Value TensorWrap::Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  torch::Tensor self = Live(env);
  return RunCompute<bool>(
      env, true,
      [self]() {
        self.backward();
        return true;
      },
      [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
}

Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

// fromTypedArray(array, shape): one copy from JavaScript memory into a new CPU tensor.
Napi::Value FromTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw TypeError(env, "Expected a typed array for data");
  Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = ShapeFrom(env, info[1], "shape");
  c10::ScalarType dtype;
  switch (array.TypedArrayType()) {
    case napi_float32_array: dtype = c10::kFloat; break;
    case napi_float64_array: dtype = c10::kDouble; break;
    case napi_int32_array: dtype = c10::kInt; break;
    case napi_bigint64_array: dtype = c10::kLong; break;
    case napi_uint8_array: dtype = c10::kByte; break;
    case napi_int8_array: dtype = c10::kChar; break;
    case napi_int16_array: dtype = c10::kShort; break;
    default: throw TypeError(env, "Unsupported typed array type for data");
  }
  return Guarded(env, [&]() -> Napi::Value {
    const int64_t numel = Numel(shape);
    if (numel != static_cast<int64_t>(array.ElementLength())) {
      throw Napi::Error::New(env, "shape " + ShapeString(shape) + " holds " + std::to_string(numel) +
                                      " elements but the data has " + std::to_string(array.ElementLength()));
    }
    torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    const uint8_t* src = static_cast<const uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
    if (numel) std::memcpy(t.data_ptr(), src, static_cast<size_t>(numel) * t.element_size());
    return TensorWrap::Wrap(env, t);
  });
}

// fromBytes(bytes, dtype, shape, strides, storageOffset): a tensor viewed out of a
// little-endian storage, as torch.save stores them, copied into contiguous memory.
Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw TypeError(env, "Expected a Uint8Array for bytes");
  Napi::TypedArray bytes = info[0].As<Napi::TypedArray>();
  if (!info[1].IsString()) throw TypeError(env, "Expected a string for dtype");
  std::vector<int64_t> shape = ShapeFrom(env, info[2], "shape");
  std::vector<int64_t> strides = ShapeFrom(env, info[3], "strides");
  const int64_t offset = info[4].IsNumber() ? info[4].As<Napi::Number>().Int64Value() : 0;
  return Guarded(env, [&]() -> Napi::Value {
    c10::ScalarType dtype = DtypeFromName(info[1].As<Napi::String>().Utf8Value());
    if (shape.size() != strides.size()) throw std::invalid_argument("shape and strides differ in length");
    const int64_t elementSize = static_cast<int64_t>(c10::elementSize(dtype));
    const int64_t storageNumel = static_cast<int64_t>(bytes.ByteLength()) / elementSize;
    const int64_t numel = Numel(shape);
    if (numel > 0) {
      int64_t last = offset;
      for (size_t i = 0; i < shape.size(); ++i) last += (shape[i] - 1) * strides[i];
      if (offset < 0 || last >= storageNumel) {
        throw std::out_of_range("storage of " + std::to_string(storageNumel) + " elements is too short for a tensor of shape " +
                                ShapeString(shape) + " at offset " + std::to_string(offset));
      }
    }
    uint8_t* data = static_cast<uint8_t*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
    torch::Tensor storage = torch::from_blob(data, {storageNumel}, torch::TensorOptions().dtype(dtype));
    torch::Tensor t = storage.as_strided(shape, strides, offset).clone(at::MemoryFormat::Contiguous);
    return TensorWrap::Wrap(env, t);
  });
}

}  // namespace tt
