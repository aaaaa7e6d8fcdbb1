#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "spindle/bigint.hpp"
#include "spindle/term.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {

TEST(Term, DefaultIsTheEmptyList) {
  const Term t;
  EXPECT_TRUE(t.is_nil());
  EXPECT_TRUE(t.is_list());
  EXPECT_FALSE(t.is_cons());
  EXPECT_EQ(t.type(), TermType::Nil);
  EXPECT_TRUE(t.as_list().empty());
}

TEST(Term, SmallIntegersAndAtomsAreInlineWords) {
  static_assert(sizeof(Term) == 8);
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42}, Term::kMinSmall, Term::kMaxSmall}) {
    const Term t(v);
    EXPECT_TRUE(t.is_small()) << v;
    EXPECT_FALSE(t.is_boxed());
    EXPECT_EQ(t.as_int(), v);
  }
  EXPECT_FALSE(Term(atoms::ok).is_boxed());
  EXPECT_TRUE(Term(atoms::ok).is_atom(atoms::ok));
  EXPECT_EQ(Term(true), Term(atoms::true_));
  EXPECT_EQ(Term(false).as_atom(), atoms::false_);
}

TEST(Term, IntegersBeyondTheInlineRangeAreBig) {
  const std::int64_t above = Term::kMaxSmall + 1;
  const std::int64_t below = Term::kMinSmall - 1;
  for (std::int64_t v : {above, below, std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()}) {
    const Term t(v);
    EXPECT_TRUE(t.is_integer());
    EXPECT_FALSE(t.is_small()) << v;
    EXPECT_EQ(t.as_int(), v);
    EXPECT_EQ(t.type(), TermType::Integer);
  }
  const Term u(std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(u.to_int64().has_value());
  EXPECT_THROW((void)u.as_int(), BadTermAccess);
  EXPECT_EQ(to_bigint(u), BigInt(std::numeric_limits<std::uint64_t>::max()));
}

TEST(Term, IntegersHaveOneRepresentation) {
  // A big integer that fits inline becomes inline, so equality is structural.
  const std::uint64_t limbs[] = {5, 0, 0};
  EXPECT_TRUE(integer_from_limbs(false, limbs).is_small());
  EXPECT_EQ(integer_from_limbs(true, limbs), Term(-5));
  EXPECT_EQ(integer_from_limbs(true, std::span<const std::uint64_t>()), Term(0));
  const std::uint64_t min_small[] = {std::uint64_t{1} << 62};
  EXPECT_TRUE(integer_from_limbs(true, min_small).is_small());
  EXPECT_FALSE(integer_from_limbs(false, min_small).is_small());
  EXPECT_EQ(integer(BigInt(1) << 100), integer(BigInt(1) << 100));
  EXPECT_EQ(to_bigint(integer(-(BigInt(1) << 200) + 7)), -(BigInt(1) << 200) + 7);
}

TEST(Term, FloatsAreFinite) {
  EXPECT_DOUBLE_EQ(Term(2.5).as_float(), 2.5);
  EXPECT_THROW(Term(std::nan("")), std::domain_error);
  EXPECT_THROW(Term(std::numeric_limits<double>::infinity()), std::domain_error);
  EXPECT_DOUBLE_EQ(Term(3).to_double(), 3.0);
  EXPECT_DOUBLE_EQ(integer(BigInt(1) << 80).to_double(), std::ldexp(1.0, 80));
}

TEST(Term, WrongTypeAccessThrowsWithBothTypesNamed) {
  try {
    (void)Term(atoms::ok).as_tuple();
    FAIL();
  } catch (const BadTermAccess& e) {
    EXPECT_STREQ(e.what(), "expected tuple, got atom");
  }
  EXPECT_THROW((void)Term(1).as_atom(), BadTermAccess);
  EXPECT_THROW((void)Term(1).as_float(), BadTermAccess);
  EXPECT_THROW((void)Term(1.0).as_int(), BadTermAccess);
  EXPECT_THROW((void)binary("x").as_map(), BadTermAccess);
  EXPECT_THROW((void)Term().as_pid(), BadTermAccess);
  EXPECT_THROW((void)bitstring(std::vector<std::uint8_t>{0xff}, 3).as_binary(), BadTermAccess);
}

TEST(Term, TupleBuildAndView) {
  const Term t = tuple(atoms::ok, 42, 2.5, binary("x"));
  EXPECT_TRUE(t.is_tuple(4));
  EXPECT_FALSE(t.is_tuple(3));
  const TupleView v = t.as_tuple();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0], Term(atoms::ok));
  EXPECT_EQ(v[1].as_int(), 42);
  EXPECT_THROW((void)v.at(4), std::out_of_range);
  EXPECT_TRUE(tuple().is_tuple(0));
}

