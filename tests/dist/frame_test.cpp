#include <gtest/gtest.h>

#include <algorithm>

#include "spindle/dist/frame.hpp"
#include "spindle/term_text.hpp"

namespace spindle::dist {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Splits what a FrameWriter wrote into frames (binary terms without the 4-byte length).
std::vector<Term> split(const ByteBuffer& out) {
  std::vector<Term> frames;
  for (std::size_t pos = 0; pos < out.size();) {
    const std::size_t n = (std::size_t{out[pos]} << 24) | (std::size_t{out[pos + 1]} << 16) |
                          (std::size_t{out[pos + 2]} << 8) | out[pos + 3];
    frames.push_back(binary(std::span<const std::uint8_t>(out.data() + pos + 4, n)));
    pos += 4 + n;
  }
  return frames;
}

Term frame(Bytes bytes) { return binary(std::span<const std::uint8_t>(bytes)); }

FrameError frame_error(FrameReader& reader, const Term& f) {
  try {
    reader.read(f);
    ADD_FAILURE() << "frame accepted";
  } catch (const FrameError& e) {
    return e;
  }
  return FrameError("none", 0);
}

const Pid kFrom(atom("a@host"), 1, 2, 3);
const Pid kTo(atom("b@host"), 4, 5, 6);

TEST(Frame, MessagesRoundTripThroughTheAtomCache) {
  FrameWriter writer;
  FrameReader reader;
  ByteBuffer payload;
  etf::encode_body(tuple(atom("hello"), kFrom, binary("world")), payload);
  ByteBuffer out;
  const Term control = tuple(22, kFrom, kTo);  // SEND_SENDER
  writer.write(control, payload.bytes(), out);
  writer.write(control, payload.bytes(), out);  // the second time the node atoms are cached
  const auto frames = split(out);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_LT(frames[1].as_binary().size(), frames[0].as_binary().size());
  for (const Term& f : frames) {
    const auto m = reader.read(f);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->control, control);
    ASSERT_TRUE(m->payload.has_value());
    EXPECT_EQ(*m->payload, tuple(atom("hello"), kFrom, binary("world")));
  }
}

TEST(Frame, ControlMessagesWithoutPayload) {
  FrameWriter writer;
  FrameReader reader;
  ByteBuffer out;
  writer.write(tuple(1, kFrom, kTo), {}, out);  // LINK
  const auto m = reader.read(split(out).at(0));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->control, tuple(1, kFrom, kTo));
  EXPECT_FALSE(m->payload.has_value());
}

TEST(Frame, TicksAreEmptyFrames) {
  ByteBuffer out;
  FrameWriter::write_tick(out);
  EXPECT_EQ(out.size(), 4u);
  FrameReader reader;
  EXPECT_FALSE(reader.read(binary("")).has_value());
}

// In small fragments, and in OTP's (a 64 KB binary goes as a 64 KB fragment and a short
// one): the message comes out whole, and nothing stays held once it has.
TEST(Frame, LargeMessagesAreFragmentedAndReassembled) {
  FrameWriter writer;
  FrameReader reader;
  const std::pair<std::size_t, std::size_t> cases[] = {{100000, 4096}, {65536, 65536}, {100000, 65536}, {1 << 20, 65536}};
  for (const auto& [size, fragment_size] : cases) {
    SCOPED_TRACE(std::to_string(size) + " bytes in fragments of " + std::to_string(fragment_size));
    const Term big = binary(std::string(size, 'z'));
    ByteBuffer payload;
    etf::encode_body(big, payload);
    ByteBuffer out;
    writer.write(tuple(22, kFrom, kTo), payload.bytes(), out, fragment_size);
    const auto frames = split(out);
    EXPECT_GT(frames.size(), size / fragment_size);
    for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
      EXPECT_LE(frames[i].as_binary().size(), fragment_size);
      EXPECT_FALSE(reader.read(frames[i]).has_value()) << "fragment " << i;
    }
    EXPECT_GE(reader.pending_bytes(), size - frames.back().as_binary().size());  // all but the last held
    const auto m = reader.read(frames.back());
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(*m->payload, big);
    EXPECT_EQ(reader.pending_bytes(), 0u);
  }
}

