#include "liveness.h"

#ifdef TT_WITH_DISTRIBUTED
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tt {
namespace {

// Beats four times a second; a rank is declared dead only after its counter
// stood still for six beats, far more than a sleeping thread is ever late.
constexpr std::chrono::milliseconds kBeat{250};
constexpr std::chrono::milliseconds kWatch{1500};
// When the store goes in the middle of a watch, a rank not seen beating is
// called dead only if it was watched this long: one or two looks, 250 ms
// apart, can miss a beat that is a little late, and a rank that stalls but
// lives was once called dead that way (three ranks, on a loaded machine: rank
// 0 reported and left before the lagging rank 1 had looked twice).
constexpr std::chrono::milliseconds kWatchedEnough{1000};

std::string BeatKey(int rank) { return "torch-transfer/heartbeat/" + std::to_string(rank); }
std::string FailedKey(int rank) { return "torch-transfer/failed/" + std::to_string(rank); }

}  // namespace

struct Heartbeat::State {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
  bool done = false;  // the thread has returned
};

namespace {

std::mutex registryMutex;
std::vector<std::weak_ptr<Heartbeat::State>> registry;

// Stops every beating thread before the process's static objects are
// destroyed. Why: from 2.5, TCPStore::add keeps a function-local static
// (its WaitCounter handle), which exit() destroys like any other; a detached
// thread still beating then uses it after its destructor and the process dies
// with SIGSEGV instead of its exit status (seen on libtorch 2.6 with a rank
// that stalled: the other ranks reported the timeout, then crashed on exit).
// atexit handlers run in the reverse order of their registration and of the
// statics' construction, so this is registered after a first add() has built
// those statics, and runs before they go. A thread stuck in a call to a host
// gone quiet is waited for a moment only: exit is not held up for it.
void StopAllAtExit() {
  std::vector<std::shared_ptr<Heartbeat::State>> live;
  {
    std::lock_guard<std::mutex> lock(registryMutex);
    for (auto& weak : registry) {
      if (auto state = weak.lock()) live.push_back(std::move(state));
    }
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (auto& state : live) {
    std::unique_lock<std::mutex> lock(state->mutex);
    state->stop = true;
    state->wake.notify_all();
    state->wake.wait_until(lock, until, [&] { return state->done; });
  }
}

void Register(const std::shared_ptr<Heartbeat::State>& state) {
  static const bool registered = [] { return std::atexit(StopAllAtExit) == 0; }();
  (void)registered;
  std::lock_guard<std::mutex> lock(registryMutex);
  registry.erase(std::remove_if(registry.begin(), registry.end(), [](const auto& weak) { return weak.expired(); }), registry.end());
  registry.push_back(state);
}

}  // namespace

Heartbeat::Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank) : state_(std::make_shared<State>()) {
  const std::string key = BeatKey(rank);
  // The first beat here, on the calling thread: it builds the statics that
  // add() uses before StopAllAtExit is registered (see there).
  try {
    store->add(key, 1);
  } catch (const std::exception&) {
    // The thread's first beat will find the store gone too, and return.
  }
  Register(state_);
  std::thread([state = state_, store, key] {
    std::unique_lock<std::mutex> lock(state->mutex);
    while (!state->stop) {
      state->wake.wait_for(lock, kBeat, [&] { return state->stop; });
      if (state->stop) break;
      lock.unlock();
      bool gone = false;
      try {
        store->add(key, 1);
      } catch (const std::exception&) {
        gone = true;  // the store is gone (rank 0 ended): nobody is left to ask
      }
      lock.lock();
      if (gone) break;
    }
    state->done = true;
    state->wake.notify_all();
  }).detach();
}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stop = true;
  }
  state_->wake.notify_all();
}

void MarkFailed(c10d::Store& store, int rank) {
  try {
    store.set(FailedKey(rank), std::vector<uint8_t>{1});
  } catch (const std::exception&) {
    // Best effort: it only sharpens the other ranks' messages.
  }
}

std::vector<int> DeadRanks(c10d::Store& store, int size, int self) {
  std::vector<int64_t> first(size, 0);
  std::vector<bool> beating(size, false);
  bool read = false;
  std::chrono::steady_clock::time_point watched;
  try {
    for (int r = 0; r < size; ++r) {
      if (r != self) first[r] = store.add(BeatKey(r), 0);
    }
    read = true;
    watched = std::chrono::steady_clock::now();
    const auto until = watched + kWatch;
    while (std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(kBeat);
      bool all = true;
      for (int r = 0; r < size; ++r) {
        if (r == self || beating[r]) continue;
        beating[r] = store.add(BeatKey(r), 0) != first[r];
        all = all && beating[r];
      }
      if (all) return {};
    }
    std::vector<int> dead;
    for (int r = 0; r < size; ++r) {
      if (r != self && !beating[r] && !store.check({FailedKey(r)})) dead.push_back(r);
    }
    return dead;
  } catch (const std::exception&) {
    // The store went away: rank 0's process has ended. If it went late in
    // the watch (rank 0 giving up after a failure of its own, say), the ranks
    // not seen beating by then are the answer; early in it, nothing is known.
    if (self == 0) return {};
    if (!read) return {0};
    if (std::chrono::steady_clock::now() - watched < kWatchedEnough) return {};
    std::vector<int> dead;
    for (int r = 0; r < size; ++r) {
      if (r != self && !beating[r]) dead.push_back(r);
    }
    return dead;
  }
}

}  // namespace tt
#endif  // TT_WITH_DISTRIBUTED
