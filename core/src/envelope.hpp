#pragma once
// What travels through a process's mailbox: a message or a signal, one allocation each.

#include <functional>

#include "spindle/mailbox.hpp"
#include "spindle/process.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

struct Envelope : MailboxNode {
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
  };

  Envelope(Kind k, Term p = Term(), Term f = Term(), Term r = Term()) noexcept
      : kind(k), payload(std::move(p)), from(std::move(f)), ref(std::move(r)) {}

  Kind kind;
  Term payload;
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
