// spindle-actors: actor workloads on a Spindle node, one line of output each.
//
//   spindle-actors --workload NAME [--n N] [--threads T]
//
// prints "NAME VALUE UNIT". bench/actors.erl runs the same workloads in BEAM with the
// same message shapes (pids known up front, small integers as messages), and
// bench/compare_actors.sh runs both and prints a table.

#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>
#include <map>
#include <stdexcept>
#include <thread>

#include <CLI/CLI.hpp>

#include "spindle/node.hpp"

namespace {

using namespace spindle;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A long loop runs as an active process that does this many steps per run and then
// yields, as BEAM preempts a process after so many reductions: the others (what it
// spawned, what it sent to) get the worker in between.
constexpr int kSlice = 1000;

// Counts messages and fulfils a promise when `target` have arrived.
class Countdown : public Process {
 public:
  Countdown(std::int64_t target, std::promise<void>& done) : left_(target), done_(done) {}

 protected:
  void handle_one_inbox_message(Term) override {
    if (--left_ == 0) done_.set_value();
  }

 private:
  std::int64_t left_;
  std::promise<void>& done_;
};

// ----- pingpong: two processes, N round trips -----

class Pinger : public Process {
 public:
  Pinger(std::int64_t rounds, std::promise<void>& done) : rounds_(rounds), done_(done) {}
  Pid partner;

 protected:
  void handle_one_inbox_message(Term m) override {
    const std::int64_t n = m.as_int();
    if (n == rounds_) {
      done_.set_value();
    } else {
      send(partner, n + 1);
    }
  }

 private:
  std::int64_t rounds_;
  std::promise<void>& done_;
};

class Ponger : public Process {
 public:
  Pid partner;

 protected:
  void handle_one_inbox_message(Term m) override { send(partner, std::move(m)); }
};

// Spawns a pinger/ponger pair; returns the pinger (messages start there).
Pid spawn_pair(Node& node, std::int64_t rounds, std::promise<void>& done) {
  auto pinger = std::make_unique<Pinger>(rounds, done);
  auto ponger = std::make_unique<Ponger>();
  Pinger* pinger_raw = pinger.get();
  Ponger* ponger_raw = ponger.get();
  // Partners are set before any message flows (the first message comes after this).
  const Pid pong = node.spawn(std::move(ponger));
  pinger_raw->partner = pong;
  const Pid ping = node.spawn(std::move(pinger));
  node.run_in(pong, [ping, ponger_raw](Process&) { ponger_raw->partner = ping; });
  return ping;
}

double pingpong(Node& node, std::int64_t n) {
  std::promise<void> done;
  const Pid ping = spawn_pair(node, n, done);
  const Pid pong_start = ping;  // the pinger sends the first message to the ponger on receiving 0
  const auto start = Clock::now();
  node.send(pong_start, 0);
  done.get_future().wait();
  return static_cast<double>(n) / seconds_since(start);
}

double parallel_pingpong(Node& node, std::int64_t n, std::size_t threads) {
  const std::size_t pairs = 4 * threads;
  const std::int64_t per_pair = std::max<std::int64_t>(1, n / static_cast<std::int64_t>(pairs));
  std::vector<std::promise<void>> done(pairs);
  std::vector<Pid> pingers;
  for (std::size_t i = 0; i < pairs; ++i) pingers.push_back(spawn_pair(node, per_pair, done[i]));
  const auto start = Clock::now();
  for (const Pid& p : pingers) node.send(p, 0);
  for (auto& d : done) d.get_future().wait();
  return static_cast<double>(per_pair * static_cast<std::int64_t>(pairs)) / seconds_since(start);
}

// ----- ring: 1000 processes pass a token N hops -----

class RingMember : public Process {
 public:
  RingMember(Pid next, std::promise<void>* done) : next_(std::move(next)), done_(done) {}
  Pid next_;

 protected:
  void handle_one_inbox_message(Term m) override {
    const std::int64_t hops = m.as_int();
    if (hops == 0) {
      if (done_ != nullptr) done_->set_value();
      return;
    }
    send(next_, hops - 1);
  }

