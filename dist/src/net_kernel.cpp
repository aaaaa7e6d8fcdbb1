#include "net_kernel.hpp"

#include "log.hpp"
#include "spindle/gen.hpp"

namespace spindle::dist {

void NetKernel::handle_one_inbox_message(Term message) {
  const auto call = gen::as_call(message);
  if (call && call->request.is_tuple(2) && call->request.as_tuple()[0].is_atom(atoms::is_auth)) {
    // The connection the call came over passed the cookie check: that is the answer.
    gen::reply(*this, call->from, atoms::yes);
    return;
  }
  log(LogModule::rpc).debug("net_kernel: ignored {}", message.to_string().substr(0, 200));
}

}  // namespace spindle::dist
