#include <gtest/gtest.h>

#include "spindle/dist/flags.hpp"
#include "spindle/dist/handshake.hpp"

namespace spindle::dist {
namespace {

using Reason = HandshakeError::Reason;

HandshakeConfig config(const std::string& name, const std::string& cookie, std::uint64_t extra_flags = 0) {
  return {name, flags::ours | extra_flags, static_cast<std::uint32_t>(name.size() * 1000 + 7), cookie};
}

// Runs both sides against each other until neither has anything to say.
void converse(Handshake& a, Handshake& b) {
  std::vector<Packet> to_b = a.start();
  for (int round = 0; round < 10 && !(to_b.empty()); ++round) {
    std::vector<Packet> to_a;
    for (const Packet& p : to_b) {
      auto replies = b.receive(p);
      to_a.insert(to_a.end(), replies.begin(), replies.end());
    }
    to_b.clear();
    for (const Packet& p : to_a) {
      auto replies = a.receive(p);
      to_b.insert(to_b.end(), replies.begin(), replies.end());
    }
  }
}

std::uint32_t fixed_challenge() { return 0x12345678; }

TEST(Handshake, DigestIsErlangsMd5OfCookieAndDecimalChallenge) {
  // erlang:md5("secret" ++ integer_to_list(305419896)) from OTP 25
  const std::array<std::uint8_t, 16> expected = {31, 77, 155, 78, 83, 202, 220, 57, 153, 188, 219, 56, 106, 35, 194, 64};
  EXPECT_EQ(Handshake::digest(305419896, "secret"), expected);
}

TEST(Handshake, BothSidesAgreeOnEachOther) {
  Handshake a = Handshake::initiate(config("a@host", "cookie"), "b@host");
  Handshake b = Handshake::accept(config("b@host", "cookie", flags::published), [](const HandshakePeer&) {
    return HandshakeStatus::ok;
  });
  converse(a, b);
  ASSERT_TRUE(a.done());
  ASSERT_TRUE(b.done());
  EXPECT_EQ(a.peer().name, "b@host");
  EXPECT_EQ(b.peer().name, "a@host");
  EXPECT_EQ(a.peer().creation, 6007u);
  EXPECT_EQ(b.peer().creation, 6007u);
  EXPECT_EQ(a.shared_flags(), flags::ours);  // b is published, a is not
  EXPECT_TRUE(b.peer().flags & flags::handshake_23);
  EXPECT_FALSE(a.replaces_existing());
}

TEST(Handshake, TheFirstPacketIsAVersion6Name) {
  Handshake a = Handshake::initiate(config("a@host", "c"), {}, fixed_challenge);
  const Packet name = a.start().at(0);
  ASSERT_EQ(name.size(), 1u + 8 + 4 + 2 + 6);
  EXPECT_EQ(name[0], 'N');
  EXPECT_EQ(name[13], 0);
  EXPECT_EQ(name[14], 6);  // name length
  EXPECT_EQ(std::string(name.begin() + 15, name.end()), "a@host");
}

TEST(Handshake, DifferentCookiesAreRefusedByTheAcceptor) {
  Handshake a = Handshake::initiate(config("a@host", "one"));
  Handshake b = Handshake::accept(config("b@host", "two"), {});
  try {
    converse(a, b);
    FAIL() << "handshake with different cookies succeeded";
  } catch (const HandshakeError& e) {
    EXPECT_EQ(e.reason(), Reason::bad_cookie);
    EXPECT_NE(std::string(e.what()).find("a@host"), std::string::npos);
    EXPECT_EQ(std::string(e.what()).find("one"), std::string::npos);  // the cookie is never logged
  }
}

TEST(Handshake, AWrongAckDigestIsRefusedByTheInitiator) {
  Handshake a = Handshake::initiate(config("a@host", "c"));
  a.start();
  Handshake b = Handshake::accept(config("b@host", "c"), {});
  // Walk the initiator to await_ack by hand, then give it a bad digest.
  Handshake real = Handshake::initiate(config("a@host", "c"));
  const auto name = real.start();
  auto replies = b.receive(name[0]);  // status, challenge
  for (const auto& p : replies) real.receive(p);
  Packet bad_ack(17, 0);
  bad_ack[0] = 'a';
  try {
    real.receive(bad_ack);
    FAIL();
  } catch (const HandshakeError& e) {
    EXPECT_EQ(e.reason(), Reason::bad_cookie);
  }
}

// nok: both nodes are connecting to each other and the acceptor's own attempt wins.
TEST(Handshake, NokTellsTheInitiatorItLostTheRace) {
  Handshake a = Handshake::initiate(config("a@host", "c"));
  Handshake b = Handshake::accept(config("b@host", "c"), [](const HandshakePeer&) { return HandshakeStatus::nok; });
  const auto replies = b.receive(a.start().at(0));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::string(replies[0].begin(), replies[0].end()), "snok");
  ASSERT_TRUE(b.refusal().has_value());
  EXPECT_EQ(b.refusal()->reason(), Reason::lost_race);  // its attempt lost; ours goes on
  try {
    a.receive(replies[0]);
    FAIL();
  } catch (const HandshakeError& e) {
    EXPECT_EQ(e.reason(), Reason::lost_race);
  }
}

TEST(Handshake, AliveIsAnsweredTrueAndReplacesTheOldConnection) {
  Handshake a = Handshake::initiate(config("a@host", "c"));
  Handshake b = Handshake::accept(config("b@host", "c"), [](const HandshakePeer&) { return HandshakeStatus::alive; });
  converse(a, b);
  EXPECT_TRUE(a.done());
  EXPECT_TRUE(b.done());
  EXPECT_TRUE(a.replaces_existing());
  EXPECT_TRUE(b.replaces_existing());
}

TEST(Handshake, MissingMandatoryFlagsAreRefused) {
  Handshake a = Handshake::initiate({"old@host", flags::mandatory_25 & ~flags::map_tag, 1, "c"});
  Handshake b = Handshake::accept(config("b@host", "c"), {});
  try {
    b.receive(a.start().at(0));
    FAIL();
  } catch (const HandshakeError& e) {
    EXPECT_EQ(e.reason(), Reason::missing_flags);
    EXPECT_NE(std::string(e.what()).find("0x20000"), std::string::npos);
  }
}

TEST(Handshake, MandatoryDigestFlagStandsForTheMandatorySet) {
  Handshake a = Handshake::initiate({"new@host", flags::mandatory_25_digest | flags::handshake_23, 1, "c"});
  Handshake b = Handshake::accept(config("b@host", "c"), {});
  converse(a, b);
  EXPECT_TRUE(b.done());
}

// What an OTP 23/24 node sends: the old 'n' name with the low 32 bits of its flags, and
// after our status a complement with the high bits and its creation.
Packet version5_name(std::uint64_t peer_flags, const std::string& node) {
  Packet name{'n', 0, 5};
  for (int shift = 24; shift >= 0; shift -= 8) name.push_back(static_cast<std::uint8_t>(peer_flags >> shift));
  name.insert(name.end(), node.begin(), node.end());
  return name;
}

Packet complement(std::uint64_t peer_flags, std::uint32_t creation) {
  Packet c{'c'};
  for (int shift = 56; shift >= 32; shift -= 8) c.push_back(static_cast<std::uint8_t>(peer_flags >> shift));
  for (int shift = 24; shift >= 0; shift -= 8) c.push_back(static_cast<std::uint8_t>(creation >> shift));
  return c;
}

TEST(Handshake, Version5NameWithComplementIsAccepted) {
  // An OTP 23/24 node may open with the old 'n' name and send its high flags and
  // creation in a complement after the status.
  Handshake b = Handshake::accept(config("b@host", "c"), {}, fixed_challenge);
  const std::uint64_t their_flags = flags::ours;
  auto replies = b.receive(version5_name(their_flags, "old@host"));
  ASSERT_EQ(replies.size(), 1u);  // status only: the complement comes first
  EXPECT_EQ(std::string(replies[0].begin(), replies[0].end()), "sok");
  replies = b.receive(complement(their_flags, 42));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0][0], 'N');  // the version 6 challenge
  EXPECT_EQ(b.peer().flags, their_flags);
  EXPECT_EQ(b.peer().creation, 42u);
  // Finish as the old node would.
  Packet reply{'r', 0, 0, 0, 1};
  const auto digest = Handshake::digest(0x12345678, "c");
  reply.insert(reply.end(), digest.begin(), digest.end());
  replies = b.receive(reply);
  EXPECT_TRUE(b.done());
  EXPECT_EQ(replies.at(0)[0], 'a');
}

