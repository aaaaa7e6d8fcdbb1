#include "outgoing.hpp"

#include <cstring>
#include <new>

#include "control.hpp"
#include "spindle/detail/memory.hpp"
#include "spindle/dist/flags.hpp"
#include "spindle/etf.hpp"

namespace spindle::dist {
namespace {

// What a pre-encoded control message may assume of the peer (atom cache references
// need the distribution header).
constexpr std::uint64_t kAssumedFlags = flags::send_sender | flags::alias | flags::dist_hdr_atom_cache;

bool is_message(RemoteSignal::Kind kind) noexcept {
  using Kind = RemoteSignal::Kind;
  return kind == Kind::send || kind == Kind::send_named || kind == Kind::send_alias;
}

// The flags the control message for `kind` used from kAssumedFlags.
std::uint64_t needs(RemoteSignal::Kind kind) noexcept {
  using Kind = RemoteSignal::Kind;
  if (kind == Kind::send) return flags::send_sender | flags::dist_hdr_atom_cache;
  if (kind == Kind::send_alias) return flags::alias | flags::dist_hdr_atom_cache;
  return flags::dist_hdr_atom_cache;
}

OutgoingItem* allocate(std::size_t extra) {
  static_assert(alignof(OutgoingItem) <= alignof(std::max_align_t));
  static_assert(alignof(etf::ExternalBytes) <= alignof(OutgoingItem) && sizeof(OutgoingItem) % alignof(etf::ExternalBytes) == 0);
  return static_cast<OutgoingItem*>(spindle::detail::allocate(sizeof(OutgoingItem) + extra));
}

// Per sending thread: the control message is encoded here, then copied into the item.
struct ControlScratch {
  ControlAtoms atoms;
  ByteBuffer bytes;
};

}  // namespace

OutgoingItem* OutgoingItem::make(RemoteSignal&& signal) {
  if (!is_message(signal.kind)) {
    auto* item = new (allocate(0)) OutgoingItem();
    item->signal = std::move(signal);
    item->weight = sizeof(OutgoingItem);
    return item;
  }
  thread_local ControlScratch scratch;
  scratch.atoms.clear();
  scratch.bytes.clear();
  if (const auto control = control_message(signal, kAssumedFlags, 0)) etf::encode_body(*control, scratch.bytes, &scratch.atoms);
  const bool precoded = !scratch.bytes.empty() && scratch.atoms.atoms().size() <= kMaxControlAtoms;
  const std::size_t control_size = precoded ? scratch.bytes.size() : 0;

  const etf::SplitEncodingSize size = etf::split_encoded_size(signal.payload, kMinExternal);
  auto* item = new (allocate(size.externals * sizeof(etf::ExternalBytes) + control_size + size.bytes)) OutgoingItem();
  item->signal = std::move(signal);
  item->external_count = size.externals;
  item->payload_size = size.bytes;
  auto* externals = reinterpret_cast<etf::ExternalBytes*>(item + 1);
  auto* bytes = reinterpret_cast<std::uint8_t*>(externals + size.externals);
  if (precoded) {
    item->control_size = control_size;
    item->control_needs = needs(item->signal.kind);
    std::memcpy(bytes, scratch.bytes.data(), control_size);
    const auto atoms = scratch.atoms.atoms();
    std::copy(atoms.begin(), atoms.end(), item->control_atom_list.begin());
    item->control_atom_count = atoms.size();
  }
  etf::split_encode_to(item->signal.payload, size, {bytes + control_size, size.bytes}, {externals, size.externals},
                       kMinExternal);
  if (size.externals == 0) item->signal.payload = Term();  // the bytes carry it all
  item->weight = sizeof(OutgoingItem) + size.externals * sizeof(etf::ExternalBytes) + control_size + size.bytes;
  for (const etf::ExternalBytes& e : item->payload().externals) item->weight += e.size;
  return item;
}

OutgoingItem* OutgoingItem::raw(Term control) {
  auto* item = new (allocate(0)) OutgoingItem();
  item->signal.payload = std::move(control);
  item->raw_control = true;
  return item;
}

void OutgoingItem::destroy(OutgoingItem* item) noexcept {
  item->~OutgoingItem();
  spindle::detail::deallocate(item);
}

}  // namespace spindle::dist
