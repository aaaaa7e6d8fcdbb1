// spindle-dist-bench: the Spindle side of the distribution benchmarks
// (bench/compare_dist.sh), speaking the protocol of bench/dist_bench.erl so that any
// driver runs against any server.
//
//   spindle-dist-bench serve --name NAME@HOST --cookie C --epmd-port P
//       registers bench_server (see dist_bench.erl), prints "ready", runs until killed
//   spindle-dist-bench drive --name NAME@HOST --cookie C --epmd-port P
//                            --target NODE --workload W --n N [--size BYTES]
//       runs one workload against bench_server on NODE, prints "result VALUE"
//
// Workloads and units as in dist_bench.erl: pingpong (round trips/s), stream (small
// messages/s), bulk (MB/s), setup (ms per connection set-up). The server also answers
// the Erlang drivers' rpc (dist_bench:echo/1) and gen_server calls (bench_gen).

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "spindle/dist/distribution.hpp"
#include "stop_signals.hpp"
#include "spindle/gen_server.hpp"
#include "spindle/inbox.hpp"

namespace spindle {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool tagged(const Term& m, std::size_t arity, const char* tag) {
  return m.is_tuple(arity) && m.as_tuple()[0].is_atom(atom(tag));
}

// ----- server -----

class Echo final : public Process {
 protected:
  void handle_one_inbox_message(Term m) override {
    if (m.is_tuple(2) && m.as_tuple()[0].is_pid()) send(m.as_tuple()[0].as_pid(), m.as_tuple()[1]);
  }
};

class Sink final : public Process {
 public:
  Sink(Pid report_to, std::int64_t n) : report_to_(std::move(report_to)), n_(n), left_(n) {}

 protected:
  void handle_one_inbox_message(Term) override {
    if (--left_ == 0) send(report_to_, tuple(atom("sink_done"), n_));
  }

 private:
  Pid report_to_;
  std::int64_t n_;
  std::int64_t left_;
};

// bench_gen: replies to every call with the request, like dist_bench.erl's gen_server.
class BenchGen final : public GenServer {
 protected:
  std::optional<Term> handle_call(const Term& request, const Term&) override { return request; }
};

class BenchServer final : public Process {
 protected:
  void handle_one_inbox_message(Term m) override {
    if (tagged(m, 2, "echo") && m.as_tuple()[1].is_pid()) {
      send(m.as_tuple()[1].as_pid(), tuple(atom("echo"), node().spawn<Echo>()));
    } else if (tagged(m, 3, "sink") && m.as_tuple()[1].is_pid()) {
      const Pid from = m.as_tuple()[1].as_pid();
      send(from, tuple(atom("sink"), node().spawn<Sink>(from, m.as_tuple()[2].as_int())));
    }
  }
};

// ----- drivers: processes that run a workload and report {result, Value} -----

class PingPong final : public Process {
 public:
  PingPong(Atom target, std::int64_t n, Pid report_to) : target_(target), n_(n), report_to_(std::move(report_to)) {}

 protected:
  void init() override { send(RegisteredName{atom("bench_server"), target_}, tuple(atom("echo"), pid())); }
  void handle_one_inbox_message(Term m) override {
    if (tagged(m, 2, "echo")) {
      echo_ = m.as_tuple()[1].as_pid();
      next(kWarmUp);
      return;
    }
    const std::int64_t k = m.as_int();
    if (k > 1) return next(k - 1);
    if (!timing_) {  // warm-up done: the timed rounds
      timing_ = true;
      start_ = Clock::now();
      return next(n_);
    }
    send(report_to_, tuple(atom("result"), static_cast<double>(n_) / seconds_since(start_)));
  }

 private:
  static constexpr std::int64_t kWarmUp = 1000;
  void next(std::int64_t k) { send(echo_, tuple(pid(), k)); }
  Atom target_;
  std::int64_t n_;
  Pid report_to_;
  Pid echo_;
  bool timing_ = false;
  Clock::time_point start_;
};

class Stream final : public Process {
 public:
  Stream(Atom target, std::int64_t n, Term message, double unit, Pid report_to)
      : target_(target), n_(n), message_(std::move(message)), unit_(unit), report_to_(std::move(report_to)) {}

 protected:
  void init() override { send(RegisteredName{atom("bench_server"), target_}, tuple(atom("sink"), pid(), n_)); }
  void handle_one_inbox_message(Term m) override {
    if (tagged(m, 2, "sink")) {
      sink_ = m.as_tuple()[1].as_pid();
      start_ = Clock::now();
      pump();
    } else if (m == atom("more")) {
      pump();
    } else if (tagged(m, 2, "sink_done")) {
      send(report_to_, tuple(atom("result"), unit_ * static_cast<double>(n_) / seconds_since(start_)));
    }
  }

 private:
  // Sends until done or until a send finds the connection busy (as the BEAM sender is
  // suspended in its send); a note to itself picks up from there when it runs again.
  void pump() {
    while (sent_ < n_) {
      send(sink_, message_);
      ++sent_;
      if (suspend_pending()) return void(send(pid(), atom("more")));
    }
  }

