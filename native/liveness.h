// Naming the rank that died when a collective fails among more than two:
// Gloo's error names only a peer's socket address. Each rank beats a counter
// in the rendezvous store from a thread of its own; after a failure the
// survivors watch the counters briefly, and the ranks whose counters stand
// still (and that did not report a failure of their own) are the dead ones.
#pragma once
#include "torch_pch.h"

#ifdef TT_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tt {

class Heartbeat {
 public:
  // Beats on the group's own store client (thread-safe: TCPStore serialises
  // its operations) until destroyed or the store goes away.
  Heartbeat(c10::intrusive_ptr<c10d::Store> store, int rank);
  // Never waits for the thread: it may be in a store call to a host gone quiet.
  ~Heartbeat();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Records that `rank` saw a collective fail (it stops beating once its
// process exits, but it is a witness, not the cause).
void MarkFailed(c10d::Store& store, int rank);

// The other ranks that are gone, in order; empty when every other rank still
// beats. Rank 0 hosts the store, so a store that cannot be reached means rank 0.
std::vector<int> DeadRanks(c10d::Store& store, int size, int self);

}  // namespace tt
#endif  // TT_WITH_DISTRIBUTED
