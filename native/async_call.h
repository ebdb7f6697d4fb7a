// The one pattern for running libtorch work off the JavaScript thread: the
// caller copies what it needs into the closure, Execute() touches only C++ data
// on libuv's pool, and the promise settles on the JavaScript thread.
#pragma once
#include "errors.h"

#include <atomic>
#include <functional>
#include <string>

namespace tt {

// Bumped by setNumThreads(); each pool thread re-applies the count once per
// change, since at::init_num_threads() rebuilds a thread pool on every call.
inline std::atomic<int>& ThreadCountGeneration() {
  static std::atomic<int> generation{0};
  return generation;
}

inline void ApplyThreadCount() {
  thread_local int applied = -1;
  const int current = ThreadCountGeneration().load();
  if (applied != current) {
    at::init_num_threads();
    applied = current;
  }
}

template <typename R>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<R()>;
  using ToJs = std::function<Napi::Value(Napi::Env, R&)>;

  PromiseWorker(Napi::Env env, bool gradEnabled, Work work, ToJs toJs)
      : Napi::AsyncWorker(env, "torch-transfer"),
        deferred_(Napi::Promise::Deferred::New(env)),
        gradEnabled_(gradEnabled),
        work_(std::move(work)),
        toJs_(std::move(toJs)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      // Grad mode and the intra-op thread count are thread-local in libtorch:
      // set both on the pool thread that does the work.
      ApplyThreadCount();
      torch::AutoGradMode gradMode(gradEnabled_);
      result_ = work_();
    } catch (const c10::Error& e) {
      SetError(MessageOf(e));
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("torch-transfer: unknown native error");
    }
    work_ = nullptr;  // release captured tensors on the worker, not later on the JS thread
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(toJs_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const c10::Error& e) {
      deferred_.Reject(Napi::Error::New(env, MessageOf(e)).Value());
    } catch (const std::exception& e) {
      deferred_.Reject(Napi::Error::New(env, e.what()).Value());
    }
    result_ = R();
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  bool gradEnabled_;
  Work work_;
  ToJs toJs_;
  R result_{};
};

template <typename R>
Napi::Promise RunAsync(Napi::Env env, bool gradEnabled, std::function<R()> work,
                       std::function<Napi::Value(Napi::Env, R&)> toJs) {
  auto* worker = new PromiseWorker<R>(env, gradEnabled, std::move(work), std::move(toJs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace tt
