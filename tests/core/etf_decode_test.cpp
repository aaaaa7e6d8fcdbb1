#include <gtest/gtest.h>

#include <random>

#include <zlib.h>

#include "spindle/bigint.hpp"
#include "spindle/etf.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {

using Bytes = std::vector<std::uint8_t>;
using etf::DecodeErrc;

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes utf8_atom(std::string_view s) {
  Bytes b{119, static_cast<std::uint8_t>(s.size())};
  b.insert(b.end(), s.begin(), s.end());
  return b;
}

// The error decoding `bytes` raises, or fails the test if it decodes.
etf::DecodeError decode_error(const Bytes& bytes, const etf::DecodeOptions& options = {}) {
  try {
    const Term t = etf::decode(bytes, options);
    ADD_FAILURE() << "decoded " << to_string(t);
  } catch (const etf::DecodeError& e) {
    return e;
  }
  return etf::DecodeError(DecodeErrc::Truncated, 0, "none");
}

const Bytes kNode = utf8_atom("a@b");

TEST(EtfDecode, EveryTag) {
  const std::uint32_t ref2[] = {1, 2};
  const std::uint32_t ref3[] = {7, 8, 9};
  const std::uint32_t ref1[] = {9};
  Bytes float_string(31, 0);
  const std::string text = "1.50000000000000000000e+00";
  std::copy(text.begin(), text.end(), float_string.begin());

  const std::vector<std::pair<Bytes, Term>> cases = {
      {{131, 97, 5}, Term(5)},
      {{131, 98, 255, 255, 255, 255}, Term(-1)},
      {{131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, integer(BigInt(1) << 64)},
      {{131, 111, 0, 0, 0, 1, 1, 7}, Term(-7)},
      {{131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 64}, integer(BigInt(1) << 62)},
      {{131, 110, 3, 1, 0, 0, 0}, Term(0)},  // negative zero is zero
      {{131, 70, 63, 248, 0, 0, 0, 0, 0, 0}, Term(1.5)},
      {cat({{131, 99}, float_string}), Term(1.5)},
      {{131, 100, 0, 2, 'o', 'k'}, Term(atoms::ok)},
      {{131, 115, 2, 0xE9, 'a'}, Term(atom("\xc3\xa9" "a"))},
      {{131, 118, 0, 3, 0xC3, 0xA9, 'a'}, Term(atom("\xc3\xa9" "a"))},
      {{131, 119, 2, 'o', 'k'}, Term(atoms::ok)},
      {{131, 106}, Term()},
      {{131, 107, 0, 3, 'a', 'b', 'c'}, string("abc")},
      {{131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3}, list_from(std::vector<Term>{1, 2}, Term(3))},
      {{131, 108, 0, 0, 0, 0, 106}, Term()},
      {{131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106}, list(1, 2)},  // nested LIST_EXT tail
      {{131, 104, 2, 97, 1, 97, 2}, tuple(1, 2)},
      {{131, 105, 0, 0, 0, 1, 106}, tuple(Term())},
      {{131, 104, 0}, tuple()},
      {{131, 116, 0, 0, 0, 2, 119, 1, 'b', 97, 1, 119, 1, 'a', 97, 2}, map({{atom("a"), 2}, {atom("b"), 1}})},
      {{131, 116, 0, 0, 0, 0}, map({})},
      {{131, 109, 0, 0, 0, 2, 1, 2}, binary(std::string("\x01\x02", 2))},
      {{131, 77, 0, 0, 0, 2, 3, 1, 64}, bitstring(Bytes{1, 64}, 11)},
      {{131, 77, 0, 0, 0, 1, 3, 255}, bitstring(Bytes{0xE0}, 3)},  // unused bits are ignored
      {{131, 77, 0, 0, 0, 1, 8, 7}, binary(std::string("\x07", 1))},
      {{131, 77, 0, 0, 0, 0, 0}, binary("")},
      {cat({{131, 103}, kNode, {0, 0, 0, 1, 0, 0, 0, 2, 3}}), Pid(atom("a@b"), 1, 2, 3)},
      {cat({{131, 88}, kNode, {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}}), Pid(atom("a@b"), 1, 2, 3)},
      {cat({{131, 88, 100, 0, 3, 'a', '@', 'b'}, {0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}}), Pid(atom("a@b"), 1, 2, 3)},
      {cat({{131, 102}, kNode, {0, 0, 0, 5, 1}}), Port(atom("a@b"), 5, 1)},
      {cat({{131, 89}, kNode, {0, 0, 0, 5, 0, 0, 0, 1}}), Port(atom("a@b"), 5, 1)},
      {cat({{131, 120}, kNode, {0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 1}}), Port(atom("a@b"), (std::uint64_t{1} << 32) | 5, 1)},
      {cat({{131, 101}, kNode, {0, 0, 0, 9, 2}}), Ref(atom("a@b"), 2, ref1)},
      {cat({{131, 114, 0, 2}, kNode, {1, 0, 0, 0, 1, 0, 0, 0, 2}}), Ref(atom("a@b"), 1, ref2)},
      {cat({{131, 90, 0, 3}, kNode, {0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 8, 0, 0, 0, 9}}), Ref(atom("a@b"), 7, ref3)},
      {{131, 113, 119, 5, 'l', 'i', 's', 't', 's', 119, 3, 's', 'u', 'm', 97, 1},
       export_fun(atom("lists"), atom("sum"), 1)},
  };
  for (const auto& [bytes, expected] : cases) {
    const Term got = etf::decode(bytes);
    EXPECT_EQ(got, expected) << "got " << to_string(got) << ", expected " << to_string(expected);
  }
}

// fun(X) -> X end from module t, as OTP 25 encodes it.
const Bytes kClosure = {131, 112, 0, 0, 0, 67, 1, 59, 1, 118, 164, 195, 176, 16, 225, 115, 203, 122, 40, 132, 248,
                        204, 194, 0, 0, 0, 1, 0, 0, 0, 0, 119, 1, 116, 97, 1, 98, 1, 216, 11, 181, 88, 119, 13, 110,
                        111, 110, 111, 100, 101, 64, 110, 111, 104, 111, 115, 116, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0};

TEST(EtfDecode, Closure) {
  const Term fun = etf::decode(kClosure);
  ASSERT_TRUE(fun.is_fun());
  const FunView view = fun.as_fun();
  EXPECT_FALSE(view.is_export());
  EXPECT_EQ(view.module(), atom("t"));
  EXPECT_EQ(view.arity(), 1u);
  EXPECT_EQ(view.closure().index, 1u);
  EXPECT_EQ(view.closure().old_uniq.as_int(), 30935989);
  EXPECT_EQ(to_string(fun), "#Fun<t.1.30935989>");
}

struct BadCase {
  const char* name;
  Bytes bytes;
  DecodeErrc code;
  std::size_t offset;
};

TEST(EtfDecode, MalformedInputIsATypedErrorWithItsOffset) {
  std::string long_atom(256, 'x');
  Bytes long_latin1 = {131, 100, 1, 0};
  long_latin1.insert(long_latin1.end(), long_atom.begin(), long_atom.end());
  Bytes nan_string(31, 0);
  const std::string nan = "nan";
  std::copy(nan.begin(), nan.end(), nan_string.begin());
  Bytes junk_string(31, 0);
  const std::string junk = "1.5x";
  std::copy(junk.begin(), junk.end(), junk_string.begin());

  const std::vector<BadCase> cases = {
      {"empty", {}, DecodeErrc::Truncated, 0},
      {"version", {130, 97, 1}, DecodeErrc::BadVersion, 0},
      {"no term", {131}, DecodeErrc::Truncated, 1},
      {"truncated integer", {131, 98, 0, 0}, DecodeErrc::Truncated, 2},
      {"unknown tag", {131, 200}, DecodeErrc::UnknownTag, 1},
      {"FUN_EXT", {131, 117, 0, 0, 0, 0}, DecodeErrc::UnknownTag, 1},
      {"LOCAL_EXT", {131, 121, 0}, DecodeErrc::UnknownTag, 1},
      {"nested compressed", {131, 104, 1, 80, 0, 0, 0, 1}, DecodeErrc::UnknownTag, 3},
      {"trailing", {131, 97, 1, 0}, DecodeErrc::TrailingBytes, 3},
      {"tuple lies", {131, 104, 3, 97, 1}, DecodeErrc::BadLength, 1},
      {"huge list", {131, 108, 255, 255, 255, 255, 106}, DecodeErrc::BadLength, 1},
      {"huge map", {131, 116, 0, 0, 0, 3, 97, 1, 97, 2}, DecodeErrc::BadLength, 1},
      {"huge binary", {131, 109, 255, 255, 255, 255, 1}, DecodeErrc::Truncated, 6},
      {"huge big", {131, 111, 255, 255, 255, 255, 0, 1}, DecodeErrc::Truncated, 7},
      {"big sign", {131, 110, 1, 2, 5}, DecodeErrc::BadLength, 1},
      {"huge tuple", {131, 105, 255, 255, 255, 255}, DecodeErrc::BadLength, 1},
      {"string lies", {131, 107, 0, 5, 'a'}, DecodeErrc::Truncated, 4},
      {"invalid utf8 atom", {131, 119, 2, 0xC3, 0x28}, DecodeErrc::InvalidUtf8, 1},
      {"overlong utf8 atom", {131, 119, 2, 0xC0, 0x80}, DecodeErrc::InvalidUtf8, 1},
      {"latin1 atom too long", long_latin1, DecodeErrc::AtomTooLong, 1},
      {"nan", {131, 70, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0}, DecodeErrc::NonFiniteFloat, 1},
      {"infinity", {131, 70, 0x7F, 0xF0, 0, 0, 0, 0, 0, 0}, DecodeErrc::NonFiniteFloat, 1},
      {"FLOAT_EXT nan", cat({{131, 99}, nan_string}), DecodeErrc::NonFiniteFloat, 1},
      {"FLOAT_EXT junk", cat({{131, 99}, junk_string}), DecodeErrc::BadFloat, 1},
      {"duplicate key", {131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3}, DecodeErrc::DuplicateMapKey, 1},
      {"duplicate float key", {131, 116, 0, 0, 0, 2, 70, 0, 0, 0, 0, 0, 0, 0, 0, 97, 1, 70, 128, 0, 0, 0, 0, 0, 0, 0, 97, 2},
       DecodeErrc::DuplicateMapKey, 1},
      {"bit count 9", {131, 77, 0, 0, 0, 1, 9, 0}, DecodeErrc::BadBitstring, 1},
      {"bit count 0", {131, 77, 0, 0, 0, 1, 0, 0}, DecodeErrc::BadBitstring, 1},
      {"empty with bits", {131, 77, 0, 0, 0, 0, 3}, DecodeErrc::BadBitstring, 1},
      {"atom cache without cache", {131, 82, 0}, DecodeErrc::BadAtomCacheRef, 1},
      {"pid node not an atom", {131, 88, 97, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, DecodeErrc::UnexpectedType, 2},
      {"ref with no words", cat({{131, 90, 0, 0}, kNode, {0, 0, 0, 1}}), DecodeErrc::BadReference, 1},
      {"ref with 6 words", cat({{131, 90, 0, 6}, kNode}), DecodeErrc::BadReference, 1},
      {"export arity", {131, 113, 119, 1, 'm', 119, 1, 'f', 98, 0, 0, 0, 1}, DecodeErrc::UnexpectedType, 8},
  };
  for (const BadCase& c : cases) {
    const etf::DecodeError e = decode_error(c.bytes);
    EXPECT_EQ(e.code(), c.code) << c.name << ": " << e.what();
    EXPECT_EQ(e.offset(), c.offset) << c.name << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find("at byte"), std::string::npos) << c.name;
  }
}

TEST(EtfDecode, FunSizeMustMatchContents) {
  Bytes bad = kClosure;
  bad[5] = 66;  // one less than the real size
  EXPECT_EQ(decode_error(bad).code(), DecodeErrc::BadFun);
  bad[5] = 200;  // more than the input holds
  EXPECT_EQ(decode_error(bad).code(), DecodeErrc::BadLength);
}

// Rich input exercising most tags, used for truncation and mutation tests.
Bytes rich_input() {
  const std::uint32_t words[] = {1, 2, 3};
  return etf::encode(tuple(atoms::ok, Pid(atom("a@b"), 1, 2, 3), Ref(atom("a@b"), 4, words), list(1, 2, 3),
                           binary("hello"), map({{atom("k"), 1.5}, {2, string("str")}}), integer(BigInt(1) << 100),
                           bitstring(Bytes{0xFF}, 5), export_fun(atom("m"), atom("f"), 2),
                           list_from(std::vector<Term>{atom("x")}, binary(std::string(100, 'z'))),
                           Port(atom("a@b"), 7, 1), etf::decode(kClosure)));
}

TEST(EtfDecode, EveryTruncationFailsCleanly) {
  const Bytes full = rich_input();
  ASSERT_NO_THROW((void)etf::decode(full));
  for (std::size_t n = 0; n < full.size(); ++n) {
    const Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const etf::DecodeError e = decode_error(prefix);
    EXPECT_TRUE(e.code() == DecodeErrc::Truncated || e.code() == DecodeErrc::BadLength || e.code() == DecodeErrc::BadFun)
        << "prefix of " << n << " bytes: " << e.what();
    EXPECT_LE(e.offset(), n);
  }
}

TEST(EtfDecode, RandomMutationsNeverCrash) {
  const Bytes full = rich_input();
  std::mt19937 rng(12345);
  std::size_t failures = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes b = full;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits; ++i) {
      const std::size_t at = rng() % b.size();
      switch (rng() % 3) {
        case 0: b[at] = static_cast<std::uint8_t>(rng()); break;
        case 1: b[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8)); break;
        default: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
      }
    }
    try {
      const Term t = etf::decode(b);
      // Whatever decodes must encode and decode to the same term.
      EXPECT_EQ(etf::decode(etf::encode(t)), t);
    } catch (const etf::DecodeError& e) {
      ++failures;
      EXPECT_LE(e.offset(), b.size());
    }
  }
  EXPECT_GT(failures, 1000u);
}

