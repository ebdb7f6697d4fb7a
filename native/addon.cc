// The addon's entry point: registers every bound class and function.
#include "addon_data.h"
#include "amp.h"
#include "augment/bindings.h"
#include "distributed.h"
#include "functional.h"
#include "image.h"
#include "mapped_file.h"
#include "module.h"
#include "runtime.h"
#include "optimizer.h"
#include "tensor.h"

namespace tt {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("allocatorTuned", Napi::Boolean::New(env, TuneAllocator()));
  exports.Set("oneDnnOff", Napi::String::New(env, ConfigureOneDnn()));
  exports.Set("mkldnnEnabled", Napi::Function::New(env, MkldnnEnabled, "mkldnnEnabled"));
  exports.Set("Tensor", TensorWrap::Define(env));
  exports.Set("Module", ModuleWrap::Define(env));
  exports.Set("Optimizer", OptimizerWrap::Define(env));
  exports.Set("GradScaler", GradScalerWrap::Define(env));
  DefineDistributed(env, exports);
  exports.Set("fromTypedArray", Napi::Function::New(env, FromTypedArray, "fromTypedArray"));
  exports.Set("fromBytes", Napi::Function::New(env, FromBytes, "fromBytes"));
  exports.Set("MappedFile", MappedFileWrap::Define(env));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("stack", Napi::Function::New(env, Stack, "stack"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("crossEntropy", Napi::Function::New(env, CrossEntropy, "crossEntropy"));
  exports.Set("resizeImage", Napi::Function::New(env, ResizeImage, "resizeImage"));
  exports.Set("adjustImage", Napi::Function::New(env, AdjustImage, "adjustImage"));
  exports.Set("warpImage", Napi::Function::New(env, WarpImage, "warpImage"));
  exports.Set("rotatePlan", Napi::Function::New(env, RotatePlan, "rotatePlan"));
  exports.Set("inverseAffineMatrix", Napi::Function::New(env, InverseAffineMatrix, "inverseAffineMatrix"));
  exports.Set("atanDegrees", Napi::Function::New(env, AtanDegrees, "atanDegrees"));
  exports.Set("linspace", Napi::Function::New(env, Linspace, "linspace"));
  exports.Set("imageToTensor", Napi::Function::New(env, ImageToTensor, "imageToTensor"));
  exports.Set("decodeJpeg", Napi::Function::New(env, DecodeJpeg, "decodeJpeg"));
  exports.Set("trainStep", Napi::Function::New(env, TrainStep, "trainStep"));
  exports.Set("cudaIsAvailable", Napi::Function::New(env, CudaIsAvailable, "cudaIsAvailable"));
  exports.Set("cudaIsBuilt", Napi::Function::New(env, CudaIsBuilt, "cudaIsBuilt"));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount, "cudaDeviceCount"));
  exports.Set("allowTf32", Napi::Function::New(env, AllowTf32, "allowTf32"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads, "getNumThreads"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("getRngState", Napi::Function::New(env, GetRngState, "getRngState"));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState, "setRngState"));
  exports.Set("libtorchVersion", Napi::Function::New(env, Version, "libtorchVersion"));
  exports.Set("holdComputeQueue", Napi::Function::New(env, HoldComputeQueue, "holdComputeQueue"));
  exports.Set("layoutUsable", Napi::Function::New(env, LayoutUsableBinding, "layoutUsable"));
  exports.Set("setLayoutUsable", Napi::Function::New(env, SetLayoutUsableBinding, "setLayoutUsable"));
  exports.Set("layoutSelfTest", Napi::Function::New(env, LayoutSelfTestBinding, "layoutSelfTest"));
  return exports;
}

}  // namespace tt

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return tt::Init(env, exports); }

NODE_API_MODULE(torch_transfer, InitAddon)
