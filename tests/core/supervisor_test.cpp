// Supervisor: OTP's strategies, restart types, restart intensity, ordered start and
// reverse-order shutdown with timeouts, dynamic children, nesting, and OTP's calls.

#include "spindle/supervisor.hpp"

#include <gtest/gtest.h>

#include "echo_process.hpp"

namespace spindle {
namespace {
using namespace spindle::test_support;
using namespace std::chrono_literals;

// A child that reports its start and end to `observer`: {started, Id, Pid} and
// {stopped, Id, Reason}. It crashes on `crash`, exits on {exit, R}, and with `stubborn`
// it traps exits and so ignores the shutdown signal.
class Reporter final : public Process {
 public:
  Reporter(Pid observer, Term id, bool stubborn = false)
      : observer_(std::move(observer)), id_(std::move(id)), stubborn_(stubborn) {}

 protected:
  void init() override {
    trap_exit(stubborn_);
    send(observer_, tuple(atom("started"), id_, pid()));
  }
  void handle_one_inbox_message(Term m) override {
    if (m == Term(atom("crash"))) throw std::runtime_error("crash requested");
    if (m.is_tuple(2) && m.as_tuple()[0].is_atom(atom("exit"))) exit(m.as_tuple()[1]);
  }
  void terminate(const Term& reason) override { send(observer_, tuple(atom("stopped"), id_, reason)); }

 private:
  Pid observer_;
  Term id_;
  bool stubborn_;
};

struct SupervisorTest : ::testing::Test {
  Node node{{.name = "sup@localhost", .scheduler = {.threads = 2}}};
  Inbox inbox{node};

