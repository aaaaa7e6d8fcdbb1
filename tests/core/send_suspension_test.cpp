// A process suspended by a send (Node::suspend_caller, what the distribution layer does
// when a connection is over its busy limit) can stop in the middle of its work: a loop
// of sends checks Process::suspend_pending and returns, a CoProcess awaits
// wait_while_suspended, and both go on where they left off once resumed.

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "spindle/coprocess.hpp"
#include "spindle/inbox.hpp"
#include "spindle/node.hpp"

namespace spindle {
namespace {
using namespace std::chrono_literals;

// Takes every message for the far node; once `busy_at` have come it suspends each
// sender, as a connection over its busy limit does, until drain().
class BusyRouter final : public RemoteRouter {
 public:
  BusyRouter(Node& node, std::size_t busy_at) : node_(node), busy_at_(busy_at) {}

  void route(Atom, RemoteSignal&& s) override {
    std::lock_guard lock(mutex_);
    if (s.kind != RemoteSignal::Kind::send) return;
    got_.push_back(s.payload.as_int());
    if (!drained_ && got_.size() >= busy_at_)
      if (auto sender = node_.suspend_caller()) suspended_.push_back(*sender);
  }
  void drain() {
    std::vector<SuspendedSender> waiting;
    {
      std::lock_guard lock(mutex_);
      drained_ = true;
      waiting.swap(suspended_);
    }
    for (const SuspendedSender& s : waiting) s.resume();
  }
  std::vector<std::int64_t> received() const {
    std::lock_guard lock(mutex_);
    return got_;
  }
  std::size_t suspensions() const {
    std::lock_guard lock(mutex_);
    return suspended_.size();
  }

 private:
  Node& node_;
  const std::size_t busy_at_;
  mutable std::mutex mutex_;
  std::vector<std::int64_t> got_;
  std::vector<SuspendedSender> suspended_;
  bool drained_ = false;
};

struct SendSuspension : ::testing::Test {
  static constexpr std::int64_t kMessages = 100;
  static constexpr std::size_t kBusyAt = 10;
  SendSuspension() { node.set_remote_router(router); }
  ~SendSuspension() override { node.stop(); }

  // What the router has, once it has stopped changing for a while.
  std::vector<std::int64_t> settled() {
    std::vector<std::int64_t> last = router->received();
    for (int quiet = 0, i = 0; quiet < 5 && i < 400; ++i) {
      std::this_thread::sleep_for(20ms);
      std::vector<std::int64_t> now = router->received();
      quiet = now == last ? quiet + 1 : 0;
      last = std::move(now);
    }
    return last;
  }
  static std::vector<std::int64_t> one_to(std::int64_t n) {
    std::vector<std::int64_t> v;
    for (std::int64_t i = 1; i <= n; ++i) v.push_back(i);
    return v;
  }

  Node node{{.name = "near@host", .scheduler = {.threads = 2}}};
  std::shared_ptr<BusyRouter> router = std::make_shared<BusyRouter>(node, kBusyAt);
  const Pid far{atom("far@host"), 1, 0, 1};
  Inbox inbox{node};
};

// An active process sending 1..N in one process_loop call, returning when a send
// suspended it.
class Sender final : public Process {
 public:
  Sender(Pid to, std::int64_t n) : Process(ProcessMode::active), to_(std::move(to)), n_(n) {}

 protected:
  bool process_loop() override {
    while (next_ <= n_) {
      send(to_, next_++);
      if (suspend_pending()) return true;
    }
    return false;
  }

 private:
  Pid to_;
  std::int64_t n_;
  std::int64_t next_ = 1;
};

TEST_F(SendSuspension, ALoopOfSendsStopsAtTheSendThatFoundTheConnectionBusy) {
  const Pid sender = node.spawn(std::make_unique<Sender>(far, kMessages));
  const Ref watch = inbox.monitor(sender);
  EXPECT_EQ(settled(), one_to(kBusyAt));  // not one message past the busy one
  EXPECT_EQ(router->suspensions(), 1u);
  EXPECT_TRUE(node.alive(sender));
  router->drain();
  EXPECT_EQ(inbox.receive(10s), tuple(atoms::DOWN, watch, atoms::process, sender, atoms::normal));
  EXPECT_EQ(router->received(), one_to(kMessages));  // all of them, in order, once
}

TEST_F(SendSuspension, ACoProcessWaitsWhereItWasSuspendedAndKeepsItsMail) {
  const Pid report = inbox.pid();
  const Pid far_pid = far;
  const Pid sender = node.spawn(coprocess([report, far_pid](CoProcess& self) -> Task<> {
    for (std::int64_t i = 1; i <= kMessages; ++i) {
      self.send(far_pid, i);
      co_await self.wait_while_suspended();
    }
    // What came while it waited was put aside, for this receive.
    auto m = co_await self.receive(5s);
    self.send(report, m ? *m : atom("nothing"));
  }));
  EXPECT_EQ(settled(), one_to(kBusyAt));
  node.send(sender, atom("came_while_suspended"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(router->received().size(), kBusyAt);  // mail does not wake a suspended process
  router->drain();
  EXPECT_EQ(inbox.receive(10s), atom("came_while_suspended"));
  EXPECT_EQ(router->received(), one_to(kMessages));
}

TEST_F(SendSuspension, AThreadThatIsNoProcessWaitsInTheSend) {
  std::atomic<std::int64_t> returned{0};
  std::thread sender([&] {
    for (std::int64_t i = 1; i <= kMessages; ++i) {
      node.send(far, i);
      returned.store(i);
    }
  });
  EXPECT_EQ(settled(), one_to(kBusyAt));
  EXPECT_EQ(returned.load(), static_cast<std::int64_t>(kBusyAt) - 1);  // still in the busy send
  router->drain();
  sender.join();
  EXPECT_EQ(router->received(), one_to(kMessages));
}

// A worker must never wait: Node::send from a process's handler (not its own send)
// is routed and returns, busy or not.
TEST_F(SendSuspension, AWorkerNeverWaitsInNodeSend) {
  const Pid far_pid = far;
  const Pid sender = node.spawn([far_pid](Process& self, Term) {
    for (std::int64_t i = 1; i <= kMessages; ++i) self.node().send(far_pid, i);
  });
  node.send(sender, atom("go"));
  EXPECT_EQ(settled(), one_to(kMessages));
  EXPECT_EQ(router->suspensions(), 0u);
}

}  // namespace
}  // namespace spindle
