#include "outgoing.hpp"

#include <new>

#include "spindle/detail/memory.hpp"
#include "spindle/etf.hpp"

namespace spindle::dist {
namespace {

bool is_message(RemoteSignal::Kind kind) noexcept {
  using Kind = RemoteSignal::Kind;
  return kind == Kind::send || kind == Kind::send_named || kind == Kind::send_alias;
}

OutgoingItem* allocate(std::size_t extra) {
  static_assert(alignof(OutgoingItem) <= alignof(std::max_align_t));
  return static_cast<OutgoingItem*>(spindle::detail::allocate(sizeof(OutgoingItem) + extra));
}

}  // namespace

OutgoingItem* OutgoingItem::make(RemoteSignal&& signal) {
  const std::size_t size = is_message(signal.kind) ? etf::encoded_size(signal.payload) : 0;
  void* memory = allocate(size);
  auto* item = new (memory) OutgoingItem();
  item->signal = std::move(signal);
  if (size != 0) {
    item->encoded_size = etf::encode_to(item->signal.payload, {reinterpret_cast<std::uint8_t*>(item + 1), size});
    item->signal.payload = Term();  // the bytes carry it now
  }
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
