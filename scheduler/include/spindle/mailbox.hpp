#pragma once
/// @file
/// A lock-free, intrusive, multi-producer single-consumer mailbox.
///
/// Producers push onto a LIFO stack with one compare-and-swap; the single consumer takes
/// the whole stack at once and reverses it, which restores arrival order (and so each
/// sender's order). The head pointer also encodes the consumer's state, as in CAF's
/// mailbox: `idle` (nobody scheduled to read) and `closed`. A push that finds the mailbox
/// idle tells the pusher to schedule the owner, so an actor is scheduled exactly when its
/// mailbox goes from idle to non-empty.
///
/// A quiet push queues an item without waking an idle owner: bookkeeping (a monitor or a
/// link placed on a process) need not run the process until something else does, and is
/// then handled first, in arrival order. An idle mailbox keeps its quiet items in the
/// same stack, so a later wake-up takes them along with what woke it; the low bits of the
/// head (nodes are at least 8-byte aligned) mark it idle and count the items held, and
/// once `kHeldLimit` wait, the next quiet push wakes the owner like any other, so
/// bookkeeping sent to a process that never gets a message cannot pile up.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace spindle {

/// A link in a mailbox. Messages derive from it (one allocation per message).
struct alignas(8) MailboxNode {
  MailboxNode* next = nullptr;
};

/// A FIFO chain of nodes taken out of a mailbox, owned by the consumer.
class NodeList {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  MailboxNode* front() const noexcept { return head_; }
  MailboxNode* pop_front() noexcept {
    MailboxNode* n = head_;
    head_ = n->next;
    if (head_ == nullptr) tail_ = nullptr;
    n->next = nullptr;
    return n;
  }
  void push_back(MailboxNode* n) noexcept {
    n->next = nullptr;
    if (tail_ == nullptr) {
      head_ = tail_ = n;
    } else {
      tail_ = tail_->next = n;
    }
  }
  /// Appends a chain that is already in order.
  void append(NodeList&& other) noexcept {
    if (other.empty()) return;
    if (tail_ == nullptr) {
      head_ = other.head_;
    } else {
      tail_->next = other.head_;
    }
    tail_ = other.tail_;
    other.head_ = other.tail_ = nullptr;
  }
  /// Inserts `n` after `prev` (at the front when `prev` is null).
  void insert_after(MailboxNode* prev, MailboxNode* n) noexcept {
    MailboxNode*& slot = prev == nullptr ? head_ : prev->next;
    n->next = slot;
    slot = n;
    if (n->next == nullptr) tail_ = n;
  }
  /// Removes `n`, which follows `prev` (or is the front when `prev` is null).
  void erase_after(MailboxNode* prev, MailboxNode* n) noexcept {
    (prev == nullptr ? head_ : prev->next) = n->next;
    if (tail_ == n) tail_ = prev;
    n->next = nullptr;
  }
  /// Builds a list from a LIFO stack (most recent first), reversing it; adds the
  /// number of nodes to `count`.
  static NodeList from_stack(MailboxNode* top, std::size_t& count) noexcept {
    NodeList list;
    list.tail_ = top;
    MailboxNode* reversed = nullptr;
    std::size_t n = 0;
    while (top != nullptr) {
      MailboxNode* next = top->next;
      top->next = reversed;
      reversed = top;
      top = next;
      ++n;
    }
    list.head_ = reversed;
    count += n;
    return list;
  }
  static NodeList from_stack(MailboxNode* top) noexcept {
    std::size_t ignored = 0;
    return from_stack(top, ignored);
  }

 private:
  MailboxNode* head_ = nullptr;
  MailboxNode* tail_ = nullptr;
};

class Mailbox {
 public:
  enum class Push {
    Queued,         ///< delivered; the owner is already scheduled or running
    QueuedWasIdle,  ///< delivered to an idle mailbox: the pusher must schedule the owner
    Held,           ///< delivered quietly to an idle mailbox: it waits for the next wake-up
    Closed,         ///< the owner is gone; the node was not taken
  };

  Mailbox() noexcept = default;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  /// Any thread. One CAS in the common case. The CAS acquires as well as releases: a
  /// push that finds the mailbox idle schedules the owner, and the worker that runs it
  /// next must see what the previous run left in the owner's state; the pusher passes it
  /// on only if it took it from the `try_idle` that ended that run (ThreadSanitizer
  /// caught a run reading the previous run's queue without that edge). On x86 the
  /// instruction is the same.
  Push push(MailboxNode* node) noexcept { return push(node, node, /*wake=*/true); }

  /// Any thread: like `push`, for a chain of nodes linked newest first (`top` ... `bottom`,
  /// each `next` pointing to the one sent before it), all delivered by one CAS. One
  /// sender's consecutive messages to one process go this way (core's SendCoalescer).
  Push push_chain(MailboxNode* top, MailboxNode* bottom) noexcept { return push(top, bottom, /*wake=*/true); }

