#pragma once
/// @file
/// The one interface between a node and the processes of other nodes. The node hands
/// every message and signal addressed elsewhere to its `RemoteRouter` (the distribution
/// layer installs one), and the router hands what arrives back with
/// `Node::deliver_remote`. A node without a router treats other nodes as unreachable:
/// messages to them are dropped, links and monitors to them fail with `noconnection`.

#include <cstdint>
#include <memory>
#include <optional>

#include "spindle/term.hpp"

namespace spindle {

/// A registered name on some node: Erlang's `{Name, Node}`.
struct RegisteredName {
  Atom name;
  Atom node;
};

/// A message or signal between a process of this node and a process of another.
struct RemoteSignal {
  enum class Kind : std::uint8_t {
    send,        ///< payload to `to` (a pid)
    send_named,  ///< payload to the process registered as `to` (an atom)
    send_alias,  ///< payload to the process holding the alias `to` (a reference)
    link,        ///< `from` links to `to`
    unlink,      ///< `from` removes its link to `to`
    link_exit,   ///< `from`, linked to `to`, exited with reason `payload`
    exit,        ///< `from` sends exit signal `payload` to `to` (exit/2)
    monitor,     ///< `from` monitors `to` (a pid, or a name atom) under `ref`
    demonitor,   ///< `from` removes its monitor `ref` on `to`
    down,        ///< the monitored `from` (a pid, or the name it was monitored by) exited
                 ///< with reason `payload`; `to` is the monitoring pid, `ref` the monitor
    spawn_request,  ///< `from` asks for a process `to` = {Module, Function, Options} with
                    ///< the argument list `payload`; `ref` is the request id
    spawn_reply,    ///< answer to spawn request `ref` of `to`: `from` is the new pid, or
                    ///< the error reason; `payload` the flags (1 linked, 2 monitored)
  };

  Kind kind;
  Term from;     ///< the sending process's pid (or, for `down`, what was monitored)
  Term to;       ///< a pid, a registered name or an alias
  Term ref;      ///< the monitor reference (monitor, demonitor, down)
  Term payload;  ///< the message, or the exit reason
};

/// Erlang's answer to a signal that cannot reach its node, as a signal from that node
/// (for `Node::deliver_remote`): `noconnection` as an exit signal for a link and as a
/// DOWN for a monitor. Nothing for the others, which are simply lost.
std::optional<RemoteSignal> noconnection_answer(const RemoteSignal& signal);

namespace detail {
struct ThreadGate;
}

/// A sender that `Node::suspend_caller` stopped: a process, or a thread waiting in
/// `Node::send`. It goes on once `resume` is called (by anyone, on any thread; only the
/// first call of one suspension counts, and a copy kept past a later suspension of the
/// same process does nothing).
class SuspendedSender {
 public:
  SuspendedSender(Pid pid, std::uint32_t ticket) noexcept : pid_(std::move(pid)), ticket_(ticket) {}
  explicit SuspendedSender(std::shared_ptr<detail::ThreadGate> thread) noexcept : thread_(std::move(thread)) {}
  void resume() const noexcept;
  /// The suspended process; empty for a thread.
  const Pid& pid() const noexcept { return pid_; }

 private:
  Pid pid_;
  std::uint32_t ticket_ = 0;
  std::shared_ptr<detail::ThreadGate> thread_;
};

/// Carries signals to other nodes. Called from any thread, concurrently; must not block
/// (the distribution layer queues and wakes its I/O thread). Per sender and receiver,
/// signals must reach the other node in the order they were routed.
class RemoteRouter {
 public:
  virtual ~RemoteRouter() = default;
  /// `signal` goes to a process of node `node`.
  virtual void route(Atom node, RemoteSignal&& signal) = 0;
};

}  // namespace spindle
