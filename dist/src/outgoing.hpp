#pragma once
// One signal on its way to another node, queued in that node's Peer until the I/O
// thread writes it. A message is encoded by the sending thread (so encoding runs on
// every worker in parallel, not on the one I/O thread), into the item's own allocation:
// its control message (with the atom references the frame header will list) and its
// payload, whose large binaries stay in the message's memory for a gather write.

#include <array>
#include <cstdint>
#include <span>

#include "spindle/dist/frame.hpp"
#include "spindle/mailbox.hpp"
#include "spindle/remote.hpp"

namespace spindle::dist {

struct OutgoingItem : MailboxNode {
  /// Binaries at least this large are written from the message's memory, not copied.
  static constexpr std::size_t kMinExternal = 4096;

  /// `signal`, encoded now when it is a message.
  static OutgoingItem* make(RemoteSignal&& signal);
  /// A control message of the connection's own (UNLINK_ID_ACK, SPAWN_REPLY).
  static OutgoingItem* raw(Term control);
  static void destroy(OutgoingItem* item) noexcept;

  bool is_raw() const noexcept { return raw_control; }
  /// The encoded message (empty for other signals). With external parts it points into
  /// `signal.payload`, which the item keeps until it is destroyed.
  Payload payload() const noexcept {
    const auto* externals = reinterpret_cast<const etf::ExternalBytes*>(this + 1);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(externals + external_count);
    return {{bytes + control_size, payload_size}, {externals, external_count}};
  }
  /// True when the control message encoded with the message suits a connection with
  /// these flags (it assumed the atom cache, SEND_SENDER and ALIAS, which every OTP since 24 has).
  bool control_fits(std::uint64_t shared_flags) const noexcept {
    return control_size != 0 && (shared_flags & control_needs) == control_needs;
  }
  std::span<const std::uint8_t> control() const noexcept {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(reinterpret_cast<const etf::ExternalBytes*>(this + 1) +
                                                              external_count);
    return {bytes, control_size};
  }
  std::span<const Atom> control_atoms() const noexcept { return {control_atom_list.data(), control_atom_count}; }
  bool has_externals() const noexcept { return external_count != 0; }

  RemoteSignal signal;  // for a raw item: the control message in `payload`
  bool raw_control = false;
  /// The memory the item holds (its allocation and the binaries it keeps), counted
  /// against DistributionOptions::max_queued_bytes.
  std::size_t weight = 0;

 private:
  static constexpr std::size_t kMaxControlAtoms = 4;  // a send names at most 3

  OutgoingItem() = default;
  ~OutgoingItem() = default;

  std::uint64_t control_needs = 0;
  std::size_t control_size = 0;
  std::size_t payload_size = 0;
  std::size_t external_count = 0;
  std::array<Atom, kMaxControlAtoms> control_atom_list{};
  std::size_t control_atom_count = 0;
};

}  // namespace spindle::dist