  ChildSpec reporter(const char* id, RestartType restart = RestartType::permanent) {
    return ChildSpec{.id = atom(id),
                     .start = [to = inbox.pid(), id](std::span<const Term>) {
                       return std::make_unique<Reporter>(to, atom(id));
                     },
                     .restart = restart};
  }
  Pid start(SupervisorFlags flags, std::vector<ChildSpec> children) {
    return node.spawn(std::make_unique<Supervisor>(flags, std::move(children)), SpawnOptions{.link = inbox.pid()});
  }
  // The pid in the next {started, Id, Pid} report, checking its id.
  Pid started(const char* id) {
    auto m = inbox.receive([](const Term& t) { return t.is_tuple(3) && t.as_tuple()[0].is_atom(atom("started")); }, 10s);
    EXPECT_TRUE(m.has_value()) << "no child started (expected " << id << ")";
    if (!m) return Pid();
    EXPECT_EQ(m->as_tuple()[1], Term(atom(id)));
    return m->as_tuple()[2].as_pid();
  }
  // The next {stopped, Id, Reason} report, as {Id, Reason}.
  Term stopped() {
    auto m = inbox.receive([](const Term& t) { return t.is_tuple(3) && t.as_tuple()[0].is_atom(atom("stopped")); }, 10s);
    EXPECT_TRUE(m.has_value()) << "no child stopped";
    return m ? tuple(m->as_tuple()[1], m->as_tuple()[2]) : Term();
  }
  bool nothing_started() {
    return !inbox.receive([](const Term& t) { return t.is_tuple(3) && t.as_tuple()[0].is_atom(atom("started")); }, 100ms);
  }
  // Pids of the children, from which_children.
  std::vector<Term> child_pids(const Pid& sup) {
    std::vector<Term> pids;
    const Term rows = supervisor::which_children(inbox, sup);
    for (const Term& row : rows.as_list()) pids.push_back(row.as_tuple()[1]);
    return pids;
  }
};

TEST_F(SupervisorTest, OneForOneRestartsOnlyTheChildThatDied) {
  const Pid sup = start({}, {reporter("a"), reporter("b"), reporter("c")});
  const Pid a = started("a"), b = started("b"), c = started("c");  // in order
  node.send(b, atom("crash"));
  EXPECT_EQ(stopped().as_tuple()[0], Term(atom("b")));
  const Pid b2 = started("b");
  EXPECT_NE(b2, b);
  EXPECT_TRUE(nothing_started());
  EXPECT_EQ(child_pids(sup), (std::vector<Term>{a, b2, c}));
  EXPECT_EQ(supervisor::which_children(inbox, sup).as_list().head(),
            tuple(atom("a"), a, atom("worker"), list()));
}

TEST_F(SupervisorTest, OneForAllRestartsEveryChildInOrder) {
  const Pid sup = start({.strategy = SupervisorStrategy::one_for_all}, {reporter("a"), reporter("b"), reporter("c")});
  started("a");
  const Pid b = started("b");
  started("c");
  node.send(b, atom("crash"));
  EXPECT_EQ(stopped(), tuple(atom("b"), tuple(atom("exception"), binary("std::runtime_error"), binary("crash requested"))));
  EXPECT_EQ(stopped(), tuple(atom("c"), atoms::shutdown));  // the others, last started first
  EXPECT_EQ(stopped(), tuple(atom("a"), atoms::shutdown));
  started("a");
  started("b");
  started("c");
  (void)sup;
}

TEST_F(SupervisorTest, RestForOneRestartsTheChildAndThoseStartedAfterIt) {
  const Pid sup = start({.strategy = SupervisorStrategy::rest_for_one}, {reporter("a"), reporter("b"), reporter("c")});
  const Pid a = started("a"), b = started("b");
  started("c");
  node.send(b, tuple(atom("exit"), atom("oops")));
  EXPECT_EQ(stopped(), tuple(atom("b"), atom("oops")));
  EXPECT_EQ(stopped(), tuple(atom("c"), atoms::shutdown));
  const Pid b2 = started("b");
  const Pid c2 = started("c");
  EXPECT_EQ(child_pids(sup), (std::vector<Term>{a, b2, c2}));
}

TEST_F(SupervisorTest, RestartTypesDecideWhatComesBack) {
  const Pid sup = start({.intensity = 10},
                        {reporter("perm"), reporter("trans", RestartType::transient), reporter("temp", RestartType::temporary)});
  const Pid perm = started("perm"), trans = started("trans"), temp = started("temp");
  node.send(perm, tuple(atom("exit"), atoms::normal));
  EXPECT_EQ(stopped(), tuple(atom("perm"), atoms::normal));
  started("perm");  // permanent: even a normal exit is restarted
  node.send(trans, tuple(atom("exit"), atoms::normal));
  EXPECT_EQ(stopped(), tuple(atom("trans"), atoms::normal));
  EXPECT_TRUE(nothing_started());  // transient: a normal exit is final...
  EXPECT_EQ(supervisor::restart_child(inbox, sup, atom("trans")).as_tuple()[0], Term(atoms::ok));
  const Pid trans2 = started("trans");
  node.send(trans2, tuple(atom("exit"), atom("failure")));
  started("trans");  // ...a failure is restarted
  node.send(temp, atom("crash"));
  EXPECT_TRUE(nothing_started());  // temporary: never, and forgotten
  const Term counts = supervisor::count_children(inbox, sup);
  EXPECT_EQ(counts, list(tuple(atom("specs"), 2), tuple(atom("active"), 2), tuple(atom("supervisors"), 0),
                         tuple(atom("workers"), 2)));
}

TEST_F(SupervisorTest, GivesUpWhenRestartsExceedTheIntensity) {
  const Pid sup = start({.intensity = 2, .period = 10s}, {reporter("a"), reporter("b")});
  Pid a = started("a");
  const Pid b = started("b");
  for (int i = 0; i < 2; ++i) {
    node.send(a, atom("crash"));
    EXPECT_EQ(stopped().as_tuple()[0], Term(atom("a")));
    a = started("a");
  }
  node.send(a, atom("crash"));  // the third restart within the period is one too many
  EXPECT_EQ(stopped().as_tuple()[0], Term(atom("a")));
  EXPECT_EQ(stopped(), tuple(atom("b"), atoms::shutdown));
  EXPECT_EQ(exit_reason(inbox, sup), Term(atoms::shutdown));  // to its parent, over the link
  EXPECT_FALSE(node.alive(b));
}

TEST_F(SupervisorTest, ParentExitStopsChildrenInReverseOrderWithinTheirShutdownTime) {
  std::vector<ChildSpec> children{reporter("a"), reporter("b"), reporter("c")};
  children[1].start = [to = inbox.pid()](std::span<const Term>) { return std::make_unique<Reporter>(to, atom("b"), true); };
  children[1].shutdown = 100ms;  // b ignores shutdown, so it is killed after 100 ms
  const Pid sup = start({}, std::move(children));
  started("a");
  const Pid b = started("b");
  started("c");
  const Ref b_down = inbox.monitor(b);
  const auto t0 = std::chrono::steady_clock::now();
  inbox.exit(sup, atom("bye"));  // from its parent
  EXPECT_EQ(stopped(), tuple(atom("c"), atoms::shutdown));
  EXPECT_EQ(stopped(), tuple(atom("b"), atoms::killed));
  EXPECT_EQ(down_reason(inbox, b_down), Term(atoms::killed));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(stopped(), tuple(atom("a"), atoms::shutdown));
  EXPECT_EQ(exit_reason(inbox, sup), Term(atom("bye")));
}

TEST_F(SupervisorTest, ExitSignalsFromStrangersAreIgnored) {
  const Pid sup = start({}, {reporter("a")});
  started("a");
  node.exit(sup, atoms::shutdown);  // not from its parent
  EXPECT_EQ(supervisor::count_children(inbox, sup).as_list().head(), tuple(atom("specs"), 1));
  supervisor::stop(inbox, sup, atom("done"));
  EXPECT_EQ(stopped(), tuple(atom("a"), atoms::shutdown));
  EXPECT_EQ(exit_reason(inbox, sup), Term(atom("done")));
}

TEST_F(SupervisorTest, SimpleOneForOneStartsChildrenWithArguments) {
  ChildSpec worker{.id = atom("ignored"),
                   .start = [to = inbox.pid()](std::span<const Term> args) {
                     if (args.size() != 1) throw ErlangError(atoms::badarg);
                     return std::make_unique<Reporter>(to, args[0]);
                   },
                   .restart = RestartType::transient,
                   .shutdown = ChildSpec::brutal_kill};
  const Pid sup = start({.strategy = SupervisorStrategy::simple_one_for_one, .intensity = 5}, {worker});
  const Term r1 = supervisor::start_child(inbox, sup, list(atom("w1")));
  const Term r2 = supervisor::start_child(inbox, sup, list(atom("w2")));
  ASSERT_EQ(r1.as_tuple()[0], Term(atoms::ok));
  EXPECT_EQ(started("w1"), r1.as_tuple()[1].as_pid());
  EXPECT_EQ(started("w2"), r2.as_tuple()[1].as_pid());
  EXPECT_EQ(supervisor::start_child(inbox, sup, list()), tuple(atoms::error, atoms::badarg));
  node.send(r1.as_tuple()[1].as_pid(), atom("crash"));
  const Pid w1 = started("w1");  // restarted with the same arguments
  EXPECT_EQ(supervisor::terminate_child(inbox, sup, w1), Term(atoms::ok));
  EXPECT_EQ(stopped().as_tuple()[0], Term(atom("w1")));
  EXPECT_EQ(supervisor::terminate_child(inbox, sup, w1), tuple(atoms::error, atom("not_found")));
  EXPECT_EQ(supervisor::which_children(inbox, sup), list(tuple(atoms::undefined, r2.as_tuple()[1], atom("worker"), list())));
  EXPECT_EQ(supervisor::delete_child(inbox, sup, atom("x")), tuple(atoms::error, atom("simple_one_for_one")));
}

TEST_F(SupervisorTest, SupervisorsNest) {
  const Pid to = inbox.pid();
  ChildSpec inner{.id = atom("inner"),
                  .start = [to](std::span<const Term>) {
                    std::vector<ChildSpec> workers{
                        {.id = atom("w"), .start = [to](std::span<const Term>) { return std::make_unique<Reporter>(to, atom("w")); }}};
                    return std::make_unique<Supervisor>(SupervisorFlags{}, std::move(workers));
                  },
                  .type = ChildType::supervisor};
  const Pid root = start({.intensity = 5}, {reporter("first"), inner});
  started("first");
  const Pid w = started("w");
  node.send(w, atom("crash"));  // the inner supervisor restarts its worker
  stopped();
  started("w");
  EXPECT_TRUE(nothing_started());
  const Term inner_pid = supervisor::which_children(inbox, root).as_list().rest().as_list().head().as_tuple()[1];
  node.exit(inner_pid.as_pid(), atoms::kill);  // the root restarts the inner one, and with it its worker
  EXPECT_EQ(stopped(), tuple(atom("w"), atoms::killed));  // over the link from its supervisor
  started("w");
  EXPECT_EQ(supervisor::count_children(inbox, root),
            list(tuple(atom("specs"), 2), tuple(atom("active"), 2), tuple(atom("supervisors"), 1), tuple(atom("workers"), 1)));
  supervisor::stop(inbox, root, atoms::shutdown);
  EXPECT_EQ(stopped(), tuple(atom("w"), atoms::shutdown));  // the nested tree, depth first
  EXPECT_EQ(stopped(), tuple(atom("first"), atoms::shutdown));
}

TEST_F(SupervisorTest, StartFailuresAreReported) {
  ChildSpec broken{.id = atom("broken"), .start = [](std::span<const Term>) -> std::unique_ptr<Process> {
                     throw ErlangError(atom("no_database"));
                   }};
  const Pid sup = start({}, {reporter("a"), broken});
  started("a");
  EXPECT_EQ(stopped(), tuple(atom("a"), atoms::shutdown));
  EXPECT_EQ(exit_reason(inbox, sup),
            tuple(atoms::shutdown, tuple(atom("failed_to_start_child"), atom("broken"), atom("no_database"))));
}

TEST_F(SupervisorTest, ErlangChildSpecsStartRegisteredProcessKinds) {
  const Pid to = inbox.pid();
  node.register_process(atom("demo"), atom("reporter"), 1, [to](std::span<const Term> args) {
    return std::make_unique<Reporter>(to, args[0]);
  });
  const Pid sup = start({}, {});
  const Term map_spec = map({{atom("id"), atom("m")}, {atom("start"), tuple(atom("demo"), atom("reporter"), list(atom("m")))}});
  const Term r = supervisor::start_child(inbox, sup, map_spec);
  ASSERT_EQ(r.as_tuple()[0], Term(atoms::ok));
  EXPECT_EQ(started("m"), r.as_tuple()[1].as_pid());
  EXPECT_EQ(supervisor::start_child(inbox, sup, map_spec), tuple(atoms::error, tuple(atom("already_started"), r.as_tuple()[1])));
  const Term tuple_spec = tuple(atom("t"), tuple(atom("demo"), atom("nope"), list()), atom("temporary"), 100, atom("worker"), list());
  EXPECT_EQ(supervisor::start_child(inbox, sup, tuple_spec),
            tuple(atoms::error, tuple(atoms::undef, tuple(atom("demo"), atom("nope"), 0))));
  EXPECT_EQ(supervisor::start_child(inbox, sup, atom("junk")).as_tuple()[1].as_tuple()[0], Term(atom("invalid_child_spec")));
  EXPECT_EQ(supervisor::terminate_child(inbox, sup, atom("m")), Term(atoms::ok));
  EXPECT_EQ(stopped(), tuple(atom("m"), atoms::shutdown));
  EXPECT_EQ(supervisor::restart_child(inbox, sup, atom("m")).as_tuple()[0], Term(atoms::ok));
  started("m");
  EXPECT_EQ(supervisor::delete_child(inbox, sup, atom("m")), tuple(atoms::error, atom("running")));
}

}  // namespace
}  // namespace spindle
