#pragma once
// Consecutive messages from one process to another, pushed into the receiver's mailbox
// as one chain.
//
// Every push is a compare-and-swap on the receiver's mailbox head, a cache line that
// every sender to it writes: with many senders to one process, most of a send is waiting
// for that line. So a message that a running process sends to the process it sent its
// previous message to is held back, on the sending thread, in a chain that goes into the
// mailbox with one compare-and-swap when:
//  - the handler call that sent them returns (nothing is held between handler calls, or
//    on a thread that is not running a process);
//  - the chain reaches kMaxChain messages;
//  - the process sends to another process (by pid or by name), sends a signal (link,
//    monitor, exit), sends to another node, or spawns: every other way out of a process
//    flushes the chain first (and so does waiting in an Inbox).
// So each sender's messages and signals still arrive in the order it sent them, and a
// message held back waits at most until its handler call returns. The first message to
// a receiver goes at once, so a process that answers each message it handles with one
// message (request and reply, ping-pong, rings) never waits, and pays a few loads and
// compares per message for the rest.

#include <cstddef>
#include <utility>

#include "envelope.hpp"
#include "node_impl.hpp"
#include "process_control.hpp"

namespace spindle::detail {

// What the calling thread holds back for the process it runs (SendCoalescer's state).
struct HeldSends {
  ProcessControl* running = nullptr;
  // The receiver of the running process's last message: compared, never followed (it
  // may be gone; a new process at the same address only starts a chain). While a chain
  // is held, it is the chain's receiver.
  ProcessControl* last = nullptr;
  ProcessControl* to = nullptr;  // the chain's receiver, with a reference held
  MailboxNode* newest = nullptr;
  MailboxNode* oldest = nullptr;
  std::size_t count = 0;
};
// Inline, so every file that uses it sees that it needs no dynamic initialisation and
// reads it straight from thread-local storage, without a call to an initialiser.
inline thread_local HeldSends t_held_sends;

class SendCoalescer {
 public:
  /// The most messages held back for one receiver.
  static constexpr std::size_t kMaxChain = 64;

  /// While it lives, the calling thread runs `running`, whose sends may be held back;
  /// its end delivers them.
  class RunScope {
   public:
    explicit RunScope(ProcessControl& running) noexcept : outer_(std::exchange(t_held_sends.running, &running)) {}
    ~RunScope() {
      flush();
      t_held_sends.running = outer_;
    }
    RunScope(const RunScope&) = delete;
    RunScope& operator=(const RunScope&) = delete;

   private:
    ProcessControl* outer_;
  };

  /// Delivers message envelope `e` from `from` (null: not from a process) to `to`
  /// (whose mailbox was open a moment ago): held back if `from` is the process this
  /// thread runs and sent its previous message to `to`, else at once, after whatever this
  /// thread holds back. False if `to`'s mailbox is closed (`e` was not taken).
  static bool send(const ProcessControl* from, ProcessControl& to, Envelope* e) {
    HeldSends& h = t_held_sends;
    if (from != nullptr && h.running == from) {
      if (h.last == &to) return hold(to, e);  // a held chain's receiver is `last` too
      if (h.to != nullptr) deliver_chain();  // held for another receiver: it goes first
      h.last = &to;
    } else {
      flush();
    }
    return to.node.scheduler.deliver(to, e);
  }

  /// Delivers whatever this thread holds back. Every other delivery calls it first.
  static void flush() noexcept {
    t_held_sends.last = nullptr;
    if (t_held_sends.to != nullptr) deliver_chain();
  }

 private:
  static bool hold(ProcessControl& to, Envelope* e);
  static void deliver_chain() noexcept;
};

}  // namespace spindle::detail