TEST(EtfDecode, NestingLimitAndDeepTerms) {
  Bytes deep(1, 131);
  for (int i = 0; i < 20000; ++i) {
    deep.push_back(104);
    deep.push_back(1);
  }
  deep.push_back(106);
  const etf::DecodeError e = decode_error(deep);
  EXPECT_EQ(e.code(), DecodeErrc::TooDeep);
  EXPECT_EQ(e.offset(), 1 + 2 * 10000u);
  // With the limit raised, the decoder and everything after it (print, compare,
  // hash, encode) handle the depth without recursion.
  const Term t = etf::decode(deep, {.max_depth = 100000});
  EXPECT_EQ(etf::encode(t), deep);
  EXPECT_EQ(t, etf::decode(deep, {.max_depth = 100000}));
  EXPECT_NE(t.hash(), 0u);
  EXPECT_EQ(to_string(t).size(), 2 * 20000u + 2);
}

TEST(EtfDecode, LargeBinariesShareTheInputBuffer) {
  std::string payload(1 << 20, 'p');
  const Bytes encoded = etf::encode(tuple(binary(payload), binary("small")));
  const Term buffer = binary(std::string(encoded.begin(), encoded.end()));
  Term big;
  Term small;
  {
    const Term t = etf::decode(buffer);
    big = t.as_tuple()[0];
    small = t.as_tuple()[1];
    const std::uint8_t* start = buffer.as_binary().data();
    EXPECT_GE(big.as_binary().data(), start);  // points into the buffer: no copy
    EXPECT_LT(big.as_binary().data(), start + buffer.as_binary().size());
    EXPECT_FALSE(small.as_binary().data() >= start && small.as_binary().data() < start + buffer.as_binary().size());
  }
  EXPECT_EQ(big.as_binary().size(), payload.size());  // still valid: the term keeps the buffer alive
  EXPECT_EQ(big.as_binary().as_string_view(), payload);
  // From a plain span there is nothing to share, so binaries are copied.
  const Term copied = etf::decode(encoded);
  EXPECT_FALSE(copied.as_tuple()[0].as_binary().data() >= encoded.data() &&
               copied.as_tuple()[0].as_binary().data() < encoded.data() + encoded.size());
}

