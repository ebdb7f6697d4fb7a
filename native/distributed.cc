#include "distributed.h"

#include <ATen/CPUGeneratorImpl.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#ifdef TT_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef TT_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "addon_data.h"
#include "async_call.h"
#include "ddp_reducer.h"
#include "liveness.h"
#include "module.h"
#include "sgd.h"
#include "tensor.h"
#include "torch_compat.h"
#include "train_step.h"

namespace tt {

struct NativeProcessGroup {
  std::string backend, masterAddr;
  int masterPort = 0, rank = 0, size = 1;
  std::chrono::milliseconds timeout{0};
#ifdef TT_WITH_DISTRIBUTED
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::Collectives> collectives;  // Gloo or NCCL: collectives are issued on it directly
  c10::intrusive_ptr<c10d::ProcessGroup> group;         // the same group as the Reducer takes it (torch_compat.h)
  // One Reducer per model trained data-parallel over this group, made at its
  // first training step (as DDP's constructor makes one per wrapped module).
  struct ModelReducer {
    std::weak_ptr<NativeModule> model;  // a freed model's entry goes at the next step
    std::unique_ptr<DdpReducer> reducer;
  };
  std::unordered_map<const NativeModule*, ModelReducer> reducers;
  std::unique_ptr<Heartbeat> heartbeat;  // so that a failing rank can tell which others are gone
#endif
  // Collectives must be issued in the same order on every rank: one at a time.
  std::mutex mutex;
  std::atomic<int64_t> bytesAllReduced{0}, bytesBroadcast{0};
  std::atomic<bool> disposed{false};

  // "rank 1 of 2 (MASTER_ADDR:MASTER_PORT 127.0.0.1:29500)", for every error message.
  std::string Where() const;
};

namespace {

constexpr const char* kInstallHint =
    "torch-transfer was built without libtorch's distributed engine (c10d with Gloo): install the Gloo headers "
    "(Debian/Ubuntu: `apt-get install libgloo-dev`) and rebuild (`npm run build`)";

bool Contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

std::string Describe(const std::exception& e) {
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) return MessageOf(*c10);
  return e.what();
}

#ifdef TT_WITH_DISTRIBUTED

// Tensors grouped for one collective each: consecutive tensors of one dtype,
// up to `bucketBytes` (a single larger tensor gets a bucket of its own).
std::vector<std::vector<torch::Tensor>> Buckets(const std::vector<torch::Tensor>& tensors, int64_t bucketBytes) {
  std::vector<std::vector<torch::Tensor>> buckets;
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    const int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
    if (buckets.empty() || buckets.back().front().scalar_type() != t.scalar_type() ||
        (bytes + size > bucketBytes && !buckets.back().empty())) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(t);
    bytes += size;
  }
  return buckets;
}

torch::Tensor Flatten(const std::vector<torch::Tensor>& bucket) {
  std::vector<torch::Tensor> flat;
  flat.reserve(bucket.size());
  for (const auto& t : bucket) flat.push_back(t.detach().reshape({-1}));
  return torch::cat(flat);
}

void Unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& bucket) {
  int64_t offset = 0;
  for (auto& t : bucket) {
    t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

// A failed collective, already phrased for the user (naming this rank and the group).
struct CollectiveError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "rank 2", "ranks 1 and 2", "ranks 1, 2 and 3".
std::string RankList(const std::vector<int>& ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (i > 0) out += i + 1 == ranks.size() ? " and " : ", ";
    out += std::to_string(ranks[i]);
  }
  return out;
}

[[noreturn]] void Fail(NativeProcessGroup& g, const std::string& op, const std::exception& e) {
  const std::string what = Describe(e);
  const bool closed = Contains(what, "Connection closed by peer") || Contains(what, "Connection reset") || Contains(what, "Broken pipe") ||
                      Contains(what, "Socket closed");
  const bool timedOut = Contains(what, "Timed out") || Contains(what, "timed out") || Contains(what, "Timeout");
  std::string hint;
  if (closed && g.size == 2) {
    hint = " (rank " + std::to_string(1 - g.rank) + " has stopped or crashed)";
  } else if ((closed || timedOut) && g.size > 1) {
    // With more ranks Gloo names only a socket address: ask the store whose
    // heartbeats stopped (this takes a second or two, off the JS thread).
    std::vector<int> dead;
    if (g.store) {
      MarkFailed(*g.store, g.rank);
      dead = DeadRanks(*g.store, g.size, g.rank);
    }
    if (!dead.empty()) {
      hint = " (" + RankList(dead) + (dead.size() == 1 ? " has" : " have") + " stopped or crashed)";
    } else if (closed) {
      hint = " (another rank has stopped or crashed)";
    } else {
      hint = " (another rank did not take part within the timeout of " + std::to_string(g.timeout.count()) + " ms)";
    }
  }
  throw CollectiveError(g.Where() + ": " + op + " failed" + hint + ": " + what);
}

// Waits for one collective; a failure becomes an error naming this rank and the group.
void Wait(NativeProcessGroup& g, const char* op, c10::intrusive_ptr<c10d::Work> work) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    Fail(g, op, e);
  }
}