// Found by tests/fuzz/fuzz_handshake_accept: after `alive` and the peer's `true`, the
// challenge went out at once, so a version 5 peer's complement was never read and its
// flags never checked: a peer without the mandatory flags finished the handshake.
TEST(Handshake, Version5NameAnsweredAliveStillWaitsForTheComplement) {
  Handshake b = Handshake::accept(config("b@host", "c"), [](const HandshakePeer&) { return HandshakeStatus::alive; },
                                  fixed_challenge);
  EXPECT_EQ(b.receive(version5_name(flags::handshake_23, "old@host")).size(), 1u);  // salive
  EXPECT_TRUE(b.receive(Packet{'s', 't', 'r', 'u', 'e'}).empty());                   // no challenge yet
  try {
    b.receive(complement(0, 42));
    FAIL() << "a peer without the mandatory flags was accepted";
  } catch (const HandshakeError& e) {
    EXPECT_EQ(e.reason(), Reason::missing_flags);
  }

  Handshake good = Handshake::accept(config("b@host", "c"), [](const HandshakePeer&) { return HandshakeStatus::alive; },
                                     fixed_challenge);
  good.receive(version5_name(flags::ours, "old@host"));
  good.receive(Packet{'s', 't', 'r', 'u', 'e'});
  const auto replies = good.receive(complement(flags::ours, 42));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0][0], 'N');
  EXPECT_TRUE(good.replaces_existing());
  EXPECT_EQ(good.peer().creation, 42u);
}

