// Control messages for spawn requests, both ways: what a spawn_request becomes on the
// wire, and what an incoming SPAWN_REPLY (well formed or not) becomes.

#include "control.hpp"

#include <gtest/gtest.h>

namespace spindle::dist {
namespace {

const Pid kRequester(atom("a@host"), 5, 0, 1);
const Pid kChild(atom("b@host"), 7, 0, 2);
const Ref kRequest(atom("a@host"), 1, std::vector<std::uint32_t>{1, 2, 3});

TEST(Control, SpawnRequestNamesTheFunctionItsArityAndOptions) {
  const RemoteSignal s{RemoteSignal::Kind::spawn_request, kRequester,
                       tuple(atom("m"), atom("f"), list(atom("monitor"), atom("link"))), kRequest, list(1, 2)};
  EXPECT_TRUE(carries_payload(s.kind, 0));  // the argument list follows the control tuple
  EXPECT_EQ(control_message(s, 0, 0), tuple(29, kRequest, kRequester, kRequester, tuple(atom("m"), atom("f"), 2),
                                            list(atom("monitor"), atom("link"))));
}

TEST(Control, SpawnRepliesBecomeSignalsToTheRequester) {
  IncomingControl c = interpret({tuple(31, kRequest, kRequester, 3, kChild), std::nullopt});
  ASSERT_EQ(c.action, IncomingControl::Action::signal);
  EXPECT_EQ(c.signal.kind, RemoteSignal::Kind::spawn_reply);
  EXPECT_EQ(c.signal.to, Term(kRequester));
  EXPECT_EQ(c.signal.from, Term(kChild));
  EXPECT_EQ(c.signal.ref, Term(kRequest));
  EXPECT_EQ(c.signal.payload, Term(3));
  // A failed spawn: the reason in place of the pid; and the traced form.
  EXPECT_EQ(interpret({tuple(31, kRequest, kRequester, 0, atom("badarg")), std::nullopt}).signal.from, Term(atom("badarg")));
  EXPECT_EQ(interpret({tuple(32, kRequest, kRequester, 0, kChild, atom("token")), std::nullopt}).signal.from, Term(kChild));
}

TEST(Control, MalformedSpawnRepliesAreProtocolErrors) {
  for (const Term& bad : {tuple(31, kRequest, kRequester, 9, kChild), tuple(31, kRequest, kRequester, atom("x"), kChild),
                          tuple(31, atom("not_a_ref"), kRequester, 0, kChild), tuple(31, kRequest, 1, 0, kChild),
                          tuple(31, kRequest, kRequester, 0, list(1)), tuple(31, kRequest, kRequester, 0)}) {
    EXPECT_THROW(interpret({bad, std::nullopt}), ControlError) << bad.to_string();
  }
}

}  // namespace
}  // namespace spindle::dist