// Large binaries go out with gather I/O from their own memory: the bytes on the wire are
// what one plain buffer would hold, whole or in fragments.
TEST(Frame, GatheredPayloadsMatchCopiedOnes) {
  const Term message = tuple(atom("bulk"), binary(std::string(20000, 'x')), 7, binary(std::string(9000, 'y')));
  const etf::SplitEncodingSize size = etf::split_encoded_size(message, 4096);
  Bytes own(size.bytes);
  std::vector<etf::ExternalBytes> externals(size.externals);
  etf::split_encode_to(message, own, externals, 4096);
  ByteBuffer plain;
  etf::encode_body(message, plain);
  for (std::size_t fragment : {std::size_t{0}, std::size_t{4096}, std::size_t{7000}}) {
    FrameWriter copying;
    FrameWriter gathering;
    ByteBuffer expected;
    copying.write(tuple(22, kFrom, kTo), plain.bytes(), expected, fragment);

    ControlAtoms atoms;
    ByteBuffer control;
    etf::encode_body(tuple(22, kFrom, kTo), control, &atoms);
    ByteBuffer bytes;
    std::vector<etf::ExternalBytes> gathered;
    FrameOutput out{bytes, &gathered, 1000};
    gathering.write_encoded(atoms.atoms(), control.bytes(), Payload(own, externals), out, fragment);
    EXPECT_FALSE(gathered.empty());
    EXPECT_EQ(out.size(), expected.size());
    Bytes wire;
    std::size_t at = 0;
    for (const etf::ExternalBytes& e : gathered) {
      EXPECT_GE(e.size, 1000u);
      wire.insert(wire.end(), bytes.data() + at, bytes.data() + e.at);
      wire.insert(wire.end(), e.data, e.data + e.size);
      at = e.at;
    }
    wire.insert(wire.end(), bytes.data() + at, bytes.data() + bytes.size());
    EXPECT_EQ(wire, Bytes(expected.data(), expected.data() + expected.size())) << "fragment size " << fragment;
  }
}

// To peers without DFLAG_DIST_HDR_ATOM_CACHE (erl_interface's C nodes): pass-through
// frames, 112 then versioned terms with atoms in full.
TEST(Frame, PassThroughFramesForPeersWithoutTheAtomCache) {
  FrameWriter writer(false);
  FrameReader reader;
  ByteBuffer payload;
  const Term message = tuple(atom("rex"), 3);
  etf::encode_body(message, payload);
  ByteBuffer out;
  writer.write(tuple(22, kFrom, kTo), payload.bytes(), out, 16);  // never fragmented
  writer.write(tuple(1, kFrom, kTo), {}, out);
  const auto frames = split(out);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].as_binary().data()[0], 112);
  EXPECT_EQ(frames[0].as_binary().data()[1], 131);
  const auto m = reader.read(frames[0]);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->control, tuple(22, kFrom, kTo));
  EXPECT_EQ(*m->payload, message);
  const auto link = reader.read(frames[1]);
  ASSERT_TRUE(link.has_value());
  EXPECT_FALSE(link->payload.has_value());
  ControlAtoms atoms;
  FrameOutput output{out};
  EXPECT_THROW(writer.write_encoded(atoms.atoms(), {}, Payload(), output), std::logic_error);
}

TEST(Frame, InterleavedFragmentedMessagesAreKeptApart) {
  FrameWriter writer;
  FrameReader reader;
  ByteBuffer a_payload, b_payload;
  etf::encode_body(binary(std::string(10000, 'a')), a_payload);
  etf::encode_body(binary(std::string(10000, 'b')), b_payload);
  ByteBuffer a_out, b_out;
  writer.write(tuple(22, kFrom, kTo), a_payload.bytes(), a_out, 1000);
  writer.write(tuple(22, kFrom, kTo), b_payload.bytes(), b_out, 1000);
  const auto a = split(a_out);
  const auto b = split(b_out);
  std::vector<Term> done;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    for (const auto* frames : {&a, &b}) {
      if (i >= frames->size()) continue;
      if (auto m = reader.read((*frames)[i])) done.push_back(*m->payload);
    }
  }
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0], binary(std::string(10000, 'a')));
  EXPECT_EQ(done[1], binary(std::string(10000, 'b')));
}

