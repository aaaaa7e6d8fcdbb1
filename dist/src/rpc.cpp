#include "rpc.hpp"

#include <vector>

#include "spindle/gen.hpp"

namespace spindle::dist {
namespace {

// How a function call ended, in Erlang's classes.
struct Outcome {
  enum class Class { returned, thrown, error, exited } how = Class::returned;
  Term value;  // the result, thrown value or reason
  Term stack;  // for errors: [{M, F, ArgsOrArity, []}]
};

Outcome apply(Node& node, Atom module, Atom function, const Term& args) {
  std::vector<Term> arguments;
  if (!args.is_nil()) {
    if (!args.is_list() || !args.as_list().is_proper())
      return {Outcome::Class::error, atom("badarg"), list(tuple(module, function, args, Term()))};
    for (const Term& a : args.as_list()) arguments.push_back(a);
  }
  const Term where = list(tuple(module, function, Term(static_cast<std::int64_t>(arguments.size())), Term()));
  const auto fn = node.functions().find(module, function, arguments.size());
  // As in Erlang, an undefined function's stack names the arguments.
  if (!fn) return {Outcome::Class::error, atom("undef"), list(tuple(module, function, args, Term()))};
  try {
    return {Outcome::Class::returned, (*fn)(arguments), Term()};
  } catch (const ErlangThrow& e) {
    return {Outcome::Class::thrown, e.value(), Term()};
  } catch (const ErlangError& e) {
    return {Outcome::Class::error, e.reason(), where};
  } catch (const ProcessExit& e) {
    return {Outcome::Class::exited, e.reason(), Term()};
  } catch (const std::exception& e) {
    return {Outcome::Class::error, exception_reason(e), where};
  }
}

// erpc:execute_call/4's exit reason: {Res, return, V} | {Res, throw, V} | {Res, exit, R}
// | {Res, error, R, Stack}.
Term erpc_reason(const Term& res, Outcome&& o) {
  switch (o.how) {
    case Outcome::Class::returned:
      return tuple(res, atom("return"), std::move(o.value));
    case Outcome::Class::thrown:
      return tuple(res, atom("throw"), std::move(o.value));
    case Outcome::Class::exited:
      return tuple(res, atom("exit"), std::move(o.value));
    case Outcome::Class::error:
      break;
  }
  return tuple(res, atom("error"), std::move(o.value), std::move(o.stack));
}

// rpc's answer: the value, a thrown value, or {badrpc, {'EXIT', ...}}.
Term rex_result(Outcome&& o) {
  switch (o.how) {
    case Outcome::Class::returned:
    case Outcome::Class::thrown:
      return std::move(o.value);
    case Outcome::Class::exited:
      return tuple(atom("badrpc"), tuple(atom("EXIT"), std::move(o.value)));
    case Outcome::Class::error:
      break;
  }
  return tuple(atom("badrpc"), tuple(atom("EXIT"), tuple(std::move(o.value), std::move(o.stack))));
}

// One call in a process of its own, as OTP runs each.
class FunctionCall final : public Process {
 public:
  enum class Answer {
    erpc_call,  // exit with erpc_reason (the caller's monitor carries it)
    erpc_cast,  // nothing; exit normal
    rex_info,   // {rex, Result} to a pid
    rex_call,   // gen:reply to a '$gen_call' From
  };
  FunctionCall(Answer answer, Term to, Atom module, Atom function, Term args)
      : answer_(answer), to_(std::move(to)), module_(module), function_(function), args_(std::move(args)) {}

 protected:
  void init() override {
    Outcome o = apply(node(), module_, function_, args_);
    switch (answer_) {
      case Answer::erpc_call:
        exit(erpc_reason(to_, std::move(o)));
      case Answer::erpc_cast:
        break;
      case Answer::rex_info:
        send(to_.as_pid(), tuple(atom("rex"), rex_result(std::move(o))));
        break;
      case Answer::rex_call:
        gen::reply(*this, to_, rex_result(std::move(o)));
        break;
    }
    exit(atom("normal"));
  }

 private:
  Answer answer_;
  Term to_;  // erpc_call: the result tag; rex: where the answer goes
  Atom module_;
  Atom function_;
  Term args_;
};

Pid start_call(Node& node, FunctionCall::Answer answer, Term to, const Term& module, const Term& function, Term args,
               const SpawnOptions& options = {}) {
  return node.spawn(
      std::make_unique<FunctionCall>(answer, std::move(to), module.as_atom(), function.as_atom(), std::move(args)),
      options);
}

// What Erlang spawns for a function that does not exist: a process that exits with undef.
class Undefined final : public Process {
 public:
  explicit Undefined(Term reason) : reason_(std::move(reason)) {}

