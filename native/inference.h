// The eval-only fast form of a module tree, as torch.jit.freeze +
// optimize_for_inference make it in Python: every Conv2d that feeds a
// BatchNorm2d (as a Layer declares) runs with the BatchNorm's running
// statistics folded into its weight and bias and the BatchNorm skipped; the
// convolutions' weights are laid out once for oneDNN; the forward runs under
// c10::InferenceMode. The tree itself is not copied or changed: while the fast
// form runs, Apply() asks it first for each module (a ModuleSubstitution).
//
// It is rebuilt when anything it was made from changes: a parameter or buffer
// written in place (an optimizer step, copy_ from loadStateDict) bumps that
// tensor's version; to(device) changes its storage; setChild changes the set
// of tensors; a train-mode forward rewrites the running statistics without
// bumping their version (libtorch's batch_norm does not), so those are kept
// as a copy and compared.
#pragma once
#include "torch_pch.h"

#include <memory>
#include <string>

namespace tt {

struct NativeModule;

// How the fast form lays out activations and convolution weights:
//   Contiguous:   NCHW, as the plain module.
//   ChannelsLast: NHWC strides, which oneDNN's fp32 convolutions prefer on x86.
//   Mkldnn:       oneDNN's own blocked tensors between convolutions (to_mkldnn),
//                 used only where every Layer says its forward runs on them;
//                 elsewhere it falls back to ChannelsLast.
enum class InferenceLayout { Contiguous, ChannelsLast, Mkldnn };

InferenceLayout InferenceLayoutFromName(const std::string& name);  // throws on an unknown name
std::string InferenceLayoutName(InferenceLayout layout);

// What the fast form of `model` did on its last build (for tests and the bench).
struct InferenceInfo {
  int64_t folded = 0;   // BatchNorms folded into their convolution
  int64_t builds = 0;   // times it has been (re)built
  InferenceLayout layout = InferenceLayout::Contiguous;  // the layout in effect
};

// The model's output for `input` through its fast form, when every module of
// the tree is in eval mode; otherwise the plain forward (train-mode BatchNorm
// must use and update batch statistics). Runs under InferenceMode; the result
// is an ordinary tensor. Compute queue only.
torch::Tensor InferenceForward(NativeModule& model, const torch::Tensor& input, InferenceLayout layout);

// The same under an InferenceMode the caller already holds: the result may be an inference tensor.
torch::Tensor InferenceForwardInMode(NativeModule& model, const torch::Tensor& input, InferenceLayout layout);

InferenceInfo InferenceInfoOf(const NativeModule& model);

// The layout used when none is given (measured: npm run bench -- --only serve).
InferenceLayout DefaultInferenceLayout();

// Whether a layout may be used in this process (Contiguous always;
// ChannelsLast and Mkldnn per compat::kFastLayoutsTrustedWithoutProbe until
// lib/layoutProbe.ts says). An unusable Mkldnn falls back to ChannelsLast, an
// unusable ChannelsLast to Contiguous.
bool LayoutUsable(InferenceLayout layout);
void SetLayoutUsable(InferenceLayout layout, bool usable);

// Runs a layout's convolutions (the registry's kinds: 7x7 stem, 3x3, 1x1 and
// 3x3 stride-2, depthwise), residual add and max pooling on small inputs, and
// returns the largest difference from the same in NCHW, relative to the
// largest NCHW value. For the probe's child process, which may die of it.
double LayoutSelfTest(InferenceLayout layout);

}  // namespace tt
