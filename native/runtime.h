#pragma once
#include "torch_pch.h"

namespace tt {
Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info);   // sync
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info);   // sync
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);     // sync
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);     // sync
Napi::Value ManualSeed(const Napi::CallbackInfo& info);        // sync
Napi::Value Version(const Napi::CallbackInfo& info);           // sync
}  // namespace tt
