#pragma once
// The runtime side of a local process.
//
// A ProcessControl is at once the process's pid box (every Pid term of the process
// points at it, so sending needs no lookup), its actor (mailbox and run state for the
// scheduler) and its Erlang state (links, monitors, trap_exit, receive timeout). Its
// reference count is the box's: pid terms anywhere, the node's process table while the
// process lives, and the scheduler while it is scheduled. The user's Process object is
// destroyed when the process exits; the control block lives on, closed, until the last
// pid referring to it is gone, so a late send to it simply fails.

#include <atomic>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "envelope.hpp"
#include "local_process.hpp"
#include "spindle/detail/memory.hpp"
#include "spindle/actor.hpp"
#include "spindle/detail/counter.hpp"
#include "spindle/node.hpp"
#include "spindle/process.hpp"
#include "spindle/term.hpp"

namespace spindle::detail {

// Cache-line aligned: two processes run by different workers must not share a line
// (a refcount bumped by one would keep evicting the other's hot fields).
struct alignas(64) ProcessControl final : PidBox, Actor, RuntimeAllocated {
  ProcessControl(Node::Impl& owner, std::unique_ptr<Process> user, Atom node_name, std::uint32_t number,
                 std::uint32_t creation_number);
  ~ProcessControl() override;

  /// A new reference to this process's pid.
  Pid pid() noexcept { return Pid(Term::share(static_cast<PidBox*>(this))); }
  std::uint32_t key() const noexcept { return (serial << 15) | id; }

  // Actor
  RunResult run(const RunLimits& limits) noexcept override;
  void retain() noexcept override;
  void release() noexcept override;

  // ----- operations of the running process on its own state -----
  void link(const Pid& other);
  void unlink(const Pid& other);
  Ref monitor(const Pid& target);
  /// Monitors `target` under a reference made by someone else (Node::monitor_process).
  void monitor_with(const Pid& target, const Ref& ref);
  /// Monitors the process registered as `target.name` on `target.node`.
  Ref monitor(const RegisteredName& target);
  bool demonitor(const Ref& ref);
  /// Erlang's spawn_request/5 to another node; the answer comes as a SpawnReply signal.
  Ref spawn_request(Atom on, Atom module, Atom function, Term args, const SpawnRequestOptions& options);
  /// Links to `other` before the process first runs (spawn_link): no signal needed,
  /// the other side records its half itself.
  void preset_link(const Pid& other) { relations().links.insert(other); }
  /// `watcher` monitors this process under `ref` from the start (before it runs).
  void preset_monitor(const Pid& watcher, const Ref& ref) { relations().monitored_by.insert_or_assign(ref, Relations::Watcher{watcher, pid()}); }
  void set_receive_timeout(std::chrono::milliseconds timeout);
  std::optional<Term> receive();

  /// Ends the process: tells links and monitors, frees the user object. Runs on the
  /// process's worker (inside `run`).
  void exit_with(Term reason) noexcept;
  bool exited() const noexcept { return process == nullptr; }

  Node::Impl& node;
  std::unique_ptr<Process> process;  // null once exited
  NodeList queue;                    // taken from the mailbox, not yet handled
  bool started = false;
  bool trap_exit = false;
  Pid parent;  // the process it was spawned linked to, if any (set before it first runs)
  std::atomic<bool> has_name{false};  // written under the node's registry lock
  Atom name;                          // guarded by the node's registry lock

  // Statistics, written by the process's worker, read by anyone (Node::process_stats).
  struct Counters {
    detail::OwnedCounter handled;             // messages and signals taken from the queue
    detail::OwnedCounter sent;                // messages it sent
    detail::OwnedCounter mailbox_high_water;  // most messages found waiting at once
  };
  Counters counters;

 private:
  // Links and monitors, allocated on first use (most processes have none).
  struct Relations {
    std::unordered_set<Pid> links;
    // Ours, on others: the pid, or {Name, Node} for a monitor on a remote name (the
    // name is what a demonitor must quote).
    std::unordered_map<Ref, Term> monitors;
    // Others', on us: who watches, and what they monitored: our pid, or the
    // {Name, Node} they monitored us by (their DOWN message names it).
    struct Watcher {
      Pid pid;
      Term object;
    };
    std::unordered_map<Ref, Watcher> monitored_by;
  };
  Relations& relations();

  /// Moves what the mailbox holds to `queue`, noting how many were waiting.
  void take_mailbox() noexcept {
    std::size_t taken = 0;
    queue.append(mailbox().take_all(taken));
    counters.mailbox_high_water.raise_to(taken);
  }
  RunResult run_alive(const RunLimits& limits) noexcept;  // init first, then mail
  RunResult run_passive(const RunLimits& limits) noexcept;
  RunResult run_active() noexcept;
  /// Ends a run whose process was asked to park (Scheduler::park).
  RunResult park_now() noexcept;
  /// Acts on the signals in `queue`, in order, leaving only messages behind.
  void absorb_signals() noexcept;
  /// Handles a signal; returns the message it turns into, if any. May end the process.
  std::optional<Term> handle_signal(Signal& e) noexcept;
  /// Runs `body` as the process; an escaping exception ends the process with a reason
  /// naming it. False once the process has exited.
  template <class Body>
  bool guarded(Body&& body) noexcept;
  void handle_message(Term message) noexcept;
  /// The monitor a DOWN signal reports ends; false when it was already removed
  /// (demonitor), and the DOWN is then dropped.
  bool end_monitor(const Signal& down) noexcept;
  /// The receive timeout starts again (a message came, or it was set).
  void restart_receive_timeout();
  /// A Timeout signal came: true if the receive timeout is due now. False for a stale
  /// signal, or for a timer armed before the deadline last moved (it re-arms).
  bool receive_timeout_due(const Signal& timeout) noexcept;
  void arm_receive_timeout();
  void disarm_receive_timeout() noexcept;
  void answer_as_dead(Envelope& e) noexcept;
  /// Records what a spawn reply says is in place; returns the spawn_reply message.
  Term spawn_reply(const Signal& e);

  std::unique_ptr<Relations> relations_;
  // The user object of an exited process: destroyed when `run` returns, as user code
  // may still be on the stack when the exit happens (an exit signal seen in receive()).
  std::unique_ptr<Process> finished_;
  // The receive timeout. A message moves only `timeout_deadline_`: the armed timer,
  // due at `timeout_timer_due_`, is left alone when it fires no later than that (it
  // re-arms for the rest when it fires), so a busy process touches the node's timer
  // queue, and its lock, once per timeout period rather than once per message.
  std::int64_t timeout_ms_ = -1;  // negative when off
  std::chrono::steady_clock::time_point timeout_deadline_{};
  std::chrono::steady_clock::time_point timeout_timer_due_{};
  std::uint64_t timeout_generation_ = 0;  // of the armed timer; older Timeout signals are stale
  std::uint64_t timeout_timer_ = 0;       // 0: none armed
};

/// The control block behind a pid term of a local process, or null for other pids.
inline ProcessControl* control_of(const Term& pid) noexcept {
  if (!pid.is_pid() || !(pid.box()->flags & kBoxLocalProcess)) return nullptr;
  return static_cast<ProcessControl*>(static_cast<PidBox*>(pid.box()));
}

}  // namespace spindle::detail