void Check(NativeProcessGroup& g) {
  if (g.disposed || !g.collectives) throw std::runtime_error(g.Where() + ": the process group was disposed");
}

// Sums `tensors` across ranks in place, one flattened bucket at a time.
void AllReduceCoalesced(NativeProcessGroup& g, const std::vector<torch::Tensor>& tensors, int64_t bucketBytes) {
  torch::NoGradGuard noGrad;
  for (auto& bucket : Buckets(tensors, bucketBytes)) {
    torch::Tensor flat = Flatten(bucket);
    std::vector<torch::Tensor> io{flat};
    Wait(g, "allReduce", g.collectives->allreduce(io));
    g.bytesAllReduced += flat.numel() * static_cast<int64_t>(flat.element_size());
    Unflatten(flat, bucket);
  }
}

void BroadcastCoalesced(NativeProcessGroup& g, const std::vector<torch::Tensor>& tensors, int root, int64_t bucketBytes) {
  torch::NoGradGuard noGrad;
  for (auto& bucket : Buckets(tensors, bucketBytes)) {
    torch::Tensor flat = Flatten(bucket);
    std::vector<torch::Tensor> io{flat};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    Wait(g, "broadcast", g.collectives->broadcast(io, options));
    g.bytesBroadcast += flat.numel() * static_cast<int64_t>(flat.element_size());
    if (g.rank != root) Unflatten(flat, bucket);
  }
}

std::shared_ptr<NativeProcessGroup> Rendezvous(std::shared_ptr<NativeProcessGroup> g) {
  const bool nccl = g->backend == "nccl";
#ifndef TT_WITH_NCCL
  if (nccl) {
    throw std::runtime_error(g->Where() + ": the nccl backend needs a CUDA libtorch with NCCL, and this torch-transfer was built " +
                             "without it; use backend \"gloo\", or rebuild against a CUDA libtorch with NCCL's headers (Debian: libnccl-dev)");
  }
#endif
  if (!nccl && g->backend != "gloo") throw std::runtime_error(g->Where() + ": unknown backend \"" + g->backend + "\"; use \"gloo\" or \"nccl\"");
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(g->masterPort);
  options.isServer = g->rank == 0;
  options.numWorkers = static_cast<std::size_t>(g->size);
  options.waitWorkers = true;
  options.timeout = g->timeout;
  compat::UseClassicStoreServer(options);
  try {
    g->store = c10::make_intrusive<c10d::TCPStore>(g->masterAddr, options);
  } catch (const std::exception& e) {
    const std::string what = Describe(e);
    if (Contains(what, "Address already in use") || Contains(what, "errno: 98")) {
      throw std::runtime_error(g->Where() + ": port " + std::to_string(g->masterPort) + " on " + g->masterAddr +
                               " is already in use; choose another MASTER_PORT (" + what + ")");
    }
    if (Contains(what, "failed to listen") || Contains(what, "failed to bind")) {
      throw std::runtime_error(g->Where() + ": could not listen on " + g->masterAddr + ":" + std::to_string(g->masterPort) + " (" + what + ")");
    }
    throw std::runtime_error(g->Where() + ": the rendezvous at " + g->masterAddr + ":" + std::to_string(g->masterPort) +
                             " did not complete within " + std::to_string(g->timeout.count()) + " ms (" + what + ")");
  }
#ifdef TT_WITH_NCCL
  if (nccl) {
    // As init_process_group("nccl"): the communicators are made at the first
    // collective, on the device of its tensors (each rank's cuda:LOCAL_RANK).
    auto ncclOptions = c10d::ProcessGroupNCCL::Options::create();
    ncclOptions->timeout = g->timeout;
    try {
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, g->rank, g->size, ncclOptions);
      g->collectives = group;
      g->group = compat::GroupOver(g->store, g->rank, g->size, g->collectives, true, g->timeout);
    } catch (const std::exception& e) {
      throw std::runtime_error(g->Where() + ": could not make the NCCL process group (" + Describe(e) + ")");
    }
    if (g->size > 1) g->heartbeat = std::make_unique<Heartbeat>(g->store, g->rank);
    return g;
  }
