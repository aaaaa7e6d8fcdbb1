#pragma once
// One signal on its way to another node, queued in that node's Peer until the I/O
// thread writes it. A message is encoded by the sending thread (so encoding runs on
// every worker in parallel, not on the one I/O thread), into the same allocation.

#include <cstdint>
#include <span>

#include "spindle/mailbox.hpp"
#include "spindle/remote.hpp"

namespace spindle::dist {

struct OutgoingItem : MailboxNode {
  /// `signal`, with its payload encoded now when it is a message.
  static OutgoingItem* make(RemoteSignal&& signal);
  /// A control message of the connection's own (UNLINK_ID_ACK, SPAWN_REPLY).
  static OutgoingItem* raw(Term control);
  static void destroy(OutgoingItem* item) noexcept;

  bool is_raw() const noexcept { return raw_control; }
  /// The encoded message without its version byte (as a distribution frame carries
  /// it); empty for other signals.
  std::span<const std::uint8_t> encoded() const noexcept {
    if (encoded_size == 0) return {};
    return {reinterpret_cast<const std::uint8_t*>(this + 1) + 1, encoded_size - 1};
  }

  RemoteSignal signal;  // for a raw item: the control message in `payload`
  std::size_t encoded_size = 0;  // with the version byte encode_to writes
  bool raw_control = false;

 private:
  OutgoingItem() = default;
  ~OutgoingItem() = default;
};

}  // namespace spindle::dist
