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
namespace {

// Sends the call once the monitor is in place, then waits for whichever comes first.
template <class Target>
Term call_through(Inbox& inbox, const Target& server, Term request, std::chrono::milliseconds timeout) {
  const Ref monitor = inbox.monitor(server);
  const Term tag(monitor);
  inbox.node().send(server, tuple(atoms::gen_call, tuple(inbox.pid(), tag), std::move(request)));
  const auto answer = inbox.receive(
      [&tag](const Term& m) {
        if (m.is_tuple(2)) return m.as_tuple()[0] == tag;
        return m.is_tuple(5) && m.as_tuple()[0].is_atom(atoms::DOWN) && m.as_tuple()[1] == tag;
      },
      timeout);
  if (!answer) {
    inbox.demonitor(monitor);
    throw CallFailed(atom("timeout"));
  }
  if (answer->is_tuple(5)) throw CallFailed(answer->as_tuple()[4]);
  inbox.demonitor(monitor);
  return answer->as_tuple()[1];
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