  Atom target_;
  std::int64_t n_;
  Term message_;
  double unit_;  // what one message counts for: 1 message, or its megabytes
  Pid report_to_;
  Pid sink_;
  std::int64_t sent_ = 0;
  Clock::time_point start_;
};

double setup_time_ms(dist::Distribution& dist, Atom target, std::int64_t n) {
  if (!dist.ping(target)) throw std::runtime_error("cannot reach " + std::string(target.text()));
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    dist.disconnect(target);
    const auto start = Clock::now();
    if (!dist.ping(target)) throw std::runtime_error("cannot reach " + std::string(target.text()) + " again");
    total += seconds_since(start);
  }
  return total * 1000 / static_cast<double>(n);
}

}  // namespace
}  // namespace spindle

int main(int argc, char** argv) {
  using namespace spindle;
  CLI::App app{"Spindle side of the distribution benchmarks"};
  app.require_subcommand(1);
  std::string name;
  std::string cookie;
  std::uint16_t epmd_port = 0;
  std::string target;
  std::string workload;
  std::int64_t n = 100000;
  std::int64_t size = 65536;
  std::size_t threads = 0;
  std::size_t fragment_size = dist::DistributionOptions{}.fragment_size;
  std::int64_t io_busy_wait_us = dist::DistributionOptions{}.io_busy_wait.count();
  std::int64_t read_gather_us = dist::DistributionOptions{}.read_gather.count();
  bool io_runs_processes = dist::DistributionOptions{}.io_runs_processes;
  bool local_carrier = dist::DistributionOptions{}.local_carrier;
  std::size_t shared_ring_bytes = dist::DistributionOptions{}.shared_ring_bytes;
  std::int64_t busy_wait_us = std::chrono::duration_cast<std::chrono::microseconds>(spindle::SchedulerOptions{}.busy_wait).count();
  for (CLI::App* sub : {app.add_subcommand("serve", "serve bench_server"), app.add_subcommand("drive", "run a workload")}) {
    sub->add_option("--name", name, "node name")->required();
    sub->add_option("--cookie", cookie, "cookie")->required();
    sub->add_option("--epmd-port", epmd_port, "EPMD port");
    sub->add_option("--threads", threads, "worker threads");
    sub->add_option("--fragment-size", fragment_size, "bytes per fragment of large messages")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
    sub->add_option("--io-busy-wait", io_busy_wait_us, "microseconds the I/O thread polls before it sleeps")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}));
    sub->add_option("--read-gather", read_gather_us, "microseconds a receive-only connection lets small messages gather")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{100'000}));
    sub->add_option("--io-runs-processes", io_runs_processes, "the I/O thread runs the processes it wakes (true/false)");
    sub->add_option("--local-carrier", local_carrier,
                    "Spindle nodes on this machine connect over a Unix domain socket (true/false)");
    sub->add_option("--shared-ring-bytes", shared_ring_bytes, "bytes of each shared-memory ring (0: none)");
    sub->add_option("--busy-wait", busy_wait_us, "microseconds an idle worker waits for work before it sleeps")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}));
  }
  CLI::App* drive = app.get_subcommand("drive");
  drive->add_option("--target", target, "the node running bench_server")->required();
  drive->add_option("--workload", workload, "pingpong, stream, bulk or setup")
      ->required()
      ->check(CLI::IsMember({"pingpong", "stream", "bulk", "setup"}));
  drive->add_option("--n", n, "round trips, messages or set-ups")->check(CLI::PositiveNumber);
  drive->add_option("--size", size, "binary size for bulk")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  const spindle::tools::StopSignals stop;  // before any thread starts
  try {
    Node node({.name = name, .scheduler = {.threads = threads, .busy_wait = std::chrono::microseconds(busy_wait_us)}});
    dist::Distribution distribution(node, {.cookie = cookie,
                                                  .epmd_port = epmd_port,
                                                  .fragment_size = fragment_size,
                                                  .io_busy_wait = std::chrono::microseconds(io_busy_wait_us),
                                                  .read_gather = std::chrono::microseconds(read_gather_us),
                                                  .io_runs_processes = io_runs_processes,
                                                  .local_carrier = local_carrier,
                                                  .shared_ring_bytes = shared_ring_bytes});
    if (app.got_subcommand("serve")) {
      node.register_name(node.spawn<BenchServer>(), atom("bench_server"));
      node.register_function(atom("dist_bench"), atom("echo"), 1, [](std::span<const Term> args) { return args[0]; });
      node.register_name(node.spawn<BenchGen>(), atom("bench_gen"));
      std::cout << "ready" << std::endl;
      stop.wait();
      node.stop();
      return 0;
    }
    const Atom to = atom(target);
    double value = 0;
    if (workload == "setup") {
      value = setup_time_ms(distribution, to, n);
    } else {
      Inbox inbox(node);
      if (workload == "pingpong") {
        node.spawn<PingPong>(to, n, inbox.pid());
      } else if (workload == "stream") {
        node.spawn<Stream>(to, n, tuple(atom("data"), 42), 1.0, inbox.pid());
      } else {
        node.spawn<Stream>(to, n, binary(std::string(static_cast<std::size_t>(size), '\7')),
                           static_cast<double>(size) / 1e6, inbox.pid());
      }
      const auto result = inbox.receive(std::chrono::minutes(10));
      if (!result) throw std::runtime_error("no result");
      value = result->as_tuple()[1].as_float();
    }
    std::cout << "result " << value << std::endl;
    node.stop();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "spindle-dist-bench: " << e.what() << std::endl;
    return 1;
  }
}
