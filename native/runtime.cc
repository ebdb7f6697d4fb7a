// Runtime switches: CUDA presence, intra-op threads, the random seed.
#include "runtime.h"

#include <torch/version.h>

#include "async_call.h"

namespace tt {

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw TypeError(env, "Expected a positive integer for n");
  Guarded(env, [&] {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    ThreadCountGeneration()++;
  });
  return env.Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw TypeError(env, "Expected an integer for seed");
  Guarded(env, [&] { torch::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value())); });
  return env.Undefined();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                           "." + std::to_string(TORCH_VERSION_PATCH));
}

}  // namespace tt
