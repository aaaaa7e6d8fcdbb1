#include "control.hpp"

#include "spindle/dist/flags.hpp"

namespace spindle::dist {
namespace {

using Kind = RemoteSignal::Kind;

Term op(Op o) { return Term(static_cast<std::int64_t>(o)); }

const Atom& empty_atom() {
  static const Atom a{std::string_view()};
  return a;
}

std::string describe(const Term& control) { return control.to_string().substr(0, 200); }

// The fields of one incoming control tuple, checked as they are read.
class Fields {
 public:
  Fields(const Term& control, std::size_t arity, const char* name) : control_(control), name_(name) {
    if (control.as_tuple().size() != arity)
      throw ControlError(std::string(name) + " needs " + std::to_string(arity) + " elements: " + describe(control));
  }
  const Term& any(std::size_t i) const { return control_.as_tuple()[i]; }
  const Term& pid(std::size_t i) const { return checked(i, any(i).is_pid(), "a pid"); }
  const Term& ref(std::size_t i) const { return checked(i, any(i).is_ref(), "a reference"); }
  const Term& atom(std::size_t i) const { return checked(i, any(i).is_atom(), "an atom"); }
  const Term& pid_or_atom(std::size_t i) const {
    return checked(i, any(i).is_pid() || any(i).is_atom(), "a pid or a name");
  }
  std::uint64_t id(std::size_t i) const {
    const auto v = any(i).to_int64();
    if (!v || *v <= 0) checked(i, false, "a positive integer");
    return static_cast<std::uint64_t>(*v);
  }

