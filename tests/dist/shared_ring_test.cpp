// The shared-memory carrier below the connection: the ring (wrap-around, room, the
// sleep flags), what it refuses from a peer (impossible positions, a descriptor that is
// not a sealed memfd of a valid size), the offers exchanged after the handshake, and a
// carrier over a real socket pair moving bytes both ways until one side ends.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ring_carrier.hpp"
#include "shared_ring.hpp"

namespace spindle::dist {
namespace {

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(n);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 7 + i / 251);
  return bytes;
}

// The reader's end of a new ring: the writer's memfd, duplicated, as the peer gets it.
SharedRing reader_of(const SharedRing& writer) { return SharedRing::adopt(::fcntl(writer.fd(), F_DUPFD_CLOEXEC, 0)); }

// The ring's shared page, mapped a third time: what a misbehaving peer can write.
struct PeerView {
  explicit PeerView(const SharedRing& ring) : bytes(4096) {
    map = static_cast<std::uint64_t*>(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, ring.fd(), 0));
  }
  ~PeerView() { ::munmap(map, bytes); }
  std::uint64_t& written() { return map[0]; }  // offset 0
  std::uint64_t& read() { return map[8]; }     // offset 64
  std::size_t bytes;
  std::uint64_t* map;
};

TEST(SharedRing, BytesComeOutInOrderAcrossTheWrap) {
  SharedRing writer = SharedRing::create(SharedRing::kMinCapacity);
  SharedRing reader = reader_of(writer);
  ASSERT_EQ(writer.capacity(), SharedRing::kMinCapacity);
  const std::vector<std::uint8_t> sent = pattern(5 * writer.capacity() + 123, 3);
  std::vector<std::uint8_t> got(sent.size());
  std::size_t in = 0;
  std::size_t out = 0;
  while (out < sent.size()) {
    // Odd sizes, so writes and reads straddle the end of the ring.
    in += writer.write(sent.data() + in, std::min<std::size_t>(sent.size() - in, 40'000));
    out += reader.read(got.data() + out, std::min<std::size_t>(got.size() - out, 30'001));
  }
  EXPECT_EQ(got, sent);
}

TEST(SharedRing, AFullRingTakesNothingMoreUntilRead) {
  SharedRing writer = SharedRing::create(1);  // rounded up to the smallest ring
  SharedRing reader = reader_of(writer);
  const std::vector<std::uint8_t> bytes = pattern(writer.capacity() + 10, 9);
  EXPECT_EQ(writer.write(bytes.data(), bytes.size()), writer.capacity());
  EXPECT_EQ(writer.write(bytes.data(), 1), 0u);
  std::vector<std::uint8_t> some(10);
  EXPECT_EQ(reader.read(some.data(), some.size()), 10u);
  EXPECT_EQ(writer.write(bytes.data(), bytes.size()), 10u);
}

TEST(SharedRing, ASleeperIsToldOnceAndOnlyWhenItMustSleep) {
  SharedRing writer = SharedRing::create(SharedRing::kMinCapacity);
  SharedRing reader = reader_of(writer);
  EXPECT_FALSE(writer.take_reader_waiting());
  EXPECT_TRUE(reader.announce_reader_waiting());  // empty: sleep
  const std::uint8_t byte = 1;
  ASSERT_EQ(writer.write(&byte, 1), 1u);
  EXPECT_TRUE(writer.take_reader_waiting());   // so the writer wakes it
  EXPECT_FALSE(writer.take_reader_waiting());  // once
  EXPECT_FALSE(reader.announce_reader_waiting());  // a byte is there: no sleep, no flag left
  EXPECT_FALSE(writer.take_reader_waiting());

  const std::vector<std::uint8_t> fill = pattern(writer.capacity(), 1);
  std::uint8_t sink[1];
  ASSERT_EQ(reader.read(sink, 1), 1u);
  ASSERT_EQ(writer.write(fill.data(), fill.size()), writer.capacity());
  EXPECT_TRUE(writer.announce_writer_waiting());  // full: sleep
  ASSERT_EQ(reader.read(sink, 1), 1u);
  EXPECT_TRUE(reader.take_writer_waiting());
  EXPECT_FALSE(writer.announce_writer_waiting());  // room again
}

TEST(SharedRing, APeerThatLiesAboutItsPositionIsRefused) {
  SharedRing writer = SharedRing::create(SharedRing::kMinCapacity);
  SharedRing reader = reader_of(writer);
  PeerView peer(writer);
  const std::vector<std::uint8_t> bytes = pattern(100, 5);
  ASSERT_EQ(writer.write(bytes.data(), bytes.size()), 100u);
  peer.read() = 101;  // read more than was written
  try {
    writer.write(bytes.data(), 1);
    FAIL() << "a read position past the written bytes was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("read position to 101"), std::string::npos) << e.what();
  }
  peer.read() = 0;
  peer.written() = 100 + writer.capacity() + 1;  // more unread than the ring holds
  std::vector<std::uint8_t> into(10);
  EXPECT_THROW(reader.read(into.data(), into.size()), std::runtime_error);
}

TEST(SharedRing, NoPositionAPeerWritesMakesACopyLeaveTheRing) {
  // Whatever the peer puts in the shared page, a read or write copies at most what the
  // ring holds, inside it (ASan checks the bounds), or refuses.
  SharedRing writer = SharedRing::create(SharedRing::kMinCapacity);
  SharedRing reader = reader_of(writer);
  PeerView peer(writer);
  std::mt19937_64 random(7);
  const std::uint64_t capacity = writer.capacity();
  const std::vector<std::uint64_t> edges{0, 1, capacity - 1, capacity, capacity + 1, ~std::uint64_t{0}, ~std::uint64_t{0} - capacity};
  std::vector<std::uint8_t> buffer(2 * capacity);
  for (int i = 0; i < 2000; ++i) {
    peer.written() = i < 49 ? edges[i % edges.size()] : random();
    peer.read() = i < 49 ? edges[i / edges.size()] : random() % (2 * capacity);
    try {
      EXPECT_LE(reader.read(buffer.data(), buffer.size()), capacity);
    } catch (const std::runtime_error&) {
    }
    try {
      EXPECT_LE(writer.write(buffer.data(), buffer.size()), capacity);
    } catch (const std::runtime_error&) {
    }
  }
}

TEST(SharedRing, OnlyASealedMemfdOfAValidSizeIsAdopted) {
  // A memfd that may still shrink.
  int fd = ::memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096 + SharedRing::kMinCapacity), 0);
  EXPECT_THROW(SharedRing::adopt(fd), std::runtime_error);
  // Sealed, but of a size that is no ring.
  fd = ::memfd_create("odd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096 + SharedRing::kMinCapacity + 1), 0);
  ASSERT_EQ(::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
  EXPECT_THROW(SharedRing::adopt(fd), std::runtime_error);
  // Not a memfd at all.
  int pipe_ends[2];
  ASSERT_EQ(::pipe(pipe_ends), 0);
  ::close(pipe_ends[1]);
  EXPECT_THROW(SharedRing::adopt(pipe_ends[0]), std::runtime_error);
}

// ----- carriers over a socket pair -----

struct Pair {
  asio::io_context io;
  local_stream::socket a{io};
  local_stream::socket b{io};
  Pair() { asio::local::connect_pair(a, b); }
};

// Runs the coroutine `body` returns on `io` until it and everything it started are done.
template <class Body>
void run(asio::io_context& io, Body body) {
  std::exception_ptr failure;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

// (No lambdas or gtest macros inside these coroutines: GCC 12 cannot compile them there.)
asio::awaitable<void> offer(local_stream::socket& socket, std::size_t ring_bytes, std::shared_ptr<RingCarrier>& carrier,
                            bool& done) {
  std::optional<SharedRing> mine;
  if (ring_bytes > 0) mine.emplace(SharedRing::create(ring_bytes));
  carrier = co_await share_rings(socket, std::move(mine));
  done = true;
}

// Both offer at once, as two nodes do after their handshake.
asio::awaitable<void> both_offer(Pair& pair, std::size_t a_bytes, std::size_t b_bytes, std::shared_ptr<RingCarrier>& a,
                                 std::shared_ptr<RingCarrier>& b) {
  bool a_done = false;
  bool b_done = false;
  asio::co_spawn(pair.io, offer(pair.b, b_bytes, b, b_done), asio::detached);
  co_await offer(pair.a, a_bytes, a, a_done);
  while (!b_done) co_await asio::post(pair.io, asio::use_awaitable);
}

// b's side: reads all a sends, answers with `answer`, then waits for a's end.
asio::awaitable<void> b_side(std::shared_ptr<RingCarrier> b, std::vector<std::uint8_t>& into,
                             const std::vector<std::uint8_t>& answer, bool& saw_the_end) {
  co_await b->read(asio::buffer(into));
  co_await b->write(asio::buffer(answer));
  std::uint8_t more = 0;
  try {
    co_await b->read_some(asio::buffer(&more, 1));
  } catch (const boost::system::system_error& e) {
    saw_the_end = e.code() == asio::error::eof;
  }
  b->close();
}

// Both offer, then a sends `sent`, b answers with `answer`, and a ends. Started carriers
// listen to their sockets until closed, so each side closes its own.
asio::awaitable<void> exchange(Pair& pair, const std::vector<std::uint8_t>& sent, std::vector<std::uint8_t>& at_b,
                               const std::vector<std::uint8_t>& answer, std::vector<std::uint8_t>& into,
                               bool& both_share, bool& b_saw_the_end) {
  std::shared_ptr<RingCarrier> a;
  std::shared_ptr<RingCarrier> b;
  co_await both_offer(pair, 1 << 20, 1 << 20, a, b);
  both_share = a && b;
  if (!both_share) co_return;
  // One coroutine a side, as each node's I/O thread runs its connection.
  asio::co_spawn(pair.io, b_side(b, at_b, answer, b_saw_the_end), asio::detached);
  const std::vector<asio::const_buffer> gathered{asio::buffer(sent.data(), 1000),
                                                 asio::buffer(sent.data() + 1000, sent.size() - 1000)};
  co_await a->write(gathered);
  co_await a->read(asio::buffer(into));
  a->close();
}

TEST(RingCarrier, BothOfferAndBytesCrossBothWaysUntilOneEnds) {
  Pair pair;
  const std::vector<std::uint8_t> to_b = pattern(10 << 20, 1);  // ten times the ring
  const std::vector<std::uint8_t> to_a = pattern(3 << 20, 2);
  std::vector<std::uint8_t> at_b(to_b.size());
  std::vector<std::uint8_t> at_a(to_a.size());
  bool both_share = false;
  bool b_saw_the_end = false;
  run(pair.io, [&] { return exchange(pair, to_b, at_b, to_a, at_a, both_share, b_saw_the_end); });
  ASSERT_TRUE(both_share);
  EXPECT_EQ(at_b, to_b);
  EXPECT_EQ(at_a, to_a);
  EXPECT_TRUE(b_saw_the_end);
}

TEST(RingCarrier, ANodeWithoutRingsKeepsTheSocket) {
  Pair pair;
  std::shared_ptr<RingCarrier> a;
  std::shared_ptr<RingCarrier> b;
  run(pair.io, [&] { return both_offer(pair, 1 << 20, 0, a, b); });
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(b, nullptr);
  // The socket still carries bytes, and nothing of the offers is left in it.
  ASSERT_EQ(::send(pair.a.native_handle(), "ok", 2, 0), 2);
  char got[3] = {};
  ASSERT_EQ(::recv(pair.b.native_handle(), got, sizeof got, 0), 2);
  EXPECT_STREQ(got, "ok");
}

// Offers, then closes the carrier and lets it go in the same step, before anything it
// started has run.
asio::awaitable<void> offer_and_drop(local_stream::socket& socket, bool& shared) {
  std::shared_ptr<RingCarrier> carrier = co_await share_rings(socket, SharedRing::create(1 << 16));
  shared = carrier != nullptr;
  if (shared) carrier->close();
}

asio::awaitable<void> both_offer_and_drop(Pair& pair, bool& a_shared, bool& b_shared) {
  asio::co_spawn(pair.io, offer_and_drop(pair.b, b_shared), asio::detached);
  co_await offer_and_drop(pair.a, a_shared);
}

// A connection that ends as soon as it starts closes and drops its carrier before the
// carrier's own listening has begun: that listening must keep the carrier alive, not find it freed
// (ASan reported a heap-use-after-free here when it did not).
TEST(RingCarrier, ACarrierDroppedAsSoonAsItStartsIsNotUsedAfterward) {
  Pair pair;
  bool a_shared = false;
  bool b_shared = false;
  run(pair.io, [&] { return both_offer_and_drop(pair, a_shared, b_shared); });
  EXPECT_TRUE(a_shared);
  EXPECT_TRUE(b_shared);
}

// share_rings's error for `bytes` (and `fds` descriptors with them) sent as the offer.
std::string refusal_of(const std::vector<std::uint8_t>& bytes, int fds) {
  Pair pair;
  std::vector<int> attached;
  for (int i = 0; i < fds; ++i) attached.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));  // no ring
  iovec part{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * 4));
  if (fds > 0) {
    message.msg_control = control.data();
    message.msg_controllen = CMSG_SPACE(sizeof(int) * attached.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * attached.size());
    std::memcpy(CMSG_DATA(header), attached.data(), sizeof(int) * attached.size());
  }
  EXPECT_EQ(::sendmsg(pair.b.native_handle(), &message, 0), static_cast<ssize_t>(bytes.size()));
  for (int fd : attached) ::close(fd);
  ::shutdown(pair.b.native_handle(), SHUT_WR);  // a then reads the end after these bytes
  std::string error;
  try {
    std::shared_ptr<RingCarrier> carrier;
    bool done = false;
    run(pair.io, [&] { return offer(pair.a, 1 << 20, carrier, done); });
  } catch (const std::exception& e) {
    error = e.what();
  }
  return error;
}

std::vector<std::uint8_t> offer(std::uint8_t flag) {
  std::vector<std::uint8_t> bytes(16, 0);
  std::memcpy(bytes.data(), "spindle-ring", 12);
  bytes[15] = flag;
  return bytes;
}

TEST(RingCarrier, AnythingButAWellFormedOfferIsRefused) {
  // A frame, then the end; a frame as long as an offer.
  EXPECT_NE(refusal_of({0, 0, 0, 10, 131, 68}, 0).find("End of file"), std::string::npos);
  std::vector<std::uint8_t> frame(16, 0);
  frame[3] = 12;
  EXPECT_NE(refusal_of(frame, 0).find("no ring offer (byte 0 is 0)"), std::string::npos);
  EXPECT_NE(refusal_of(offer(2), 0).find("byte 15 is 2"), std::string::npos);
  EXPECT_NE(refusal_of(offer(1), 0).find("0 descriptors, not 1"), std::string::npos);
  EXPECT_NE(refusal_of(offer(0), 1).find("1 descriptors, not 0"), std::string::npos);
  EXPECT_NE(refusal_of(offer(1), 2).find("2 descriptors, not 1"), std::string::npos);
  // One descriptor, but no ring.
  EXPECT_NE(refusal_of(offer(1), 1).find("not a sealable memfd"), std::string::npos);
}

}  // namespace
}  // namespace spindle::dist
