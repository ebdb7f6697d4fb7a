// MappedFile: a whole file mapped into memory, copy-on-write, and tensors made
// over the mapping without copying, as torch.load(mmap=True) makes them.
//   async: mapFile(path)
//   sync:  byteLength, bytes (a Uint8Array over the mapping), tensor(...), close()
// Each tensor keeps the mapping alive until the last one is freed, so the file
// may be closed, deleted or renamed over once loading is done.
#pragma once
#include "torch_pch.h"

#include <memory>
#include <string>

namespace tt {

class Mapping;

class MappedFileWrap : public Napi::ObjectWrap<MappedFileWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit MappedFileWrap(const Napi::CallbackInfo& info);

 private:
  const std::shared_ptr<Mapping>& Live(Napi::Env env);

  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Bytes(const Napi::CallbackInfo& info);
  Napi::Value Tensor(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<Mapping> mapping_;
  // What the Uint8Array's finalizer holds: emptied by close(), freed by the GC.
  std::shared_ptr<Mapping>* bytesOwner_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> bytes_;
};

// mapFile(path): a promise of a MappedFile; rejects where the file cannot be
// mapped (an empty file, a platform without mmap), and the caller reads it instead.
Napi::Value MapFile(const Napi::CallbackInfo& info);

}  // namespace tt
