#pragma once
/// @file
/// `Inbox`: a process for code outside the node (main(), tests, other threads) to receive
/// messages with, like Erlang's shell process. It traps exits, so links deliver
/// `{'EXIT', Pid, Reason}` messages to it instead of killing it.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "spindle/node.hpp"

namespace spindle {

class Inbox {
 public:
  explicit Inbox(Node& node);
  /// Ends the inbox's process. The inbox must not outlive its node.
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  const Pid& pid() const noexcept { return pid_; }
  Node& node() const noexcept { return node_; }

  /// The oldest message, waiting up to `timeout` for one (milliseconds::max(): no limit).
  std::optional<Term> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// The oldest message `match` accepts, leaving the others (selective receive).
  /// Both forms throw std::logic_error when called with a timeout from one of the
  /// node's own processes, whose thread they would block: use a CoProcess there.
  std::optional<Term> receive(const std::function<bool(const Term&)>& match,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Messages waiting.
  std::size_t size() const;

  /// The inbox monitors `target` (a DOWN message comes here). Returns once the monitor
  /// request is on its way, so it is ordered before anything the caller sends next.
  Ref monitor(const Pid& target);
  /// The inbox monitors the process registered as `{Name, Node}`.
  Ref monitor(const RegisteredName& target);
  /// Removes the monitor `ref` and any DOWN message it already left here
  /// (erlang:demonitor(Ref, [flush])).
  void demonitor(const Ref& ref);
  /// The inbox links to `target` (an EXIT message comes here when it exits). Returns
  /// once the link request is on its way.
  void link(const Pid& target);
  /// Sends an exit signal from the inbox to `target` (erlang:exit/2 from the shell).
  /// Returns once it is on its way.
  void exit(const Pid& target, Term reason);

  struct State;

 private:
  Node& node_;
  std::shared_ptr<State> state_;
  Pid pid_;
};

}  // namespace spindle
