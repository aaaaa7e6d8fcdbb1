// Running a process and Erlang's signal semantics. Everything here runs on the
// process's worker, inside `run`, except the reference counting.

#include "process_control.hpp"

#include "node_impl.hpp"
#include "send_coalescer.hpp"
#include "spindle/functions.hpp"

namespace spindle::detail {
namespace {

using Kind = Envelope::Kind;

Term down_message(const Term& ref, const Term& object, Term reason) {
  return tuple(atoms::DOWN, ref, atoms::process, object, std::move(reason));
}

}  // namespace

ProcessControl::ProcessControl(Node::Impl& owner, std::unique_ptr<Process> user, Atom node_name, std::uint32_t number,
                               std::uint32_t creation_number)
    : node(owner), process(std::move(user)) {
  kind = BoxKind::Pid;
  flags = kBoxLocalProcess;
  aux = 0;
  count = 0;
  refs = 1;  // the node's process table
  PidBox::node = node_name.index();
  id = number & 0x7FFF;
  serial = (number >> 15) & 0x1FFF;
  creation = creation_number;
  process->control_ = this;
}

ProcessControl::~ProcessControl() {
  while (!queue.empty()) destroy(static_cast<Envelope*>(queue.pop_front()));
}

void free_local_process(PidBox* box) noexcept { delete static_cast<ProcessControl*>(box); }

void destroy(Envelope* e) noexcept {
  switch (e->kind) {
    case Kind::Message:
      delete e;
      break;
    case Kind::Run:
      delete static_cast<RunEnvelope*>(e);
      break;
    default:
      delete static_cast<Signal*>(e);
      break;
  }
}

void ProcessControl::retain() noexcept { std::atomic_ref(refs).fetch_add(1, std::memory_order_relaxed); }

void ProcessControl::release() noexcept { Term::adopt(static_cast<PidBox*>(this)); }  // the temporary drops it

ProcessControl::Relations& ProcessControl::relations() {
  if (!relations_) relations_ = std::make_unique<Relations>();
  return *relations_;
}

template <class Body>
bool ProcessControl::guarded(Body&& body) noexcept {
  try {
    body();
    SendCoalescer::flush();  // what the handler sent goes before it returns
  } catch (const ProcessExit& e) {
    exit_with(e.reason());
  } catch (const std::exception& e) {
    exit_with(exception_reason(e));  // names the exception that escaped
  } catch (...) {
    exit_with(tuple(atom("exception"), binary("unknown"), binary("")));
  }
  return !exited();
}

// ----- running -----

Actor::RunResult ProcessControl::run(const RunLimits& limits) noexcept {
  const SendCoalescer::RunScope running(*this);
  const RunResult result = exited() ? RunResult::Done : run_alive(limits);
  if (!exited()) return result;
  finished_.reset();  // no user code is running now
  return RunResult::Done;
}

Actor::RunResult ProcessControl::run_alive(const RunLimits& limits) noexcept {
  if (!started) {
    started = true;
    guarded([this] { process->init(); });
    if (exited()) return RunResult::Done;
    if (Scheduler::park_asked(*this)) return park_now();  // init sent to a busy node
  }
  return process->mode() == ProcessMode::passive ? run_passive(limits) : run_active();
}

Actor::RunResult ProcessControl::run_passive(const RunLimits& limits) noexcept {
  // The clock is read only every kClockEvery messages, starting after the first batch,
  // so a run of one message (request and reply) never pays for it.
  constexpr std::size_t kClockEvery = 256;
  std::chrono::steady_clock::time_point batch_start;
  std::size_t popped = 0;  // counted in a register, added to the statistics once per run
  struct AddOnReturn {
    OwnedCounter& counter;
    const std::size_t& n;
    ~AddOnReturn() { counter.add(n); }
  } count_handled{counters.handled, popped};
  for (std::size_t handled = 0; handled < limits.budget; ++handled) {
    if (handled != 0 && handled % kClockEvery == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (handled == kClockEvery) {
        batch_start = now;
      } else if (now - batch_start >= limits.slice) {
        return RunResult::Yield;
      }
    }
    if (queue.empty()) {
      take_mailbox();
      if (queue.empty()) return RunResult::Idle;
    }
    auto* e = static_cast<Envelope*>(queue.pop_front());
    ++popped;
    std::optional<Term> message;
    switch (e->kind) {
      case Kind::Message:
        message = std::move(e->payload);
        break;
      case Kind::Down:
        if (end_monitor(*static_cast<Signal*>(e))) message = std::move(e->payload);
        break;
      case Kind::Timeout:
        if (receive_timeout_due(*static_cast<Signal*>(e))) guarded([this] { process->handle_timeout(); });
        break;
      case Kind::Run:
        guarded([this, e] { static_cast<RunEnvelope*>(e)->action(*process); });
        break;
      default:
        message = handle_signal(*static_cast<Signal*>(e));
        break;
    }
    destroy(e);
    if (exited()) return RunResult::Done;
    if (message) handle_message(std::move(*message));
    if (exited()) return RunResult::Done;
    if (Scheduler::park_asked(*this)) return park_now();
  }
  return RunResult::Yield;
}

Actor::RunResult ProcessControl::park_now() noexcept {
  // Exit signals do not wait out a suspension: those already here are acted on now (one
  // pushed later unparks the process, see Scheduler::park).
  take_mailbox();
  absorb_signals();
  return exited() ? RunResult::Done : RunResult::Park;
}

bool ProcessControl::end_monitor(const Signal& down) noexcept {
  // Erlang: once demonitor has returned, no DOWN of that monitor arrives.
  return relations_ && relations_->monitors.erase(Ref(down.ref)) != 0;
}

void ProcessControl::handle_message(Term message) noexcept {
  if (timeout_ms_ >= 0) restart_receive_timeout();
  guarded([this, &message] { process->handle_one_inbox_message(std::move(message)); });
}

void ProcessControl::absorb_signals() noexcept {
  MailboxNode* prev = nullptr;
  for (MailboxNode* n = queue.front(); n != nullptr;) {
    auto* e = static_cast<Envelope*>(n);
    MailboxNode* next = n->next;
    if (e->kind == Kind::Message || e->kind == Kind::Down) {
      prev = n;
      n = next;
      continue;
    }
    queue.erase_after(prev, n);
    if (e->kind == Kind::Timeout) {
      if (receive_timeout_due(*static_cast<Signal*>(e))) guarded([this] { process->handle_timeout(); });
    } else if (e->kind == Kind::Run) {
      guarded([this, e] { static_cast<RunEnvelope*>(e)->action(*process); });
    } else if (std::optional<Term> converted = handle_signal(*static_cast<Signal*>(e))) {
      // A trapped exit: a message in the signal's place.
      auto* message = new Envelope(Kind::Message, std::move(*converted));
      queue.insert_after(prev, message);
      prev = message;
      destroy(e);
      n = next;
      continue;
    }
    destroy(e);
    if (exited()) return;
    n = next;
  }
}

std::optional<Term> ProcessControl::receive() {
  if (queue.empty()) {
    take_mailbox();
    absorb_signals();
    // An exit signal ended the process: unwind out of process_loop.
    if (exited()) throw ProcessExit(atoms::killed);
  }
  Envelope* e = nullptr;
  while (e == nullptr && !queue.empty()) {
    e = static_cast<Envelope*>(queue.pop_front());
    if (e->kind == Kind::Down && !end_monitor(*static_cast<Signal*>(e))) {
      destroy(e);  // its monitor was removed
      e = nullptr;
    }
  }
  if (e == nullptr) return std::nullopt;
  counters.handled.add();
  Term message = std::move(e->payload);
  destroy(e);
  if (timeout_ms_ >= 0) restart_receive_timeout();
  return message;
}

Actor::RunResult ProcessControl::run_active() noexcept {
  take_mailbox();
  absorb_signals();
  if (exited()) return RunResult::Done;
  bool again = false;
  if (!guarded([this, &again] { again = process->process_loop(); })) return RunResult::Done;
  if (!again) {
    exit_with(atoms::normal);
    return RunResult::Done;
  }
  return Scheduler::park_asked(*this) ? park_now() : RunResult::Yield;
}

// ----- signals (Erlang reference manual, "Receiving Exit Signals") -----

std::optional<Term> ProcessControl::handle_signal(Signal& e) noexcept {
  switch (e.kind) {
    case Kind::Link:
      if (e.from.is_pid()) relations().links.insert(Pid(e.from));
      return std::nullopt;
    case Kind::Unlink:
      if (relations_ && e.from.is_pid()) relations_->links.erase(Pid(e.from));
      return std::nullopt;
    case Kind::LinkExit: {
      // Dropped unless the link is still active; `kill` over a link is not `killed`.
      if (!relations_ || !e.from.is_pid() || relations_->links.erase(Pid(e.from)) == 0) return std::nullopt;
      if (trap_exit) return tuple(atoms::EXIT, e.from, e.payload);
      if (!e.payload.is_atom(atoms::normal)) exit_with(e.payload);
      return std::nullopt;
    }
    case Kind::Exit: {
      // exit/2: `kill` is untrappable and becomes `killed`.
      if (e.payload.is_atom(atoms::kill)) {
        exit_with(atoms::killed);
        return std::nullopt;
      }
      if (trap_exit) return tuple(atoms::EXIT, e.from, e.payload);
      if (!e.payload.is_atom(atoms::normal)) {
        exit_with(e.payload);
      } else if (e.from == Term(pid())) {
        exit_with(atoms::normal);  // exit(self(), normal) ends the caller
      }
      return std::nullopt;
    }
    case Kind::Monitor:
      // A monitor by name carries {Name, Node} as its payload.
      if (e.from.is_pid() && e.ref.is_ref())
        relations().monitored_by.emplace(Ref(e.ref), Relations::Watcher{Pid(e.from), e.payload.is_nil() ? Term(pid()) : e.payload});
      return std::nullopt;
    case Kind::Demonitor:
      if (relations_ && e.ref.is_ref()) relations_->monitored_by.erase(Ref(e.ref));
      return std::nullopt;
    case Kind::SpawnReply:
      return spawn_reply(e);
    default:
      return std::nullopt;
  }
}

// The answer to our spawn_request: the link and monitor asked for are in place on the
// other side if its flags say so; record our halves, and tell the process.
Term ProcessControl::spawn_reply(const Signal& e) {
  const bool spawned = e.from.is_pid();
  const std::int64_t reply_flags = e.payload.is_small() ? e.payload.as_int() : 0;
  if (spawned && (reply_flags & 1)) relations().links.insert(Pid(e.from));
  const Ref ref(e.ref);
  auto& monitors = relations().monitors;
  const auto it = monitors.find(ref);
  if (spawned && (reply_flags & 2)) {
    if (it != monitors.end()) {
      it->second = e.from;
    } else {
      node.demonitor(pid(), e.from, ref);  // demonitored while the request was out
    }
  } else if (it != monitors.end()) {
    monitors.erase(it);
  }
  return tuple(atom("spawn_reply"), e.ref, spawned ? atoms::ok : atoms::error, e.from);
}

// A request this process will never handle, because it exited: answer it as Erlang
// answers requests to a process that does not exist.
void ProcessControl::answer_as_dead(Envelope& envelope) noexcept {
  if (envelope.kind == Kind::SpawnReply) {
    // The child was linked to or monitored by us on our behalf: undo that.
    auto& e = static_cast<Signal&>(envelope);
    const std::int64_t reply_flags = e.payload.is_small() ? e.payload.as_int() : 0;
    if (!e.from.is_pid()) return;
    if (reply_flags & 1) node.deliver(Pid(e.from), new Signal(Kind::LinkExit, atoms::noproc, pid()));
    if (reply_flags & 2) node.demonitor(pid(), e.from, Ref(e.ref));
    return;
  }
  if (envelope.kind != Kind::Link && envelope.kind != Kind::Monitor) return;
  auto& e = static_cast<Signal&>(envelope);
  if (!e.from.is_pid()) return;
  if (e.kind == Kind::Link) {
    node.deliver(Pid(e.from), new Signal(Kind::LinkExit, atoms::noproc, pid()));
  } else {
    const Term object = e.payload.is_nil() ? Term(pid()) : e.payload;
    node.deliver(Pid(e.from), new Signal(Kind::Down, down_message(e.ref, object, atoms::noproc), Term(), e.ref));
  }
}

void ProcessControl::exit_with(Term reason) noexcept {
  if (exited()) return;
  try {
    process->terminate(reason);
  } catch (...) {
    // The process is ending anyway; its terminate hook cannot stop that.
  }
  std::unique_ptr<Process> user = std::move(process);  // from here on, exited()
  disarm_receive_timeout();

  NodeList unhandled = std::exchange(queue, NodeList());
  unhandled.append(mailbox().close());
  while (!unhandled.empty()) {
    auto* e = static_cast<Envelope*>(unhandled.pop_front());
    answer_as_dead(*e);
    destroy(e);
  }
  node.release_name(*this);

  const Pid self = pid();
  if (std::unique_ptr<Relations> r = std::move(relations_)) {
    for (const Pid& linked : r->links) node.deliver(linked, new Signal(Kind::LinkExit, reason, self));
    for (const auto& [ref, watcher] : r->monitored_by)
      node.deliver(watcher.pid, new Signal(Kind::Down, down_message(ref, watcher.object, reason), Term(), ref));
    for (const auto& [ref, target] : r->monitors) node.demonitor(self, target, ref);
  }
  node.forget(*this);
  finished_ = std::move(user);  // destroyed by `run` once no user code is on the stack
}

// ----- the process's own operations -----

void ProcessControl::link(const Pid& other) {
  const Pid self = pid();
  if (other == self || !relations().links.insert(other).second) return;
  node.request(self, other, Kind::Link, Ref());
}

void ProcessControl::unlink(const Pid& other) {
  if (!relations_ || relations_->links.erase(other) == 0) return;
  node.deliver(other, new Signal(Kind::Unlink, Term(), pid()));
}

Ref ProcessControl::monitor(const Pid& target) {
  Ref ref = node.make_ref();
  monitor_with(target, ref);
  return ref;
}

void ProcessControl::monitor_with(const Pid& target, const Ref& ref) {
  relations().monitors.emplace(ref, target);
  node.request(pid(), target, Kind::Monitor, ref);
}

Ref ProcessControl::monitor(const RegisteredName& target) {
  Ref ref = node.make_ref();
  const Term object = tuple(target.name, target.node);
  if (!node.is_local(target.node)) {
    relations().monitors.emplace(ref, object);
    node.route(target.node, {RemoteSignal::Kind::monitor, pid(), target.name, ref, Term()});
    return ref;
  }
  const std::optional<Pid> found = node.public_node.whereis(target.name);
  if (!found) {
    relations().monitors.emplace(ref, object);  // until its DOWN arrives
    node.deliver(pid(), new Signal(Kind::Down, down_message(ref, object, atoms::noproc), Term(), ref));
    return ref;
  }
  relations().monitors.emplace(ref, *found);
  node.request(pid(), *found, Kind::Monitor, ref, object);
  return ref;
}

Ref ProcessControl::spawn_request(Atom on, Atom module, Atom function, Term args, const SpawnRequestOptions& options) {
  Ref ref = node.make_ref();
  const Pid self = pid();
  if (node.is_local(on)) {
    // Spawning here is spawn()'s job; Erlang code asking this node gets badarg too.
    node.deliver(self, new Signal(Kind::SpawnReply, Term(0), atoms::badarg, ref));
    return ref;
  }
  if (options.monitor) relations().monitors.emplace(ref, on);  // the pid comes with the reply
  Term option_list = Term();
  if (options.link) option_list = cons(atoms::link, option_list);
  if (options.monitor) option_list = cons(atoms::monitor, option_list);
  node.route(on, {RemoteSignal::Kind::spawn_request, self, tuple(module, function, std::move(option_list)), ref,
                  std::move(args)});
  return ref;
}

bool ProcessControl::demonitor(const Ref& ref) {
  if (!relations_) return false;
  auto it = relations_->monitors.find(ref);
  if (it == relations_->monitors.end()) return false;
  const Term target = it->second;
  relations_->monitors.erase(it);
  node.demonitor(pid(), target, ref);
  return true;
}

void ProcessControl::set_receive_timeout(std::chrono::milliseconds timeout) {
  timeout_ms_ = timeout.count() < 0 ? -1 : timeout.count();
  restart_receive_timeout();
}

void ProcessControl::restart_receive_timeout() {
  if (timeout_ms_ < 0) return disarm_receive_timeout();
  timeout_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  if (timeout_timer_ != 0 && timeout_timer_due_ <= timeout_deadline_) return;  // it re-arms when it fires
  disarm_receive_timeout();
  arm_receive_timeout();
}

bool ProcessControl::receive_timeout_due(const Signal& timeout) noexcept {
  if (timeout.ref != Term(timeout_generation_) || timeout_timer_ == 0) return false;  // stale
  timeout_timer_ = 0;
  if (timeout_ms_ < 0) return false;
  if (std::chrono::steady_clock::now() < timeout_deadline_) {
    try {
      arm_receive_timeout();
      return false;
    } catch (...) {  // no memory for a timer: fire now rather than never
    }
  }
  timeout_ms_ = -1;  // fires once
  return true;
}

void ProcessControl::arm_receive_timeout() {
  ++timeout_generation_;
  timeout_timer_due_ = timeout_deadline_;
  timeout_timer_ = node.timers.add_at(timeout_deadline_, [owner = &node, self = pid(), generation = timeout_generation_] {
    owner->deliver(self, new Signal(Kind::Timeout, Term(), Term(), Term(generation)));
  });
}

void ProcessControl::disarm_receive_timeout() noexcept {
  if (timeout_timer_ == 0) return;
  node.timers.cancel(std::exchange(timeout_timer_, 0));
  ++timeout_generation_;  // a Timeout signal already on its way is stale
}

}  // namespace spindle::detail
