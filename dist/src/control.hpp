#pragma once
// Control messages (erl_dist_protocol, "Protocol between Connected Nodes") as the node's
// RemoteSignals, both ways. No I/O and no connection state.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "spindle/dist/frame.hpp"
#include "spindle/remote.hpp"

namespace spindle::dist {

/// Operation numbers: the first element of every control tuple.
enum class Op : std::int64_t {
  link = 1,
  send = 2,
  exit = 3,
  unlink = 4,
  node_link = 5,
  reg_send = 6,
  group_leader = 7,
  exit2 = 8,
  send_tt = 12,
  exit_tt = 13,
  reg_send_tt = 16,
  exit2_tt = 18,
  monitor_p = 19,
  demonitor_p = 20,
  monitor_p_exit = 21,
  send_sender = 22,
  send_sender_tt = 23,
  payload_exit = 24,
  payload_exit_tt = 25,
  payload_exit2 = 26,
  payload_exit2_tt = 27,
  payload_monitor_p_exit = 28,
  spawn_request = 29,
  spawn_request_tt = 30,
  spawn_reply = 31,
  spawn_reply_tt = 32,
  alias_send = 33,
  alias_send_tt = 34,
  unlink_id = 35,
  unlink_id_ack = 36,
};

/// A control message that does not say what the protocol says it must.
class ControlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The control tuple for an outgoing signal, given the flags both sides share. Whether a
/// payload follows is `carries_payload(signal.kind, flags)`. `unlink_id` numbers an
/// UNLINK_ID (the caller keeps the counter). Nothing (the signal cannot be carried):
/// ALIAS_SEND to a peer without DFLAG_ALIAS.
std::optional<Term> control_message(const RemoteSignal& signal, std::uint64_t shared_flags, std::uint64_t unlink_id);

/// True when the signal's payload (message or exit reason) follows the control tuple
/// rather than sitting inside it.
bool carries_payload(RemoteSignal::Kind kind, std::uint64_t shared_flags) noexcept;

/// A spawn request (SPAWN_REQUEST): spawn_request/5 on the other node.
struct SpawnRequest {
  Term request_id;    ///< a reference; also the monitor's, if one was asked for
  Term from;          ///< the parent-to-be
  Term group_leader;
  Atom module;
  Atom function;
  std::size_t arity = 0;
  Term options;       ///< a proper list
  Term arguments;     ///< a proper list of `arity` terms
};

/// What one incoming control message asks of us.
struct IncomingControl {
  enum class Action {
    signal,         ///< deliver `signal`
    ack_unlink,     ///< deliver `signal` (an unlink) and answer UNLINK_ID_ACK with `unlink_id`
    spawn,          ///< answer `spawn`
    ignore,         ///< NODE_LINK, GROUP_LEADER, UNLINK_ID_ACK, SPAWN_REPLY: nothing to do
  };
  Action action = Action::ignore;
  RemoteSignal signal{};
  std::uint64_t unlink_id = 0;
  std::optional<SpawnRequest> spawn;
};

/// Interprets an incoming message. Throws ControlError for one that breaks the protocol
/// (unknown operation, wrong arity, a pid where a pid must be, a payload missing).
IncomingControl interpret(IncomingMessage&& message);

/// The UNLINK_ID_ACK answering an UNLINK_ID `id` from `from` to `to`.
Term unlink_ack(std::uint64_t id, const Term& from, const Term& to);
/// SPAWN_REPLY: `result` is the new pid or an error atom; `flags` 1 = linked, 2 = monitored.
Term spawn_reply(const Term& request_id, const Term& to, std::int64_t flags, const Term& result);

}  // namespace spindle::dist