 private:
  const Term& checked(std::size_t i, bool ok, const char* what) const {
    if (!ok)
      throw ControlError(std::string(name_) + ": element " + std::to_string(i + 1) + " is not " + what + ": " +
                         describe(control_));
    return any(i);
  }
  const Term& control_;
  const char* name_;
};

Term take_payload(IncomingMessage& m, const char* name) {
  if (!m.payload) throw ControlError(std::string(name) + " without the term that must follow it");
  return std::move(*m.payload);
}

IncomingControl deliver(Kind kind, Term from, Term to, Term ref = Term(), Term payload = Term()) {
  IncomingControl c;
  c.action = IncomingControl::Action::signal;
  c.signal = {kind, std::move(from), std::move(to), std::move(ref), std::move(payload)};
  return c;
}

bool proper_list(const Term& t) { return t.is_nil() || (t.is_list() && t.as_list().is_proper()); }

}  // namespace

bool carries_payload(Kind kind, std::uint64_t shared_flags) noexcept {
  switch (kind) {
    case Kind::send:
    case Kind::send_named:
    case Kind::send_alias:
    case Kind::spawn_request:  // the argument list
      return true;
    case Kind::link_exit:
    case Kind::exit:
    case Kind::down:
      return (shared_flags & flags::exit_payload) != 0;
    default:
      return false;
  }
}

std::optional<Term> control_message(const RemoteSignal& s, std::uint64_t shared_flags, std::uint64_t unlink_id) {
  const bool payload_exits = (shared_flags & flags::exit_payload) != 0;
  switch (s.kind) {
    case Kind::send:
      if (shared_flags & flags::send_sender) return tuple(op(Op::send_sender), s.from, s.to);
      return tuple(op(Op::send), empty_atom(), s.to);
    case Kind::send_named:
      return tuple(op(Op::reg_send), s.from, empty_atom(), s.to);
    case Kind::send_alias:
      if (!(shared_flags & flags::alias)) return std::nullopt;
      return tuple(op(Op::alias_send), s.from, s.to);
    case Kind::link:
      return tuple(op(Op::link), s.from, s.to);
    case Kind::unlink:
      if (shared_flags & flags::unlink_id) return tuple(op(Op::unlink_id), Term(unlink_id), s.from, s.to);
      return tuple(op(Op::unlink), s.from, s.to);
    case Kind::link_exit:
      if (payload_exits) return tuple(op(Op::payload_exit), s.from, s.to);
      return tuple(op(Op::exit), s.from, s.to, s.payload);
    case Kind::exit:
      if (payload_exits) return tuple(op(Op::payload_exit2), s.from, s.to);
      return tuple(op(Op::exit2), s.from, s.to, s.payload);
    case Kind::monitor:
      return tuple(op(Op::monitor_p), s.from, s.to, s.ref);
    case Kind::demonitor:
      return tuple(op(Op::demonitor_p), s.from, s.to, s.ref);
    case Kind::down:
      if (payload_exits) return tuple(op(Op::payload_monitor_p_exit), s.from, s.to, s.ref);
      return tuple(op(Op::monitor_p_exit), s.from, s.to, s.ref, s.payload);
    case Kind::spawn_request: {
      // {Module, Function, Options} travels in `to`; the requester is its own group
      // leader (Spindle has no I/O servers).
      const auto mfo = s.to.as_tuple();
      const auto arity = static_cast<std::int64_t>(s.payload.is_nil() ? 0 : s.payload.as_list().length());
      return tuple(op(Op::spawn_request), s.ref, s.from, s.from, tuple(mfo[0], mfo[1], Term(arity)), mfo[2]);
    }
    case Kind::spawn_reply:
      return std::nullopt;  // we answer spawn requests with send_own
  }
  return std::nullopt;
}

IncomingControl interpret(IncomingMessage&& m) {
  const Term control = std::move(m.control);
  const auto number = control.as_tuple()[0].to_int64();
  switch (static_cast<Op>(number.value_or(0))) {
    case Op::link: {
      Fields f(control, 3, "LINK");
      return deliver(Kind::link, f.pid(1), f.pid(2));
    }
    case Op::send: {
      Fields f(control, 3, "SEND");
      return deliver(Kind::send, Term(), f.pid(2), Term(), take_payload(m, "SEND"));
    }
    case Op::send_tt: {
      Fields f(control, 4, "SEND_TT");
      return deliver(Kind::send, Term(), f.pid(2), Term(), take_payload(m, "SEND_TT"));
    }
    case Op::send_sender: {
      Fields f(control, 3, "SEND_SENDER");
      return deliver(Kind::send, f.any(1), f.pid(2), Term(), take_payload(m, "SEND_SENDER"));
    }
    case Op::send_sender_tt: {
      Fields f(control, 4, "SEND_SENDER_TT");
      return deliver(Kind::send, f.any(1), f.pid(2), Term(), take_payload(m, "SEND_SENDER_TT"));
    }
    case Op::reg_send: {
      Fields f(control, 4, "REG_SEND");
      return deliver(Kind::send_named, f.any(1), f.atom(3), Term(), take_payload(m, "REG_SEND"));
    }
    case Op::reg_send_tt: {
      Fields f(control, 5, "REG_SEND_TT");
      return deliver(Kind::send_named, f.any(1), f.atom(3), Term(), take_payload(m, "REG_SEND_TT"));
    }
    case Op::alias_send: {
      Fields f(control, 3, "ALIAS_SEND");
      return deliver(Kind::send_alias, f.any(1), f.ref(2), Term(), take_payload(m, "ALIAS_SEND"));
    }
    case Op::alias_send_tt: {
      Fields f(control, 4, "ALIAS_SEND_TT");
      return deliver(Kind::send_alias, f.any(1), f.ref(2), Term(), take_payload(m, "ALIAS_SEND_TT"));
    }
    case Op::exit: {
      Fields f(control, 4, "EXIT");
      return deliver(Kind::link_exit, f.pid(1), f.pid(2), Term(), f.any(3));
    }
    case Op::exit_tt: {
      Fields f(control, 5, "EXIT_TT");
      return deliver(Kind::link_exit, f.pid(1), f.pid(2), Term(), f.any(4));
    }
    case Op::payload_exit: {
      Fields f(control, 3, "PAYLOAD_EXIT");
      return deliver(Kind::link_exit, f.pid(1), f.pid(2), Term(), take_payload(m, "PAYLOAD_EXIT"));
    }
    case Op::payload_exit_tt: {
      Fields f(control, 4, "PAYLOAD_EXIT_TT");
      return deliver(Kind::link_exit, f.pid(1), f.pid(2), Term(), take_payload(m, "PAYLOAD_EXIT_TT"));
    }
    case Op::exit2: {
      Fields f(control, 4, "EXIT2");
      return deliver(Kind::exit, f.pid(1), f.pid(2), Term(), f.any(3));
    }
    case Op::exit2_tt: {
      Fields f(control, 5, "EXIT2_TT");
      return deliver(Kind::exit, f.pid(1), f.pid(2), Term(), f.any(4));
    }
    case Op::payload_exit2: {
      Fields f(control, 3, "PAYLOAD_EXIT2");
      return deliver(Kind::exit, f.pid(1), f.pid(2), Term(), take_payload(m, "PAYLOAD_EXIT2"));
    }
    case Op::payload_exit2_tt: {
      Fields f(control, 4, "PAYLOAD_EXIT2_TT");
      return deliver(Kind::exit, f.pid(1), f.pid(2), Term(), take_payload(m, "PAYLOAD_EXIT2_TT"));
    }
    case Op::unlink: {
      Fields f(control, 3, "UNLINK");
      return deliver(Kind::unlink, f.pid(1), f.pid(2));
    }
    case Op::unlink_id: {
      Fields f(control, 4, "UNLINK_ID");
      IncomingControl c = deliver(Kind::unlink, f.pid(2), f.pid(3));
      c.action = IncomingControl::Action::ack_unlink;
      c.unlink_id = f.id(1);
      return c;
    }
    case Op::unlink_id_ack: {
      Fields f(control, 4, "UNLINK_ID_ACK");
      f.id(1);
      return {};
    }
    case Op::monitor_p: {
      Fields f(control, 4, "MONITOR_P");
      return deliver(Kind::monitor, f.pid(1), f.pid_or_atom(2), f.ref(3));
    }
    case Op::demonitor_p: {
      Fields f(control, 4, "DEMONITOR_P");
      return deliver(Kind::demonitor, f.pid(1), f.pid_or_atom(2), f.ref(3));
    }
    case Op::monitor_p_exit: {
      Fields f(control, 5, "MONITOR_P_EXIT");
      return deliver(Kind::down, f.pid_or_atom(1), f.pid(2), f.ref(3), f.any(4));
    }
    case Op::payload_monitor_p_exit: {
      Fields f(control, 4, "PAYLOAD_MONITOR_P_EXIT");
      return deliver(Kind::down, f.pid_or_atom(1), f.pid(2), f.ref(3), take_payload(m, "PAYLOAD_MONITOR_P_EXIT"));
    }
    case Op::spawn_request:
    case Op::spawn_request_tt: {
      const bool traced = static_cast<Op>(*number) == Op::spawn_request_tt;
      Fields f(control, traced ? 7 : 6, traced ? "SPAWN_REQUEST_TT" : "SPAWN_REQUEST");
      const Term& mfa = f.any(4);
      if (!mfa.is_tuple(3) || !mfa.as_tuple()[0].is_atom() || !mfa.as_tuple()[1].is_atom() ||
          !mfa.as_tuple()[2].to_int64() || *mfa.as_tuple()[2].to_int64() < 0)
        throw ControlError("SPAWN_REQUEST: element 5 is not {Module, Function, Arity}: " + describe(control));
      SpawnRequest r{f.ref(1), f.pid(2), f.any(3), mfa.as_tuple()[0].as_atom(), mfa.as_tuple()[1].as_atom(),
                     static_cast<std::size_t>(*mfa.as_tuple()[2].to_int64()), f.any(5), take_payload(m, "SPAWN_REQUEST")};
      if (!proper_list(r.options)) throw ControlError("SPAWN_REQUEST: the options are not a proper list");
      if (!proper_list(r.arguments) || (r.arguments.is_nil() ? 0 : r.arguments.as_list().length()) != r.arity)
        throw ControlError("SPAWN_REQUEST: the arguments are not a proper list of " + std::to_string(r.arity));
      IncomingControl c;
      c.action = IncomingControl::Action::spawn;
      c.spawn = std::move(r);
      return c;
    }
    case Op::node_link: {
      Fields f(control, 1, "NODE_LINK");
      return {};
    }
    case Op::group_leader: {
      // Spindle processes have no group leader (no I/O server to route output to).
      Fields f(control, 3, "GROUP_LEADER");
      f.pid(1);
      f.pid(2);
      return {};
    }
    case Op::spawn_reply:
    case Op::spawn_reply_tt: {
      const bool traced = static_cast<Op>(*number) == Op::spawn_reply_tt;
      Fields f(control, traced ? 6 : 5, traced ? "SPAWN_REPLY_TT" : "SPAWN_REPLY");
      const auto reply_flags = f.any(3).to_int64();
      if (!reply_flags || *reply_flags < 0 || *reply_flags > 3)
        throw ControlError("SPAWN_REPLY: element 4 is not flags 0..3: " + describe(control));
      return deliver(Kind::spawn_reply, f.pid_or_atom(4), f.pid(2), f.ref(1), Term(*reply_flags));
    }
  }
  throw ControlError("unknown control message " + describe(control));
}

Term unlink_ack(std::uint64_t id, const Term& from, const Term& to) {
  return tuple(op(Op::unlink_id_ack), Term(id), from, to);
}

Term spawn_reply(const Term& request_id, const Term& to, std::int64_t reply_flags, const Term& result) {
  return tuple(op(Op::spawn_reply), request_id, to, Term(reply_flags), result);
}

}  // namespace spindle::dist