// The fragmented example of erl_ext_dist ("Distribution Header for fragmented messages"),
// after a first frame that fills the two cache entries the example takes as known.
TEST(Frame, TheProtocolDocumentationsFragmentedExample) {
  FrameReader reader;
  // 131,'D', 2 refs: new in segment 4 (slot 4*256+10, 'node@h') and new in segment 0
  // (slot 5, the empty atom).
  Bytes prime = {131, 68, 2, 0x8C, 0x00, 10, 6, 'n', 'o', 'd', 'e', '@', 'h', 5, 0};
  prime.insert(prime.end(), {104, 1, 97, 5});  // {5}: NODE_LINK
  ASSERT_TRUE(reader.read(frame(prime)).has_value());

  Bytes first = {131, 69, 0, 0, 2, 168, 0, 0, 5, 83, 0, 0, 0, 0, 0, 0, 0, 2,
                 5, 4, 137, 9, 10, 5, 236, 3, 114, 101, 103, 9, 4, 99, 97, 108, 108,
                 238, 13, 115, 101, 116, 95, 103, 101, 116, 95, 115, 116, 97, 116, 101,
                 104, 4, 97, 6, 103, 82, 0, 0, 0, 0, 85, 0, 0, 0, 0, 2, 82, 1, 82, 2,
                 104, 3, 82, 3, 103, 82, 0, 0, 0, 0, 245, 0, 0, 0, 2, 2,
                 104, 2, 82, 4, 109, 0, 0, 0, 128};
  first.insert(first.end(), 103, 0);
  Bytes second = {131, 70, 0, 0, 2, 168, 0, 0, 5, 83, 0, 0, 0, 0, 0, 0, 0, 1};
  second.insert(second.end(), 25, 0);

  EXPECT_FALSE(reader.read(frame(first)).has_value());
  const auto m = reader.read(frame(second));
  ASSERT_TRUE(m.has_value());
  const Pid sender(atom("node@h"), 85, 0, 2);
  EXPECT_EQ(m->control, tuple(6, sender, atom(""), atom("reg")));  // the cookie slot holds ''
  EXPECT_EQ(*m->payload, tuple(atom("call"), Pid(atom("node@h"), 245, 2, 2),
                               tuple(atom("set_get_state"), binary(std::string(128, '\0')))));
}

TEST(Frame, ProtocolViolationsAreErrors) {
  FrameReader reader;
  EXPECT_NE(std::string(frame_error(reader, frame({200})).what()).find("starts with 131"), std::string::npos);
  EXPECT_NE(std::string(frame_error(reader, frame({131, 99})).what()).find("unknown distribution header"),
            std::string::npos);
  // A cached reference to a slot never filled.
  EXPECT_NE(std::string(frame_error(reader, frame({131, 68, 1, 0x00, 7, 104, 1, 82, 0})).what())
                .find("never filled"),
            std::string::npos);
  // Truncated header and term.
  EXPECT_NE(std::string(frame_error(reader, frame({131, 68, 3, 0})).what()).find("truncated"), std::string::npos);
  EXPECT_NE(std::string(frame_error(reader, frame({131, 68, 0, 104, 2, 97})).what()).find("bad term"),
            std::string::npos);
  // The control message must be a tuple starting with an integer.
  EXPECT_NE(std::string(frame_error(reader, frame({131, 68, 0, 97, 1})).what()).find("control message"),
            std::string::npos);
  // Bad UTF-8 in a new cache entry.
  EXPECT_NE(std::string(frame_error(reader, frame({131, 68, 1, 0x08, 1, 1, 0xFF, 104, 1, 82, 0})).what())
                .find("atom"),
            std::string::npos);
  // Fragments: unknown sequence, wrong order, zero.
  const Bytes cont = {131, 70, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 97};
  EXPECT_NE(std::string(frame_error(reader, frame(cont)).what()).find("unknown message"), std::string::npos);
  const Bytes start = {131, 69, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 3, 0, 104, 1};
  EXPECT_FALSE(reader.read(frame(start)).has_value());
  Bytes skip = cont;
  skip[17] = 1;  // fragment 1 where 2 is due
  EXPECT_NE(std::string(frame_error(reader, frame(skip)).what()).find("was due"), std::string::npos);
  Bytes zero = start;
  zero[17] = 0;
  EXPECT_NE(std::string(frame_error(reader, frame(zero)).what()).find("fragment number 0"), std::string::npos);
}

