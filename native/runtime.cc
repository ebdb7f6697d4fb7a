// Runtime switches: CUDA presence, intra-op threads, the random seed.
#include "runtime.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <string>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "async_call.h"
#include "inference.h"
#include "torch_compat.h"

namespace tt {

namespace {

// Whether CPUID describes no cache at all: cache type 0 in the first subleaf
// of leaf 4 (Intel's) and of 0x8000001D (AMD's), where each exists.
bool CpuidHidesCaches() {
#if defined(__x86_64__) || defined(__i386__)
  const auto describesCache = [](unsigned leaf) {
    if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return false;
    unsigned a = 0, b = 0, c = 0, d = 0;
    __cpuid_count(leaf, 0, a, b, c, d);
    return (a & 0x1f) != 0;
  };
  return !describesCache(4) && !describesCache(0x8000001Du);
#else
  return false;
#endif
}

}  // namespace

std::string ConfigureOneDnn() {
  const char* opt = std::getenv("TORCH_TRANSFER_ONEDNN");
  std::string why;
  if (opt && std::strcmp(opt, "0") == 0) {
    why = "turned off by TORCH_TRANSFER_ONEDNN=0";
  } else if (opt && std::strcmp(opt, "1") == 0) {
    return "";
  } else if (compat::kOneDnnNeedsCacheLeaves && CpuidHidesCaches()) {
    why = "this CPU's CPUID describes no cache, where libtorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
          "'s oneDNN divides by zero (TORCH_TRANSFER_ONEDNN=1 turns it on)";
  } else {
    return "";
  }
  at::globalContext().setUserEnabledMkldnn(false);
  // The mkldnn layout is oneDNN itself, whatever the switch says.
  SetLayoutUsable(InferenceLayout::Mkldnn, false);
  return why;
}

bool TuneAllocator() {
#if defined(__GLIBC__)
  const char* opt = std::getenv("TORCH_TRANSFER_MALLOC_TUNING");
  if (opt && std::strcmp(opt, "0") == 0) return false;
  // Every training step frees and re-allocates tens of megabytes of
  // activations and gradients. glibc's defaults hand large blocks back to the
  // kernel, so each step page-faults its memory in again (measured here: train
  // steps up to 1.5x slower). Blocks up to 32 MB from the heap, and no
  // trimming below 1 GB, keep that memory in the process for the next step.
  // (MALLOC_ARENA_MAX=1 helps too, but only from process start: the commands
  // set it, see lib/cli/allocator.ts.)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
#else
  return false;
#endif
}

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}

// torch.backends.cuda.is_built(): whether the libtorch built against has CUDA
// (TT_WITH_CUDA, set by CMakeLists.txt), with or without a GPU here.
Napi::Value CudaIsBuilt(const Napi::CallbackInfo& info) {
#ifdef TT_WITH_CUDA
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

// Process-wide, as in PyTorch; read by every later CUDA matmul and cuDNN convolution.
Napi::Value AllowTf32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& context = at::globalContext();
  if (info.Length() > 0 && info[0].IsBoolean()) context.setAllowTF32CuBLAS(info[0].As<Napi::Boolean>().Value());
  if (info.Length() > 1 && info[1].IsBoolean()) context.setAllowTF32CuDNN(info[1].As<Napi::Boolean>().Value());
  Napi::Object out = Napi::Object::New(env);
  out.Set("matmul", context.allowTF32CuBLAS());
  out.Set("cudnn", context.allowTF32CuDNN());
  return out;
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

// The default CPU generator's state (torch.get_rng_state): what weight init,
// dropout and randperm without a generator draw from; a checkpoint keeps it.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::Tensor state = Guarded(env, [&] {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state();
  });
  return Napi::Buffer<uint8_t>::Copy(env, state.data_ptr<uint8_t>(), static_cast<size_t>(state.numel()));
}

Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypeError(env, "Expected a Uint8Array for state");
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  Guarded(env, [&] {
    auto state = torch::empty({static_cast<int64_t>(bytes.ByteLength())}, torch::kUInt8);
    std::memcpy(state.data_ptr<uint8_t>(), bytes.Data(), bytes.ByteLength());
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);  // checks the size and throws c10::Error on a wrong one
  });
  return env.Undefined();
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                           "." + std::to_string(TORCH_VERSION_PATCH));
}

namespace {
InferenceLayout LayoutArgument(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw TypeError(env, "Expected a string for layout");
  return Guarded(env, [&] { return InferenceLayoutFromName(info[0].As<Napi::String>().Utf8Value()); });
}
}  // namespace

Napi::Value MkldnnEnabled(const Napi::CallbackInfo& info) {
  auto& context = at::globalContext();
  if (info.Length() > 0 && info[0].IsBoolean()) context.setUserEnabledMkldnn(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), context.userEnabledMkldnn());
}

Napi::Value LayoutUsableBinding(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), LayoutUsable(LayoutArgument(info))); }

Napi::Value SetLayoutUsableBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  InferenceLayout layout = LayoutArgument(info);
  if (!info[1].IsBoolean()) throw TypeError(env, "Expected a boolean for usable");
  SetLayoutUsable(layout, info[1].As<Napi::Boolean>().Value());
  return env.Undefined();
}

Napi::Value LayoutSelfTestBinding(const Napi::CallbackInfo& info) {
  InferenceLayout layout = LayoutArgument(info);
  return Napi::Number::New(info.Env(), Guarded(info.Env(), [&] { return LayoutSelfTest(layout); }));
}

Napi::Value HoldComputeQueue(const Napi::CallbackInfo& info) {
  auto gate = std::make_shared<std::promise<void>>();
  std::shared_future<void> opened = gate->get_future().share();
  ComputeQueue::Post([opened] { opened.wait(); });
  return Napi::Function::New(
      info.Env(),
      [gate](const Napi::CallbackInfo& info) -> Napi::Value {
        try {
          gate->set_value();
        } catch (const std::future_error&) {
          // released already
        }
        return info.Env().Undefined();
      },
      "release");
}

}  // namespace tt
