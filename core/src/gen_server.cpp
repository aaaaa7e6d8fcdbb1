#include "spindle/gen_server.hpp"

#include "spindle/gen.hpp"

namespace spindle {

std::optional<Term> GenServer::handle_call(const Term& request, const Term&) {
  stop(tuple(atom("bad_call"), request));
}

void GenServer::handle_cast(const Term&) {}

void GenServer::handle_info(const Term&) {}

void GenServer::reply(const Term& from, Term value) { gen::reply(*this, from, std::move(value)); }

void GenServer::handle_one_inbox_message(Term message) {
  if (auto call = gen::as_call(message)) {
    if (auto answer = handle_call(call->request, call->from)) reply(call->from, std::move(*answer));
    return;
  }
  if (message.is_tuple(2) && message.as_tuple()[0].is_atom(atoms::gen_cast)) return handle_cast(message.as_tuple()[1]);
  handle_info(message);
}

namespace gen_server {
namespace detail {

Term call_outcome(std::optional<Term> answer) {
  if (!answer) throw CallFailed(atoms::timeout);
  if (gen::is_down(*answer)) throw CallFailed(answer->as_tuple()[4]);
  return answer->as_tuple()[1];
}

}  // namespace detail
namespace {

// Sends the call once the monitor is in place, then waits for whichever comes first.
template <class Target>
Term call_through(Inbox& inbox, const Target& server, Term request, std::chrono::milliseconds timeout) {
  const Ref monitor = inbox.monitor(server);
  const Term tag(monitor);
  inbox.node().send(server, gen::call_message(inbox.pid(), tag, std::move(request)));
  auto answer = inbox.receive([&tag](const Term& m) { return gen::ends_call(m, tag); }, timeout);
  if (!answer || !gen::is_down(*answer)) inbox.demonitor(monitor);
  return detail::call_outcome(std::move(answer));
}

}  // namespace

Term call(Inbox& inbox, const Pid& server, Term request, std::chrono::milliseconds timeout) {
  return call_through(inbox, server, std::move(request), timeout);
}

Term call(Inbox& inbox, const RegisteredName& server, Term request, std::chrono::milliseconds timeout) {
  return call_through(inbox, server, std::move(request), timeout);
}

void cast(Node& node, const Pid& server, Term request) {
  node.send(server, tuple(atoms::gen_cast, std::move(request)));
}

void cast(Node& node, const RegisteredName& server, Term request) {
  node.send(server, tuple(atoms::gen_cast, std::move(request)));
}

}  // namespace gen_server
}  // namespace spindle