TEST(Term, ListsProperImproperAndChained) {
  const Term l = list(1, 2, 3);
  EXPECT_TRUE(l.is_cons());
  EXPECT_EQ(l.as_list().length(), 3u);
  EXPECT_TRUE(l.as_list().is_proper());
  std::vector<std::int64_t> seen;
  for (const Term& e : l.as_list()) seen.push_back(e.as_int());
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3}));

  const Term improper = list_from(std::vector<Term>{1, 2}, Term(atoms::ok));
  EXPECT_FALSE(improper.as_list().is_proper());
  EXPECT_EQ(improper.as_list().tail(), Term(atoms::ok));
  EXPECT_EQ(improper.as_list().length(), 2u);

  // [0 | [1, 2, 3]] shares [1, 2, 3] and reads as one list.
  const Term consed = cons(0, l);
  EXPECT_EQ(consed, list(0, 1, 2, 3));
  EXPECT_EQ(consed.as_list().length(), 4u);
  EXPECT_EQ(consed.as_list().head().as_int(), 0);
  EXPECT_EQ(consed.as_list().rest(), l);
  EXPECT_EQ(l.as_list().rest(), list(2, 3));
  EXPECT_EQ(l.as_list().rest().as_list().rest().as_list().rest(), Term());
  EXPECT_THROW((void)Term().as_list().head(), BadTermAccess);
  EXPECT_EQ(list_from({}, Term(7)), Term(7));
}

TEST(Term, StringsAreListsOfCodePoints) {
  EXPECT_EQ(string("ab"), list(97, 98));
  EXPECT_EQ(string("\xc3\xa9\xe6\x97\xa5"), list(233, 26085));
  EXPECT_EQ(string(""), Term());
  EXPECT_THROW((void)string("\xff"), std::invalid_argument);
}

TEST(Term, MapsAreSortedAndTheLastDuplicateWins) {
  const Term m = map({{atom("b"), 1}, {atom("a"), 2}, {atom("b"), 3}, {1.0, 4}, {1, 5}});
  const MapView v = m.as_map();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v.key(0), Term(1));  // integers sort before floats in maps
  EXPECT_EQ(v.key(1), Term(1.0));
  EXPECT_EQ(v.key(2), Term(atom("a")));
  EXPECT_EQ(*v.find(atom("b")), Term(3));
  EXPECT_EQ(*v.find(1), Term(5));
  EXPECT_EQ(*v.find(1.0), Term(4));
  EXPECT_EQ(v.find(atom("c")), nullptr);
  std::size_t n = 0;
  for (auto [key, value] : v) {
    EXPECT_EQ(*v.find(key), value);
    ++n;
  }
  EXPECT_EQ(n, 4u);
}

TEST(Term, BinariesBitstringsAndSubBinaries) {
  const Term b = binary("hello");
  EXPECT_TRUE(b.is_binary());
  EXPECT_EQ(b.as_binary().as_string_view(), "hello");
  const std::uint8_t bytes[] = {0xAB, 0xFF};
  const Term bits = bitstring(bytes, 11);
  EXPECT_TRUE(bits.is_bitstring());
  EXPECT_FALSE(bits.is_binary());
  EXPECT_EQ(bits.as_bitstring().bit_size(), 11u);
  EXPECT_EQ(bits.as_bitstring().data()[1], 0xE0);  // unused bits are cleared
  EXPECT_EQ(bits, bitstring(std::vector<std::uint8_t>{0xAB, 0xE7}, 11));

  Term sub;
  {
    const Term whole = binary("0123456789");
    sub = sub_binary(whole, 2, 3);
    EXPECT_EQ(sub.as_binary().data(), whole.as_binary().data() + 2);  // no copy
  }
  EXPECT_EQ(sub.as_binary().as_string_view(), "234");  // and the bytes outlive `whole`
  EXPECT_EQ(sub_binary(sub, 1, 1).as_binary().as_string_view(), "3");
  EXPECT_THROW((void)sub_binary(sub, 2, 2), std::out_of_range);
}