 protected:
  void init() override { exit(reason_); }

 private:
  Term reason_;
};

bool is_mfa(const Term& m, const Term& f, const Term& a) { return m.is_atom() && f.is_atom() && (a.is_nil() || a.is_list()); }

class Rex final : public Process {
 protected:
  void handle_one_inbox_message(Term m) override {
    if (auto call = gen::as_call(m)) {
      const Term& r = call->request;
      if (r.is_tuple(5) && r.as_tuple()[0].is_atom(atom("call")) && is_mfa(r.as_tuple()[1], r.as_tuple()[2], r.as_tuple()[3]))
        start(FunctionCall::Answer::rex_call, call->from, r);
      return;
    }
    if (m.is_tuple(2) && m.as_tuple()[0].is_atom(atom("$gen_cast"))) {
      const Term& r = m.as_tuple()[1];
      if (r.is_tuple(5) && r.as_tuple()[0].is_atom(atom("cast")) && is_mfa(r.as_tuple()[1], r.as_tuple()[2], r.as_tuple()[3]))
        start(FunctionCall::Answer::erpc_cast, Term(), r);
      return;
    }
    if (!m.is_tuple(2) || !m.as_tuple()[0].is_pid()) return;  // ignored, as rex does
    const Pid from = m.as_tuple()[0].as_pid();
    const Term& r = m.as_tuple()[1];
    if (r.is_tuple(5) && r.as_tuple()[0].is_atom(atom("call")) && is_mfa(r.as_tuple()[1], r.as_tuple()[2], r.as_tuple()[3])) {
      start(FunctionCall::Answer::rex_info, from, r);
    } else if (r.is_atom(atom("features_request"))) {
      send(from, tuple(atom("features_reply"), node().name(), list(atom("erpc"))));
    }
  }

 private:
  void start(FunctionCall::Answer answer, Term to, const Term& request) {
    const auto& r = request.as_tuple();
    start_call(node(), answer, std::move(to), r[1], r[2], r[3]);
  }
};

}  // namespace

Spawned start_spawn_request(Node& node, const SpawnRequest& request,
                            const std::function<void(const RemoteSignal&)>& record) {
  std::vector<Term> args;
  for (const Term& a : request.arguments.as_list()) args.push_back(a);
  SpawnOptions options;
  if (!request.from.is_pid() || !request.request_id.is_ref()) return {atom("badarg")};
  for (const Term& option : request.options.as_list()) {
    if (option.is_atom(atom("link"))) options.link = request.from.as_pid();
    if (option.is_atom(atom("monitor"))) options.monitored_by.emplace(request.from.as_pid(), request.request_id.as_ref());
  }

  const Atom erpc("erpc");
  const bool call = request.module == erpc && request.function == atom("execute_call") && request.arity == 4;
  const bool cast = request.module == erpc && request.function == atom("execute_cast") && request.arity == 3;
  Pid pid;
  if (call || cast) {
    const std::size_t m = call ? 1 : 0;
    if ((call && !args[0].is_ref()) || !is_mfa(args[m], args[m + 1], args[m + 2])) return {atom("badarg")};
    pid = call ? start_call(node, FunctionCall::Answer::erpc_call, args[0], args[1], args[2], args[3], options)
               : start_call(node, FunctionCall::Answer::erpc_cast, Term(), args[0], args[1], args[2], options);
  } else if (const auto factory = node.functions().find_process(request.module, request.function, request.arity)) {
    std::unique_ptr<Process> process;
    try {
      process = (*factory)(args);
    } catch (const std::exception&) {
      return {atom("badarg")};
    }
    if (process == nullptr) return {atom("badarg")};
    pid = node.spawn(std::move(process), options);
  } else {
    // As Erlang does: the process starts, and exits at once with undef.
    const Term reason =
        tuple(atom("undef"), list(tuple(request.module, request.function, list_from(args), Term())));
    pid = node.spawn(std::make_unique<Undefined>(reason), options);
  }
  if (options.link) record({RemoteSignal::Kind::link, request.from, pid, Term(), Term()});
  if (options.monitored_by) record({RemoteSignal::Kind::monitor, request.from, pid, request.request_id, Term()});
  return {pid, options.link.has_value(), options.monitored_by.has_value()};
}

Pid start_rex(Node& node) {
  const Pid pid = node.spawn<Rex>();
  node.register_name(pid, atom("rex"));
  return pid;
}

}  // namespace spindle::dist