#endif
  auto glooOptions = c10d::ProcessGroupGloo::Options::create(g->timeout);
  // Loopback jobs bind Gloo to loopback; others bind as torch.distributed does
  // (GLOO_SOCKET_IFNAME, else this host's name, else loopback).
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname && *ifname) {
    glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
  } else if (g->masterAddr == "127.0.0.1" || g->masterAddr == "localhost" || g->masterAddr == "::1") {
    glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(g->masterAddr));
  } else {
    glooOptions->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  glooOptions->threads = 2;
  try {
    g->collectives = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->size, glooOptions);
    g->group = compat::GroupOver(g->store, g->rank, g->size, g->collectives, false, g->timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error(g->Where() + ": the rendezvous at " + g->masterAddr + ":" + std::to_string(g->masterPort) +
                             " did not complete within " + std::to_string(g->timeout.count()) + " ms (Gloo could not connect the ranks: " +
                             Describe(e) + ")");
  }
  if (g->size > 1) g->heartbeat = std::make_unique<Heartbeat>(g->store, g->rank);
  return g;
}

// The Reducer for `model`'s trainable parameters, made (or remade, after a
// layer was frozen, unfrozen or replaced) at a training step: every rank runs
// the same program, so every rank remakes it at the same step.
DdpReducer& ReducerFor(NativeProcessGroup& g, const std::shared_ptr<NativeModule>& model, int64_t bucketBytes) {
  for (auto it = g.reducers.begin(); it != g.reducers.end();) {
    it = it->second.model.expired() ? g.reducers.erase(it) : std::next(it);
  }
  const auto named = model->module->named_parameters().pairs();
  NativeProcessGroup::ModelReducer& entry = g.reducers[model.get()];
  if (!entry.reducer || entry.model.lock() != model || !entry.reducer->Covers(DdpReducer::Trainable(named), bucketBytes)) {
    entry.reducer.reset();  // its hooks come off the old parameters first
    entry.model = model;
    entry.reducer = std::make_unique<DdpReducer>(named, g.group, bucketBytes);
  }
  return *entry.reducer;
}

#endif  // TT_WITH_DISTRIBUTED

std::vector<torch::Tensor> TensorList(const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) throw TypeError(value.Env(), "Expected an array of Tensors for " + what);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<torch::Tensor> out;
  for (uint32_t i = 0; i < array.Length(); ++i) out.push_back(TensorWrap::From(array.Get(i), what + "[" + std::to_string(i) + "]"));
  return out;
}

std::vector<torch::Tensor> ModuleState(NativeModule& m, bool params, bool buffers) {
  std::vector<torch::Tensor> out;
  if (params) for (const auto& p : m.module->parameters()) out.push_back(p);
  if (buffers) for (const auto& b : m.module->buffers()) out.push_back(b);
  return out;
}

Napi::Value Undefined(Napi::Env env, bool&) { return env.Undefined(); }

}  // namespace

std::string NativeProcessGroup::Where() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(size) + " (MASTER_ADDR:MASTER_PORT " + masterAddr + ":" +
         std::to_string(masterPort) + ")";
}

