// The two ways libtorch work leaves the JavaScript thread. The caller copies
// what it needs into the closure, the work touches only C++ data, and the
// promise settles on the JavaScript thread.
//   RunAsync:   libuv's pool, for work on data no model shares (decoding, I/O).
//   RunCompute: the compute queue, for anything that reads or changes tensors
//               a model may be using, in call order.
#pragma once
#include "errors.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
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

// The one queue for work on tensors: forward, backward, optimizer steps, and
// every change or read of a model's tensors or mode. Work is posted from the
// JavaScript thread when the call is made, so it runs in call order, one job
// at a time, as Python's main thread would run it; its memory is reused step
// after step (one malloc arena) and one OpenMP team stays warm.
class ComputeQueue {
 public:
  // Called on the JavaScript thread only, so posting order is call order.
  static void Post(std::function<void()> job) { Instance().Push(std::move(job)); }

  // For work whose caller gets no promise (train(), to(), copy_(), zeroGrad()):
  // its arguments were checked when it was posted, so it fails only on a
  // libtorch error; that error rejects the next awaited call rather than
  // being lost.
  static void PostDetached(std::function<void()> job) {
    Post([job = std::move(job)] {
      try {
        ApplyThreadCount();
        job();
      } catch (const c10::Error& e) {
        DeferredError() = MessageOf(e);
      } catch (const std::exception& e) {
        DeferredError() = e.what();
      }
    });
  }

  // Posts `work` and waits for it, for the few synchronous calls that must see
  // every earlier call's effect (a module's tree changing under a queued
  // forward). It waits only as long as the work queued before it.
  template <typename R>
  static R RunSync(std::function<R()> work) {
    std::packaged_task<R()> task(std::move(work));
    std::future<R> result = task.get_future();
    Post([&task] {
      ApplyThreadCount();
      task();
    });
    return result.get();  // rethrows what the work threw
  }

  // Compute thread only: the error of an earlier detached job, once.
  static std::string TakeDeferredError() {
    std::string message;
    message.swap(DeferredError());
    return message;
  }

 private:
  static std::string& DeferredError() {
    static std::string message;
    return message;
  }

  static ComputeQueue& Instance() {
    static ComputeQueue* instance = new ComputeQueue();  // never joined: it outlives the environment
    return *instance;
  }

  ComputeQueue() { std::thread([this] { Loop(); }).detach(); }

  void Push(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !jobs_.empty(); });
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
      job = nullptr;  // captured tensors are released here, on this thread
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
};

template <typename R>
Napi::Promise RunAsync(Napi::Env env, bool gradEnabled, std::function<R()> work,
                       std::function<Napi::Value(Napi::Env, R&)> toJs) {
  auto* worker = new PromiseWorker<R>(env, gradEnabled, std::move(work), std::move(toJs));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// A call on the compute queue, from its posting to its promise settling.
template <typename R>
struct ComputeCall {
  Napi::Promise::Deferred deferred;
  std::function<Napi::Value(Napi::Env, R&)> toJs;
  R result{};
  bool failed = false;
  std::string error;
};

// Runs on the JavaScript thread when the compute thread is done with a call.
template <typename R>
void SettleComputeCall(Napi::Env env, Napi::Function, std::nullptr_t*, ComputeCall<R>* raw) {
  std::unique_ptr<ComputeCall<R>> call(raw);
  if (env == nullptr) return;  // the environment is being torn down
  if (call->failed) {
    call->deferred.Reject(Napi::Error::New(env, call->error).Value());
    return;
  }
  try {
    call->deferred.Resolve(call->toJs(env, call->result));
  } catch (const Napi::Error& e) {
    call->deferred.Reject(e.Value());
  } catch (const c10::Error& e) {
    call->deferred.Reject(Napi::Error::New(env, MessageOf(e)).Value());
  } catch (const std::exception& e) {
    call->deferred.Reject(Napi::Error::New(env, e.what()).Value());
  }
}

// RunAsync for work on the compute queue: posted now, in call order, with the
// grad mode and thread count set on the compute thread; the promise settles
// through a thread-safe function, which also keeps the event loop alive
// until it does.
template <typename R>
Napi::Promise RunCompute(Napi::Env env, bool gradEnabled, std::function<R()> work,
                         std::function<Napi::Value(Napi::Env, R&)> toJs) {
  using Settle = Napi::TypedThreadSafeFunction<std::nullptr_t, ComputeCall<R>, SettleComputeCall<R>>;
  auto* call = new ComputeCall<R>{Napi::Promise::Deferred::New(env), std::move(toJs)};
  Napi::Promise promise = call->deferred.Promise();
  Settle settle = Settle::New(env, "torch-transfer", 0, 1);
  ComputeQueue::Post([call, settle, gradEnabled, work = std::move(work)]() mutable {
    const std::string earlier = ComputeQueue::TakeDeferredError();
    if (!earlier.empty()) {
      call->failed = true;
      call->error = "an earlier operation on the compute queue failed: " + earlier;
    } else {
      try {
        ApplyThreadCount();
        torch::AutoGradMode gradMode(gradEnabled);
        call->result = work();
      } catch (const c10::Error& e) {
        call->failed = true;
        call->error = MessageOf(e);
      } catch (const std::exception& e) {
        call->failed = true;
        call->error = e.what();
      } catch (...) {
        call->failed = true;
        call->error = "torch-transfer: unknown native error";
      }
    }
    work = nullptr;  // release captured tensors on the compute thread, not later on the JS thread
    if (settle.NonBlockingCall(call) != napi_ok) delete call;  // the environment is closing
    settle.Release();
  });
  return promise;
}

}  // namespace tt