TEST(Handshake, UnexpectedPeerNamesAreRefused) {
  Handshake a = Handshake::initiate(config("a@host", "c"), "wanted@host");
  Handshake b = Handshake::accept(config("other@host", "c"), {});
  try {
    converse(a, b);
    FAIL();
  } catch (const HandshakeError& e) {
    EXPECT_EQ(e.reason(), Reason::bad_name);
  }
  Handshake c = Handshake::accept(config("b@host", "c"), {});
  EXPECT_THROW(c.receive(Handshake::initiate(config("no-at-sign", "c")).start().at(0)), HandshakeError);
}

TEST(Handshake, EveryTruncationOfEveryMessageIsMalformedNotACrash) {
  Handshake a = Handshake::initiate(config("a@host", "c"));
  Handshake b = Handshake::accept(config("b@host", "c"), {});
  const Packet name = a.start().at(0);
  for (std::size_t n = 0; n < 15; ++n) {  // up to the name itself
    Handshake fresh = Handshake::accept(config("b@host", "c"), {});
    try {
      fresh.receive(std::span<const std::uint8_t>(name.data(), n));
      ADD_FAILURE() << "accepted a truncated name of " << n << " bytes";
    } catch (const HandshakeError& e) {
      EXPECT_EQ(e.reason(), Reason::malformed) << e.what();
    }
  }
  const auto replies = b.receive(name);
  const Packet challenge = replies.at(1);
  for (std::size_t n = 1; n < challenge.size() - 6; ++n) {  // short of the name
    Handshake fresh = Handshake::initiate(config("a@host", "c"));
    fresh.start();
    fresh.receive(replies.at(0));
    EXPECT_THROW(fresh.receive(std::span<const std::uint8_t>(challenge.data(), n)), HandshakeError);
  }
  EXPECT_THROW(b.receive(Packet{'x'}), HandshakeError);
  EXPECT_THROW(b.receive(Packet{}), HandshakeError);
}

}  // namespace
}  // namespace spindle::dist
