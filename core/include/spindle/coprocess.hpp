#pragma once
/// @file
/// `CoProcess`: a process written as a coroutine, waiting the way Erlang code waits:
/// selective receive with a timeout, gen_server calls, sleeps.
///
///     struct Greeter : CoProcess {
///       Task<> run() override {
///         for (;;) {
///           auto m = co_await receive([](const Term& m) { return m.is_tuple(2); }, 1s);
///           if (!m) co_return;                    // nothing for a second: exit normal
///           send(m->as_tuple()[0].as_pid(), atom("hello"));
///         }
///       }
///     };
///
/// Waiting suspends the coroutine, not a thread: the worker goes on with other
/// processes, and a waiting process costs only its coroutine frames and the messages it
/// has put aside, so thousands can wait at once. Messages that `match` rejects stay put
/// aside, in arrival order, for later receives (as in Erlang's mailbox). When `run`
/// returns the process exits with `normal`; an exception escaping it ends the process as
/// one escaping a handler does (`exit(reason)` ends it with `reason`).
///
/// Only the awaitables here (and Tasks built from them) may be awaited: the process
/// resumes when a message arrives, on whichever worker runs it.

#include <chrono>
#include <coroutine>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include "spindle/process.hpp"
#include "spindle/task.hpp"

namespace spindle {

class CoProcess : public Process {
 public:
  using Match = std::function<bool(const Term&)>;
  /// No timeout: wait until a matching message comes (Erlang's receive without after).
  static constexpr std::chrono::milliseconds infinity = std::chrono::milliseconds::max();

  /// What `co_await receive(...)` gives: the message, or nothing on timeout.
  class Receive {
   public:
    bool await_ready();
    void await_suspend(std::coroutine_handle<> waiter);
    std::optional<Term> await_resume() noexcept { return std::move(result_); }

   private:
    friend class CoProcess;
    Receive(CoProcess& self, Match match, std::chrono::milliseconds timeout, bool new_only)
        : self_(self), match_(std::move(match)), timeout_(timeout), new_only_(new_only) {}
    CoProcess& self_;
    Match match_;
    std::chrono::milliseconds timeout_;
    bool new_only_;  // skip the messages put aside before (they cannot match)
    std::optional<Term> result_;
  };

  /// The oldest message `match` accepts, waiting up to `timeout` (zero: only look).
  Receive receive(Match match, std::chrono::milliseconds timeout = infinity);
  /// The oldest message, waiting up to `timeout`.
  Receive receive(std::chrono::milliseconds timeout = infinity);
  /// Waits `duration`, leaving every message for later (timer:sleep/1).
  Task<> sleep(std::chrono::milliseconds duration);
  /// If suspend_pending() (a send found its node's connection busy), waits until the
  /// process runs again, once that connection has drained; otherwise goes on at once,
  /// for the cost of a check. Awaited after each send of a loop, it bounds what the loop
  /// queues for a slow node, as Erlang's suspension in the send does. Messages that come
  /// meanwhile are put aside for later receives.
  Receive wait_while_suspended();

  /// gen_server:call to a Spindle or Erlang server, local or remote: monitors it, sends
  /// the request and waits for the reply. Throws gen_server::CallFailed with `noproc`,
  /// `timeout`, `noconnection` or the server's exit reason, as gen_server::call does.
  Task<Term> call(Pid server, Term request, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  Task<Term> call(RegisteredName server, Term request, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// spawn_request to node `on`, waiting for its reply: the new process's pid. Throws
  /// ErlangError with the reason the other node gave (or `noconnection`).
  Task<Pid> spawn_remote(Atom on, Atom module, Atom function, Term args, SpawnRequestOptions options = {});

  /// Messages received but not yet taken by a receive.
  std::size_t messages_put_aside() const noexcept { return aside_.size(); }

 protected:
  /// The process's body, started when the process starts.
  virtual Task<> run() = 0;

 private:
  void init() final;
  void handle_one_inbox_message(Term message) final;
  /// Takes the oldest put-aside message `match` accepts.
  std::optional<Term> take_aside(const Match& match);
  /// Resumes the waiting coroutine with `message` (nothing: the timeout).
  void wake(std::optional<Term> message);
  /// Once the body has returned: exits normal, or as what escaped it.
  void exit_if_finished();
  template <class Target>
  Task<Term> call_to(Target server, Term request, std::chrono::milliseconds timeout);

  Task<> body_;
  std::deque<Term> aside_;
  Receive* waiting_ = nullptr;  // the suspended receive, in the coroutine's frame
  std::coroutine_handle<> waiter_;
  Term timeout_token_;  // the message this wait's timer sends, while one runs
  std::uint64_t timer_ = 0;
};

namespace detail {
template <class Body>
class CoProcessOf final : public CoProcess {
 public:
  explicit CoProcessOf(Body body) : body_(std::move(body)) {}

 private:
  // The body lives as long as the process, so what it captured outlives its coroutine.
  Task<> run() override { return body_(static_cast<CoProcess&>(*this)); }
  Body body_;
};
}  // namespace detail

/// A process whose body is `body(CoProcess& self) -> Task<>`, e.g.
/// `node.spawn(coprocess([](CoProcess& self) -> Task<> { auto m = co_await self.receive(); }))`.
template <class Body>
  requires std::is_invocable_r_v<Task<>, Body&, CoProcess&>
std::unique_ptr<Process> coprocess(Body body) {
  return std::make_unique<detail::CoProcessOf<Body>>(std::move(body));
}

}  // namespace spindle