 private:
  std::promise<void>* done_;
};

double ring(Node& node, std::int64_t hops, std::size_t size) {
  std::promise<void> done;
  // Whichever member receives 0 reports; every member gets the promise.
  std::vector<RingMember*> members;
  std::vector<Pid> pids;
  for (std::size_t i = 0; i < size; ++i) {
    auto m = std::make_unique<RingMember>(Pid(), &done);
    members.push_back(m.get());
    pids.push_back(node.spawn(std::move(m)));
  }
  for (std::size_t i = 0; i < size; ++i) {
    const Pid next = pids[(i + 1) % size];
    RingMember* member = members[i];
    node.run_in(pids[i], [member, next](Process&) { member->next_ = next; });
  }
  // The set-up actions were queued before the token, so every member knows its next.
  const auto start = Clock::now();
  node.send(pids[0], hops);
  done.get_future().wait();
  return static_cast<double>(hops) / seconds_since(start);
}

// ----- ring_spawn: N processes created in a chain and a token passed through once -----

class Builder : public Process {
 public:
  Builder(std::int64_t size, Pid last) : size_(size), last_(std::move(last)) {}

 protected:
  void handle_one_inbox_message(Term) override {
    Pid next = last_;
    for (std::int64_t i = 0; i < size_; ++i) next = node().spawn(std::make_unique<RingMember>(next, nullptr));
    send(next, size_);  // hop count that reaches 0 exactly at `last_`
  }

 private:
  std::int64_t size_;
  Pid last_;
};

double ring_spawn(Node& node, std::int64_t n) {
  std::promise<void> done;
  const Pid finish = node.spawn(std::make_unique<RingMember>(Pid(), &done));
  const Pid builder = node.spawn(std::make_unique<Builder>(n, finish));
  const auto start = Clock::now();
  node.send(builder, atom("go"));
  done.get_future().wait();
  return static_cast<double>(n) / seconds_since(start);
}

// ----- spawn: N processes spawned; each reports once and exits -----

class ShortLived : public Process {
 public:
  explicit ShortLived(Pid report) : Process(ProcessMode::active), report_(std::move(report)) {}

 protected:
  bool process_loop() override {
    send(report_, 1);
    return false;  // exit normally
  }

 private:
  Pid report_;
};

// Spawns in slices, so the processes of one slice run and exit while the next is spawned
// (one run that spawned them all would keep all N alive at once on one thread).
class Spawner : public Process {
 public:
  Spawner(std::int64_t count, Pid report) : Process(ProcessMode::active), left_(count), report_(std::move(report)) {}

 protected:
  bool process_loop() override {
    for (int i = 0; i < kSlice && left_ > 0; ++i, --left_) node().spawn(std::make_unique<ShortLived>(report_));
    return left_ > 0;
  }

