#include "spindle/gen.hpp"

namespace spindle::gen {

std::optional<Call> as_call(const Term& message) {
  if (!message.is_tuple(3) || !message.as_tuple()[0].is_atom(atoms::gen_call)) return std::nullopt;
  const Term& from = message.as_tuple()[1];
  if (!from.is_tuple(2) || !from.as_tuple()[0].is_pid()) return std::nullopt;
  return Call{from, message.as_tuple()[2]};
}

Term call_message(const Pid& caller, const Term& tag, Term request) {
  return tuple(atoms::gen_call, tuple(caller, tag), std::move(request));
}

bool ends_call(const Term& message, const Term& tag) {
  if (message.is_tuple(2)) return message.as_tuple()[0] == tag;
  return is_down(message) && message.as_tuple()[1] == tag;
}

bool is_down(const Term& message) { return message.is_tuple(5) && message.as_tuple()[0].is_atom(atoms::DOWN); }

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
