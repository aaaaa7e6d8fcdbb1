#include "demo_services.hpp"

#include <unordered_map>

#include "spindle/bigint.hpp"
#include "spindle/gen_server.hpp"
#include "spindle/supervisor.hpp"

namespace spindle::demo {
namespace {

bool tagged(const Term& m, std::size_t arity, Atom tag) { return m.is_tuple(arity) && m.as_tuple()[0].is_atom(tag); }

class Worker final : public Process {
 protected:
  void handle_one_inbox_message(Term m) override {
    static const Atom ping("ping"), pong("pong"), exit_tag("exit"), monitor_tag("monitor"), trap_link("trap_link"),
        down("down"), exit_signal("exit_signal");
    const auto& e = [&m](std::size_t i) -> const Term& { return m.as_tuple()[i]; };
    if (m.is_tuple(2) && e(0).is_pid() && e(1).is_atom(ping)) {
      send(e(0).as_pid(), tuple(pid(), pong));
    } else if (tagged(m, 2, exit_tag)) {
      exit(e(1));
    } else if (tagged(m, 3, monitor_tag) && e(1).is_pid() && e(2).is_pid()) {
      const Ref ref = monitor(e(1).as_pid());
      report_down_[ref] = e(2).as_pid();
    } else if (tagged(m, 3, trap_link) && e(1).is_pid() && e(2).is_pid()) {
      trap_exit(true);
      report_exit_[e(1).as_pid()] = e(2).as_pid();
      link(e(1).as_pid());
    } else if (tagged(m, 5, atoms::DOWN) && e(1).is_ref()) {
      auto it = report_down_.find(Ref(e(1)));
      if (it == report_down_.end()) return;
      send(it->second, tuple(down, e(3), e(4)));
      report_down_.erase(it);
    } else if (tagged(m, 3, atoms::EXIT) && e(1).is_pid()) {
      auto it = report_exit_.find(e(1).as_pid());
      if (it == report_exit_.end()) return;
      send(it->second, tuple(exit_signal, e(1), e(2)));
      report_exit_.erase(it);
    }
  }

 private:
  std::unordered_map<Ref, Pid> report_down_;
  std::unordered_map<Pid, Pid> report_exit_;
};

// kv: call {put, K, V} -> ok; {get, K} -> {ok, V} | not_found; size -> count;
// crash -> stops with boom; cast {put, K, V}.
class Kv final : public GenServer {
 protected:
  // Registers itself, so that a restarted kv takes the name over.
  void init() override {
    if (!node().register_name(pid(), atom("kv"))) exit(tuple(atom("already_started"), atom("kv")));
  }
  std::optional<Term> handle_call(const Term& r, const Term& from) override {
    if (r == Term(atom("size"))) return Term(static_cast<std::int64_t>(values_.size()));
    if (r == Term(atom("crash"))) stop(atom("boom"));
    if (is_put(r)) {
      values_.insert_or_assign(r.as_tuple()[1], r.as_tuple()[2]);
      return Term(atom("ok"));
    }
    if (r.is_tuple(2) && r.as_tuple()[0].is_atom(atom("get"))) {
      const auto it = values_.find(r.as_tuple()[1]);
      return it == values_.end() ? Term(atom("not_found")) : tuple(atom("ok"), it->second);
    }
    return GenServer::handle_call(r, from);
  }
  void handle_cast(const Term& r) override {
    if (is_put(r)) values_.insert_or_assign(r.as_tuple()[1], r.as_tuple()[2]);
  }

 private:
  static bool is_put(const Term& r) { return r.is_tuple(3) && r.as_tuple()[0].is_atom(atom("put")); }
  std::unordered_map<Term, Term> values_;
};

class Echo final : public Process {
 protected:
  void handle_one_inbox_message(Term m) override {
    static const Atom spawn_worker("spawn_worker"), worker("worker");
    if (!m.is_tuple(2)) return;
    const auto items = m.as_tuple();
    if (items[0].is_pid()) {
      send(items[0].as_pid(), items[1]);
    } else if (items[0].is_atom(spawn_worker) && items[1].is_pid()) {
      send(items[1].as_pid(), tuple(worker, node().spawn<Worker>()));
    }
  }
};

}  // namespace

Pid start_echo(Node& node) {
  const Pid echo = node.spawn<Echo>();
  node.register_name(echo, atom("echo"));
  return echo;
}

Pid start_supervision_tree(Node& node) {
  ChildSpec kv{.id = atom("kv"), .start = [](std::span<const Term>) { return std::make_unique<Kv>(); }};
  ChildSpec worker{.id = atom("worker"),
                   .start = [](std::span<const Term>) { return std::make_unique<Worker>(); },
                   .restart = RestartType::temporary};
  ChildSpec workers{.id = atom("spindle_workers"),
                    .start =
                        [worker](std::span<const Term>) {
                          return std::make_unique<Supervisor>(
                              SupervisorFlags{.strategy = SupervisorStrategy::simple_one_for_one}, std::vector{worker},
                              atom("spindle_workers"));
                        },
                    .type = ChildType::supervisor};
  return node.spawn(std::make_unique<Supervisor>(SupervisorFlags{.intensity = 5, .period = std::chrono::seconds(10)},
                                                 std::vector{kv, workers}, atom("spindle_sup")));
}

void register_functions(Node& node) {
  const Atom module("spindle_demo");
  node.register_function(module, atom("echo"), 1, [](std::span<const Term> args) { return args[0]; });
  node.register_function(module, atom("add"), 2, [](std::span<const Term> args) {
    if (!args[0].is_integer() || !args[1].is_integer()) throw ErlangError(atom("badarith"));
    return integer(to_bigint(args[0]) + to_bigint(args[1]));
  });
  node.register_function(module, atom("spawn_worker"), 0,
                         [&node](std::span<const Term>) -> Term { return node.spawn<Worker>(); });
  node.register_function(module, atom("stats"), 0, [&node](std::span<const Term> args) -> Term {
    // spindle:stats(), which every node with distribution answers, under the demo's name.
    const auto stats = node.functions().find(atom("spindle"), atom("stats"), 0);
    if (!stats) throw ErlangError(atom("undef"));
    return (*stats)(args);
  });
  node.register_process(module, atom("worker"), 0,
                        [](std::span<const Term>) -> std::unique_ptr<Process> { return std::make_unique<Worker>(); });
}

}  // namespace spindle::demo
