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

/// Answers a call as gen:reply/2 does: `{Tag, Reply}` to the caller, through the alias
/// when the tag is `[alias | Alias]` (OTP 24+), else to the caller's pid.
void reply(Process& self, const Term& from, Term reply);

}  // namespace spindle::gen
