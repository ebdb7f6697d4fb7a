// Per-environment state: the constructors that native code uses to hand
// wrapped objects back to JavaScript.
#pragma once
#include "torch_pch.h"

namespace tt {

struct AddonData {
  Napi::FunctionReference tensorConstructor;
  Napi::FunctionReference moduleConstructor;
  Napi::FunctionReference optimizerConstructor;
  Napi::FunctionReference mappedFileConstructor;
  Napi::FunctionReference processGroupConstructor;
  Napi::FunctionReference gradScalerConstructor;
};

inline AddonData& DataOf(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace tt