Bytes compressed_form(const Bytes& body, std::uint32_t announced) {
  uLongf size = compressBound(static_cast<uLong>(body.size()));
  Bytes z(size);
  compress(z.data(), &size, body.data(), static_cast<uLong>(body.size()));
  z.resize(size);
  return cat({{131, 80, static_cast<std::uint8_t>(announced >> 24), static_cast<std::uint8_t>(announced >> 16),
               static_cast<std::uint8_t>(announced >> 8), static_cast<std::uint8_t>(announced)},
              z});
}

TEST(EtfDecode, CompressedTerms) {
  const Bytes body = {104, 2, 97, 1, 109, 0, 0, 0, 3, 'a', 'b', 'c'};
  EXPECT_EQ(etf::decode(compressed_form(body, 12)), tuple(1, binary("abc")));
  EXPECT_EQ(decode_error(compressed_form(body, 13)).code(), DecodeErrc::BadCompressed);
  EXPECT_EQ(decode_error(compressed_form(body, 11)).code(), DecodeErrc::BadCompressed);
  EXPECT_EQ(decode_error({131, 80, 0, 0, 0, 5, 1, 2, 3, 4}).code(), DecodeErrc::BadCompressed);
  EXPECT_EQ(decode_error({131, 80, 0, 0}).code(), DecodeErrc::Truncated);
  const etf::DecodeError big = decode_error(compressed_form(body, 100 << 20));
  EXPECT_EQ(big.code(), DecodeErrc::TooLarge);
  Bytes trailing = compressed_form(body, 12);
  trailing.push_back(0);
  EXPECT_EQ(decode_error(trailing).code(), DecodeErrc::TrailingBytes);
  const Bytes bad_inner = {104, 3, 97, 1};
  const etf::DecodeError inner = decode_error(compressed_form(bad_inner, 4));
  EXPECT_EQ(inner.code(), DecodeErrc::BadLength);
  EXPECT_NE(std::string(inner.what()).find("inflated data"), std::string::npos);
}

