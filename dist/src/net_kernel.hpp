#pragma once
// The registered process `net_kernel`, answering what other nodes ask it. Erlang's
// net_adm:ping/1 is a gen call {is_auth, Node} to it: the answer `yes` makes it `pong`.

#include "spindle/process.hpp"

namespace spindle::dist {

class NetKernel final : public Process {
 protected:
  void handle_one_inbox_message(Term message) override;
};

}  // namespace spindle::dist
