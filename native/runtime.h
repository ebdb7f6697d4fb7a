#pragma once
#include "torch_pch.h"

namespace tt {
// Called once at load: tunes glibc's allocator for training (see runtime.cc);
// TORCH_TRANSFER_MALLOC_TUNING=0 leaves it alone. Returns whether it did.
bool TuneAllocator();
// Turns oneDNN off where it cannot run (compat::kOneDnnNeedsCacheLeaves) or
// TORCH_TRANSFER_ONEDNN=0 says so; returns why, or "" where it stays on.
std::string ConfigureOneDnn();
Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info);   // sync
Napi::Value CudaIsBuilt(const Napi::CallbackInfo& info);       // sync
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info);   // sync
// (matmul?, cudnn?) -> { matmul, cudnn }: torch.backends.cuda.matmul.allow_tf32
// and torch.backends.cudnn.allow_tf32, each set when given a boolean.
Napi::Value AllowTf32(const Napi::CallbackInfo& info);         // sync
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);     // sync
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);     // sync
Napi::Value ManualSeed(const Napi::CallbackInfo& info);        // sync
Napi::Value GetRngState(const Napi::CallbackInfo& info);       // sync
Napi::Value SetRngState(const Napi::CallbackInfo& info);       // sync
Napi::Value Version(const Napi::CallbackInfo& info);           // sync
// Holds the compute queue until the returned function is called: tests use it
// to make "the model is busy" certain rather than a race.
Napi::Value HoldComputeQueue(const Napi::CallbackInfo& info);  // sync
// layoutUsable(name) / setLayoutUsable(name, bool): whether the fast eval form
// may use a layout (native/inference.h); layoutSelfTest(name) runs it once
// against NCHW, in the probe's child process (lib/layoutProbe.ts).
Napi::Value LayoutUsableBinding(const Napi::CallbackInfo& info);     // sync
Napi::Value SetLayoutUsableBinding(const Napi::CallbackInfo& info);  // sync
Napi::Value LayoutSelfTestBinding(const Napi::CallbackInfo& info);   // sync: the probe's child only
// mkldnnEnabled([on]): torch.backends.mkldnn.enabled, read and optionally set (process-wide).
Napi::Value MkldnnEnabled(const Napi::CallbackInfo& info);  // sync
}  // namespace tt