  /// The most quiet items an idle mailbox holds before a quiet push wakes its owner.
  static constexpr std::uintptr_t kHeldLimit = 3;

  /// Any thread: like `push`, but an idle owner holding fewer than `kHeldLimit` items
  /// stays idle (`Held`) and finds the node ahead of whatever wakes it next.
  Push push_quietly(MailboxNode* node) noexcept { return push(node, node, /*wake=*/false); }

  /// Any thread: claims an idle mailbox for running (to schedule an actor without a
  /// message). True when the caller must schedule the owner.
  bool try_claim() noexcept {
    MailboxNode* old = head_.load(std::memory_order_relaxed);
    while (is_idle(old)) {
      if (head_.compare_exchange_weak(old, stack_of(old), std::memory_order_acquire, std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // ----- consumer side (the owner, while running) -----

  /// Everything pushed since the last take, oldest first; `taken` is set to how many.
  /// Empty on an idle or closed mailbox (whose state it leaves alone).
  NodeList take_all(std::size_t& taken) noexcept {
    taken = 0;
    MailboxNode* top = head_.load(std::memory_order_acquire);
    while (top != nullptr && !is_idle(top) && top != closed_marker()) {
      if (head_.compare_exchange_weak(top, nullptr, std::memory_order_acquire, std::memory_order_acquire))
        return NodeList::from_stack(top, taken);
    }
    return {};
  }
  NodeList take_all() noexcept {
    std::size_t ignored;
    return take_all(ignored);
  }

  /// Marks the mailbox idle if nothing arrived since the last take. False when
  /// something did: the owner must keep running.
  bool try_idle() noexcept {
    MailboxNode* expected = nullptr;
    return head_.compare_exchange_strong(expected, idle_marker(), std::memory_order_acq_rel, std::memory_order_relaxed);
  }

  /// Closes the mailbox for good; later pushes fail. Returns what was still queued.
  NodeList close() noexcept {
    MailboxNode* top = head_.exchange(closed_marker(), std::memory_order_acq_rel);
    if (top == closed_marker()) return {};
    return NodeList::from_stack(stack_of(top));
  }

  bool closed() const noexcept { return head_.load(std::memory_order_acquire) == closed_marker(); }
  /// Nobody is scheduled to read (quietly pushed items may be waiting).
  bool idle() const noexcept { return is_idle(head_.load(std::memory_order_acquire)); }

 private:
  // Pushes the chain `top` ... `bottom` (one node when they are the same). Only single
  // nodes are pushed quietly, so an idle head counts one held item per quiet push.
  Push push(MailboxNode* top, MailboxNode* bottom, bool wake) noexcept {
    MailboxNode* old = head_.load(std::memory_order_relaxed);
    for (;;) {
      if (old == closed_marker()) {
        bottom->next = nullptr;  // the chain comes back as it was
        return Push::Closed;
      }
      const bool was_idle = is_idle(old);
      const std::uintptr_t held = held_count(old);
      const bool hold = was_idle && !wake && held < kHeldLimit;
      bottom->next = stack_of(old);
      MailboxNode* const desired = hold ? idle_head(top, held + 1) : top;
      if (head_.compare_exchange_weak(old, desired, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        if (!was_idle) return Push::Queued;
        return hold ? Push::Held : Push::QueuedWasIdle;
      }
    }
  }

  // The head of an idle mailbox has bit 0 set and the number of items it holds in bits 1
  // and 2 (`idle_marker` when it holds none). A running mailbox's head is a plain node
  // address or null; `closed_marker` is neither.
  static constexpr std::uintptr_t kIdleBit = 1;
  static constexpr std::uintptr_t kTagBits = 7;
  static std::uintptr_t bits(MailboxNode* head) noexcept { return reinterpret_cast<std::uintptr_t>(head); }
  static bool is_idle(MailboxNode* head) noexcept { return (bits(head) & kIdleBit) != 0; }
  static std::uintptr_t held_count(MailboxNode* head) noexcept { return is_idle(head) ? (bits(head) & kTagBits) >> 1 : 0; }
  static MailboxNode* idle_head(MailboxNode* top, std::uintptr_t held) noexcept {
    return reinterpret_cast<MailboxNode*>(bits(top) | kIdleBit | held << 1);
  }
  /// The stack under a head that is idle or running (not closed).
  static MailboxNode* stack_of(MailboxNode* head) noexcept { return reinterpret_cast<MailboxNode*>(bits(head) & ~kTagBits); }
  static MailboxNode* idle_marker() noexcept { return idle_head(nullptr, 0); }
  static MailboxNode* closed_marker() noexcept { return reinterpret_cast<MailboxNode*>(std::uintptr_t{2}); }

  std::atomic<MailboxNode*> head_{idle_marker()};
};

}  // namespace spindle
