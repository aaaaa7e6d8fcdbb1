// CoProcess: every message reaches handle_one_inbox_message; it either completes the
// receive the coroutine is suspended in or is put aside for a later one. A receive with
// a timeout starts a node timer that sends the process a private token message.

#include "spindle/coprocess.hpp"

#include "spindle/functions.hpp"
#include "spindle/gen.hpp"
#include "spindle/gen_server.hpp"
#include "spindle/node.hpp"

namespace spindle {
namespace {

// The token a receive's timer sends: {'$spindle_receive_after', Ref}. Its fresh reference
// makes it unforgeable and tells a late token of an earlier wait from the current one.
const Atom& receive_after_tag() {
  static const Atom tag = atom("$spindle_receive_after");
  return tag;
}

// What a process suspended in wait_while_suspended sends itself: {'$spindle_resume', Ref}.
const Atom& resume_tag() {
  static const Atom tag = atom("$spindle_resume");
  return tag;
}

bool is_timeout_token(const Term& message) {
  return message.is_tuple(2) && message.as_tuple()[0].is_atom(receive_after_tag());
}

}  // namespace

bool CoProcess::Receive::await_ready() {
  if (!new_only_) result_ = self_.take_aside(match_);
  return result_.has_value() || timeout_.count() <= 0;
}

void CoProcess::Receive::await_suspend(std::coroutine_handle<> waiter) {
  self_.waiting_ = this;
  self_.waiter_ = waiter;
  if (timeout_ == infinity) return;
  self_.timeout_token_ = tuple(receive_after_tag(), self_.node().make_ref());
  self_.timer_ = self_.send_after(timeout_, self_.pid(), self_.timeout_token_);
}

CoProcess::Receive CoProcess::receive(Match match, std::chrono::milliseconds timeout) {
  return Receive(*this, std::move(match), timeout, false);
}

CoProcess::Receive CoProcess::receive(std::chrono::milliseconds timeout) {
  return receive([](const Term&) { return true; }, timeout);
}

Task<> CoProcess::sleep(std::chrono::milliseconds duration) {
  co_await receive([](const Term&) { return false; }, duration);
}

CoProcess::Receive CoProcess::wait_while_suspended() {
  if (!suspend_pending()) return Receive(*this, nullptr, std::chrono::milliseconds(0), true);  // ready at once
  // The token waits in the mailbox while the process is suspended; handling it, once the
  // process runs again, resumes the coroutine.
  Term token = tuple(resume_tag(), node().make_ref());
  send(pid(), token);
  return Receive(*this, [token](const Term& m) { return m == token; }, infinity, true);
}

template <class Target>
Task<Term> CoProcess::call_to(Target server, Term request, std::chrono::milliseconds timeout) {
  const Ref monitor_ref = monitor(server);
  const Term tag(monitor_ref);
  send(server, gen::call_message(pid(), tag, std::move(request)));
  // Messages put aside before the call cannot hold its fresh tag: look at new ones only.
  auto answer = co_await Receive(*this, [&tag](const Term& m) { return gen::ends_call(m, tag); }, timeout, true);
  if (!answer || !gen::is_down(*answer)) demonitor(monitor_ref);
  co_return gen_server::detail::call_outcome(std::move(answer));
}

Task<Term> CoProcess::call(Pid server, Term request, std::chrono::milliseconds timeout) {
  return call_to(std::move(server), std::move(request), timeout);
}

Task<Term> CoProcess::call(RegisteredName server, Term request, std::chrono::milliseconds timeout) {
  return call_to(std::move(server), std::move(request), timeout);
}

Task<Pid> CoProcess::spawn_remote(Atom on, Atom module, Atom function, Term args, SpawnRequestOptions options) {
  const Term id(spawn_request(on, module, function, std::move(args), options));
  static const Atom spawn_reply("spawn_reply");
  const auto answers = [&id](const Term& m) {
    return m.is_tuple(4) && m.as_tuple()[0].is_atom(spawn_reply) && m.as_tuple()[1] == id;
  };
  // A reply always comes (noconnection when the node cannot be reached).
  const auto reply = co_await Receive(*this, answers, infinity, true);
  if (!reply->as_tuple()[2].is_atom(atoms::ok)) throw ErlangError(reply->as_tuple()[3]);
  co_return reply->as_tuple()[3].as_pid();
}

void CoProcess::init() {
  body_ = run();
  body_.start();
  exit_if_finished();
}

void CoProcess::exit_if_finished() {
  if (!body_.done()) return;
  body_.result();  // rethrows what escaped the body
  exit(atoms::normal);
}

void CoProcess::handle_one_inbox_message(Term message) {
  if (is_timeout_token(message)) {
    if (waiting_ != nullptr && message == timeout_token_) {
      timer_ = 0;
      wake(std::nullopt);
    }
    return;  // a late token of a wait that already ended
  }
  if (waiting_ != nullptr && waiting_->match_(message)) return wake(std::move(message));
  aside_.push_back(std::move(message));
}

std::optional<Term> CoProcess::take_aside(const Match& match) {
  for (auto it = aside_.begin(); it != aside_.end(); ++it) {
    if (match(*it)) {
      Term message = std::move(*it);
      aside_.erase(it);
      return message;
    }
  }
  return std::nullopt;
}

void CoProcess::wake(std::optional<Term> message) {
  if (timer_ != 0) cancel_timer(std::exchange(timer_, 0));
  timeout_token_ = Term();
  Receive* done = std::exchange(waiting_, nullptr);
  done->result_ = std::move(message);
  std::exchange(waiter_, {}).resume();
  exit_if_finished();
}

}  // namespace spindle
