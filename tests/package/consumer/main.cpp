// Uses each layer of an installed Spindle: a supervised GenServer on a node, called from
// outside with an Inbox, a coroutine process, and the EPMD codec of the dist layer.
// Prints "spindle consumer ok" and exits 0 when all of it works.

#include <spindle/coprocess.hpp>
#include <spindle/dist/epmd.hpp>
#include <spindle/gen_server.hpp>
#include <spindle/supervisor.hpp>

#include <cstdio>

using namespace spindle;

struct Counter : GenServer {
  std::int64_t n = 0;
  std::optional<Term> handle_call(const Term&, const Term&) override { return Term(++n); }
};

int main() {
  Node node({.name = "consumer@localhost"});
  Inbox inbox(node);
  ChildSpec counter{.id = atom("counter"), .start = [](std::span<const Term>) { return std::make_unique<Counter>(); }};
  const Pid sup = node.spawn(std::make_unique<Supervisor>(SupervisorFlags{}, std::vector{counter}), SpawnOptions{.link = inbox.pid()});
  const Pid server = supervisor::which_children(inbox, sup).as_list().head().as_tuple()[1].as_pid();
  gen_server::call(inbox, server, atom("next"));
  const Term second = gen_server::call(inbox, server, atom("next"));

  const Pid report = inbox.pid();
  node.spawn(coprocess([report, server](CoProcess& self) -> Task<> {
    Term third = co_await self.call(server, atom("next"));
    self.send(report, third);
  }));
  const auto third = inbox.receive();
  const bool ok = second == Term(2) && third == Term(3) && dist::epmd::names_request().size() == 3;
  std::puts(ok ? "spindle consumer ok" : "spindle consumer FAILED");
  return ok ? 0 : 1;
}