Napi::Function ProcessGroupWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeProcessGroup",
                                    {
                                        StaticMethod<&ProcessGroupWrap::Create>("create"),
                                        InstanceAccessor<&ProcessGroupWrap::Rank>("rank"),
                                        InstanceAccessor<&ProcessGroupWrap::Size>("size"),
                                        InstanceAccessor<&ProcessGroupWrap::Backend>("backend"),
                                        InstanceAccessor<&ProcessGroupWrap::BytesAllReduced>("bytesAllReduced"),
                                        InstanceAccessor<&ProcessGroupWrap::BytesBroadcast>("bytesBroadcast"),
                                        InstanceAccessor<&ProcessGroupWrap::Disposed>("isDisposed"),
                                        InstanceMethod<&ProcessGroupWrap::AllReduce>("allReduce"),
                                        InstanceMethod<&ProcessGroupWrap::Broadcast>("broadcast"),
                                        InstanceMethod<&ProcessGroupWrap::Barrier>("barrier"),
                                        InstanceMethod<&ProcessGroupWrap::Dispose>("dispose"),
                                    });
  DataOf(env).processGroupConstructor = Napi::Persistent(ctor);
  return ctor;
}

std::shared_ptr<NativeProcessGroup> ProcessGroupWrap::From(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(DataOf(env).processGroupConstructor.Value())) {
    throw TypeError(env, "Expected a ProcessGroup for " + what);
  }
  auto group = Napi::ObjectWrap<ProcessGroupWrap>::Unwrap(value.As<Napi::Object>())->group_;
  if (group->disposed) throw Napi::Error::New(env, group->Where() + ": the process group was disposed");
  return group;
}

ProcessGroupWrap::ProcessGroupWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupWrap>(info) {
  if (info.Length() != 1 || !info[0].IsExternal()) {
    throw TypeError(info.Env(), "Process groups are made with tt.distributed.initProcessGroup()");
  }
  group_ = *info[0].As<Napi::External<std::shared_ptr<NativeProcessGroup>>>().Data();
}

// create(backend, masterAddr, masterPort, rank, worldSize, timeoutMs): checked in JS first.
Napi::Value ProcessGroupWrap::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsString()) throw TypeError(env, "Expected strings for backend and masterAddr");
  for (int i = 2; i <= 5; ++i) {
    if (!info[i].IsNumber()) throw TypeError(env, "Expected integers for masterPort, rank, worldSize and timeoutMs");
  }
  auto g = std::make_shared<NativeProcessGroup>();
  g->backend = info[0].As<Napi::String>().Utf8Value();
  g->masterAddr = info[1].As<Napi::String>().Utf8Value();
  g->masterPort = info[2].As<Napi::Number>().Int32Value();
  g->rank = info[3].As<Napi::Number>().Int32Value();
  g->size = info[4].As<Napi::Number>().Int32Value();
  g->timeout = std::chrono::milliseconds(info[5].As<Napi::Number>().Int64Value());
  if (g->masterPort < 0 || g->masterPort > 65535 || g->size < 1 || g->rank < 0 || g->rank >= g->size || g->timeout.count() <= 0) {
    throw Napi::RangeError::New(env, "Expected 0 <= rank < worldSize, a port in 0..65535 and a positive timeout");
  }
  return RunAsync<std::shared_ptr<NativeProcessGroup>>(
      env, false,
      [g]() -> std::shared_ptr<NativeProcessGroup> {
#ifdef TT_WITH_DISTRIBUTED
        return Rendezvous(g);
#else
        throw std::runtime_error(std::string(kInstallHint));
#endif
      },
      [](Napi::Env env, std::shared_ptr<NativeProcessGroup>& group) -> Napi::Value {
        auto* holder = new std::shared_ptr<NativeProcessGroup>(group);
        Napi::Object object = DataOf(env).processGroupConstructor.New({Napi::External<std::shared_ptr<NativeProcessGroup>>::New(env, holder)});
        delete holder;
        return object;
      });
}

