// Data-parallel training on libtorch's own distributed engine (c10d): a
// TCPStore rendezvous and a ProcessGroupGloo over it, as
// torch.distributed.init_process_group("gloo") makes them.
//
// ProcessGroup: one rank's handle on the group.
//   static async: create(backend, masterAddr, masterPort, rank, worldSize, timeoutMs) -> ProcessGroup
//   sync:  rank, size, backend, bytesAllReduced, bytesBroadcast, isDisposed, dispose()
//   async: allReduce(tensors) (sum, in place), broadcast(tensors, root) (in place), barrier()
//
// Built only when the c10d and Gloo headers were found (TT_WITH_DISTRIBUTED,
// Debian's libgloo-dev); without them distributedAvailable() is false and
// create() rejects with how to get them.
#pragma once
#include "torch_pch.h"

#include <memory>
#include <string>

namespace tt {

struct NativeProcessGroup;  // the store, the Gloo group and a lock (distributed.cc)

class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  static std::shared_ptr<NativeProcessGroup> From(const Napi::Value& value, const std::string& what);
  explicit ProcessGroupWrap(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Rank(const Napi::CallbackInfo& info);
  Napi::Value Size(const Napi::CallbackInfo& info);
  Napi::Value Backend(const Napi::CallbackInfo& info);
  Napi::Value BytesAllReduced(const Napi::CallbackInfo& info);
  Napi::Value BytesBroadcast(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value AllReduce(const Napi::CallbackInfo& info);
  Napi::Value Broadcast(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<NativeProcessGroup> group_;
};

// Registers ProcessGroup and the functions below on the addon's exports.
void DefineDistributed(Napi::Env env, Napi::Object exports);

Napi::Value DistributedAvailable(const Napi::CallbackInfo& info);  // sync:  () -> boolean
Napi::Value NcclAvailable(const Napi::CallbackInfo& info);         // sync:  () -> boolean
Napi::Value Randperm(const Napi::CallbackInfo& info);              // sync:  (n, seed) -> number[], torch.randperm(n, generator=manual_seed(seed))
// async: (module, sgd|null, inputs, labels, train, group, broadcastBuffers, bucketBytes) -> {loss, correct};
// gradients averaged during backward by a c10d::Reducer the group keeps per model (ddp_reducer.h).
Napi::Value DdpTrainStep(const Napi::CallbackInfo& info);
// async: (module, group) -> void: parameters and buffers from rank 0, as DDP's constructor does.
Napi::Value BroadcastModule(const Napi::CallbackInfo& info);

}  // namespace tt
