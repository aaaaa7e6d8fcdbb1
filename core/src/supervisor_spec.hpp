#pragma once
// The Erlang side of a supervisor: child specs as Erlang writes them (for start_child
// from Erlang) and the sys terminate request gen_server:stop sends.

#include <optional>
#include <string>

#include "spindle/supervisor.hpp"

namespace spindle::supervisor_spec {

/// A child spec from `#{id => Id, start => {M, F, A}, ...}` or
/// `{Id, {M, F, A}, Restart, Shutdown, Type, Modules}`. The child is made by the process
/// kind `M:F/length(A)` registered on `node` (looked up at each start, so an unknown kind
/// fails the start with `{undef, {M, F, Arity}}`). Nothing, with `problem` set, if the
/// spec is malformed.
std::optional<ChildSpec> from_erlang(const Term& spec, Node& node, std::string& problem);

/// `{system, {From, Tag}, {terminate, Reason}}`: sys:terminate/2's request.
Term sys_terminate_request(const Pid& from, const Term& tag, Term reason);
/// The reason of a sys terminate request, if `message` is one.
std::optional<Term> as_sys_terminate(const Term& message);

}  // namespace spindle::supervisor_spec
