// Supervisor: a CoProcess trapping exits. Its loop takes one message at a time: a
// child's EXIT (restart by strategy), its parent's EXIT (stop), an OTP supervisor call,
// or a sys terminate request (gen_server:stop). Shutting a child down waits, inside the
// coroutine, for that child's DOWN; other messages stay put aside meanwhile.

#include "spindle/supervisor.hpp"

#include <algorithm>
#include <stdexcept>

#include "spindle/gen.hpp"
#include "spindle/gen_server.hpp"
#include "supervisor_spec.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kNotFound = static_cast<std::size_t>(-1);

bool is_exit(const Term& m) { return m.is_tuple(3) && m.as_tuple()[0].is_atom(atoms::EXIT) && m.as_tuple()[1].is_pid(); }

bool is_shutdown_reason(const Term& reason) {
  return reason.is_atom(atoms::normal) || reason.is_atom(atoms::shutdown) ||
         (reason.is_tuple(2) && reason.as_tuple()[0].is_atom(atoms::shutdown));
}

bool should_restart(RestartType type, const Term& reason) {
  switch (type) {
    case RestartType::permanent:
      return true;
    case RestartType::transient:
      return !is_shutdown_reason(reason);
    case RestartType::temporary:
      return false;
  }
  return false;
}

std::chrono::milliseconds shutdown_of(const ChildSpec& spec) {
  if (spec.shutdown) return *spec.shutdown;
  return spec.type == ChildType::supervisor ? ChildSpec::infinity : std::chrono::milliseconds(5s);
}

Term error(Term reason) { return tuple(atoms::error, std::move(reason)); }

// The reason a failed start gives, as Erlang reports an exception in a start function.
Term start_failure(const std::exception& e) {
  if (const auto* term_error = dynamic_cast<const TermException*>(&e)) return term_error->term();
  return exception_reason(e);
}

}  // namespace

Supervisor::Supervisor(SupervisorFlags flags, std::vector<ChildSpec> children, std::optional<Atom> name)
    : flags_(flags), name_(name) {
  if (simple()) {
    if (children.size() != 1) throw std::invalid_argument("simple_one_for_one supervisor: exactly one child spec");
    template_ = std::move(children.front());
    return;
  }
  for (ChildSpec& spec : children) {
    if (find(spec.id) != kNotFound) throw std::invalid_argument("supervisor: duplicate child id " + spec.id.to_string());
    children_.push_back(Child{std::move(spec), Pid(), {}});
  }
}

Task<> Supervisor::run() {
  trap_exit(true);
  if (name_ && !node().register_name(pid(), *name_)) {
    const std::optional<Pid> holder = node().whereis(*name_);
    exit(tuple(atom("already_started"), holder ? Term(*holder) : Term(atoms::undefined)));
  }
  for (std::size_t i = 0; i < children_.size(); ++i) {
    Term reason;
    if (!co_await start(children_[i], reason)) {
      co_await give_up(tuple(atoms::shutdown, tuple(atom("failed_to_start_child"), children_[i].spec.id, reason)));
    }
  }
  for (;;) {
    const Term message = *co_await receive();
    if (is_exit(message)) {
      const Term& from = message.as_tuple()[1];
      const Term& reason = message.as_tuple()[2];
      if (const std::size_t index = find(from); index != kNotFound) {
        co_await child_exited(index, reason);
      } else if (parent() && from == Term(parent())) {
        co_await give_up(reason);
      }
      // An EXIT from anyone else: an OTP supervisor ignores it too.
    } else if (auto call = gen::as_call(message)) {
      co_await handle_call(call->from, call->request);
    } else if (auto stop = supervisor_spec::as_sys_terminate(message)) {
      co_await give_up(*stop);
    }
  }
}

Task<bool> Supervisor::start(Child& child, Term& reason) {
  std::unique_ptr<Process> process;
  try {
    process = child.spec.start ? child.spec.start(child.args) : nullptr;
  } catch (const std::exception& e) {
    reason = start_failure(e);
    co_return false;
  }
  if (process == nullptr) co_return true;  // OTP's `ignore`: not running, spec kept
  // As OTP's start is synchronous, wait until the child's init() has run: an action
  // queued in the child runs after it and acknowledges; a child that fails in init()
  // exits first, and its EXIT arrives instead.
  const Pid pid = spawn_link(std::move(process));
  const Term ack = tuple(atom("$spindle_child_started"), node().make_ref());
  node().run_in(pid, [self = this->pid(), ack](Process& p) { p.send(self, ack); });
  const auto outcome = co_await receive(
      [&](const Term& m) { return m == ack || (is_exit(m) && m.as_tuple()[1] == Term(pid)); });
  if (*outcome != ack) {
    reason = outcome->as_tuple()[2];
    co_return false;
  }
  child.pid = pid;
  co_return true;
}

