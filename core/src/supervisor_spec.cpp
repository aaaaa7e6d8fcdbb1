#include "supervisor_spec.hpp"

namespace spindle::supervisor_spec {
namespace {

std::optional<RestartType> restart_type(const Term& t) {
  if (t.is_atom(atom("permanent"))) return RestartType::permanent;
  if (t.is_atom(atom("transient"))) return RestartType::transient;
  if (t.is_atom(atom("temporary"))) return RestartType::temporary;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> shutdown_time(const Term& t) {
  if (t.is_atom(atom("brutal_kill"))) return ChildSpec::brutal_kill;
  if (t.is_atom(atoms::infinity)) return ChildSpec::infinity;
  if (t.is_small() && t.as_int() >= 0) return std::chrono::milliseconds(t.as_int());
  return std::nullopt;
}

std::optional<ChildType> child_type(const Term& t) {
  if (t.is_atom(atom("worker"))) return ChildType::worker;
  if (t.is_atom(atom("supervisor"))) return ChildType::supervisor;
  return std::nullopt;
}

// The process kind M:F/length(A), started with A.
std::optional<ProcessFactory> start_function(const Term& mfa, Node& node) {
  if (!mfa.is_tuple(3) || !mfa.as_tuple()[0].is_atom() || !mfa.as_tuple()[1].is_atom() || !mfa.as_tuple()[2].is_list() ||
      !mfa.as_tuple()[2].as_list().is_proper())
    return std::nullopt;
  std::vector<Term> args;
  for (const Term& a : mfa.as_tuple()[2].as_list()) args.push_back(a);
  return ProcessFactory([&node, mfa, args = std::move(args)](std::span<const Term>) {
    const Atom m = mfa.as_tuple()[0].as_atom();
    const Atom f = mfa.as_tuple()[1].as_atom();
    const auto kind = node.functions().find_process(m, f, args.size());
    if (!kind) throw ErlangError(tuple(atoms::undef, tuple(m, f, static_cast<std::int64_t>(args.size()))));
    return (*kind)(args);
  });
}

}  // namespace

std::optional<ChildSpec> from_erlang(const Term& spec, Node& node, std::string& problem) {
  Term id, start, restart = atom("permanent"), shutdown, type = atom("worker");
  if (spec.is_map()) {
    const MapView fields = spec.as_map();
    const auto field = [&fields](const char* name, Term& into) {
      if (const Term* v = fields.find(atom(name))) into = *v;
    };
    field("id", id);
    field("start", start);
    field("restart", restart);
    field("shutdown", shutdown);
    field("type", type);
    if (!fields.contains(atom("id"))) {
      problem = "no id";
      return std::nullopt;
    }
  } else if (spec.is_tuple(6)) {
    const auto t = spec.as_tuple();
    id = t[0];
    start = t[1];
    restart = t[2];
    shutdown = t[3];
    type = t[4];
  } else {
    problem = "a child spec is a map or a 6-tuple";
    return std::nullopt;
  }
  ChildSpec result;
  result.id = id;
  auto factory = start_function(start, node);
  const auto r = restart_type(restart);
  const auto k = child_type(type);
  if (!factory) problem = "start is not {Module, Function, Args}";
  if (!r) problem = "restart is not permanent, transient or temporary";
  if (!k) problem = "type is not worker or supervisor";
  if (!problem.empty()) return std::nullopt;
  result.start = std::move(*factory);
  result.restart = *r;
  result.type = *k;
  if (!shutdown.is_nil() || spec.is_tuple(6)) {
    result.shutdown = shutdown_time(shutdown);
    if (!result.shutdown) {
      problem = "shutdown is not brutal_kill, infinity or a time in milliseconds";
      return std::nullopt;
    }
  }
  return result;
}

Term sys_terminate_request(const Pid& from, const Term& tag, Term reason) {
  return tuple(atom("system"), tuple(from, tag), tuple(atom("terminate"), std::move(reason)));
}

std::optional<Term> as_sys_terminate(const Term& message) {
  if (!message.is_tuple(3) || !message.as_tuple()[0].is_atom(atom("system"))) return std::nullopt;
  const Term& request = message.as_tuple()[2];
  if (!request.is_tuple(2) || !request.as_tuple()[0].is_atom(atom("terminate"))) return std::nullopt;
  return request.as_tuple()[1];
}

}  // namespace spindle::supervisor_spec