TEST(Frame, FragmentFloodsHitTheirLimits) {
  FrameReader reader({.max_message_bytes = 1000, .max_pending_sequences = 4, .max_pending_bytes = 5000});
  for (std::uint8_t seq = 1; seq <= 4; ++seq) {
    const Bytes start = {131, 69, 0, 0, 0, 0, 0, 0, 0, seq, 0, 0, 0, 0, 0, 0, 0, 99, 0, 104, 1};
    EXPECT_FALSE(reader.read(frame(start)).has_value());
  }
  const Bytes fifth = {131, 69, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 99, 0, 104, 1};
  EXPECT_NE(std::string(frame_error(reader, frame(fifth)).what()).find("in progress"), std::string::npos);
  Bytes big = {131, 70, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 98};
  big.insert(big.end(), 2000, 0);
  EXPECT_NE(std::string(frame_error(reader, frame(big)).what()).find("larger than"), std::string::npos);
}

// A reassembled message keeps room for the fragments still due, but a small first
// fragment cannot claim much memory by announcing a great many more.
TEST(Frame, AFirstFragmentReservesRoomInProportionToItsSize) {
  FrameReader reader;
  const Bytes start = {131, 69, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 104, 1};  // 2^40 fragments
  EXPECT_FALSE(reader.read(frame(start)).has_value());
  EXPECT_GE(reader.pending_bytes(), 2u);
  EXPECT_LE(reader.pending_bytes(), 200u);
}

// A frame in a binary of its own with `room` bytes after it, as the connection reads
// a large one.
struct RoomyFrame {
  Term owner;
  std::span<const std::uint8_t> bytes;
  std::size_t room;
};

RoomyFrame with_room(const Term& f, std::size_t room) {
  const auto bytes = f.as_binary().bytes();
  std::uint8_t* data = nullptr;
  RoomyFrame r{binary_uninitialized(bytes.size() + room, data), {}, room};
  std::copy(bytes.begin(), bytes.end(), data);
  r.bytes = {data, bytes.size()};
  return r;
}

// The frames of a SEND carrying `big`, in fragments of `fragment_size`.
std::vector<Term> fragments_of(const Term& big, std::size_t fragment_size) {
  ByteBuffer payload;
  etf::encode_body(big, payload);
  ByteBuffer out;
  FrameWriter().write(tuple(22, kFrom, kTo), payload.bytes(), out, fragment_size);
  return split(out);
}

// Reads a fragmented message's frames, the first with `room` after it: the message and
// the first frame's binary.
std::pair<std::optional<IncomingMessage>, Term> read_with_room(FrameReader& reader, const std::vector<Term>& frames,
                                                               std::size_t room) {
  const RoomyFrame first = with_room(frames.at(0), room);
  EXPECT_FALSE(reader.read(first.bytes, &first.owner, first.room).has_value());
  std::optional<IncomingMessage> m;
  for (std::size_t i = 1; i < frames.size(); ++i) m = reader.read(frames[i]);
  return {std::move(m), first.owner};
}

bool points_into(const Term& bin, const Term& owner) {
  const std::uint8_t* p = bin.as_binary().bytes().data();
  const auto o = owner.as_binary().bytes();
  return p >= o.data() && p + bin.as_binary().size() <= o.data() + o.size();
}

// The connection reads a large first fragment into a binary with the room the reader
// asks for after it; the message is then completed there, not copied out (OTP sends a
// 64 KB binary as a fragment of 64 KB and one of some 40 bytes).
TEST(Frame, AMessageIsReassembledInTheRoomAfterItsFirstFragment) {
  const std::pair<std::size_t, std::size_t> cases[] = {{65536, 65536}, {1 << 20, 65536}, {100000, 4096}};
  for (const auto& [size, fragment_size] : cases) {
    SCOPED_TRACE(std::to_string(size) + " bytes in fragments of " + std::to_string(fragment_size));
    FrameReader reader;
    const Term big = binary(std::string(size, 'z'));
    const auto frames = fragments_of(big, fragment_size);
    ASSERT_GE(frames.size(), 2u);
    const auto first_bytes = frames[0].as_binary().bytes();
    const std::size_t room = reader.room_after(first_bytes, first_bytes.size());
    EXPECT_GE(room, size + 100 - first_bytes.size());  // enough for the rest
    const auto [m, first] = read_with_room(reader, frames, room);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(*m->payload, big);
    EXPECT_TRUE(points_into(*m->payload, first));
    EXPECT_EQ(reader.pending_bytes(), 0u);
  }
}