Task<> Supervisor::shut_down(Child& child) {
  if (!child.pid) co_return;
  const Pid pid = std::exchange(child.pid, Pid());
  const Ref down_ref = monitor(pid);
  unlink(pid);  // from here no EXIT from it arrives; one that came already is dropped
  const auto from_child = [&pid](const Term& m) { return is_exit(m) && m.as_tuple()[1] == Term(pid); };
  const auto down = [&down_ref](const Term& m) { return gen::is_down(m) && m.as_tuple()[1] == Term(down_ref); };
  if (co_await receive(from_child, 0ms)) {
    co_await receive(down);  // it had exited already
    co_return;
  }
  const std::chrono::milliseconds grace = shutdown_of(child.spec);
  if (grace != ChildSpec::brutal_kill) {
    exit(pid, atoms::shutdown);
    if (co_await receive(down, grace)) co_return;
  }
  exit(pid, atoms::kill);
  co_await receive(down);
}

Task<> Supervisor::shut_down_all() {
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) co_await shut_down(*it);
}

Task<> Supervisor::give_up(Term reason) {
  co_await shut_down_all();
  exit(std::move(reason));
}

Task<> Supervisor::child_exited(std::size_t index, const Term& reason) {
  Child& child = children_[index];
  child.pid = Pid();
  if (!should_restart(child.spec.restart, reason)) {
    if (simple() || child.spec.restart == RestartType::temporary) children_.erase(children_.begin() + index);
    co_return;
  }
  co_await restart(index);
}

Task<> Supervisor::restart(std::size_t index) {
  // A start that fails counts as one more restart, so a child that cannot start makes
  // the supervisor give up once the intensity is spent.
  for (;;) {
    if (!may_restart()) co_await give_up(atoms::shutdown);
    std::size_t first = index;  // children_[first..] are restarted
    std::size_t last = index + 1;
    if (flags_.strategy == SupervisorStrategy::one_for_all) first = 0;
    if (flags_.strategy != SupervisorStrategy::one_for_one && !simple()) last = children_.size();
    for (std::size_t i = last; i-- > first;) {
      if (i != index) co_await shut_down(children_[i]);
    }
    // Temporary children stopped for a sibling are not started again.
    for (std::size_t i = last; i-- > first;) {
      if (i != index && children_[i].spec.restart == RestartType::temporary) {
        children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
        --last;
        if (i < index) --index;
      }
    }
    bool started = true;
    for (std::size_t i = first; i < last && started; ++i) {
      Term reason;
      if (!children_[i].pid) started = co_await start(children_[i], reason);
    }
    if (started) co_return;
  }
}

bool Supervisor::may_restart() {
  const auto now = std::chrono::steady_clock::now();
  restarts_.push_back(now);
  while (now - restarts_.front() > flags_.period) restarts_.pop_front();
  return restarts_.size() <= static_cast<std::size_t>(std::max(flags_.intensity, 0));
}

std::size_t Supervisor::find(const Term& id_or_pid) const {
  for (std::size_t i = 0; i < children_.size(); ++i) {
    const Child& c = children_[i];
    if (id_or_pid.is_pid() ? c.pid && Term(c.pid) == id_or_pid : c.spec.id == id_or_pid) return i;
  }
  return kNotFound;
}

// ----- OTP's supervisor calls -----

Task<> Supervisor::handle_call(const Term& from, const Term& request) {
  const auto is = [&request](const char* tag) {
    return request.is_tuple(2) && request.as_tuple()[0].is_atom(atom(tag));
  };
  Term answer;
  if (request.is_atom(atom("which_children"))) {
    answer = which_children();
  } else if (request.is_atom(atom("count_children"))) {
    answer = count_children();
  } else if (is("start_child")) {
    answer = co_await start_child(request.as_tuple()[1]);
  } else if (is("terminate_child")) {
    answer = co_await terminate_child(request.as_tuple()[1]);
  } else if (is("restart_child") || is("delete_child")) {
    const bool restart_it = is("restart_child");
    const std::size_t index = simple() ? kNotFound : find(request.as_tuple()[1]);
    if (simple()) {
      answer = error(atom("simple_one_for_one"));
    } else if (index == kNotFound) {
      answer = error(atom("not_found"));
    } else if (children_[index].pid) {
      answer = error(atom("running"));
    } else if (!restart_it) {
      children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(index));
      answer = atoms::ok;
    } else {
      Term reason;
      const bool started = co_await start(children_[index], reason);  // (g++ 12 mishandles co_await in ?:)
      const Pid& pid = children_[index].pid;
      answer = started ? tuple(atoms::ok, pid ? Term(pid) : Term(atoms::undefined)) : error(reason);
    }
  } else {
    answer = error(tuple(atom("unknown_call"), request));
  }
  gen::reply(*this, from, std::move(answer));
}

