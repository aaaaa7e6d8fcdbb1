#pragma once
/// @file
/// `Process`: an Erlang process in C++, after Pyrlang's `Process`.
///
/// A process has a pid, a mailbox, links and monitors, and runs on the node's
/// scheduler, never on two workers at once. A *passive* process (the default) runs only
/// when a message arrives: `handle_one_inbox_message` is called once per message. An
/// *active* process has `process_loop()` called again and again, taking messages with
/// `receive()`, until it returns false. Either way a handler must not block: it runs on
/// a worker thread shared with other processes.
///
/// The link, monitor, timer and exit operations act on the calling process's own state:
/// call them from its handlers (`init`, `handle_one_inbox_message`, `process_loop`,
/// `handle_timeout`). From elsewhere, use the `Node` equivalents.

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "spindle/detail/memory.hpp"
#include "spindle/remote.hpp"
#include "spindle/term.hpp"
#include "spindle/term_exception.hpp"

namespace spindle {

class Node;
namespace detail {
struct ProcessControl;
}

enum class ProcessMode {
  passive,  ///< runs when a message arrives (handle_one_inbox_message)
  active,   ///< process_loop() runs until it returns false
};

/// Ends the calling process with `reason()` when thrown from a handler (Erlang's exit/1).
class ProcessExit : public TermException {
 public:
  explicit ProcessExit(Term reason) : TermException("process exit", std::move(reason)) {}
  const Term& reason() const noexcept { return term(); }
};

/// What a process started on another node (Process::spawn_request) is tied to.
struct SpawnRequestOptions {
  bool link = false;     ///< linked to the requester once it exists
  bool monitor = false;  ///< monitored by the requester, under the request's reference
};

/// A process and whatever derives from it live in the runtime's memory: a spawn builds
/// one on one worker and its exit frees it on another, which that allocator takes without
/// a lock that every worker shares.
class Process : public detail::RuntimeAllocated {
 public:
  explicit Process(ProcessMode mode = ProcessMode::passive) noexcept : mode_(mode) {}
  virtual ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// This process's identifier (valid once spawned).
  Pid pid() const noexcept;
  /// The node the process runs on (Pyrlang's get_node()).
  Node& node() const noexcept;
  ProcessMode mode() const noexcept { return mode_; }
  /// The process this one was spawned linked to (spawn_link, SpawnOptions::link), or an
  /// empty pid. A supervisor stops when its parent's exit signal comes, as in OTP.
  const Pid& parent() const noexcept;

  // ----- messages -----

  /// Sends `message` to `to` (Erlang's `!`). False if `to` is known to be gone.
  bool send(const Pid& to, Term message);
  /// Sends to a name registered on this node. False if the name is not registered.
  bool send(Atom name, Term message);
  /// Sends to `{Name, Node}`: a registered name here or on another node.
  bool send(const RegisteredName& to, Term message);
  /// Sends to the process holding `alias` (see Node::send).
  bool send(const Ref& alias, Term message);
  /// The next message, if one has arrived (for active processes; never blocks).
  std::optional<Term> receive();
  /// True once a message this process sent has left more than the busy limit queued for
  /// its node (dist::DistributionOptions::busy_limit_bytes, Erlang's busy distribution
  /// port): the process is suspended when the handler or process_loop call it is in
  /// returns, until that queue has drained. BEAM suspends in the send itself; a C++ call
  /// cannot be cut short, so a loop that sends many messages should stop here and go on
  /// where it left off when it runs again (a CoProcess: `co_await wait_while_suspended()`).
  bool suspend_pending() const noexcept;

  // ----- links, monitors, exits -----

  /// Ends this process with `reason` (Erlang's exit/1). Throws ProcessExit.
  [[noreturn]] void exit(Term reason);
  /// Sends an exit signal to `target` (Erlang's exit/2): `kill` kills it untrappably.
  void exit(const Pid& target, Term reason);
  /// Links this process and `other`; if `other` is already gone this process gets an
  /// exit signal with reason `noproc`.
  void link(const Pid& other);
  void unlink(const Pid& other);
  /// Monitors `target`: a `{'DOWN', Ref, process, Target, Reason}` message comes when it
  /// exits (at once, with `noproc`, if it is already gone).
  Ref monitor(const Pid& target);
  /// Monitors the process registered as `{Name, Node}`; the DOWN message names
  /// `{Name, Node}` (at once, with `noproc`, if no process has that name).
  Ref monitor(const RegisteredName& target);
  /// Removes a monitor; true if it was active.
  bool demonitor(const Ref& ref);
  /// Exit signals become `{'EXIT', From, Reason}` messages (except an untrappable kill).
  void trap_exit(bool on) noexcept;
  bool trapping_exits() const noexcept;

  /// Erlang's spawn_request/5: asks node `on` to spawn `module:function(args...)`
  /// (`args` a proper list), as `spawn(Node, M, F, A)` does. Returns the request id; the
  /// answer comes as the message `{spawn_reply, Id, ok, Pid}` or `{spawn_reply, Id,
  /// error, Reason}` (`noconnection` if the node cannot be reached). With `monitor`, the
  /// DOWN message carries the request id as its reference. This node's own name is
  /// answered with `badarg`: use spawn() for local processes.
  Ref spawn_request(Atom on, Atom module, Atom function, Term args, const SpawnRequestOptions& options = {});

  /// Spawns a process on this node linked to this one (atomically: if either exits
  /// first, the other is told).
  Pid spawn_link(std::unique_ptr<Process> child);

  // ----- time -----

  /// Delivers `message` to `to` after `delay`. Returns an id for `cancel_timer`.
  std::uint64_t send_after(std::chrono::milliseconds delay, const Pid& to, Term message);
  bool cancel_timer(std::uint64_t timer);
  /// After `timeout` with no message handled, `handle_timeout()` runs (each handled
  /// message restarts the wait). A negative timeout turns it off.
  void set_receive_timeout(std::chrono::milliseconds timeout);

 protected:
  /// Runs once, on a worker, before anything else (like gen_server's init).
  virtual void init() {}
  /// A passive process handles one message (Pyrlang's handle_one_inbox_message).
  virtual void handle_one_inbox_message(Term message);
  /// An active process's body; called until it returns false, then the process exits
  /// with reason `normal`. Return true to be called again (after others had a turn).
  virtual bool process_loop();
  /// The receive timeout set with `set_receive_timeout` elapsed.
  virtual void handle_timeout() {}
  /// Runs once when the process exits, before links and monitors are told.
  virtual void terminate(const Term& reason);

 private:
  friend struct detail::ProcessControl;
  friend class Node;
  detail::ProcessControl* control_ = nullptr;
  ProcessMode mode_;
};

}  // namespace spindle
