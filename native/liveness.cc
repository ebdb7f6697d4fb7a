#include "liveness.h"

#ifdef TT_WITH_DISTRIBUTED
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace tt {
namespace {

// Beats four times a second; a rank is declared dead only after its counter
// stood still for six beats, far more than a sleeping thread is ever late.
constexpr std::chrono::milliseconds kBeat{250};
constexpr std::chrono::milliseconds kWatch{1500};

std::string BeatKey(int rank) { return "torch-transfer/heartbeat/" + std::to_string(rank); }
std::string FailedKey(int rank) { return "torch-transfer/failed/" + std::to_string(rank); }

}  // namespace

struct Heartbeat::State {
  std::mutex mutex;
  std::condition_variable wake;
  bool stop = false;
};

Heartbeat::Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank) : state_(std::make_shared<State>()) {
  std::thread([state = state_, store, key = BeatKey(rank)] {
    std::unique_lock<std::mutex> lock(state->mutex);
    while (!state->stop) {
      lock.unlock();
      try {
        store->add(key, 1);
      } catch (const std::exception&) {
        return;  // the store is gone (rank 0 ended): nobody is left to ask
      }
      lock.lock();
      state->wake.wait_for(lock, kBeat, [&] { return state->stop; });
    }
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
  try {
    for (int r = 0; r < size; ++r) {
      if (r != self) first[r] = store.add(BeatKey(r), 0);
    }
    read = true;
    const auto until = std::chrono::steady_clock::now() + kWatch;
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
    // The store went away: rank 0's process has ended. If it went during the
    // watch (rank 0 giving up after a failure of its own, say), the ranks not
    // seen beating by then are the answer.
    if (self == 0) return {};
    if (!read) return {0};
    std::vector<int> dead;
    for (int r = 0; r < size; ++r) {
      if (r != self && !beating[r]) dead.push_back(r);
    }
    return dead;
  }
}

}  // namespace tt
#endif  // TT_WITH_DISTRIBUTED