Task<Term> Supervisor::start_child(Term arg) {
  Child child;
  if (simple()) {
    if (!arg.is_list()) co_return error(tuple(atoms::badarg, arg));
    child.spec = template_;
    for (const Term& a : arg.as_list()) child.args.push_back(a);
  } else {
    std::string problem;
    auto spec = supervisor_spec::from_erlang(arg, node(), problem);
    if (!spec) co_return error(tuple(atom("invalid_child_spec"), binary(problem)));
    if (const std::size_t index = find(spec->id); index != kNotFound) {
      const Pid& running = children_[index].pid;
      co_return error(running ? tuple(atom("already_started"), running) : tuple(atom("already_present"), spec->id));
    }
    child.spec = std::move(*spec);
  }
  Term reason;
  if (!co_await start(child, reason)) co_return error(reason);
  Term pid = child.pid ? Term(child.pid) : Term(atoms::undefined);
  if (child.pid || !simple()) children_.push_back(std::move(child));
  co_return tuple(atoms::ok, std::move(pid));
}

Task<Term> Supervisor::terminate_child(const Term& id_or_pid) {
  // simple_one_for_one children are named by pid; others by id.
  if (simple() != id_or_pid.is_pid()) co_return error(atom(simple() ? "simple_one_for_one" : "not_found"));
  const std::size_t index = find(id_or_pid);
  if (index == kNotFound) co_return error(atom("not_found"));
  co_await shut_down(children_[index]);
  if (simple() || children_[index].spec.restart == RestartType::temporary)
    children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(index));
  co_return Term(atoms::ok);
}

Term Supervisor::which_children() const {
  std::vector<Term> rows;
  rows.reserve(children_.size());
  for (const Child& c : children_) {
    rows.push_back(tuple(simple() ? Term(atoms::undefined) : c.spec.id, c.pid ? Term(c.pid) : Term(atoms::undefined),
                         atom(c.spec.type == ChildType::worker ? "worker" : "supervisor"), list()));
  }
  return list_from(rows);
}

Term Supervisor::count_children() const {
  std::int64_t active = 0, supervisors = 0, workers = 0;
  for (const Child& c : children_) {
    active += c.pid ? 1 : 0;
    (c.spec.type == ChildType::supervisor ? supervisors : workers) += 1;
  }
  const auto specs = static_cast<std::int64_t>(simple() ? 1 : children_.size());
  return list(tuple(atom("specs"), specs), tuple(atom("active"), active), tuple(atom("supervisors"), supervisors),
              tuple(atom("workers"), workers));
}

// ----- clients -----

namespace supervisor {

Term start_child(Inbox& inbox, const Pid& sup, Term args_or_spec) {
  return gen_server::call(inbox, sup, tuple(atom("start_child"), std::move(args_or_spec)), 30s);
}

Term terminate_child(Inbox& inbox, const Pid& sup, Term id_or_pid) {
  return gen_server::call(inbox, sup, tuple(atom("terminate_child"), std::move(id_or_pid)), ChildSpec::infinity);
}

Term restart_child(Inbox& inbox, const Pid& sup, Term id) {
  return gen_server::call(inbox, sup, tuple(atom("restart_child"), std::move(id)), 30s);
}

Term delete_child(Inbox& inbox, const Pid& sup, Term id) {
  return gen_server::call(inbox, sup, tuple(atom("delete_child"), std::move(id)), 30s);
}

Term which_children(Inbox& inbox, const Pid& sup) { return gen_server::call(inbox, sup, atom("which_children"), 30s); }

Term count_children(Inbox& inbox, const Pid& sup) { return gen_server::call(inbox, sup, atom("count_children"), 30s); }

void stop(Inbox& inbox, const Pid& sup, Term reason) {
  // sys:terminate's request, as gen_server:stop sends it. The supervisor exits without
  // replying; its DOWN says it is gone.
  const Ref down_ref = inbox.monitor(sup);
  inbox.node().send(sup, supervisor_spec::sys_terminate_request(inbox.pid(), Term(down_ref), std::move(reason)));
  inbox.receive([&down_ref](const Term& m) { return gen::is_down(m) && m.as_tuple()[1] == Term(down_ref); },
                ChildSpec::infinity);
}

}  // namespace supervisor
}  // namespace spindle
