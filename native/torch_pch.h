// Precompiled header: the libtorch and N-API headers every source file uses.
#pragma once
#include <torch/torch.h>
#include <napi.h>
