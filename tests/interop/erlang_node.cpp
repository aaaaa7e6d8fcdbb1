#include "erlang_node.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace spindle::test {
namespace {

// interop_agent.erl compiled once per test program, into a directory removed at exit.
const std::filesystem::path& agent_code() {
  static const TempDir dir;
  static const bool compiled = [] {
    std::string output;
    const int status = run_command({"erlc", "-o", dir.path().string(), std::string(SPINDLE_SOURCE_DIR) + "/tests/interop/interop_agent.erl"},
                                   std::chrono::seconds(120), &output);
    if (status != 0) throw std::runtime_error("erlc interop_agent.erl failed:\n" + output);
    return true;
  }();
  (void)compiled;
  return dir.path();
}

}  // namespace

void wait_ready(ChildProcess& process, std::string_view ready_prefix, std::chrono::milliseconds timeout) {
  const auto line = process.wait_for_line([&](const std::string& l) { return l.starts_with(ready_prefix); }, timeout);
  if (!line) throw std::runtime_error("no \"" + std::string(ready_prefix) + "\" line; output:\n" + process.output());
}

ErlangNode::ErlangNode(std::string name, ErlangNodeOptions options)
    : name_(std::move(name)),
      process_(
          [&] {
            std::vector<std::string> argv = {"erl", "-noshell", "-name", name_, "-setcookie", options.cookie,
                                             "-start_epmd", "false", "-kernel", "net_ticktime",
                                             std::to_string(options.net_ticktime), "-pa", agent_code().string()};
            argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
            if (!options.ping_at_start.empty()) {
              argv.insert(argv.end(), {"-eval", "io:format(\"ping ~p~n\", [net_adm:ping('" + options.ping_at_start + "')])"});
            }
            argv.insert(argv.end(), {"-s", "interop_agent", "start"});
            return argv;
          }(),
          {"ERL_EPMD_PORT=" + std::to_string(options.epmd_port)}) {
  wait_ready(process_, "agent ready", std::chrono::seconds(60));
}

std::string ErlangNode::start_ping() {
  const auto line = process_.wait_for_line([](const std::string& l) { return l.starts_with("ping "); }, std::chrono::seconds(1));
  return line ? line->substr(5) : "(no ping line)";
}

Term agent_call(Node& via, Inbox& inbox, Atom erlang_node, std::string_view function, std::vector<Term> args,
                std::chrono::milliseconds timeout) {
  const Ref ref = via.make_ref();
  const Term arguments = list_from(args);
  via.send(RegisteredName{atom("agent"), erlang_node},
           tuple(atom("call"), inbox.pid(), ref, atom(function), arguments));
  const auto reply = inbox.receive([&](const Term& m) { return m.is_tuple(2) && m.as_tuple()[0] == Term(ref); }, timeout);
  if (!reply)
    throw std::runtime_error("interop_agent:" + std::string(function) + " on " + std::string(erlang_node.text()) +
                             " did not answer");
  return reply->as_tuple()[1];
}

}  // namespace spindle::test
