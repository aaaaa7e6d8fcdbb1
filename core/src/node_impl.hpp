#pragma once
// Node internals shared by node.cpp and process_control.cpp.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "envelope.hpp"
#include "name_registry.hpp"
#include "spindle/detail/memory.hpp"
#include "process_control.hpp"
#include "process_table.hpp"
#include "spindle/node.hpp"
#include "spindle/remote.hpp"

namespace spindle {

struct Node::Impl {
  Impl(Node& owner, NodeOptions options);

  /// Where a pid points: a local control block (with a reference holding it while we
  /// use it when it came from the table), or nothing for remote or unknown pids.
  struct Target {
    detail::ProcessControl* control = nullptr;
    Pid hold;
  };
  Target resolve(const Pid& pid) const;

  /// Delivers an envelope to `to`; false (and the envelope freed) if `to` is gone.
  bool deliver(const Pid& to, detail::Envelope* e);
  /// Delivers a link or monitor request; when the target is gone, `requester` gets the
  /// answer Erlang gives (an exit signal or a DOWN message, reason noproc).
  /// `object`: for a monitor by name, the {Name, Node} the DOWN message will name.
  void request(const Pid& requester, const Pid& target, detail::Envelope::Kind kind, const Ref& ref,
               const Term& object = Term());
  /// `from`: the sending process, if any (remote sends carry it).
  bool send(const Pid& to, Term&& message, detail::ProcessControl* from = nullptr);  // &&: no temporary per hop
  /// send's path for a pid of another node or of no live process: out of line, so the
  /// local one saves and restores fewer registers.
  [[gnu::noinline]] bool send_elsewhere(const Pid& to, Term&& message, detail::ProcessControl* from);
  /// `from`: as for a send to a pid (the name's holder is found without a lock).
  bool send(Atom name, Term&& message, detail::ProcessControl* from = nullptr);
  /// `sender`: the process sending, from its own handler (it may be suspended); null
  /// when `from` is not the caller.
  bool send(const RegisteredName& to, Term message, const Pid& from, detail::ProcessControl* sender = nullptr);

  // ----- other nodes -----
  bool is_local(Atom node) const noexcept { return node == name; }
  /// Hands `signal` to the router, or answers it as Erlang does for a node that cannot
  /// be reached.
  void route(Atom node, RemoteSignal&& signal);
  /// `route` for a message that `sender` sends from its own handler: the router may
  /// suspend it (Node::suspend_caller).
  void route_from(detail::ProcessControl& sender, Atom node, RemoteSignal&& signal);
  /// An envelope addressed to a process of another node, as a signal for the router.
  void route_envelope(const Pid& to, detail::Envelope* e);
  /// `from` stops monitoring `target` (a pid, or {Name, Node} for a remote name) under `ref`.
  void demonitor(const Pid& from, const Term& target, const Ref& ref);
  void deliver_remote(Atom from_node, RemoteSignal&& signal);

  /// `caller_links_itself`: the link is to the spawning process, which records its own
  /// half (spawn_link); else a local linked process is sent a link signal.
  Pid spawn(std::unique_ptr<Process> process, const SpawnOptions& options, bool caller_links_itself = false);
  /// Frees an exiting process's registered name. As in Erlang, this comes before its
  /// links and monitors are told, so whoever restarts it on their news can take the name.
  void release_name(detail::ProcessControl& control) noexcept;
  /// The rest of the exit bookkeeping of the node: table, count.
  void forget(detail::ProcessControl& control) noexcept;
  /// One fewer live process; wakes stop() at zero.
  void forget_one() noexcept;
  Ref make_ref();

  Node& public_node;
  Atom name;
  std::uint32_t creation;
  std::size_t max_processes;
  Scheduler scheduler;
  TimerQueue timers;  // after the scheduler, so it stops first: no action runs without one
  Pid system_pid;

  detail::ProcessTable table;
  FunctionTable functions;
  std::atomic<std::uint64_t> next_number{1};  // less those passed over, counts the spawns
  std::atomic<std::uint64_t> numbers_passed_over{0};
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Sends from outside the node's processes (the table sums what exited processes counted).
  std::atomic<std::uint64_t> external_sent{0};
  std::atomic<std::uint64_t> next_ref{1};
  std::uint32_t ref_salt;

  detail::NameRegistry<detail::ProcessControl> names;

  std::atomic<RemoteRouter*> router{nullptr};
  std::mutex routers_mutex;
  // Every router ever installed, kept until the node is destroyed: a worker may have
  // loaded `router` just before it was replaced.
  std::vector<std::shared_ptr<RemoteRouter>> routers;

  std::atomic<std::size_t> live{0};
  std::atomic<unsigned> stopping{0};  // an integer, so spawn can read it with an RMW
  std::mutex lifetime_mutex;  // only for waiting on all_exited
  std::condition_variable all_exited;
};

}  // namespace spindle
