// Process: the user-facing side, forwarding to the control block and the node.

#include "spindle/process.hpp"

#include "node_impl.hpp"

namespace spindle {

using detail::Envelope;

Process::~Process() = default;

Pid Process::pid() const noexcept { return control_->pid(); }
const Pid& Process::parent() const noexcept { return control_->parent; }
Node& Process::node() const noexcept { return control_->node.public_node; }

bool Process::send(const Pid& to, Term message) {
  control_->counters.sent.add();
  return control_->node.send(to, std::move(message), control_);
}
bool Process::send(Atom name, Term message) {
  control_->counters.sent.add();
  return control_->node.send(name, std::move(message), control_);
}
bool Process::send(const RegisteredName& to, Term message) {
  control_->counters.sent.add();
  return control_->node.send(to, std::move(message), pid(), control_);
}
bool Process::send(const Ref& alias, Term message) {
  if (control_->node.is_local(alias.node())) return false;  // no local aliases yet
  control_->counters.sent.add();
  control_->node.route_from(*control_, alias.node(), {RemoteSignal::Kind::send_alias, pid(), alias, Term(), std::move(message)});
  return true;
}
std::optional<Term> Process::receive() { return control_->receive(); }
bool Process::suspend_pending() const noexcept { return Scheduler::park_asked(*control_); }

void Process::exit(Term reason) { throw ProcessExit(std::move(reason)); }

void Process::exit(const Pid& target, Term reason) {
  control_->node.deliver(target, new detail::Signal(Envelope::Kind::Exit, std::move(reason), pid()));
}

Ref Process::spawn_request(Atom on, Atom module, Atom function, Term args, const SpawnRequestOptions& options) {
  return control_->spawn_request(on, module, function, std::move(args), options);
}

void Process::link(const Pid& other) { control_->link(other); }
void Process::unlink(const Pid& other) { control_->unlink(other); }
Ref Process::monitor(const Pid& target) { return control_->monitor(target); }
Ref Process::monitor(const RegisteredName& target) { return control_->monitor(target); }
bool Process::demonitor(const Ref& ref) { return control_->demonitor(ref); }
void Process::trap_exit(bool on) noexcept { control_->trap_exit = on; }
bool Process::trapping_exits() const noexcept { return control_->trap_exit; }

Pid Process::spawn_link(std::unique_ptr<Process> child) {
  const Pid self = pid();
  Pid child_pid = control_->node.spawn(std::move(child), SpawnOptions{.link = self}, true);
  control_->preset_link(child_pid);  // if the child is already gone, its exit signal is on its way
  return child_pid;
}

std::uint64_t Process::send_after(std::chrono::milliseconds delay, const Pid& to, Term message) {
  return node().send_after(delay, to, std::move(message));
}

bool Process::cancel_timer(std::uint64_t timer) { return node().cancel_timer(timer); }

void Process::set_receive_timeout(std::chrono::milliseconds timeout) { control_->set_receive_timeout(timeout); }

void Process::handle_one_inbox_message(Term) {}
bool Process::process_loop() { return false; }
void Process::terminate(const Term&) {}

}  // namespace spindle