Napi::Value ProcessGroupWrap::Rank(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), group_->rank); }
Napi::Value ProcessGroupWrap::Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), group_->size); }
Napi::Value ProcessGroupWrap::Backend(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), group_->backend); }
Napi::Value ProcessGroupWrap::BytesAllReduced(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(group_->bytesAllReduced.load()));
}
Napi::Value ProcessGroupWrap::BytesBroadcast(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(group_->bytesBroadcast.load()));
}
Napi::Value ProcessGroupWrap::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), group_->disposed); }

// allReduce(tensors): sums each tensor across ranks, in place (CPU tensors, any mix of dtypes).
Napi::Value ProcessGroupWrap::AllReduce(const Napi::CallbackInfo& info) {
  auto g = From(Value(), "this");
  std::vector<torch::Tensor> tensors = TensorList(info[0], "tensors");
  return RunAsync<bool>(
      info.Env(), false,
      [g, tensors]() {
#ifdef TT_WITH_DISTRIBUTED
        std::lock_guard<std::mutex> lock(g->mutex);
        Check(*g);
        AllReduceCoalesced(*g, tensors, int64_t{25} << 20);
#endif
        return true;
      },
      Undefined);
}

// broadcast(tensors, root): every rank's tensors become root's, in place.
Napi::Value ProcessGroupWrap::Broadcast(const Napi::CallbackInfo& info) {
  auto g = From(Value(), "this");
  std::vector<torch::Tensor> tensors = TensorList(info[0], "tensors");
  if (!info[1].IsNumber()) throw TypeError(info.Env(), "Expected an integer for root");
  const int root = info[1].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= g->size) throw Napi::RangeError::New(info.Env(), "Expected 0 <= root < " + std::to_string(g->size) + " for root");
  return RunAsync<bool>(
      info.Env(), false,
      [g, tensors, root]() {
#ifdef TT_WITH_DISTRIBUTED
        std::lock_guard<std::mutex> lock(g->mutex);
        Check(*g);
        BroadcastCoalesced(*g, tensors, root, int64_t{250} << 20);
#endif
        return true;
      },
      Undefined);
}

Napi::Value ProcessGroupWrap::Barrier(const Napi::CallbackInfo& info) {
  auto g = From(Value(), "this");
  return RunAsync<bool>(
      info.Env(), false,
      [g]() {
#ifdef TT_WITH_DISTRIBUTED
        std::lock_guard<std::mutex> lock(g->mutex);
        Check(*g);
        Wait(*g, "barrier", g->collectives->barrier());
#endif
        return true;
      },
      Undefined);
}

// dispose(): closes this rank's connections (rank 0's store goes with it).
Napi::Value ProcessGroupWrap::Dispose(const Napi::CallbackInfo& info) {
  std::shared_ptr<NativeProcessGroup> g = group_;
  // A collective in flight keeps the connections until it ends; never block the JS thread on it.
  std::unique_lock<std::mutex> lock(g->mutex, std::try_to_lock);
  g->disposed = true;
#ifdef TT_WITH_DISTRIBUTED
  if (lock.owns_lock()) {
    // The Reducers hold the Gloo group too. No step runs now: each model's
    // steps take this lock, so their hooks come off no running backward.
    g->reducers.clear();
    g->heartbeat.reset();
    g->group.reset();
    g->collectives.reset();
    g->store.reset();
  }
#endif
  return info.Env().Undefined();
}

void DefineDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("ProcessGroup", ProcessGroupWrap::Define(env));
  exports.Set("distributedAvailable", Napi::Function::New(env, DistributedAvailable, "distributedAvailable"));
  exports.Set("ncclAvailable", Napi::Function::New(env, NcclAvailable, "ncclAvailable"));
  exports.Set("randperm", Napi::Function::New(env, Randperm, "randperm"));
  exports.Set("ddpTrainStep", Napi::Function::New(env, DdpTrainStep, "ddpTrainStep"));
  exports.Set("broadcastModule", Napi::Function::New(env, BroadcastModule, "broadcastModule"));
}

