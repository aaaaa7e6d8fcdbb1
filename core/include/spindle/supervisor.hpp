#pragma once
/// @file
/// `Supervisor`: OTP's supervisor in C++. It starts its children in order, linked,
/// restarts them by its strategy when they exit, gives up when they crash too often, and
/// shuts them down in reverse order when it stops. It answers OTP's supervisor calls, so
/// Erlang's `supervisor:which_children/1`, `count_children/1`, `start_child/2`,
/// `terminate_child/2`, `restart_child/2`, `delete_child/2` and `gen_server:stop/1` work
/// on it from Erlang as from C++.
///
///     std::vector<ChildSpec> children{
///         {.id = atom("cache"), .start = [](auto) { return std::make_unique<Cache>(); }},
///         {.id = atom("writer"), .start = [](auto) { return std::make_unique<Writer>(); },
///          .shutdown = 10s},
///     };
///     Pid sup = node.spawn(std::make_unique<Supervisor>(SupervisorFlags{.intensity = 3}, children),
///                          SpawnOptions{.link = inbox.pid()});
///
/// The supervisor stops when its parent (the process it was spawned linked to) sends it
/// an exit signal, like an OTP supervisor; exit signals from anyone else are ignored
/// (except an untrappable `kill`). Children are spawned with `spawn_link`, one at a
/// time: the next starts once the last one's `init()` has run, and a child that exits
/// in `init()` has failed to start.

#include <chrono>
#include <deque>
#include <vector>

#include "spindle/coprocess.hpp"
#include "spindle/functions.hpp"
#include "spindle/inbox.hpp"

namespace spindle {

enum class SupervisorStrategy {
  one_for_one,        ///< restart the child that exited
  one_for_all,        ///< stop the others (in reverse order), then start all again in order
  rest_for_one,       ///< stop the children started after it, then start it and them again
  simple_one_for_one  ///< one spec, children added at run time with start_child(args)
};

enum class RestartType {
  permanent,  ///< always restarted
  transient,  ///< restarted unless it exited with normal, shutdown or {shutdown, _}
  temporary   ///< never restarted; forgotten when it exits
};

enum class ChildType { worker, supervisor };

struct ChildSpec {
  /// Waits for the child to exit, however long it takes (the default for supervisors).
  static constexpr std::chrono::milliseconds infinity = std::chrono::milliseconds::max();
  /// Kills the child at once (exit(Child, kill)) instead of asking it to shut down.
  static constexpr std::chrono::milliseconds brutal_kill{-1};

  Term id;  ///< unique among the supervisor's children (unused by simple_one_for_one)
  /// Makes the child process from the start arguments (none for static children; the
  /// `start_child` arguments for simple_one_for_one). A null result is OTP's `ignore`:
  /// no process, the spec is kept. An exception is a failed start.
  ProcessFactory start;
  RestartType restart = RestartType::permanent;
  /// How long a child may take to exit after the `shutdown` exit signal before it is
  /// killed; `infinity` or `brutal_kill` as above. Defaults to 5 s, or infinity for a
  /// child of type supervisor.
  std::optional<std::chrono::milliseconds> shutdown;
  ChildType type = ChildType::worker;
};

struct SupervisorFlags {
  SupervisorStrategy strategy = SupervisorStrategy::one_for_one;
  /// More than `intensity` restarts within `period` and the supervisor gives up: it
  /// stops its children and exits with `shutdown`.
  int intensity = 1;
  std::chrono::milliseconds period = std::chrono::seconds(5);
};

class Supervisor final : public CoProcess {
 public:
  /// For simple_one_for_one, `children` holds exactly one spec: the template of the
  /// children start_child adds (throws std::invalid_argument otherwise, as it does for
  /// duplicate ids). With `name`, the supervisor registers itself under it when it
  /// starts (supervisor:start_link({local, Name}, ...)); if the name is taken, it exits
  /// with `{already_started, Pid}`.
  Supervisor(SupervisorFlags flags, std::vector<ChildSpec> children, std::optional<Atom> name = std::nullopt);

  struct Child {
    ChildSpec spec;
    Pid pid;                 ///< empty while not running
    std::vector<Term> args;  ///< what it was started with (simple_one_for_one)
  };

 private:
  Task<> run() override;
  /// Starts `child` and waits until its init() has run; false (and `reason` set) if
  /// its start failed.
  Task<bool> start(Child& child, Term& reason);
  /// Asks a running child to stop (by its shutdown setting) and waits until it is gone.
  Task<> shut_down(Child& child);
  /// Stops every running child, last started first.
  Task<> shut_down_all();
  /// A child exited: restart what the strategy says, or give up.
  Task<> child_exited(std::size_t index, const Term& reason);
  /// Restarts after the exit of children_[index] (already not running).
  Task<> restart(std::size_t index);
  Task<> handle_call(const Term& from, const Term& request);
  Task<Term> terminate_child(const Term& id);
  Task<Term> start_child(Term arg);
  Term which_children() const;
  Term count_children() const;
  /// Counts a restart; false once the intensity is exceeded.
  bool may_restart();
  std::size_t find(const Term& id_or_pid) const;
  bool simple() const noexcept { return flags_.strategy == SupervisorStrategy::simple_one_for_one; }
  /// Stops the children and exits with `reason`.
  Task<> give_up(Term reason);

  SupervisorFlags flags_;
  std::optional<Atom> name_;
  std::vector<Child> children_;  // in start order
  ChildSpec template_;           // simple_one_for_one's spec
  std::deque<std::chrono::steady_clock::time_point> restarts_;
};

/// OTP's supervisor calls from outside processes (through `inbox`). Replies are the
/// terms Erlang's supervisor module returns: `{ok, Pid}`, `ok`, `{error, Reason}`...
namespace supervisor {

/// simple_one_for_one: starts a child with `args`. Otherwise: `spec` is an Erlang child
/// spec (a map or the 6-tuple) whose start `{M, F, A}` names a process kind registered on
/// the supervisor's node (Node::register_process).
Term start_child(Inbox& inbox, const Pid& sup, Term args_or_spec);
Term terminate_child(Inbox& inbox, const Pid& sup, Term id_or_pid);
Term restart_child(Inbox& inbox, const Pid& sup, Term id);
Term delete_child(Inbox& inbox, const Pid& sup, Term id);
/// `[{Id, Pid | undefined, worker | supervisor, Modules}]`, in start order.
Term which_children(Inbox& inbox, const Pid& sup);
/// `[{specs, N}, {active, N}, {supervisors, N}, {workers, N}]`.
Term count_children(Inbox& inbox, const Pid& sup);
/// Stops the supervisor and its children, as gen_server:stop/2 does; returns once it
/// has exited.
void stop(Inbox& inbox, const Pid& sup, Term reason = atoms::normal);

}  // namespace supervisor
}  // namespace spindle
