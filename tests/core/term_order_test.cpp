#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "spindle/bigint.hpp"
#include "spindle/term.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {

bool lt(const Term& a, const Term& b) { return (a <=> b) < 0; }
bool equivalent(const Term& a, const Term& b) { return (a <=> b) == 0; }

TEST(TermOrder, ClassesFollowErlang) {
  // number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring
  const std::uint32_t w[] = {1};
  const std::vector<Term> ascending = {
      Term(1),
      Term(atoms::ok),
      Ref(atom("n@h"), 1, w),
      export_fun(atom("m"), atom("f"), 0),
      Port(atom("n@h"), 1, 1),
      Pid(atom("n@h"), 1, 0, 1),
      tuple(),
      map({}),
      Term(),
      list(1),
      binary(""),
  };
  for (std::size_t i = 0; i < ascending.size(); ++i)
    for (std::size_t j = i + 1; j < ascending.size(); ++j)
      EXPECT_TRUE(lt(ascending[i], ascending[j])) << to_string(ascending[i]) << " < " << to_string(ascending[j]);
}

TEST(TermOrder, NumbersCompareByValueButAreNotExactlyEqual) {
  EXPECT_TRUE(equivalent(Term(1), Term(1.0)));  // 1 == 1.0
  EXPECT_NE(Term(1), Term(1.0));                // 1 =/= 1.0
  EXPECT_TRUE(lt(Term(1), Term(1.5)));
  EXPECT_TRUE(lt(Term(1.5), Term(2)));
  EXPECT_TRUE(lt(Term(-3), Term(-2.5)));
  EXPECT_TRUE(equivalent(Term(0.0), Term(-0.0)));
  EXPECT_EQ(Term(0.0), Term(-0.0));  // OTP 25/26: 0.0 =:= -0.0
  // Exact order (map keys): every integer before every float.
  EXPECT_TRUE(exact_compare(Term(5), Term(1.0)) < 0);
  EXPECT_TRUE(exact_compare(Term(1.0), Term(1)) > 0);
}

TEST(TermOrder, BigIntegersAgainstFloatsAndEachOther) {
  const Term big = integer(BigInt(1) << 70);
  const Term bigger = integer((BigInt(1) << 70) + 1);
  const Term negative = integer(-(BigInt(1) << 70));
  EXPECT_TRUE(lt(big, bigger));
  EXPECT_TRUE(lt(negative, Term(0)));
  EXPECT_TRUE(lt(Term(Term::kMaxSmall), big));
  EXPECT_TRUE(lt(negative, Term(Term::kMinSmall)));
  EXPECT_TRUE(equivalent(big, Term(std::ldexp(1.0, 70))));
  EXPECT_TRUE(lt(big, Term(std::ldexp(1.0, 70) * 1.0000001)));
  EXPECT_TRUE(lt(Term(std::ldexp(1.0, 69)), big));
  EXPECT_TRUE(lt(bigger, Term(1.0e300)));
  EXPECT_TRUE(lt(Term(-1.0e300), negative));
  EXPECT_TRUE(lt(integer(BigInt(1) << 2000), integer(BigInt(1) << 2001)));
  EXPECT_TRUE(lt(Term(1.0e300), integer(BigInt(1) << 2000)));  // beyond any double
  EXPECT_TRUE(lt(Term(std::numeric_limits<std::int64_t>::max()), Term(9.2233720368547758e18)));  // 2^63
  EXPECT_TRUE(lt(Term(std::numeric_limits<std::int64_t>::max()), Term(1.0e19)));
}

TEST(TermOrder, AtomsAlphabetically) {
  EXPECT_TRUE(lt(atom("apple"), atom("banana")));
  EXPECT_TRUE(lt(atom("a"), atom("ab")));
}

TEST(TermOrder, TuplesBySizeThenElements) {
  EXPECT_TRUE(lt(tuple(9, 9), tuple(1, 1, 1)));
  EXPECT_TRUE(lt(tuple(1, 2), tuple(1, 3)));
  EXPECT_TRUE(equivalent(tuple(1, 2), tuple(1.0, 2)));
  EXPECT_NE(tuple(1, 2), tuple(1.0, 2));
}

TEST(TermOrder, ListsCellByCellThenTails) {
  EXPECT_TRUE(lt(Term(), list(1)));
  EXPECT_TRUE(lt(list(1, 2), list(1, 3)));
  EXPECT_TRUE(lt(list(1, 2), list(1, 2, 3)));  // a prefix sorts first
  EXPECT_TRUE(lt(list(1, 2, 3), list(2)));
  // [1|2] vs [1,2]: tails 2 and [2]; a number is below a list.
  EXPECT_TRUE(lt(list_from(std::vector<Term>{1}, Term(2)), list(1, 2)));
  // [1|<<>>] vs [1,2]: a bitstring tail is above the list [2].
  EXPECT_TRUE(lt(list(1, 2), list_from(std::vector<Term>{1}, binary(""))));
  EXPECT_TRUE(equivalent(cons(1, cons(2, Term())), list(1.0, 2)));
}

TEST(TermOrder, MapsBySizeThenKeysThenValues) {
  EXPECT_TRUE(lt(map({{9, 9}}), map({{1, 1}, {2, 2}})));
  EXPECT_TRUE(lt(map({{1, 9}}), map({{2, 1}})));
  EXPECT_TRUE(lt(map({{1, 1}}), map({{1, 2}})));
  // Keys compare in exact order: integer key 1 sorts before float key 1.0.
  EXPECT_TRUE(lt(map({{1, atoms::ok}}), map({{1.0, atoms::ok}})));
}

