#include "send_coalescer.hpp"

namespace spindle::detail {

bool SendCoalescer::hold(ProcessControl& to, Envelope* e) {
  HeldSends& h = t_held_sends;
  if (h.to == nullptr) {  // the second message in a row to `to` (`last`): a chain starts
    to.retain();
    h.to = &to;
    e->next = nullptr;
    h.newest = h.oldest = e;
    h.count = 1;
    return true;
  }
  e->next = h.newest;
  h.newest = e;
  if (++h.count == kMaxChain) deliver_chain();  // `last` stays: the next one starts a chain
  return true;
}

void SendCoalescer::deliver_chain() noexcept {
  HeldSends& h = t_held_sends;
  ProcessControl& to = *std::exchange(h.to, nullptr);
  MailboxNode* const newest = std::exchange(h.newest, nullptr);
  MailboxNode* const oldest = std::exchange(h.oldest, nullptr);
  h.count = 0;
  if (!to.node.scheduler.deliver_chain(to, newest, oldest)) {
    // The receiver is gone, and its messages with it, as in Erlang.
    for (MailboxNode* n = newest; n != nullptr;) destroy(static_cast<Envelope*>(std::exchange(n, n->next)));
  }
  to.release();
}

}  // namespace spindle::detail
