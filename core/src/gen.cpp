#include "spindle/gen.hpp"

namespace spindle::gen {

std::optional<Call> as_call(const Term& message) {
  if (!message.is_tuple(3) || !message.as_tuple()[0].is_atom(atoms::gen_call)) return std::nullopt;
  const Term& from = message.as_tuple()[1];
  if (!from.is_tuple(2) || !from.as_tuple()[0].is_pid()) return std::nullopt;
  return Call{from, message.as_tuple()[2]};
}

void reply(Process& self, const Term& from, Term reply) {
  const Term& caller = from.as_tuple()[0];
  const Term& tag = from.as_tuple()[1];
  Term message = tuple(tag, std::move(reply));
  if (tag.is_list() && !tag.is_nil()) {
    const auto cells = tag.as_list();
    if (cells.head().is_atom(atoms::alias)) {
      const Term alias_ref = cells.rest();
      if (alias_ref.is_ref()) {
        self.send(alias_ref.as_ref(), std::move(message));
        return;
      }
    }
  }
  self.send(caller.as_pid(), std::move(message));
}

}  // namespace spindle::gen
