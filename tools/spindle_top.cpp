// spindle-top: the busiest processes and connections of a running Spindle node, like
// Erlang's etop. It joins the cluster as a hidden node, calls spindle:stats() and
// spindle:processes() on the target every interval, and redraws the screen.
//
//   spindle-top --node NAME@HOST [--cookie COOKIE] [--interval SECONDS] [--count N]
//               [--top N] [--epmd-port P]
//
// --count N stops after N screens (without it, it runs until interrupted); when stdout
// is not a terminal the screens follow one another instead of redrawing.
// Bad arguments: status 2; a target that cannot be reached or read: status 1.

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "spindle/dist/distribution.hpp"
#include "spindle/dist/observer.hpp"
#include "spindle/dist/rpc.hpp"
#include "spindle/term_text.hpp"
#include "stats_report.hpp"

namespace {

using namespace spindle;

// Calls spindle:Function() on `target`; throws with the reason when it fails.
Term call(Inbox& inbox, Atom target, const char* function) {
  Term result = dist::rpc::call(inbox, target, atom("spindle"), atom(function), Term());
  if (result.is_tuple(2) && result.as_tuple()[0].is_atom(atom("badrpc")))
    throw std::runtime_error("spindle:" + std::string(function) + "() on " + std::string(target.text()) +
                             " failed: " + to_string(result.as_tuple()[1]));
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The busiest processes and connections of a running Spindle node"};
  std::string target_name;
  std::string cookie;
  double interval = 1;
  unsigned count = 0;
  std::size_t top = 15;
  std::uint16_t epmd_port = 0;
  app.add_option("--node", target_name, "the node to watch, NAME@HOST")->required();
  app.add_option("--cookie", cookie, "the cookie (default: ~/.erlang.cookie)");
  app.add_option("--interval", interval, "seconds between screens")->check(CLI::Range(0.1, 3600.0));
  app.add_option("--count", count, "stop after this many screens (default: run until interrupted)");
  app.add_option("--top", top, "processes shown")->check(CLI::Range(1, 10000));
  app.add_option("--epmd-port", epmd_port, "EPMD port (default: $ERL_EPMD_PORT or 4369)")->check(CLI::Range(1, 65535));
  try {
    app.parse(argc, argv);
    if (target_name.find('@') == std::string::npos) throw CLI::ValidationError("--node", "NAME@HOST, not " + target_name);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // The screen is the output: only warnings and errors of its own node go to stderr.
  spdlog::stderr_logger_mt("spindle")->set_level(spdlog::level::warn);
  try {
    const std::string host = target_name.substr(target_name.find('@') + 1);
    Node node({.name = "spindle_top_" + std::to_string(::getpid()) + "@" + host, .scheduler = {.threads = 1}});
    dist::Distribution distribution(node, {.cookie = cookie, .epmd_port = epmd_port, .embedded_epmd = false});
    Inbox inbox(node);
    const Atom target = atom(target_name);
    const bool terminal = ::isatty(STDOUT_FILENO) != 0;
    tools::StatsReport report;
    for (unsigned shown = 0; count == 0 || shown < count; ++shown) {
      if (shown != 0) std::this_thread::sleep_for(std::chrono::duration<double>(interval));
      const auto observed = dist::observed_from_term(call(inbox, target, "stats"));
      const auto processes = dist::processes_from_term(call(inbox, target, "processes"));
      if (terminal) std::cout << "\033[H\033[2J";  // home, clear
      std::cout << report.screen(target_name, observed, processes, top) << std::endl;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "spindle-top: " << e.what() << std::endl;
    return 1;
  }
}