TEST(TermOrder, BitstringsBitByBit) {
  const auto bits = [](std::vector<std::uint8_t> bytes, std::size_t n) { return bitstring(bytes, n); };
  EXPECT_TRUE(lt(binary("abc"), binary("abd")));
  EXPECT_TRUE(lt(binary("ab"), binary("abc")));
  EXPECT_TRUE(lt(bits({0x80}, 1), binary("\x80")));  // <<1:1>> is a prefix of <<128>>
  EXPECT_TRUE(lt(bits({0x00}, 7), binary(std::string(1, '\0'))));
  EXPECT_TRUE(lt(binary("\x40"), bits({0x80}, 1)));
}

// Each case below was checked against OTP 25's own comparison.
TEST(TermOrder, PidsBySerialThenNumberThenNode) {
  EXPECT_TRUE(lt(Pid(atom("a@h"), 1, 0, 1), Pid(atom("a@h"), 0, 1, 1)));  // serial first
  EXPECT_TRUE(lt(Pid(atom("a@h"), 0xFFFFFFFF, 0, 1), Pid(atom("a@h"), 0, 1, 1)));
  EXPECT_TRUE(lt(Pid(atom("b@h"), 1, 0, 1), Pid(atom("a@h"), 5, 0, 1)));  // number before node
  EXPECT_TRUE(lt(Pid(atom("a@h"), 1, 0, 1), Pid(atom("a@hh"), 1, 0, 1)));
  EXPECT_TRUE(lt(Pid(atom("a@h"), 1, 0, 9), Pid(atom("b@h"), 1, 0, 1)));  // name before creation
  EXPECT_TRUE(lt(Pid(atom("a@h"), 1, 0, 1), Pid(atom("a@h"), 1, 0, 0x80000000)));  // creation unsigned
}

TEST(TermOrder, PortsByNodeThenId) {
  EXPECT_TRUE(lt(Port(atom("a@h"), 5, 1), Port(atom("b@h"), 1, 1)));
  EXPECT_TRUE(lt(Port(atom("a@h"), 9, 1), Port(atom("a@h"), 1, 2)));  // creation before id
  EXPECT_TRUE(lt(Port(atom("a@h"), (std::uint64_t{1} << 32) - 1, 1), Port(atom("a@h"), std::uint64_t{1} << 32, 1)));
}

TEST(TermOrder, RefsByNodeThenWordsPaddedWithZeros) {
  const auto ref = [](const char* node, std::uint32_t creation, std::vector<std::uint32_t> words) {
    return Ref(atom(node), creation, words);
  };
  EXPECT_TRUE(lt(ref("a@h", 1, {5, 0, 0}), ref("b@h", 1, {1, 0, 0})));
  EXPECT_TRUE(lt(ref("a@h", 1, {0, 0, 9}), ref("a@h", 2, {1, 0, 0})));  // creation before words
  EXPECT_TRUE(lt(ref("a@h", 1, {9, 9, 0}), ref("a@h", 1, {0, 0, 1})));  // last word most significant
  EXPECT_TRUE(lt(ref("a@h", 1, {0, 0, 1}), ref("a@h", 1, {0, 0, 0x80000000})));
  EXPECT_EQ(Term(ref("a@h", 1, {5})), Term(ref("a@h", 1, {5, 0, 0})));  // =:= in BEAM too
  EXPECT_EQ(Term(ref("a@h", 1, {5})).hash(), Term(ref("a@h", 1, {5, 0, 0, 0, 0})).hash());
  EXPECT_TRUE(lt(ref("a@h", 1, {9}), ref("a@h", 1, {0, 1})));
  EXPECT_TRUE(lt(ref("a@h", 1, {9, 9, 9}), ref("a@h", 1, {0, 0, 0, 1})));
  EXPECT_TRUE(lt(ref("a@h", 1, {8, 0, 0}), ref("a@h", 1, {9})));
}

TEST(TermOrder, ExportFunsByModuleFunctionArity) {
  EXPECT_TRUE(lt(export_fun(atom("aaa"), atom("z"), 9), export_fun(atom("zzz"), atom("a"), 0)));
  EXPECT_TRUE(lt(export_fun(atom("m"), atom("a"), 5), export_fun(atom("m"), atom("b"), 0)));
  EXPECT_TRUE(lt(export_fun(atom("m"), atom("a"), 1), export_fun(atom("m"), atom("a"), 2)));
}

TEST(TermOrder, SortingIsATotalPreorder) {
  std::vector<Term> terms = {tuple(1), Term(2.0), Term(2), atom("x"), list(1), Term(), binary("z"), map({{1, 1}}),
                             integer(BigInt(1) << 90), Term(-7)};
  std::sort(terms.begin(), terms.end(), [](const Term& a, const Term& b) { return a < b; });
  for (std::size_t i = 1; i < terms.size(); ++i) EXPECT_FALSE(lt(terms[i], terms[i - 1]));
  EXPECT_EQ(terms.front(), Term(-7));
  EXPECT_EQ(terms.back(), binary("z"));
}

}  // namespace
}  // namespace spindle
