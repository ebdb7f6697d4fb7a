// A module's train/eval mode as the JavaScript thread last set it.
// The module's own flag belongs to the compute thread, which applies train()
// in call order so that a forward queued before eval() still runs in train
// mode; `model.training` must answer at once, so this table answers it.
// JavaScript thread only.
#pragma once
#include "torch_pch.h"

#include <memory>

namespace tt {

// Records `on` for `module` and every module below it, as nn.Module.train() sets them.
void RecordMode(const std::shared_ptr<torch::nn::Module>& module, bool on);

// The mode last recorded for `module`, or its own flag if none was ever recorded
// (then no queued train() can be changing it).
bool RecordedMode(const std::shared_ptr<torch::nn::Module>& module);

}  // namespace tt
