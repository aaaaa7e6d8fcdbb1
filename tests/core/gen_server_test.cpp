// GenServer and the gen_server client: replies now and later, casts, info, stop, and the
// exit reasons a failed call gives (noproc, timeout, the server's crash reason).

#include "spindle/gen_server.hpp"

#include <gtest/gtest.h>

#include <unordered_map>

namespace spindle {
namespace {

using namespace std::chrono_literals;

// A key-value store: call {put, K, V} -> ok, {get, K} -> {ok, V} | not_found, size;
// cast {put, K, V}; call {wait, K} replies once K is put (waiters counts them); call
// crash stops it with boom.
class Store final : public GenServer {
 protected:
  std::optional<Term> handle_call(const Term& r, const Term& from) override {
    if (r == Term(atom("size"))) return Term(static_cast<std::int64_t>(values_.size()));
    if (r == Term(atom("waiters"))) return Term(static_cast<std::int64_t>(waiting_.size()));
    if (r == Term(atom("crash"))) stop(atom("boom"));
    if (r.is_tuple(3) && r.as_tuple()[0].is_atom(atom("put"))) {
      put(r.as_tuple()[1], r.as_tuple()[2]);
      return Term(atom("ok"));
    }
    if (r.is_tuple(2) && r.as_tuple()[0].is_atom(atom("get"))) {
      const auto it = values_.find(r.as_tuple()[1]);
      return it == values_.end() ? Term(atom("not_found")) : tuple(atom("ok"), it->second);
    }
    if (r.is_tuple(2) && r.as_tuple()[0].is_atom(atom("wait"))) {
      waiting_.emplace(r.as_tuple()[1], from);
      return std::nullopt;  // answered by a later put
    }
    return GenServer::handle_call(r, from);
  }
  void handle_cast(const Term& r) override {
    if (r.is_tuple(3) && r.as_tuple()[0].is_atom(atom("put"))) put(r.as_tuple()[1], r.as_tuple()[2]);
  }
  void handle_info(const Term& m) override {
    if (m.is_tuple(2) && m.as_tuple()[0].is_atom(atom("info"))) put(atom("info"), m.as_tuple()[1]);
  }

 private:
  void put(const Term& k, const Term& v) {
    values_.insert_or_assign(k, v);
    if (const auto it = waiting_.find(k); it != waiting_.end()) {
      reply(it->second, v);
      waiting_.erase(it);
    }
  }
  std::unordered_map<Term, Term> values_;
  std::unordered_map<Term, Term> waiting_;
};

struct GenServerTest : ::testing::Test {
  Node node{{.name = "gen@localhost", .scheduler = {.threads = 2}}};
  Inbox inbox{node};
  Term failure(const std::function<void()>& call) {
    try {
      call();
    } catch (const gen_server::CallFailed& e) {
      return e.reason();
    }
    ADD_FAILURE() << "the call did not fail";
    return Term();
  }
};

TEST_F(GenServerTest, CallsCastsAndInfo) {
  const Pid store = node.spawn<Store>();
  EXPECT_EQ(gen_server::call(inbox, store, tuple(atom("put"), atom("a"), 1)), atom("ok"));
  EXPECT_EQ(gen_server::call(inbox, store, tuple(atom("get"), atom("a"))), tuple(atom("ok"), 1));
  EXPECT_EQ(gen_server::call(inbox, store, tuple(atom("get"), atom("b"))), atom("not_found"));
  gen_server::cast(node, store, tuple(atom("put"), atom("b"), 2));
  node.send(store, tuple(atom("info"), 3));
  EXPECT_EQ(gen_server::call(inbox, store, atom("size")), Term(3));  // the cast and the info came first
  EXPECT_EQ(inbox.size(), 0u);  // no replies or DOWN messages left behind
}

TEST_F(GenServerTest, RepliesCanComeLater) {
  const Pid store = node.spawn<Store>();
  // A call sent by hand, so that this thread can make other calls while it waits.
  Inbox other(node);
  const Ref tag = node.make_ref();
  node.send(store, tuple(atoms::gen_call, tuple(other.pid(), tag), tuple(atom("wait"), atom("k"))));
  EXPECT_EQ(gen_server::call(inbox, store, atom("waiters")), Term(1));  // it waits, the store answers others
  EXPECT_EQ(other.size(), 0u);
  EXPECT_EQ(gen_server::call(inbox, store, tuple(atom("put"), atom("k"), 7)), atom("ok"));
  EXPECT_EQ(other.receive(5s), tuple(tag, 7));
}

TEST_F(GenServerTest, FailedCallsGiveErlangsReasons) {
  const Pid store = node.spawn<Store>();
  EXPECT_EQ(failure([&] { gen_server::call(inbox, store, atom("crash")); }), atom("boom"));
  EXPECT_EQ(failure([&] { gen_server::call(inbox, store, atom("size")); }), atom("noproc"));
  const Pid other = node.spawn<Store>();
  EXPECT_EQ(failure([&] { gen_server::call(inbox, other, atom("unknown")); }), tuple(atom("bad_call"), atom("unknown")));
  const Pid slow = node.spawn<Store>();
  EXPECT_EQ(failure([&] { gen_server::call(inbox, slow, tuple(atom("wait"), atom("never")), 50ms); }), atom("timeout"));
  EXPECT_TRUE(node.alive(slow));
  EXPECT_EQ(failure([&] { gen_server::call(inbox, RegisteredName{atom("nobody"), node.name()}, atom("size")); }),
            atom("noproc"));
  EXPECT_EQ(inbox.size(), 0u);
}

TEST_F(GenServerTest, CallsByRegisteredName) {
  node.register_name(node.spawn<Store>(), atom("store"));
  const RegisteredName store{atom("store"), node.name()};
  EXPECT_EQ(gen_server::call(inbox, store, tuple(atom("put"), atom("x"), 1)), atom("ok"));
  gen_server::cast(node, store, tuple(atom("put"), atom("y"), 2));
  EXPECT_EQ(gen_server::call(inbox, store, atom("size")), Term(2));
}

// Erlang: once demonitor has returned, no DOWN of that monitor arrives.
TEST_F(GenServerTest, NoDownAfterDemonitor) {
  const Pid p = node.spawn<Store>();
  const Ref ref = inbox.monitor(p);
  inbox.demonitor(ref);
  node.exit(p, atom("kill"));
  const Ref after = inbox.monitor(p);  // p is gone: this one reports noproc
  const auto down = inbox.receive(5s);
  ASSERT_TRUE(down.has_value());
  EXPECT_EQ(down->as_tuple()[1], Term(after));
  EXPECT_EQ(down->as_tuple()[4], atom("noproc"));
  EXPECT_EQ(inbox.size(), 0u);
}

}  // namespace
}  // namespace spindle
