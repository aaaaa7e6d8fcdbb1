#pragma once
/// @file
/// `GenServer`: a process that answers `gen_server:call/2,3` and `gen_server:cast/2`
/// from Spindle or Erlang exactly as an Erlang gen_server does, and the client side
/// (`gen_server::call`, `gen_server::cast`) for code outside processes.
///
///     struct Counter : GenServer {
///       std::int64_t n = 0;
///       std::optional<Term> handle_call(const Term& request, const Term&) override {
///         if (request == atom("next")) return Term(++n);
///         stop(tuple(atom("bad_request"), request));
///       }
///     };
///     Pid counter = node.spawn<Counter>();
///     Inbox inbox(node);
///     gen_server::call(inbox, counter, atom("next"));   // 1

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "spindle/inbox.hpp"
#include "spindle/process.hpp"

namespace spindle {

class GenServer : public Process {
 protected:
  /// A call from `from` (`{Pid, Tag}`). Return the reply, or nothing to answer later
  /// with `reply(from, ...)`, e.g. while handling another message. The default stops
  /// the server with `{bad_call, Request}`.
  virtual std::optional<Term> handle_call(const Term& request, const Term& from);
  /// A cast (`{'$gen_cast', Request}`). The default ignores it.
  virtual void handle_cast(const Term& request);
  /// Any other message. The default ignores it.
  virtual void handle_info(const Term& message);

  /// Answers a call received earlier (gen_server:reply/2), through the caller's alias
  /// when it sent one.
  void reply(const Term& from, Term value);
  /// Stops the server with `reason` (a callback's `{stop, Reason, State}`); `terminate`
  /// runs, and links and monitors see the reason.
  [[noreturn]] void stop(Term reason) { exit(std::move(reason)); }

 private:
  void handle_one_inbox_message(Term message) final;
};

namespace gen_server {

/// A call that got no reply. `reason()` is the reason Erlang's gen_server:call exits
/// with: `noproc` (no such process or name), `timeout`, `noconnection` (its node is
/// unreachable) or the server's exit reason.
class CallFailed : public TermException {
 public:
  explicit CallFailed(Term reason) : TermException("gen_server call failed", std::move(reason)) {}
  const Term& reason() const noexcept { return term(); }
};

/// gen_server:call from outside processes, through `inbox`: monitors the server, sends
/// `{'$gen_call', {InboxPid, Ref}, Request}` and waits for the reply or the server's
/// end. Works for Spindle and Erlang servers alike. Throws CallFailed. A reply that
/// comes after the timeout lands in the inbox as `{Ref, Reply}`, as it did in Erlang
/// before aliases.
Term call(Inbox& inbox, const Pid& server, Term request,
          std::chrono::milliseconds timeout = std::chrono::seconds(5));
/// The same for `{Name, Node}`, on this node or another (Erlang or Spindle).
Term call(Inbox& inbox, const RegisteredName& server, Term request,
          std::chrono::milliseconds timeout = std::chrono::seconds(5));

namespace detail {
/// What a call gives, from the message that ended its wait (see gen::ends_call): the
/// reply's value, or CallFailed with `timeout` (no message) or the DOWN's reason.
Term call_outcome(std::optional<Term> answer);
}  // namespace detail

/// gen_server:cast: sends `{'$gen_cast', Request}` and returns at once.
void cast(Node& node, const Pid& server, Term request);
void cast(Node& node, const RegisteredName& server, Term request);

}  // namespace gen_server
}  // namespace spindle