TEST(Term, IdentifiersCarryTheirFields) {
  const Pid p(atom("n@h"), 80, 3, 7);
  EXPECT_TRUE(static_cast<bool>(p));
  EXPECT_FALSE(static_cast<bool>(Pid()));
  EXPECT_EQ(p.node(), atom("n@h"));
  EXPECT_EQ(p.id(), 80u);
  EXPECT_EQ(p.serial(), 3u);
  EXPECT_EQ(p.creation(), 7u);
  EXPECT_EQ(p, Pid(atom("n@h"), 80, 3, 7));
  EXPECT_NE(p, Pid(atom("n@h"), 80, 3, 8));
  const Term as_term = p;
  EXPECT_EQ(as_term.as_pid(), p);

  const std::uint32_t words[] = {1, 2, 3};
  const Ref r(atom("n@h"), 9, words);
  EXPECT_EQ(r.words().size(), 3u);
  EXPECT_EQ(r.words()[2], 3u);
  EXPECT_THROW(Ref(atom("n@h"), 9, std::span<const std::uint32_t>()), std::invalid_argument);

  const Port port(atom("n@h"), std::uint64_t{1} << 40, 2);
  EXPECT_EQ(port.id(), std::uint64_t{1} << 40);
  const Term f = export_fun(atom("lists"), atom("sum"), 1);
  EXPECT_TRUE(f.as_fun().is_export());
  EXPECT_EQ(f.as_fun().function(), atom("sum"));
  EXPECT_EQ(f.as_fun().arity(), 1u);
}

TEST(Term, CopiesShareAndOutliveTheOriginal) {
  Term copy;
  {
    const Term original = tuple(binary("payload"), list(1, 2));
    copy = original;
    EXPECT_EQ(copy.box(), original.box());
  }
  EXPECT_EQ(copy, tuple(binary("payload"), list(1, 2)));
  Term moved = std::move(copy);
  EXPECT_TRUE(copy.is_nil());  // NOLINT(bugprone-use-after-move): moved-from is []
  EXPECT_TRUE(moved.is_tuple(2));
}

TEST(Term, DeepAndLongTermsDoNotExhaustTheStack) {
  // A million nested tuples and a million-cell cons chain, built, compared, hashed and freed.
  Term deep = atoms::ok;
  for (int i = 0; i < 1'000'000; ++i) deep = tuple(deep);
  Term deep2 = atoms::ok;
  for (int i = 0; i < 1'000'000; ++i) deep2 = tuple(deep2);
  EXPECT_EQ(deep, deep2);
  EXPECT_EQ(deep.hash(), deep2.hash());
  EXPECT_TRUE((deep <=> deep2) == 0);

  Term chain;
  for (int i = 0; i < 1'000'000; ++i) chain = cons(i, chain);
  EXPECT_EQ(chain.as_list().length(), 1'000'000u);
  std::string text = to_string(deep);
  EXPECT_EQ(text.size(), 2'000'002u);  // "{" x 1e6, "ok", "}" x 1e6
}

TEST(Term, HashFollowsEquality) {
  const Term a = list(1, 2, 3);
  const Term b = cons(1, cons(2, cons(3, Term())));  // same list, stored as three runs
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_EQ(Term(0.0).hash(), Term(-0.0).hash());
  EXPECT_NE(Term(1).hash(), Term(1.0).hash());
  std::unordered_set<Term> set{a, Term(1), Term(1.0), binary("x"), map({{1, 2}})};
  EXPECT_EQ(set.size(), 5u);
  EXPECT_TRUE(set.contains(b));
  EXPECT_TRUE(set.contains(map({{1, 2}})));
  std::unordered_map<Pid, int> pids{{Pid(atom("a@b"), 1, 0, 1), 1}};
  EXPECT_EQ(pids.at(Pid(atom("a@b"), 1, 0, 1)), 1);
}

}  // namespace
}  // namespace spindle
