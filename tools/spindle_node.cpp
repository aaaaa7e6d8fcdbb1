// spindle-node: a Spindle node on the Erlang distribution, for trying from `erl` and for
// the interop tests and benchmarks.
//
//   spindle-node --name NAME@HOST | --sname NAME  [--cookie COOKIE] [--demo]
//                [--threads N] [--epmd-port P] [--listen-port P] [--hidden | --visible]
//                [--net-ticktime SECONDS] [--stats-interval SECONDS] [--io-busy-wait US] [--busy-wait US]
//                [--tls-certfile PEM [--tls-keyfile PEM] --tls-cacertfile PEM [--tls-no-verify]]
//
// With --tls-certfile every connection uses TLS, as `erl -proto_dist inet_tls` does.
//
// With --stats-interval it prints a line of statistics ("stats uptime=...") every so
// often (spindle-top shows more, from another terminal).
//
// Prints exactly "ready NAME@HOST" on stdout once it accepts connections, runs until
// SIGINT or SIGTERM, then closes its connections and exits 0. Bad arguments: status 2;
// a node that cannot start (port taken, name in use): status 1, with the reason on stderr.

#include <iostream>
#include <string>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "demo_services.hpp"
#include "stats_report.hpp"
#include "stop_signals.hpp"
#include "spindle/dist/distribution.hpp"

