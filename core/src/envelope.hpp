#pragma once
// What travels through a process's mailbox: a message or a signal, one allocation each.

#include <functional>

#include "envelope_pool.hpp"
#include "spindle/mailbox.hpp"
#include "spindle/process.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

struct Envelope : MailboxNode {
  static void* operator new(std::size_t bytes) { return allocate_envelope_block(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { free_envelope_block(p, bytes); }

  enum class Kind : std::uint8_t {
    Message,    // payload: the message
    Down,       // payload: {'DOWN', Ref, process, Pid, Reason}; ends our monitor `ref`
    Link,       // from: the process linking to us
    Unlink,     // from: the process unlinking from us
    LinkExit,   // from: a linked process that exited; payload: its reason (link flag set)
    Exit,       // from: the caller of exit/2; payload: the reason
    Monitor,    // from: the process monitoring us; ref: the monitor's reference
    Demonitor,  // from, ref: a monitor removed by the monitoring process
    Timeout,    // ref: the receive-timeout generation it belongs to (a small integer)
    Run,        // an action to run inside the process (RunEnvelope)
    SpawnReply, // ref: the spawn request; from: the new pid or the error; payload: flags
  };

  explicit Envelope(Kind k, Term p = Term()) noexcept : kind(k), payload(std::move(p)) {}

  Kind kind;
  Term payload;
};
// Kept at 24 bytes: a message crosses from the sender's core to the receiver's, and
// every cache line it spans is a transfer.
static_assert(sizeof(Envelope) == 24);

/// Every kind but Message and Run: who sent it, and the monitor reference (or the
/// receive-timeout generation) it concerns.
struct Signal : Envelope {
  Signal(Kind k, Term p, Term f, Term r = Term()) noexcept
      : Envelope(k, std::move(p)), from(std::move(f)), ref(std::move(r)) {}
  Term from;
  Term ref;
};

struct RunEnvelope : Envelope {
  explicit RunEnvelope(std::function<void(Process&)> a) : Envelope(Kind::Run), action(std::move(a)) {}
  std::function<void(Process&)> action;
};

/// Frees an envelope of either type (out of line: it is rarely hot, and inlined it
/// trips GCC's -Warray-bounds, which cannot see that `kind` tells the types apart).
void destroy(Envelope* e) noexcept;

inline Envelope* message_envelope(Term message) { return new Envelope(Envelope::Kind::Message, std::move(message)); }

}  // namespace spindle::detail
