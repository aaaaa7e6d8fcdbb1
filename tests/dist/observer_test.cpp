// A node's statistics as Erlang terms (spindle:stats() and spindle:processes()) and back.

#include <gtest/gtest.h>

#include "spindle/dist/observer.hpp"
#include "spindle/term_text.hpp"

namespace spindle::dist {
namespace {

using namespace std::chrono_literals;

TEST(Observer, StatisticsMakeTheRoundTripThroughTheirTerm) {
  ObservedNode o;
  o.node.uptime = 61234ms;
  o.node.processes = 12;
  o.node.spawned = 40;
  o.node.messages_sent = 1000;
  o.node.messages_handled = 999;
  o.node.mailbox_high_water = 17;
  o.node.workers = {{100, 3, 2500us, 40}, {200, 0, 0us, 0}};
  ConnectionStats c;
  c.node = atom("beam@127.0.0.1");
  c.address = "127.0.0.1:40000";
  c.tls = true;
  c.up = 5000ms;
  c.bytes_in = 1 << 20;
  c.bytes_out = 2 << 20;
  c.messages_in = 10;
  c.messages_out = 20;
  c.queued_bytes = 7;
  c.senders_suspended = 3;
  o.connections = {c};
  o.node.io_runs = 77;
  const Term t = stats_term(o);
  EXPECT_EQ(*t.as_map().find(atom("processes")), Term(12));
  EXPECT_EQ(*t.as_map().find(atom("uptime_ms")), Term(61234));
  const ObservedNode back = observed_from_term(t);
  EXPECT_EQ(back.node.uptime, 61234ms);
  EXPECT_EQ(back.node.processes, 12u);
  EXPECT_EQ(back.node.spawned, 40u);
  EXPECT_EQ(back.node.messages_sent, 1000u);
  EXPECT_EQ(back.node.messages_handled, 999u);
  EXPECT_EQ(back.node.mailbox_high_water, 17u);
  ASSERT_EQ(back.node.workers.size(), 2u);
  EXPECT_EQ(back.node.workers[0].runs, 100u);
  EXPECT_EQ(back.node.workers[0].steals, 3u);
  EXPECT_EQ(back.node.workers[0].busy, 2500us);
  EXPECT_EQ(back.node.workers[0].caught, 40u);
  EXPECT_EQ(back.node.io_runs, 77u);
  ASSERT_EQ(back.connections.size(), 1u);
  EXPECT_EQ(back.connections[0].node, atom("beam@127.0.0.1"));
  EXPECT_EQ(back.connections[0].address, "127.0.0.1:40000");
  EXPECT_TRUE(back.connections[0].tls);
  EXPECT_EQ(back.connections[0].bytes_out, 2u << 20);
  EXPECT_EQ(back.connections[0].queued_bytes, 7u);
  EXPECT_EQ(back.connections[0].senders_suspended, 3u);
}

TEST(Observer, StatisticsFromANodeWithoutTheLaterCountsReadAsZero) {
  ObservedNode o;
  o.node.workers = {{100, 3, 2500us, 40}};
  o.node.io_runs = 5;
  const Term t = stats_term(o);
  const Term worker = map({{atom("runs"), 100}, {atom("steals"), 3}, {atom("busy_us"), 2500}});
  std::vector<std::pair<Term, Term>> fields;
  for (const auto& [key, value] : t.as_map())
    if (key != atom("io_runs")) fields.emplace_back(key, key == atom("workers") ? list(worker) : value);
  const ObservedNode back = observed_from_term(map_from(fields));
  ASSERT_EQ(back.node.workers.size(), 1u);
  EXPECT_EQ(back.node.workers[0].runs, 100u);
  EXPECT_EQ(back.node.workers[0].caught, 0u);
  EXPECT_EQ(back.node.io_runs, 0u);
}

TEST(Observer, ProcessRowsMakeTheRoundTrip) {
  const Pid a(atom("n@h"), 1, 0, 1), b(atom("n@h"), 2, 0, 1);
  const std::vector<ProcessStats> rows = {{a, atom("echo"), 5, 6, 7}, {b, std::nullopt, 1, 0, 1}};
  const Term t = processes_term(rows);
  EXPECT_EQ(to_string(t), "[{<n@h.1.0>,echo,5,6,7},{<n@h.2.0>,undefined,1,0,1}]");
  const auto back = processes_from_term(t);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].pid, a);
  EXPECT_EQ(back[0].name, atom("echo"));
  EXPECT_EQ(back[0].mailbox_high_water, 7u);
  EXPECT_FALSE(back[1].name.has_value());
}

TEST(Observer, OtherTermsAreRefusedWithTheReason) {
  EXPECT_THROW(observed_from_term(atom("badrpc")), BadTermAccess);
  try {
    observed_from_term(parse_term("#{processes => 1}"));
    FAIL();
  } catch (const BadTermAccess& e) {
    EXPECT_NE(std::string(e.what()).find("uptime_ms"), std::string::npos) << e.what();
  }
  EXPECT_THROW(processes_from_term(parse_term("[{1, 2}]")), BadTermAccess);
}

}  // namespace
}  // namespace spindle::dist
