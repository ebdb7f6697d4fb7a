// The one pattern for running libtorch work off the JavaScript thread: the
// caller copies what it needs into the closure, Execute() touches only C++ data
// on libuv's pool, and the promise settles on the JavaScript thread.
#pragma once
#include "errors.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
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

// The thread that runs model work (forward, backward, optimizer steps), one
// at a time, as Python's main thread does: its memory is reused step after
// step (one malloc arena) and one OpenMP team stays warm. A pool thread hands
// the work over and waits, so the promise plumbing stays the same.
class ComputeThread {
 public:
  template <typename R>
  static R Run(const std::function<R()>& work) {
    std::packaged_task<R()> task(work);
    std::future<R> result = task.get_future();
    Instance().Post([&task] { task(); });
    return result.get();  // rethrows what the work threw
  }

 private:
  static ComputeThread& Instance() {
    static ComputeThread* instance = new ComputeThread();  // never joined: it outlives the environment
    return *instance;
  }

  ComputeThread() { std::thread([this] { Loop(); }).detach(); }

  void Post(std::function<void()> job) {
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

// RunAsync for model work: the work runs on the compute thread, with the
// grad mode and thread count set there.
template <typename R>
Napi::Promise RunCompute(Napi::Env env, bool gradEnabled, std::function<R()> work,
                         std::function<Napi::Value(Napi::Env, R&)> toJs) {
  std::function<R()> onComputeThread = [gradEnabled, work = std::move(work)]() {
    return ComputeThread::Run<R>([gradEnabled, &work]() {
      ApplyThreadCount();
      torch::AutoGradMode gradMode(gradEnabled);
      return work();
    });
  };
  return RunAsync<R>(env, gradEnabled, std::move(onComputeThread), std::move(toJs));
}

}  // namespace tt
