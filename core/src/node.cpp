#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "node_impl.hpp"
#include "send_coalescer.hpp"

namespace spindle {
namespace detail {

namespace {
// Pid numbers: 15 bits of id and 13 of serial, what a peer without DFLAG_V4_NC accepts.
constexpr std::uint32_t kPidNumberMask = (1u << 28) - 1;

// The number of the local process with this id and serial; 0 (no process) if they are
// out of the range this node hands out.
std::uint32_t pid_number(std::uint32_t id, std::uint32_t serial) noexcept {
  if (id > 0x7FFF || serial > 0x1FFF) return 0;
  return (serial << 15) | id;
}
std::uint32_t pid_number(const Pid& pid) noexcept { return pid_number(pid.id(), pid.serial()); }
}  // namespace

}  // namespace detail

using detail::Envelope;
using detail::ProcessControl;
using Kind = Envelope::Kind;

// ----- Node::Impl -----

namespace {
std::uint32_t random_nonzero() {
  std::random_device device;
  std::uint32_t value = 0;
  while (value == 0) value = device();
  return value;
}
}  // namespace

Node::Impl::Impl(Node& owner, NodeOptions options)
    : public_node(owner),
      name(options.name),
      creation(options.creation != 0 ? options.creation : random_nonzero()),
      max_processes(options.max_processes),
      scheduler(options.scheduler),
      system_pid(name, 0, 0, creation),
      ref_salt(random_nonzero()) {}

Node::Impl::Target Node::Impl::resolve(const Pid& pid) const {
  if (ProcessControl* control = detail::control_of(pid.term())) return {control, Pid()};
  if (!pid || pid.node() != name || pid.creation() != creation) return {};
  const std::uint32_t number = detail::pid_number(pid);
  if (number == 0) return {};
  Pid found = table.find(number);
  ProcessControl* control = detail::control_of(found.term());
  return {control, std::move(found)};
}

namespace {
// Links and monitors placed or removed change only the target's own bookkeeping, so they
// do not wake an idle target: it takes them, in order, ahead of whatever wakes it next
// (see Mailbox::push_quietly). A gen_server:call from another node is a monitor, the
// request and a demonitor, and only the request needs the server to run.
bool deliver_to(ProcessControl& target, Envelope* e) {
  detail::SendCoalescer::flush();  // what the running process holds back goes first
  switch (e->kind) {
    case Kind::Link:
    case Kind::Unlink:
    case Kind::Monitor:
    case Kind::Demonitor:
      return target.node.scheduler.deliver_quietly(target, e);
    case Kind::LinkExit:
    case Kind::Exit:
      // An exit signal does not wait out a suspension (Node::suspend_caller).
      if (!target.node.scheduler.deliver(target, e)) return false;
      target.node.scheduler.unpark(target);
      return true;
    default:
      return target.node.scheduler.deliver(target, e);
  }
}
}  // namespace

bool Node::Impl::deliver(const Pid& to, Envelope* e) {
  const Target target = resolve(to);
  // A closed mailbox may belong to a node already destroyed: do not touch its scheduler.
  if (target.control != nullptr && !target.control->mailbox().closed() && deliver_to(*target.control, e))
    return true;
  if (target.control == nullptr && to && !is_local(to.node())) {
    route_envelope(to, e);
    return true;
  }
  detail::destroy(e);
  return false;
}

void Node::Impl::request(const Pid& requester, const Pid& target, Kind kind, const Ref& ref, const Term& object) {
  const Target t = resolve(target);
  if (t.control != nullptr && !t.control->mailbox().closed()) {
    auto* e = new detail::Signal(kind, object, requester, ref);
    if (deliver_to(*t.control, e)) return;
    detail::destroy(e);
  }
  if (t.control == nullptr && target && !is_local(target.node())) {
    const auto remote_kind = kind == Kind::Link ? RemoteSignal::Kind::link : RemoteSignal::Kind::monitor;
    route(target.node(), {remote_kind, requester, target, ref, Term()});
    return;
  }
  // The target is gone, or a pid of an earlier incarnation of this node: noproc.
  if (kind == Kind::Link) {
    deliver(requester, new detail::Signal(Kind::LinkExit, atoms::noproc, target));
  } else if (kind == Kind::Monitor) {
    const Term what = object.is_nil() ? Term(target) : object;
    deliver(requester,
            new detail::Signal(Kind::Down, tuple(atoms::DOWN, ref, atoms::process, what, atoms::noproc), Term(), ref));
  }
}

bool Node::Impl::send(const Pid& to, Term&& message, ProcessControl* from) {
  // The common case, a local pid: its box is the process, no lookup.
  if (ProcessControl* control = detail::control_of(to.term())) {
    if (control->mailbox().closed()) return false;
    auto* e = detail::message_envelope(std::move(message));
    if (detail::SendCoalescer::send(from, *control, e)) return true;
    detail::destroy(e);
    return false;
  }
  return send_elsewhere(to, std::move(message), from);
}

bool Node::Impl::send_elsewhere(const Pid& to, Term&& message, ProcessControl* from) {
  if (to && !is_local(to.node())) {
    if (from == nullptr) {
      route(to.node(), {RemoteSignal::Kind::send, Term(system_pid), to, Term(), std::move(message)});
    } else {
      route_from(*from, to.node(), {RemoteSignal::Kind::send, Term(from->pid()), to, Term(), std::move(message)});
    }
    return true;
  }
  return deliver(to, detail::message_envelope(std::move(message)));
}

bool Node::Impl::send(Atom registered, Term&& message, ProcessControl* from) {
  auto* e = detail::message_envelope(std::move(message));
  bool delivered = false;
  names.visit(registered, [&](ProcessControl& control) {  // the same path as a send to its pid
    delivered = !control.mailbox().closed() && detail::SendCoalescer::send(from, control, e);
  });
  if (!delivered) detail::destroy(e);
  return delivered;
}

bool Node::Impl::send(const RegisteredName& to, Term message, const Pid& from, ProcessControl* sender) {
  if (is_local(to.node)) return send(to.name, std::move(message), sender);
  RemoteSignal signal{RemoteSignal::Kind::send_named, from, to.name, Term(), std::move(message)};
  if (sender != nullptr) {
    route_from(*sender, to.node, std::move(signal));
  } else {
    route(to.node, std::move(signal));
  }
  return true;
}

// ----- other nodes -----

void Node::Impl::route(Atom node, RemoteSignal&& signal) {
  detail::SendCoalescer::flush();
  if (RemoteRouter* r = router.load(std::memory_order_acquire)) return r->route(node, std::move(signal));
  if (auto answer = noconnection_answer(signal)) deliver_remote(node, std::move(*answer));
}

namespace detail {
// What a thread suspended in Node::send waits on.
struct ThreadGate {
  std::atomic<bool> opened{false};
  void open() noexcept {
    opened.store(true, std::memory_order_release);
    opened.notify_all();
  }
  void wait() const noexcept { opened.wait(false, std::memory_order_acquire); }
};
}  // namespace detail

namespace {
// The process on whose behalf this thread is routing a message, for suspend_caller. Set
// only around those calls, so the path of local messages never touches it.
thread_local ProcessControl* t_routing_for = nullptr;

// Inside a Node::send on a thread that runs no actors (so waiting there holds up nothing
// of the node's), and what the router suspended it on, if it did.
thread_local bool t_thread_may_wait = false;
thread_local std::shared_ptr<detail::ThreadGate> t_thread_gate;

// A Node::send: on a thread that runs no actors, it waits after routing while the
// router holds it suspended (a worker or the I/O thread never waits).
template <class Send>
bool send_from_thread(Send&& send) {
  if (Scheduler::current() != nullptr || t_thread_may_wait) return send();
  t_thread_may_wait = true;
  struct Reset {
    ~Reset() {
      t_thread_may_wait = false;
      t_thread_gate.reset();
    }
  } reset;
  const bool sent = send();
  if (t_thread_gate) t_thread_gate->wait();
  return sent;
}
}  // namespace

void Node::Impl::route_from(ProcessControl& sender, Atom node, RemoteSignal&& signal) {
  struct Routing {
    ProcessControl* outer;
    ~Routing() { t_routing_for = outer; }
  } routing{std::exchange(t_routing_for, &sender)};
  route(node, std::move(signal));
}

void Node::Impl::route_envelope(const Pid& to, Envelope* e) {
  using RK = RemoteSignal::Kind;
  RemoteSignal signal{RK::send, Term(system_pid), to, Term(), std::move(e->payload)};
  bool routed = true;
  if (e->kind == Kind::Message || e->kind == Kind::Run || e->kind == Kind::Timeout) {
    routed = e->kind == Kind::Message;
  } else {
    auto* s = static_cast<detail::Signal*>(e);
    signal.from = std::move(s->from);
    signal.ref = std::move(s->ref);
    switch (e->kind) {
      case Kind::Link: signal.kind = RK::link; break;
      case Kind::Unlink: signal.kind = RK::unlink; break;
      case Kind::LinkExit: signal.kind = RK::link_exit; break;
      case Kind::Exit: signal.kind = RK::exit; break;
      case Kind::Monitor: signal.kind = RK::monitor; break;
      case Kind::Demonitor: signal.kind = RK::demonitor; break;
      case Kind::Down: {
        // The payload is the whole DOWN message; the wire wants what was monitored (a pid,
        // or the bare name for a monitor by {Name, Node}) and the reason.
        signal.kind = RK::down;
        const Term down = std::move(signal.payload);
        const auto items = down.as_tuple();
        signal.from = items[3].is_tuple() ? items[3].as_tuple()[0] : items[3];
        signal.payload = items[4];
        break;
      }
      default: routed = false; break;
    }
  }
  detail::destroy(e);
  if (routed) route(to.node(), std::move(signal));
}

void Node::Impl::demonitor(const Pid& from, const Term& target, const Ref& ref) {
  if (target.is_atom()) return;  // a spawn request's monitor, still waiting for the new pid
  if (target.is_tuple()) {  // {Name, Node}: a monitor on a remote name
    const auto items = target.as_tuple();
    route(items[1].as_atom(), {RemoteSignal::Kind::demonitor, from, items[0], ref, Term()});
    return;
  }
  deliver(Pid(target), new detail::Signal(Kind::Demonitor, Term(), from, ref));
}

void Node::Impl::deliver_remote(Atom from_node, RemoteSignal&& signal) {
  using RK = RemoteSignal::Kind;
  // Only pids of this node are delivered to; anything else in `to` is the peer's error.
  const auto local_pid = [&]() -> std::optional<Pid> {
    if (!signal.to.is_pid()) return std::nullopt;
    Pid pid(signal.to);
    if (!is_local(pid.node())) return std::nullopt;
    return pid;
  };
  const auto signal_to = [&](Kind kind, Term payload = Term()) {
    if (auto pid = local_pid()) deliver(*pid, new detail::Signal(kind, std::move(payload), signal.from, signal.ref));
  };
  switch (signal.kind) {
    case RK::send:
      if (auto pid = local_pid()) deliver(*pid, detail::message_envelope(std::move(signal.payload)));
      return;
    case RK::send_named:
      if (signal.to.is_atom()) send(signal.to.as_atom(), std::move(signal.payload));
      return;
    case RK::send_alias:
      return;  // this node hands out no aliases yet: a message to one is dropped, as for a dead alias
    case RK::link:
      if (auto pid = local_pid(); pid && signal.from.is_pid()) request(Pid(signal.from), *pid, Kind::Link, Ref());
      return;
    case RK::unlink: return signal_to(Kind::Unlink);
    case RK::link_exit: return signal_to(Kind::LinkExit, std::move(signal.payload));
    case RK::exit: return signal_to(Kind::Exit, std::move(signal.payload));
    case RK::monitor: {
      if (!signal.from.is_pid() || !signal.ref.is_ref()) return;
      if (signal.to.is_atom()) {  // by name: the DOWN will name {Name, ThisNode}
        const Atom registered = signal.to.as_atom();
        if (std::optional<Pid> pid = public_node.whereis(registered)) {
          request(Pid(signal.from), *pid, Kind::Monitor, Ref(signal.ref), tuple(registered, name));
        } else {
          route(from_node, {RK::down, registered, signal.from, signal.ref, atoms::noproc});
        }
        return;
      }
      if (auto pid = local_pid()) request(Pid(signal.from), *pid, Kind::Monitor, Ref(signal.ref));
      return;
    }
    case RK::demonitor:
      if (signal.to.is_atom()) {
        if (std::optional<Pid> pid = public_node.whereis(signal.to.as_atom()))
          deliver(*pid, new detail::Signal(Kind::Demonitor, Term(), signal.from, signal.ref));
        return;
      }
      return signal_to(Kind::Demonitor);
    case RK::down: {
      auto pid = local_pid();
      if (!pid) return;
      const Term object = signal.from.is_atom() ? tuple(signal.from, from_node) : signal.from;
      deliver(*pid, new detail::Signal(Kind::Down,
                                       tuple(atoms::DOWN, signal.ref, atoms::process, object, std::move(signal.payload)),
                                       Term(), signal.ref));
      return;
    }
    case RK::spawn_reply: return signal_to(Kind::SpawnReply, std::move(signal.payload));
    case RK::spawn_request: return;  // answered by the distribution layer itself
  }
}

Pid Node::Impl::spawn(std::unique_ptr<Process> process, const SpawnOptions& options, bool caller_links_itself) {
  if (process == nullptr) throw std::invalid_argument("spawn: no process");
  detail::SendCoalescer::flush();  // what the spawner sent arrives before what the new process sends
  if (stopping.load(std::memory_order_acquire) != 0) throw std::logic_error("spawn: the node is stopping");
  if (live.fetch_add(1, std::memory_order_acq_rel) >= max_processes) {
    forget_one();
    throw std::length_error("system_limit: " + std::to_string(max_processes) + " processes are alive");
  }
  ProcessControl* control;
  try {
    control = new ProcessControl(*this, std::move(process), name, 0, creation);
  } catch (...) {
    forget_one();
    throw;
  }
  for (;;) {
    // A number whose slot in the table a live process holds is passed over (the table
    // keeps at least half its slots free, so this is rare; after 2^28 spawns numbers wrap).
    const auto number =
        static_cast<std::uint32_t>(next_number.fetch_add(1, std::memory_order_relaxed) & detail::kPidNumberMask);
    if (number != 0) {  // 0 is the system pid's
      control->id = number & 0x7FFF;
      control->serial = number >> 15;
      if (table.insert(*control)) break;
    }
    numbers_passed_over.fetch_add(1, std::memory_order_relaxed);
  }
  Pid pid = control->pid();
  if (options.link) {
    control->preset_link(*options.link);
    control->parent = *options.link;
    // A local process records its half now, before the new one can exit. (A remote one
    // has recorded it already: it asked for the link in its spawn request.)
    if (!caller_links_itself && is_local(options.link->node())) request(pid, *options.link, Kind::Link, Ref());
  }
  if (options.monitored_by) control->preset_monitor(options.monitored_by->first, options.monitored_by->second);
  scheduler.wake(*control);  // runs init() now; passive processes then wait for mail
  // stop() sets `stopping` and then kills what is in the table. Both sides touch
  // `stopping` with a read-modify-write, and those are totally ordered: either this one
  // comes first (then stop's exchange synchronises with it and sees this process in the
  // table) or it sees `stopping`.
  if (stopping.fetch_add(0, std::memory_order_acq_rel) != 0)
    deliver(pid, new detail::Signal(Kind::Exit, atoms::kill, system_pid));
  return pid;
}

void Node::Impl::forget_one() noexcept {
  // stop() may destroy the node as soon as it sees `live` at zero, so the last exit must
  // not touch the node after that store. It makes the final decrement under the mutex
  // stop() checks `live` under, and stop() cannot get the mutex until this thread has
  // finished notifying. Every other exit stays lock-free.
  std::size_t count = live.load(std::memory_order_relaxed);
  while (count > 1)
    if (live.compare_exchange_weak(count, count - 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return;
  std::lock_guard lock(lifetime_mutex);
  if (live.fetch_sub(1, std::memory_order_acq_rel) == 1) all_exited.notify_all();
}

void Node::Impl::release_name(ProcessControl& control) noexcept {
  // register_name only succeeds before the mailbox closes, and the exit closed it first,
  // so an unnamed process needs no lock here.
  if (control.has_name.load(std::memory_order_acquire)) {
    auto writer = names.write();
    if (control.has_name.load(std::memory_order_relaxed)) {
      writer.remove(control.name);
      control.has_name.store(false, std::memory_order_relaxed);
    }
  }
}

void Node::Impl::forget(ProcessControl& control) noexcept {
  table.erase(control);
  forget_one();
}

Ref Node::Impl::make_ref() {
  const std::uint64_t n = next_ref.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t words[] = {static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n >> 32), ref_salt};
  return Ref(name, creation, words);
}

// ----- Node -----

std::optional<RemoteSignal> noconnection_answer(const RemoteSignal& s) {
  using RK = RemoteSignal::Kind;
  if (s.kind == RK::link) return RemoteSignal{RK::link_exit, s.to, s.from, Term(), atoms::noconnection};
  if (s.kind == RK::monitor) return RemoteSignal{RK::down, s.to, s.from, s.ref, atoms::noconnection};
  if (s.kind == RK::spawn_request) return RemoteSignal{RK::spawn_reply, atoms::noconnection, s.from, s.ref, Term(0)};
  return std::nullopt;
}

Node::Node(NodeOptions options) : impl_(std::make_unique<Impl>(*this, std::move(options))) {}

Node::~Node() { stop(); }

Atom Node::name() const noexcept { return impl_->name; }
std::uint32_t Node::creation() const noexcept { return impl_->creation; }

Pid Node::spawn(std::unique_ptr<Process> process) { return impl_->spawn(std::move(process), {}); }

Pid Node::spawn(std::unique_ptr<Process> process, const SpawnOptions& options) {
  return impl_->spawn(std::move(process), options);
}

namespace {
class HandlerProcess final : public Process {
 public:
  explicit HandlerProcess(MessageHandler handler) : handler_(std::move(handler)) {}

 protected:
  void handle_one_inbox_message(Term message) override { handler_(*this, std::move(message)); }

 private:
  MessageHandler handler_;
};
}  // namespace

Pid Node::spawn(MessageHandler handler) { return spawn(std::make_unique<HandlerProcess>(std::move(handler))); }

std::size_t Node::process_count() const noexcept { return impl_->live.load(std::memory_order_acquire); }

bool Node::alive(const Pid& pid) const {
  const Impl::Target t = impl_->resolve(pid);
  return t.control != nullptr && !t.control->mailbox().closed();
}

FunctionTable& Node::functions() noexcept { return impl_->functions; }

void Node::register_function(Atom module, Atom function, std::size_t arity, Function fn) {
  impl_->functions.add(module, function, arity, std::move(fn));
}

void Node::register_process(Atom module, Atom function, std::size_t arity, ProcessFactory factory) {
  impl_->functions.add_process(module, function, arity, std::move(factory));
}

Pid Node::local_pid(std::uint32_t id, std::uint32_t serial) const {
  const std::uint32_t number = detail::pid_number(id, serial);
  return number == 0 ? Pid() : impl_->table.find(number);
}

bool Node::register_name(const Pid& pid, Atom registered) {
  const Impl::Target t = impl_->resolve(pid);
  if (t.control == nullptr || &t.control->node != impl_.get()) return false;
  auto writer = impl_->names.write();
  // A process that has exited closed its mailbox before releasing its name (under this
  // lock), so a closed mailbox here means it is gone.
  if (writer.find(registered) != nullptr || t.control->has_name.load(std::memory_order_relaxed) ||
      t.control->mailbox().closed())
    return false;
  writer.add(registered, *t.control);
  t.control->name = registered;
  t.control->has_name.store(true, std::memory_order_release);
  return true;
}

bool Node::unregister(Atom registered) {
  auto writer = impl_->names.write();
  ProcessControl* control = writer.remove(registered);
  if (control == nullptr) return false;
  control->has_name.store(false, std::memory_order_relaxed);  // alive: its exit waits for this lock
  return true;
}

std::optional<Pid> Node::whereis(Atom registered) const {
  std::optional<Pid> found;
  impl_->names.visit(registered, [&found](ProcessControl& control) { found = control.pid(); });
  return found;
}

std::vector<Atom> Node::registered() const {
  std::vector<Atom> out;
  for (const auto& [name, control] : impl_->names.snapshot()) out.push_back(name);
  return out;
}

bool Node::send(const Pid& to, Term message) {
  impl_->external_sent.fetch_add(1, std::memory_order_relaxed);
  return send_from_thread([&] { return impl_->send(to, std::move(message)); });
}
bool Node::send(Atom name, Term message) {
  impl_->external_sent.fetch_add(1, std::memory_order_relaxed);
  return impl_->send(name, std::move(message));  // local only: nothing to wait for
}
bool Node::send(const RegisteredName& to, Term message) {
  impl_->external_sent.fetch_add(1, std::memory_order_relaxed);
  return send_from_thread([&] { return impl_->send(to, std::move(message), impl_->system_pid); });
}
bool Node::send(const Ref& alias, Term message) {
  if (impl_->is_local(alias.node())) return false;  // no local aliases yet
  impl_->external_sent.fetch_add(1, std::memory_order_relaxed);
  return send_from_thread([&] {
    impl_->route(alias.node(), {RemoteSignal::Kind::send_alias, impl_->system_pid, alias, Term(), std::move(message)});
    return true;
  });
}

void Node::set_remote_router(std::shared_ptr<RemoteRouter> router) {
  std::lock_guard lock(impl_->routers_mutex);
  if (router) impl_->routers.push_back(router);
  impl_->router.store(router.get(), std::memory_order_release);
}

void Node::deliver_remote(Atom from_node, RemoteSignal signal) { impl_->deliver_remote(from_node, std::move(signal)); }

std::optional<SuspendedSender> Node::suspend_caller() noexcept {
  ProcessControl* const caller = t_routing_for;
  if (caller == nullptr && t_thread_may_wait && !t_thread_gate) {
    try {
      t_thread_gate = std::make_shared<detail::ThreadGate>();
    } catch (const std::bad_alloc&) {
      return std::nullopt;  // not suspended: the send is queued all the same
    }
    return SuspendedSender(t_thread_gate);
  }
  if (caller == nullptr || &caller->node != impl_.get()) return std::nullopt;
  const std::optional<Scheduler::ParkTicket> ticket = Scheduler::park(*caller);
  if (!ticket) return std::nullopt;
  return SuspendedSender(caller->pid(), ticket->value);
}

void SuspendedSender::resume() const noexcept {
  if (thread_) return thread_->open();
  // A closed mailbox may belong to a node already destroyed: an exited process is not
  // parked anyway.
  ProcessControl* control = detail::control_of(pid_);
  if (control != nullptr && !control->mailbox().closed()) control->node.scheduler.resume(*control, {ticket_});
}

void Node::exit(const Pid& target, Term reason) {
  impl_->deliver(target, new detail::Signal(Kind::Exit, std::move(reason), impl_->system_pid));
}

bool Node::run_in(const Pid& pid, std::function<void(Process&)> action) {
  return impl_->deliver(pid, new detail::RunEnvelope(std::move(action)));
}

void Node::link(const Pid& a, const Pid& b) {
  run_in(a, [b](Process& self) { self.link(b); });
}

std::optional<Ref> Node::monitor_process(const Pid& origin, const Pid& target) {
  Ref ref = impl_->make_ref();
  if (!run_in(origin, [target, ref](Process& self) { self.control_->monitor_with(target, ref); })) return std::nullopt;
  return ref;
}

Ref Node::make_ref() { return impl_->make_ref(); }
const Pid& Node::system_pid() const noexcept { return impl_->system_pid; }

std::uint64_t Node::send_after(std::chrono::milliseconds delay, const Pid& to, Term message) {
  return impl_->timers.add(delay, [impl = impl_.get(), to, message] { impl->send(to, Term(message)); });
}

bool Node::cancel_timer(std::uint64_t timer) { return impl_->timers.cancel(timer); }

void Node::stop() {
  if (Scheduler::current() == &impl_->scheduler)
    throw std::logic_error("Node::stop() was called from one of the node's own processes");
  impl_->stopping.exchange(1, std::memory_order_acq_rel);  // pairs with the RMW in spawn
  for (const Pid& pid : impl_->table.all()) exit(pid, atoms::kill);
  std::unique_lock lock(impl_->lifetime_mutex);
  impl_->all_exited.wait(lock, [this] { return impl_->live.load(std::memory_order_acquire) == 0; });
}

Scheduler& Node::scheduler() noexcept { return impl_->scheduler; }
TimerQueue& Node::timers() noexcept { return impl_->timers; }

NodeStats Node::stats() const {
  const Impl& n = *impl_;
  NodeStats s;
  s.uptime = std::chrono::steady_clock::now() - n.started;
  s.processes = process_count();
  s.spawned = n.next_number.load(std::memory_order_relaxed) - 1 - n.numbers_passed_over.load(std::memory_order_relaxed);
  const detail::ProcessTable::Retired retired = n.table.retired();
  s.messages_sent = retired.sent + n.external_sent.load(std::memory_order_relaxed);
  s.messages_handled = retired.handled;
  s.mailbox_high_water = retired.mailbox_high_water;
  for (const ProcessStats& p : process_stats()) {
    s.messages_sent += p.sent;
    s.messages_handled += p.handled;
    s.mailbox_high_water = std::max(s.mailbox_high_water, p.mailbox_high_water);
  }
  s.workers = n.scheduler.worker_stats();
  s.io_runs = n.scheduler.stats().outside_runs;
  return s;
}

std::vector<ProcessStats> Node::process_stats() const {
  std::unordered_map<const ProcessControl*, Atom> names;
  for (const auto& [name, control] : impl_->names.snapshot()) names.emplace(control, name);
  std::vector<ProcessStats> out;
  for (Pid& pid : impl_->table.all()) {
    const ProcessControl* control = detail::control_of(pid.term());
    if (control == nullptr) continue;
    ProcessStats p{.pid = std::move(pid),
                   .name = std::nullopt,
                   .handled = control->counters.handled.get(),
                   .sent = control->counters.sent.get(),
                   .mailbox_high_water = control->counters.mailbox_high_water.get()};
    if (auto it = names.find(control); it != names.end()) p.name = it->second;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace spindle
