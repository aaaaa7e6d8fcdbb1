#include "spindle/inbox.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <stdexcept>
#include <mutex>

#include "spindle/scheduler.hpp"
#include "send_coalescer.hpp"

namespace spindle {

struct Inbox::State {
  mutable std::mutex mutex;
  std::condition_variable arrived;
  std::deque<Term> messages;
};

namespace {

class InboxProcess final : public Process {
 public:
  explicit InboxProcess(std::shared_ptr<Inbox::State> state) : state_(std::move(state)) {}

 protected:
  void init() override { trap_exit(true); }
  void handle_one_inbox_message(Term message) override {
    {
      std::lock_guard lock(state_->mutex);
      state_->messages.push_back(std::move(message));
    }
    state_->arrived.notify_all();
  }

 private:
  std::shared_ptr<Inbox::State> state_;
};

}  // namespace

Inbox::Inbox(Node& node)
    : node_(node), state_(std::make_shared<State>()), pid_(node.spawn<InboxProcess>(state_)) {}

Inbox::~Inbox() {
  node_.run_in(pid_, [](Process& self) { self.exit(atoms::normal); });
}

std::optional<Term> Inbox::receive(std::chrono::milliseconds timeout) {
  return receive([](const Term&) { return true; }, timeout);
}

std::optional<Term> Inbox::receive(const std::function<bool(const Term&)>& match, std::chrono::milliseconds timeout) {
  detail::SendCoalescer::flush();  // what this thread's process sent goes before it waits
  // Waiting here would hold a thread the node's processes need, perhaps the very one
  // that would read the awaited reply (the distribution's I/O thread runs processes).
  if (timeout > std::chrono::milliseconds::zero() && Scheduler::current() == &node_.scheduler())
    throw std::logic_error("Inbox::receive would block one of the node's own threads: inside a process, "
                           "wait with co_await receive(...) in a CoProcess");
  // A timeout of a century or more (milliseconds::max() for "infinity") must not
  // overflow the clock.
  constexpr std::chrono::hours kCentury(24 * 365 * 100);
  const auto deadline = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(timeout, kCentury);
  std::unique_lock lock(state_->mutex);
  std::size_t checked = 0;
  for (;;) {
    for (; checked < state_->messages.size(); ++checked) {
      if (match(state_->messages[checked])) {
        Term found = std::move(state_->messages[checked]);
        state_->messages.erase(state_->messages.begin() + static_cast<std::ptrdiff_t>(checked));
        return found;
      }
    }
    if (state_->arrived.wait_until(lock, deadline) == std::cv_status::timeout && checked == state_->messages.size())
      return std::nullopt;
  }
}

std::size_t Inbox::size() const {
  std::lock_guard lock(state_->mutex);
  return state_->messages.size();
}

namespace {
// Runs `action` in the inbox's process and waits for it, so that the request it makes is
// on its way before anything the caller sends afterwards.
template <class Result>
Result run_and_wait(Node& node, const Pid& pid, std::function<Result(Process&)> action) {
  std::promise<Result> result;
  std::future<Result> done = result.get_future();
  const bool queued = node.run_in(pid, [&result, &action](Process& self) {
    // What the action sent is delivered before the caller, woken, sends anything else.
    if constexpr (std::is_void_v<Result>) {
      action(self);
      detail::SendCoalescer::flush();
      result.set_value();
    } else {
      Result value = action(self);
      detail::SendCoalescer::flush();
      result.set_value(std::move(value));
    }
  });
  if (!queued) throw std::logic_error("the inbox's process is gone");
  return done.get();
}
}  // namespace

Ref Inbox::monitor(const Pid& target) {
  return run_and_wait<Ref>(node_, pid_, [target](Process& self) { return self.monitor(target); });
}

Ref Inbox::monitor(const RegisteredName& target) {
  return run_and_wait<Ref>(node_, pid_, [target](Process& self) { return self.monitor(target); });
}

void Inbox::demonitor(const Ref& ref) {
  run_and_wait<void>(node_, pid_, [ref](Process& self) { self.demonitor(ref); });
  // The monitor is gone, so at most one DOWN for it can be here already.
  const Term tag(ref);
  receive([&tag](const Term& m) { return m.is_tuple(5) && m.as_tuple()[0].is_atom(atoms::DOWN) && m.as_tuple()[1] == tag; },
          std::chrono::milliseconds(0));
}

void Inbox::link(const Pid& target) {
  run_and_wait<void>(node_, pid_, [target](Process& self) { self.link(target); });
}

void Inbox::exit(const Pid& target, Term reason) {
  run_and_wait<void>(node_, pid_, [target, r = std::move(reason)](Process& self) { self.exit(target, r); });
}

}  // namespace spindle
