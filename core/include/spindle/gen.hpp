#pragma once
/// @file
/// The message shapes of OTP's `gen` module, which gen_server, gen_statem and
/// net_kernel calls use: `{'$gen_call', From, Request}` and the reply to `From`.

#include <optional>

#include "spindle/process.hpp"

namespace spindle::gen {

/// A `{'$gen_call', From, Request}` message, taken apart.
struct Call {
  Term from;  ///< `{Pid, Tag}`: where the reply goes
  Term request;
};

/// The call in `message`, if it is one (with a well-formed From).
std::optional<Call> as_call(const Term& message);

/// `{'$gen_call', {Caller, Tag}, Request}`: a call as gen:call/4 sends it.
Term call_message(const Pid& caller, const Term& tag, Term request);
/// Whether `message` ends a call whose tag is the reference of the caller's monitor on
/// the server: the reply `{Tag, Reply}`, or that monitor's DOWN message.
bool ends_call(const Term& message, const Term& tag);
/// Whether a message that ended a call is the server's DOWN (else it is the reply).
bool is_down(const Term& message);

/// Answers a call as gen:reply/2 does: `{Tag, Reply}` to the caller, through the alias
/// when the tag is `[alias | Alias]` (OTP 24+), else to the caller's pid.
void reply(Process& self, const Term& from, Term reply);

}  // namespace spindle::gen