namespace {

// The host part of a short name: this machine's name up to its first dot, as erl -sname.
std::string short_host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
  std::string name(host);
  return name.substr(0, name.find('.'));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A Spindle node that Erlang nodes can talk to"};
  std::string long_name;
  std::string short_name;
  std::string cookie;
  bool demo = false;
  std::size_t threads = 0;
  std::uint16_t epmd_port = 0;
  std::uint16_t listen_port = 0;
  bool visible = false;
  unsigned net_ticktime = 60;
  auto* name_option = app.add_option("--name", long_name, "full node name, NAME@HOST");
  auto* sname_option = app.add_option("--sname", short_name, "short node name; the host is this machine's name");
  name_option->excludes(sname_option);
  app.add_option("--cookie", cookie, "the cookie (default: ~/.erlang.cookie)");
  app.add_flag("--demo", demo, "run the demo services (a registered 'echo' and its workers)");
  app.add_option("--threads", threads, "worker threads (default: one per core)")->check(CLI::Range(1, 1024));
  app.add_option("--epmd-port", epmd_port, "EPMD port (default: $ERL_EPMD_PORT or 4369)")->check(CLI::Range(1, 65535));
  app.add_option("--listen-port", listen_port, "distribution port (default: any free one)")->check(CLI::Range(1, 65535));
  bool hidden = false;
  auto* hidden_flag = app.add_flag("--hidden", hidden, "a hidden node (the default)");
  auto* visible_flag = app.add_flag("--visible", visible, "a visible node (in the peers' nodes())");
  hidden_flag->excludes(visible_flag);
  app.add_option("--net-ticktime", net_ticktime, "seconds of silence after which a peer is taken for dead")
      ->check(CLI::Range(1, 3600));
  unsigned io_busy_wait = static_cast<unsigned>(spindle::dist::DistributionOptions{}.io_busy_wait.count());
  app.add_option("--io-busy-wait", io_busy_wait,
                 "microseconds the I/O thread polls after traffic before it sleeps (0: at once; lower latency for CPU)")
      ->check(CLI::Range(0, 1'000'000));
  unsigned read_gather = static_cast<unsigned>(spindle::dist::DistributionOptions{}.read_gather.count());
  app.add_option("--read-gather", read_gather,
                 "microseconds a connection that only receives lets small messages gather between reads (0: read at once)")
      ->check(CLI::Range(0, 100'000));
  auto busy_limit_kb = static_cast<unsigned>(spindle::dist::DistributionOptions{}.busy_limit_bytes / 1024);
  app.add_option("--dist-busy-limit", busy_limit_kb,
                 "kilobytes waiting for one node past which a sending process is suspended (Erlang's +zdbbl)")
      ->check(CLI::Range(1, 2'097'151));
  bool io_runs_processes = spindle::dist::DistributionOptions{}.io_runs_processes;
  app.add_option("--io-runs-processes", io_runs_processes,
                 "the I/O thread runs a process that a message it read wakes, for a short while (true/false)");
  bool local_carrier = spindle::dist::DistributionOptions{}.local_carrier;
  app.add_option("--local-carrier", local_carrier,
                 "Spindle nodes on this machine connect over a Unix domain socket instead of TCP (true/false)");
  std::size_t shared_ring_bytes = spindle::dist::DistributionOptions{}.shared_ring_bytes;
  app.add_option("--shared-ring-bytes", shared_ring_bytes,
                 "bytes of each shared-memory ring between local-carrier nodes (0: the local socket carries the frames)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30));
  auto busy_wait = static_cast<unsigned>(
      std::chrono::duration_cast<std::chrono::microseconds>(spindle::SchedulerOptions{}.busy_wait).count());
  app.add_option("--busy-wait", busy_wait,
                 "microseconds a worker that ran out of work waits for a process woken by the I/O thread (0: none)")
      ->check(CLI::Range(0, 1'000'000));
  unsigned stats_interval = 0;
  app.add_option("--stats-interval", stats_interval, "print a line of statistics every SECONDS")
      ->check(CLI::Range(1, 86400));
  spindle::dist::TlsOptions tls;
  bool no_verify = false;
  auto* certfile = app.add_option("--tls-certfile", tls.certfile,
                                  "TLS distribution (as erl -proto_dist inet_tls): this node's certificate (PEM)")
                       ->check(CLI::ExistingFile);
  app.add_option("--tls-keyfile", tls.keyfile, "its private key (PEM; default: in the certificate file)")
      ->check(CLI::ExistingFile)
      ->needs(certfile);
  app.add_option("--tls-cacertfile", tls.cacertfile, "the authorities that sign the peers' certificates (PEM)")
      ->check(CLI::ExistingFile)
      ->needs(certfile);
  app.add_flag("--tls-no-verify", no_verify, "do not check the peers' certificates (for tests only)")->needs(certfile);
  try {
    app.parse(argc, argv);
    if (long_name.empty() && short_name.empty()) throw CLI::RequiredError("--name or --sname");
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help, or the error printed (CLI11's own codes are not ours)
  }
  const std::string node_name = long_name.empty() ? short_name + "@" + short_host_name() : long_name;
  tls.verify = !no_verify;

  const spindle::tools::StopSignals stop_signals;  // before any thread starts

  try {
    spindle::Node node(
        {.name = node_name, .scheduler = {.threads = threads, .busy_wait = std::chrono::microseconds(busy_wait)}});
    {
      spindle::dist::Distribution distribution(
          node, {.cookie = cookie,
                 .hidden = !visible,
                 .epmd_port = epmd_port,
                 .listen_port = listen_port,
                 .net_ticktime = std::chrono::seconds(net_ticktime),
                 .busy_limit_bytes = std::size_t{busy_limit_kb} * 1024,
                 .io_busy_wait = std::chrono::microseconds(io_busy_wait),
                 .read_gather = std::chrono::microseconds(read_gather),
                 .io_runs_processes = io_runs_processes,
                 .tls = tls.certfile.empty() ? std::nullopt : std::optional(tls),
                 .local_carrier = local_carrier,
                 .shared_ring_bytes = shared_ring_bytes});
      if (demo) {
        spindle::demo::start_echo(node);
        spindle::demo::register_functions(node);
        spindle::demo::start_supervision_tree(node);
      }
      std::cout << "ready " << node_name << std::endl;
      spindle::tools::StatsReport report;
      stop_signals.wait(std::chrono::seconds(stats_interval), [&] {
        std::cout << report.line({node.stats(), distribution.connection_stats()}) << std::endl;
      });
      node.stop();          // processes end; their exit signals go out first
      distribution.close();  // then the connections, after what is queued is sent
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "spindle-node: " << e.what() << std::endl;
    return 1;
  }
}