 private:
  std::int64_t left_;
  Pid report_;
};

double spawn(Node& node, std::int64_t n) {
  std::promise<void> done;
  const Pid counter = node.spawn(std::make_unique<Countdown>(n, done));
  auto spawner = std::make_unique<Spawner>(n, counter);
  const auto start = Clock::now();
  node.spawn(std::move(spawner));
  done.get_future().wait();
  const double rate = static_cast<double>(n) / seconds_since(start);
  while (node.process_count() > 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return rate;
}

// ----- idle_memory: resident memory per idle process -----

// Resident set size from the OS, as bench/actors.erl measures BEAM.
std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0;
  long resident = 0;
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

double idle_memory(Node& node, std::int64_t n) {
  struct Idle : Process {};
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::vector<Pid> pids;
  pids.reserve(static_cast<std::size_t>(n));
  std::fill_n(reinterpret_cast<volatile char*>(pids.data()), sizeof(Pid) * pids.capacity(), 0);  // resident now
  const std::size_t before = resident_bytes();
  for (std::int64_t i = 0; i < n; ++i) pids.push_back(node.spawn(std::make_unique<Idle>()));
  while (node.scheduler().stats().runs < static_cast<std::uint64_t>(n)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // every process has run init and parked
  const std::size_t after = resident_bytes();
  // The vector holding the pids was made resident before the first measurement, so only
  // the processes count.
  return static_cast<double>(after - before) / static_cast<double>(n);
}

// ----- fanin: 2 x threads producers, each N messages to one consumer -----

// `To`: the sink's pid, or the name it is registered under (Erlang's `Name ! Msg`).
template <class To>
class Producer : public Process {
 public:
  Producer(std::int64_t count, To sink) : Process(ProcessMode::active), left_(count), sink_(std::move(sink)) {}

 protected:
  bool process_loop() override {
    for (int i = 0; i < kSlice && left_ > 0; ++i, --left_) send(sink_, left_);
    return left_ > 0;
  }

 private:
  std::int64_t left_;
  To sink_;
};

// fanin_named: the same, with the consumer registered and the producers sending to its name.
double fanin(Node& node, std::int64_t n, std::size_t threads, bool by_name) {
  const std::size_t producers = 2 * threads;
  std::promise<void> done;
  const Pid sink = node.spawn(std::make_unique<Countdown>(n * static_cast<std::int64_t>(producers), done));
  const Atom sink_name("fanin_sink");
  if (by_name && !node.register_name(sink, sink_name)) throw std::runtime_error("fanin_sink is taken");
  std::vector<std::unique_ptr<Process>> staged;
  for (std::size_t i = 0; i < producers; ++i) {
    if (by_name) {
      staged.push_back(std::make_unique<Producer<Atom>>(n, sink_name));
    } else {
      staged.push_back(std::make_unique<Producer<Pid>>(n, sink));
    }
  }
  const auto start = Clock::now();
  for (auto& p : staged) node.spawn(std::move(p));
  done.get_future().wait();
  return static_cast<double>(n * static_cast<std::int64_t>(producers)) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Actor workloads on a Spindle node; prints NAME VALUE UNIT"};
  std::string workload;
  std::int64_t n = 0;
  std::size_t threads = 0;
  const std::map<std::string, std::pair<std::int64_t, std::string>> defaults = {
      {"pingpong", {1'000'000, "round_trips/s"}}, {"ring", {1'000'000, "hops/s"}},
      {"ring_spawn", {100'000, "processes/s"}},   {"spawn", {1'000'000, "spawns/s"}},
      {"idle_memory", {100'000, "bytes/process"}}, {"fanin", {1'000'000, "messages/s"}},
      {"parallel_pingpong", {1'000'000, "round_trips/s"}}, {"fanin_named", {1'000'000, "messages/s"}},
  };
  std::vector<std::string> names;
  for (const auto& [name, d] : defaults) names.push_back(name);
  app.add_option("--workload", workload, "workload to run")->required()->check(CLI::IsMember(names));
  app.add_option("--n", n, "size (round trips, hops, processes or messages per producer)")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "scheduler threads (default: all cores)")->check(CLI::Range(1, 1024));
  SchedulerOptions scheduler;
  app.add_option("--budget", scheduler.budget, "messages a process handles per run")->check(CLI::Range(1, 1 << 20));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "spindle-actors: " << e.what() << " (see --help)\n";
    return 2;
  }
  const auto& [default_n, unit] = defaults.at(workload);
  if (n == 0) n = default_n;

  scheduler.threads = threads;
  Node node({.name = "bench@localhost", .scheduler = scheduler});
  const std::size_t t = node.scheduler().threads();
  double value = 0;
  if (workload == "pingpong") value = pingpong(node, n);
  if (workload == "parallel_pingpong") value = parallel_pingpong(node, n, t);
  if (workload == "ring") value = ring(node, n, 1000);
  if (workload == "ring_spawn") value = ring_spawn(node, n);
  if (workload == "spawn") value = spawn(node, n);
  if (workload == "idle_memory") value = idle_memory(node, n);
  if (workload == "fanin") value = fanin(node, n, t, false);
  if (workload == "fanin_named") value = fanin(node, n, t, true);
  std::printf("%s %.1f %s\n", workload.c_str(), value, unit.c_str());
  return 0;
}