// torch.distributed.is_nccl_available(): built against a CUDA libtorch with
// c10d's NCCL backend and NCCL's headers (TT_WITH_NCCL, set by CMakeLists.txt).
Napi::Value NcclAvailable(const Napi::CallbackInfo& info) {
#ifdef TT_WITH_NCCL
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value DistributedAvailable(const Napi::CallbackInfo& info) {
#ifdef TT_WITH_DISTRIBUTED
  return Napi::Boolean::New(info.Env(), true);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// randperm(n, seed): torch.randperm(n, generator=torch.Generator().manual_seed(seed)), as int64 -> numbers.
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw TypeError(env, "Expected integers for n and seed");
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  const uint64_t seed = static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value());
  if (n < 0) throw Napi::RangeError::New(env, "Expected a non-negative integer for n");
  torch::Tensor perm = Guarded(env, [&] {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    return torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kLong));
  });
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(n));
  const int64_t* data = perm.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(data[i])));
  return out;
}

// One DDP batch: buffers from rank 0, forward, loss and, when training,
// backward with the gradients averaged across ranks by the Reducer as they
// are produced, and the SGD step.
Napi::Value DdpTrainStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  StepArgs a = ParseStepArgs(info, 8);
  std::shared_ptr<NativeProcessGroup> g = ProcessGroupWrap::From(info[5], "processGroup");
  const bool broadcastBuffers = info[6].ToBoolean().Value();
  const int64_t bucketBytes = info[7].IsNumber() ? info[7].As<Napi::Number>().Int64Value() : int64_t{25} << 20;
  if (bucketBytes <= 0) throw Napi::RangeError::New(env, "Expected a positive bucketBytes");
  return RunCompute<StepResult>(
      env, a.train,
      [a, g, broadcastBuffers, bucketBytes]() {
#ifdef TT_WITH_DISTRIBUTED
        std::lock_guard<std::mutex> lock(g->mutex);
        Check(*g);
        // DDP wants at least one parameter to reduce; with every one frozen
        // there is nothing to average (each rank's step is a no-op alike).
        DdpReducer* reducer = nullptr;
        if (a.train && !DdpReducer::Trainable(a.model->module->named_parameters().pairs()).empty()) {
          reducer = &ReducerFor(*g, a.model, bucketBytes);
        }
        const char* phase = "forward";
        StepHooks hooks;
        hooks.beforeForward = [&] {
          phase = "bucket rebuild";
          if (reducer) reducer->BeforeForward();
          phase = "broadcast of buffers";
          if (broadcastBuffers && g->size > 1) {
            std::vector<torch::Tensor> buffers = ModuleState(*a.model, false, true);
            if (!buffers.empty()) BroadcastCoalesced(*g, buffers, 0, int64_t{250} << 20);
          }
          phase = "forward";
        };
        hooks.beforeBackward = [&] {
          phase = "allReduce of gradients during backward";
          if (reducer) reducer->BeforeBackward();
        };
        hooks.afterBackward = [&] {
          if (reducer) g->bytesAllReduced += reducer->BytesPerBackward();
          phase = "optimizer step";
        };
        try {
          return RunStep(*a.model, a.sgd.get(), a.inputs, a.labels, a.train, a.loss, hooks, a.amp);
        } catch (const CollectiveError&) {
          throw;
        } catch (const std::exception& e) {
          // The Reducer's collectives fail inside backward (its futures
          // rethrow there); name the rank and the group as Wait() does.
          Fail(*g, phase, e);
        }
#else
        throw std::runtime_error(std::string(kInstallHint));
        return StepResult();
#endif
      },
      StepResultToJs);
}

Napi::Value BroadcastModule(const Napi::CallbackInfo& info) {
  std::shared_ptr<NativeModule> model = ModuleWrap::From(info[0], "model");
  std::shared_ptr<NativeProcessGroup> g = ProcessGroupWrap::From(info[1], "processGroup");
  return RunCompute<bool>(
      info.Env(), false,
      [model, g]() {
#ifdef TT_WITH_DISTRIBUTED
        std::lock_guard<std::mutex> lock(g->mutex);
        Check(*g);
        std::vector<torch::Tensor> state = ModuleState(*model, true, true);
        if (g->size > 1 && !state.empty()) BroadcastCoalesced(*g, state, 0, int64_t{250} << 20);
#endif
        return true;
      },
      Undefined);
}

}  // namespace tt
