#include <gtest/gtest.h>

#include "spindle/bigint.hpp"
#include "spindle/etf.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const Bytes kNonode = {119, 13, 'n', 'o', 'n', 'o', 'd', 'e', '@', 'n', 'o', 'h', 'o', 's', 't'};

// What OTP 25 emits for term_to_binary(T, [{minor_version, 2}]).
TEST(EtfEncode, MatchesOtpByteForByte) {
  const std::uint32_t ref[] = {217782, 2135949313, 1385290053};
  const std::vector<std::pair<Term, Bytes>> cases = {
      {Pid(atoms::nonode_at_nohost, 9, 0, 0), cat({{131, 88}, kNonode, {0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0}})},
      {Ref(atoms::nonode_at_nohost, 0, ref),
       cat({{131, 90, 0, 3}, kNonode, {0, 0, 0, 0, 0, 3, 82, 182, 127, 80, 0, 1, 82, 145, 217, 69}})},
      {Port(atoms::nonode_at_nohost, 0, 0), cat({{131, 89}, kNonode, {0, 0, 0, 0, 0, 0, 0, 0}})},
      {map({{atom("b"), 1}, {atom("a"), 2}, {1, atom("x")}, {1.0, atom("y")}}),
       {131, 116, 0, 0, 0, 4, 97, 1, 119, 1, 120, 70, 63, 240, 0, 0, 0, 0, 0, 0, 119, 1, 121, 119, 1, 97, 97, 2, 119,
        1, 98, 97, 1}},
      {string("abc"), {131, 107, 0, 3, 97, 98, 99}},
      {list_from(std::vector<Term>{1, 2}, Term(3)), {131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3}},
      {Term(256), {131, 98, 0, 0, 1, 0}},
      {Term(-1), {131, 98, 255, 255, 255, 255}},
      {Term(std::int64_t{1} << 62), {131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 64}},
      {integer(BigInt(1) << 64), {131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
      {integer(-(BigInt(1) << 64)), {131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
      {Term(1.5), {131, 70, 63, 248, 0, 0, 0, 0, 0, 0}},
      {Term(-0.0), {131, 70, 128, 0, 0, 0, 0, 0, 0, 0}},
      {bitstring(Bytes{1, 64}, 11), {131, 77, 0, 0, 0, 2, 3, 1, 64}},
      {export_fun(atom("lists"), atom("sum"), 1), {131, 113, 119, 5, 108, 105, 115, 116, 115, 119, 3, 115, 117, 109, 97, 1}},
      {Term(atom("hello world")), {131, 119, 11, 104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100}},
      {Term(atom("\xc3\xa9" "a")), {131, 119, 3, 195, 169, 97}},
      {Term(), {131, 106}},
      {tuple(), {131, 104, 0}},
      {binary(""), {131, 109, 0, 0, 0, 0}},
  };
  for (const auto& [term, expected] : cases) EXPECT_EQ(etf::encode(term), expected) << to_string(term);
}

TEST(EtfEncode, ClosuresRoundTripExactly) {
  const Bytes closure = {131, 112, 0, 0, 0, 67, 1, 59, 1, 118, 164, 195, 176, 16, 225, 115, 203, 122, 40, 132, 248,
                         204, 194, 0, 0, 0, 1, 0, 0, 0, 0, 119, 1, 116, 97, 1, 98, 1, 216, 11, 181, 88, 119, 13, 110,
                         111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(etf::encode(etf::decode(closure)), closure);
  // A closure with free variables: the size field covers them.
  Bytes with_free = closure;
  with_free[5] = 67 + 2;  // size
  with_free[30] = 1;      // NumFree = 1
  with_free.insert(with_free.end(), {97, 7});
  const Term t = etf::decode(with_free);
  EXPECT_EQ(t.as_fun().closure().count, 1u);
  EXPECT_EQ(etf::encode(t), with_free);
}

// Joins a split encoding's bytes and its external binaries back into one encoding.
Bytes join_split(const Term& t, std::size_t min_external) {
  const etf::SplitEncodingSize size = etf::split_encoded_size(t, min_external);
  Bytes bytes(size.bytes);
  std::vector<etf::ExternalBytes> externals(size.externals);
  etf::split_encode_to(t, bytes, externals, min_external);
  Bytes joined = {etf::kVersion};
  std::size_t at = 0;
  for (const etf::ExternalBytes& e : externals) {
    EXPECT_GE(e.size, min_external);
    joined.insert(joined.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.begin() + static_cast<std::ptrdiff_t>(e.at));
    joined.insert(joined.end(), e.data, e.data + e.size);
    at = e.at;
  }
  joined.insert(joined.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end());
  return joined;
}

TEST(EtfEncode, SplitEncodingLeavesLargeBinariesInPlace) {
  const Term big = binary(std::string(300, 'b'));
  const Term t = tuple(atom("bulk"), list(binary("small"), big, binary(std::string(100, 'c'))),
                       map({{atom("k"), big}}), bitstring(Bytes(200, 'd'), 199 * 8 + 3));
  for (std::size_t min : {1u, 64u, 100u, 301u}) EXPECT_EQ(join_split(t, min), etf::encode(t)) << min;
  const etf::SplitEncodingSize size = etf::split_encoded_size(t, 100);
  EXPECT_EQ(size.externals, 4u);  // big twice, the 100-byte binary and the bitstring
  EXPECT_EQ(size.bytes + 300 + 300 + 100 + 200, etf::encode(t).size() - 1);
  // The external parts point into the term's own binaries: no copy.
  std::vector<etf::ExternalBytes> externals(size.externals);
  Bytes bytes(size.bytes);
  etf::split_encode_to(t, bytes, externals, 100);
  EXPECT_EQ(externals[0].data, big.as_binary().data());
  Bytes too_small(size.bytes - 1);
  EXPECT_THROW(etf::split_encode_to(t, too_small, externals, 100), std::length_error);
}

TEST(EtfEncode, SplitEncodingKeepsClosureSizesRight) {
  // A closure whose free variables hold a large binary: its size field spans the binary.
  Bytes closure = {131, 112, 0, 0, 0, 67, 1, 59, 1, 118, 164, 195, 176, 16, 225, 115, 203, 122, 40, 132, 248,
                   204, 194, 0, 0, 0, 1, 0, 0, 0, 1, 119, 1, 116, 97, 1, 98, 1, 216, 11, 181, 88, 119, 13, 110,
                   111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0,
                   109, 0, 0, 1, 0};
  closure.insert(closure.end(), 256, 'z');
  closure[4] = 0x01;  // size = 67 + 5 + 256 = 328 = 0x148
  closure[5] = 0x48;
  const Term fun = etf::decode(closure);
  const Term t = tuple(binary(std::string(200, 'a')), fun);
  EXPECT_EQ(join_split(t, 128), etf::encode(t));
}

TEST(EtfEncode, PicksTheSmallestFormOtpWould) {
  // Lists of bytes are strings only when proper and at most 65535 long.
  EXPECT_EQ(etf::encode(list(1, 256))[1], etf::kList);
  EXPECT_EQ(etf::encode(list(1, -1))[1], etf::kList);
  EXPECT_EQ(etf::encode(list_from(std::vector<Term>{1}, Term(2)))[1], etf::kList);
  EXPECT_EQ(etf::encode(list_from(std::vector<Term>(65535, Term(1))))[1], etf::kString);
  EXPECT_EQ(etf::encode(list_from(std::vector<Term>(65536, Term(1))))[1], etf::kList);
  // Large arities and lengths switch to the 4-byte forms.
  EXPECT_EQ(etf::encode(tuple_from(std::vector<Term>(256, Term())))[1], etf::kLargeTuple);
  EXPECT_EQ(etf::encode(integer(BigInt(1) << 2039))[1], etf::kSmallBig);  // 2040 bits: 255 bytes
  EXPECT_EQ(etf::encode(integer(BigInt(1) << 2040))[1], etf::kLargeBig);  // 256 bytes
  std::string long_name;
  for (int i = 0; i < 100; ++i) long_name += "\xe6\x97\xa5";  // 300 bytes
  EXPECT_EQ(etf::encode(atom(long_name))[1], etf::kAtomUtf8);
  EXPECT_EQ(etf::encode(Port(atom("a@b"), std::uint64_t{1} << 33, 1))[1], etf::kV4Port);
}

TEST(EtfEncode, SizeAndCallerProvidedBuffers) {
  const Term t = tuple(atoms::ok, list(1, 2, 3), binary(std::string(1000, 'b')), map({{1, 2.5}}));
  const Bytes expected = etf::encode(t);
  EXPECT_EQ(etf::encoded_size(t), expected.size());
  Bytes out(expected.size());
  EXPECT_EQ(etf::encode_to(t, out), expected.size());
  EXPECT_EQ(out, expected);
  Bytes small(expected.size() - 1);
  EXPECT_THROW((void)etf::encode_to(t, small), std::length_error);
  ByteBuffer buffer;
  buffer.append("xy", 2);
  etf::encode(t, buffer);  // appends
  EXPECT_EQ(buffer.size(), 2 + expected.size());
  EXPECT_EQ(Bytes(buffer.data() + 2, buffer.data() + buffer.size()), expected);
}

TEST(EtfEncode, CompressedWhenSmaller) {
  const Term repetitive = binary(std::string(10000, 'a'));
  const Bytes z = etf::encode(repetitive, {.compressed = true});
  EXPECT_EQ(z[1], etf::kCompressed);
  EXPECT_LT(z.size(), 200u);
  EXPECT_EQ(etf::decode(z), repetitive);
  EXPECT_EQ(etf::encode(Term(1), {.compressed = true}), etf::encode(Term(1)));  // no gain: plain
  EXPECT_THROW((void)etf::encode(Term(1), {.compressed = true, .compression_level = 10}), std::invalid_argument);
}

TEST(EtfEncode, AtomCacheReferences) {
  struct OkOnly : etf::AtomCacheEncoder {
    int reference(Atom a) override { return a == atoms::ok ? 3 : -1; }
  } cache;
  ByteBuffer out;
  etf::encode_body(tuple(atoms::ok, atoms::error), out, &cache);
  EXPECT_EQ(Bytes(out.data(), out.data() + out.size()),
            (Bytes{104, 2, 82, 3, 119, 5, 'e', 'r', 'r', 'o', 'r'}));
}

TEST(EtfEncode, RoundTripOfEveryKind) {
  const std::uint32_t words[] = {1, 2, 3, 4, 5};
  const std::vector<Term> terms = {
      Term(0), Term(Term::kMaxSmall), Term(Term::kMinSmall), integer(-(BigInt(1) << 300)), Term(-1.0e-300),
      atom(""), atom("with space"), string("h\xc3\xa9llo"), tuple(1, tuple(2, tuple(3))), map({}),
      map({{tuple(1), list(1)}, {binary("k"), map({{1, 2}})}}), binary(std::string(300, '\0')),
      bitstring(Bytes{0xAA, 0xBB, 0xC0}, 18), Pid(atom("x@y"), 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
      Ref(atom("x@y"), 1, words), Port(atom("x@y"), 0, 0), list_from(std::vector<Term>{1}, binary("tail")),
      cons(1, cons(2, cons(3, Term(atoms::ok))))};
  for (const Term& t : terms) {
    const Bytes bytes = etf::encode(t);
    EXPECT_EQ(etf::decode(bytes), t) << to_string(t);
    EXPECT_EQ(etf::encode(etf::decode(bytes)), bytes) << to_string(t);
  }
}

}  // namespace
}  // namespace spindle
