#pragma once
// A test process that does what its messages say, and helpers for the messages links and
// monitors produce. Shared by the process tests of one node and of several.

#include <gtest/gtest.h>

#include <chrono>

#include "spindle/inbox.hpp"

namespace spindle::test_support {

using namespace std::chrono_literals;

inline bool is_down(const Term& t, const Ref& ref) {
  return t.is_tuple(5) && t.as_tuple()[0].is_atom(atoms::DOWN) && t.as_tuple()[1] == Term(ref);
}

// The reason of the {'DOWN', Ref, process, Pid, Reason} message for `ref`.
inline Term down_reason(Inbox& inbox, const Ref& ref) {
  auto m = inbox.receive([&](const Term& t) { return is_down(t, ref); }, 10s);
  EXPECT_TRUE(m.has_value()) << "no DOWN message";
  return m ? m->as_tuple()[4] : Term();
}

// The reason of the {'EXIT', From, Reason} message from `from`.
inline Term exit_reason(Inbox& inbox, const Pid& from) {
  auto m = inbox.receive(
      [&](const Term& t) { return t.is_tuple(3) && t.as_tuple()[0].is_atom(atoms::EXIT) && t.as_tuple()[1] == Term(from); },
      10s);
  EXPECT_TRUE(m.has_value()) << "no EXIT message";
  return m ? m->as_tuple()[2] : Term();
}

// Does what its messages say: {From, X} -> From ! {echo, X}; {exit, R}; crash; trap;
// {link, Pid}; {unlink, Pid}; {exit, Pid, R} (exit/2); {monitor, PidOrNameNode, ReportTo};
// {demonitor, Ref}; {forward, Pid} (then everything else goes there).
class Echo : public Process {
 protected:
  void handle_one_inbox_message(Term m) override {
    const auto is = [&](std::size_t arity, const char* tag) {
      return m.is_tuple(arity) && m.as_tuple()[0].is_atom(atom(tag));
    };
    if (m.is_tuple(2) && m.as_tuple()[0].is_pid()) {
      send(m.as_tuple()[0].as_pid(), tuple(atom("echo"), m.as_tuple()[1]));
    } else if (is(2, "exit")) {
      exit(m.as_tuple()[1]);
    } else if (is(3, "exit")) {
      exit(m.as_tuple()[1].as_pid(), m.as_tuple()[2]);
    } else if (m.is_atom(atom("crash"))) {
      throw std::runtime_error("boom");
    } else if (m.is_atom(atom("trap"))) {
      trap_exit(true);
    } else if (is(2, "link")) {
      link(m.as_tuple()[1].as_pid());
    } else if (is(2, "unlink")) {
      unlink(m.as_tuple()[1].as_pid());
    } else if (is(3, "monitor")) {
      // Target: a pid or {Name, Node}; the reference goes to ReportTo, the DOWN (like
      // everything unknown) to the forward address.
      const Term& target = m.as_tuple()[1];
      const Ref ref = target.is_pid() ? monitor(target.as_pid())
                                      : monitor(RegisteredName{target.as_tuple()[0].as_atom(), target.as_tuple()[1].as_atom()});
      send(m.as_tuple()[2].as_pid(), tuple(atom("monitoring"), ref));
    } else if (is(2, "demonitor")) {
      demonitor(Ref(m.as_tuple()[1]));
    } else if (is(2, "forward")) {
      forward_to_ = m.as_tuple()[1].as_pid();
    } else if (forward_to_) {
      send(forward_to_, m);
    }
  }

 private:
  Pid forward_to_;
};

}  // namespace spindle::test_support
