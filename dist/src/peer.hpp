#pragma once
// Another node as this one sees it: the queue of signals on their way to it, and (on
// the I/O thread) the state of the connection to it. A Peer lives as long as the
// distribution layer; connections to its node come and go.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "spindle/atom.hpp"
#include "spindle/mailbox.hpp"
#include "spindle/remote.hpp"

namespace spindle::dist {

class Connection;

struct Peer {
  explicit Peer(Atom node) : name(node) {}
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const Atom name;
  /// OutgoingItems from any thread; drained by the I/O thread. Idle while the I/O thread
  /// has nothing of it to do, so the push that ends that idleness wakes the I/O thread.
  Mailbox queue;
  /// Weight (OutgoingItem::weight) of what `queue` and the writer's backlog hold.
  std::atomic<std::size_t> queued_bytes{0};
  /// Set when a send found the queue over its bound: from then until the connection is
  /// closed, sends to this node are dropped.
  std::atomic<bool> overflowing{false};
  /// Processes suspended for sending while `queued_bytes` was past busy_limit_bytes,
  /// resumed once it is back under it or the queue fails (Erlang's busy distribution
  /// port). The list is under `waiters_mutex`; the flag spares the writer the lock.
  std::mutex waiters_mutex;
  std::vector<SuspendedSender> waiters;
  std::atomic<bool> has_waiters{false};
  std::atomic<std::uint64_t> senders_suspended{0};  // ever, for ConnectionStats

  // ----- I/O thread only -----
  enum class State {
    idle,        ///< no connection and none being made
    connecting,  ///< our attempt is under way
    waiting,     ///< we lost a simultaneous connect: the peer's attempt is under way
    up,          ///< `connection` carries the traffic
  };
  State state = State::idle;
  std::shared_ptr<Connection> connection;
  std::uint64_t attempt = 0;  // numbers connection attempts, so a stale one can tell
};

/// Peers by node name: lock-free lookups (every remote send does one), inserts under a
/// mutex. Peers are never removed, so a pointer stays valid for the table's life.
class PeerTable {
 public:
  PeerTable() = default;
  ~PeerTable();
  PeerTable(const PeerTable&) = delete;
  PeerTable& operator=(const PeerTable&) = delete;

  Peer* find(Atom node) const noexcept {
    const std::uint32_t i = node.index();
    const Chunk* chunk = chunks_[i / kChunk].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : (*chunk)[i % kChunk].load(std::memory_order_acquire);
  }
  /// The peer for `node`, made on first use.
  Peer& get(Atom node);
  /// Every peer so far (I/O thread: for shutdown and listings).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& c : chunks_)
      if (const Chunk* chunk = c.load(std::memory_order_acquire))
        for (const auto& slot : *chunk)
          if (Peer* p = slot.load(std::memory_order_acquire)) f(*p);
  }

 private:
  // Atoms are numbered densely from 0 up to 2^20: a two-level array by atom index.
  static constexpr std::size_t kChunk = 1024;
  static constexpr std::size_t kChunks = (std::size_t{1} << 20) / kChunk;
  using Chunk = std::array<std::atomic<Peer*>, kChunk>;
  std::array<std::atomic<Chunk*>, kChunks> chunks_{};
  std::mutex insert_mutex_;
};

}  // namespace spindle::dist