TEST(Frame, AMessageThatOutgrowsTheRoomAfterItsFirstFragmentMovesOut) {
  FrameReader reader;
  const Term big = binary(std::string(10000, 'q'));
  const auto [m, first] = read_with_room(reader, fragments_of(big, 1000), 10);  // far less than room_after's
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(*m->payload, big);
  EXPECT_FALSE(points_into(*m->payload, first));
  EXPECT_EQ(reader.pending_bytes(), 0u);
}

TEST(Frame, MoreRoomThanTheLimitsAllowIsLeftUnused) {
  FrameReader reader({.max_message_bytes = 1000});
  const auto frames = fragments_of(binary(std::string(2000, 'l')), 500);
  const RoomyFrame first = with_room(frames[0], 5000);  // more than the largest message
  EXPECT_FALSE(reader.read(first.bytes, &first.owner, first.room).has_value());
  EXPECT_LE(reader.pending_bytes(), 1000u);
  std::string error;
  try {
    for (std::size_t i = 1; i < frames.size(); ++i) reader.read(frames[i]);
  } catch (const FrameError& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("larger than 1000 bytes"), std::string::npos) << error;
}

TEST(Frame, RoomIsAskedForFirstFragmentsOnlyAndWithinTheLimits) {
  FrameReader reader({.max_message_bytes = 1000, .max_pending_bytes = 5000});
  const Bytes normal = {131, 68, 0, 112, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const Bytes whole = {131, 69, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};  // fragment 1 of 1
  const Bytes of_many = {131, 69, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0};  // 2^40 fragments
  EXPECT_EQ(reader.room_after(normal, 900), 0u);
  EXPECT_EQ(reader.room_after(whole, 900), 0u);
  EXPECT_EQ(reader.room_after(std::span(of_many).first(17), 900), 0u);  // too little to tell
  EXPECT_EQ(reader.room_after(of_many, 900), 100u);                     // up to the largest message
  EXPECT_EQ(reader.room_after(of_many, 1000), 0u);
  FrameReader tight({.max_message_bytes = 100000, .max_pending_bytes = 5000});
  EXPECT_EQ(tight.room_after(of_many, 3000), 2000u);  // up to what fragments may hold in all
}

TEST(Frame, RoomMustBeTheEndOfTheFramesOwnBinary) {
  FrameReader reader;
  const RoomyFrame f = with_room(fragments_of(binary(std::string(10000, 'r')), 1000)[0], 100);
  EXPECT_THROW(reader.read(f.bytes, nullptr, f.room), std::invalid_argument);
  EXPECT_THROW(reader.read(f.bytes, &f.owner, f.room + 1), std::invalid_argument);
  EXPECT_THROW(reader.read(f.bytes.first(f.bytes.size() - 1), &f.owner, f.room), std::invalid_argument);
  EXPECT_EQ(reader.pending_bytes(), 0u);
}

TEST(Frame, PassThroughFramesCarryVersionedTerms) {
  FrameReader reader;
  const Bytes f = {112, 131, 104, 3, 97, 2, 106, 97, 7, 131, 97, 42};  // {2, [], 7} then 42
  const auto m = reader.read(frame(f));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->control, tuple(2, Term(), 7));
  EXPECT_EQ(*m->payload, Term(42));
}

// Found by tests/fuzz/fuzz_frame: the control message of a pass-through frame was not
// checked, so a frame of 112 alone, or one whose control message was [] or {}, reached
// interpret(), which reads the operation number from element 1 of the tuple unchecked.
TEST(Frame, PassThroughControlMessagesAreCheckedToo) {
  FrameReader reader;
  EXPECT_NE(std::string(frame_error(reader, frame({112})).what()).find("without a control message"),
            std::string::npos);
  for (const Bytes& f : {Bytes{112, 131, 106}, Bytes{112, 131, 104, 0}, Bytes{112, 131, 104, 1, 119, 1, 'x'},
                         Bytes{112, 131, 97, 2, 131, 97, 42}}) {
    const FrameError e = frame_error(reader, frame(f));
    EXPECT_NE(std::string(e.what()).find("control message is not a tuple"), std::string::npos) << e.what();
    EXPECT_EQ(e.offset(), 2u);
  }
  EXPECT_TRUE(reader.read(frame({112, 131, 104, 1, 97, 5})).has_value());  // {5}: NODE_LINK
}

}  // namespace
}  // namespace spindle::dist