TEST(EtfDecode, AtomCacheReferences) {
  const Atom cache[] = {atom("first"), atom("second")};
  const Bytes bytes = {131, 104, 2, 82, 1, 82, 0};
  EXPECT_EQ(etf::decode(bytes, {.atom_cache = cache}), tuple(atom("second"), atom("first")));
  EXPECT_EQ(decode_error({131, 82, 2}, {.atom_cache = cache}).code(), DecodeErrc::BadAtomCacheRef);
}

TEST(EtfDecode, FullAtomTableIsADecodeError) {
  const std::size_t old_limit = atom_limit();
  set_atom_limit(atom_count());
  const etf::DecodeError e = decode_error({131, 104, 1, 119, 6, 'n', 'e', 'w', 'o', 'n', 'e'});
  set_atom_limit(old_limit);
  EXPECT_EQ(e.code(), DecodeErrc::AtomTableFull);
  EXPECT_EQ(e.offset(), 3u);
}

TEST(EtfDecode, BodiesInSequence) {
  const Bytes two = {97, 1, 104, 1, 106};
  std::size_t offset = 0;
  EXPECT_EQ(etf::decode_body(two, offset), Term(1));
  EXPECT_EQ(offset, 2u);
  EXPECT_EQ(etf::decode_body(two, offset), tuple(Term()));
  EXPECT_EQ(offset, two.size());
}

}  // namespace
}  // namespace spindle
