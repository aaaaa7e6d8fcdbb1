#include "spindle/dist/rpc.hpp"

#include "spindle/gen_server.hpp"

namespace spindle::dist::rpc {

Term call(Inbox& inbox, Atom node, Atom module, Atom function, Term args, std::chrono::milliseconds timeout) {
  const Term request = tuple(atom("call"), module, function, std::move(args), atom("user"));
  try {
    return gen_server::call(inbox, RegisteredName{atom("rex"), node}, request, timeout);
  } catch (const gen_server::CallFailed& e) {
    const Term& why = e.reason();
    if (why == Term(atoms::noconnection)) return tuple(atom("badrpc"), atom("nodedown"));
    if (why == Term(atom("timeout"))) return tuple(atom("badrpc"), atom("timeout"));
    return tuple(atom("badrpc"), tuple(atom("EXIT"), why));
  }
}

}  // namespace spindle::dist::rpc
