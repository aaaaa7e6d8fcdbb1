// A visible Spindle node in a cluster of BEAM nodes that use OTP's `global`: it must not
// keep their global:sync() waiting, and their global names and locks must work across it.

#include <algorithm>
#include <vector>

#include "spindle_fixture.hpp"

namespace spindle {
namespace {

using test::DistInterop;
using test::ErlangNode;
using test::SpindleNode;
using namespace std::chrono_literals;

TEST_F(DistInterop, AVisibleNodeTakesPartInGlobal) {
  SpindleNode spin("spin@127.0.0.1", epmd_port, {.hidden = false});
  const Atom spin_name = spin.node.name();
  ErlangNode beam1(beam_name("beam1"), erlang_options());
  ErlangNode beam2(beam_name("beam2"), erlang_options());
  // Malformed global messages from a peer are dropped; the server goes on.
  const Term server = tuple(atom("global_name_server"), spin_name);
  for (const Term& junk : {tuple(atom("$gen_cast"), tuple(atom("exchange"), 1)),
                           tuple(atom("$gen_cast"), tuple(atom("resolved"), atom("x"), 1, 2, 3, 4, 5)),
                           tuple(atom("$gen_cast"), tuple(atom("init_connect"), tuple(), atom("x"), 1)),
                           tuple(atom("$gen_cast"), tuple(atom("lock_set"), 1, atoms::true_, Term())),
                           tuple(atom("nodeup"), 42), Term(atom("garbage"))})
    ASSERT_EQ(spin.call(beam1.name(), "send_to", {server, junk}), atom("ok"));
  for (ErlangNode* beam : {&beam1, &beam2}) {
    ASSERT_EQ(spin.call(beam->name(), "ping", {spin_name}), atom("pong"));
    // global:sync() waits for every visible node it knows: this one included.
    EXPECT_EQ(spin.call(beam->name(), "global_sync", {10000}), atom("ok"));
  }
  // Both count as synchronised on this node too.
  const Term synced = spin.call(
      beam1.name(), "run",
      {atom("gen_server"), atom("call"), list(tuple(atom("global_name_server"), spin_name), atom("get_synced"))});
  ASSERT_TRUE(synced.is_list()) << synced.to_string();
  std::vector<Term> nodes(synced.as_list().begin(), synced.as_list().end());
  EXPECT_EQ(nodes.size(), 2u) << synced.to_string();
  for (const Term& beam : {Term(beam1.name()), Term(beam2.name())})
    EXPECT_NE(std::find(nodes.begin(), nodes.end(), beam), nodes.end()) << synced.to_string();

  // A name registered on one BEAM node is seen on the other; registering goes through
  // this node's global_name_server too (it is one of the known nodes now).
  const Term registered = spin.call(beam1.name(), "global_register", {atom("spindle_global_test")});
  ASSERT_TRUE(registered.is_tuple(2)) << registered.to_string();
  EXPECT_EQ(registered.as_tuple()[0], atom("yes"));
  const Term pid = registered.as_tuple()[1];
  EXPECT_EQ(spin.call(beam2.name(), "run", {atom("global"), atom("whereis_name"), list(atom("spindle_global_test"))}), pid);
  // And from C++ on this node.
  const auto here = spin.dist.global_whereis(atom("spindle_global_test"));
  ASSERT_TRUE(here.has_value());
  EXPECT_EQ(Term(*here), pid);
  // A second registration of the name is refused.
  EXPECT_EQ(spin.call(beam2.name(), "global_register", {atom("spindle_global_test")}).as_tuple()[0], atom("no"));

  // A global lock taken on both a BEAM node and this one.
  EXPECT_EQ(spin.call(beam1.name(), "global_trans", {list(beam1.name(), spin_name)}), atom("inside"));

  // The name goes when its process does, everywhere.
  EXPECT_EQ(spin.call(beam1.name(), "send_to", {pid, atom("stop")}), atom("ok"));
  Term where;
  for (int i = 0; i < 100; ++i) {
    where = spin.call(beam2.name(), "run", {atom("global"), atom("whereis_name"), list(atom("spindle_global_test"))});
    if (where == atom("undefined")) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(where, atom("undefined"));
  for (int i = 0; i < 100 && spin.dist.global_whereis(atom("spindle_global_test")); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(spin.dist.global_whereis(atom("spindle_global_test")).has_value());
}

TEST_F(DistInterop, AHiddenNodeStaysOutOfGlobal) {
  SpindleNode spin("spin@127.0.0.1", epmd_port);  // hidden, the default
  ErlangNode beam(beam_name("beam"), erlang_options());
  ASSERT_EQ(spin.call(beam.name(), "ping", {spin.node.name()}), atom("pong"));
  EXPECT_EQ(spin.call(beam.name(), "global_sync", {10000}), atom("ok"));
  EXPECT_EQ(spin.call(beam.name(), "run", {atom("erlang"), atom("nodes"), list()}), Term());  // not in nodes()
  const Term registered = spin.call(beam.name(), "global_register", {atom("spindle_hidden_test")});
  EXPECT_EQ(registered.as_tuple()[0], atom("yes"));
  EXPECT_FALSE(spin.node.whereis(atom("global_name_server")));
  EXPECT_FALSE(spin.dist.global_whereis(atom("spindle_hidden_test")).has_value());
}

}  // namespace
}  // namespace spindle
