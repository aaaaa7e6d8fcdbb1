#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "spindle/atom.hpp"

namespace spindle {
namespace {

TEST(Atom, InterningGivesOneAtomPerName) {
  const Atom a = atom("spindle_test_atom");
  EXPECT_EQ(a, atom("spindle_test_atom"));
  EXPECT_NE(a, atom("spindle_test_atom2"));
  EXPECT_EQ(a.text(), "spindle_test_atom");
}

TEST(Atom, WellKnownAtomsAreConstantsWithTheirNames) {
  static_assert(atoms::empty.index() == 0);
  EXPECT_EQ(atoms::ok, atom("ok"));
  EXPECT_EQ(atoms::ok.text(), "ok");
  EXPECT_EQ(atoms::true_.text(), "true");
  EXPECT_EQ(atoms::gen_call.text(), "$gen_call");
  EXPECT_EQ(atoms::EXIT.text(), "EXIT");
  EXPECT_EQ(atoms::nonode_at_nohost.text(), "nonode@nohost");
  EXPECT_EQ(Atom().text(), "");
}

TEST(Atom, OrderIsByTextNotByIndex) {
  const Atom z = atom("zzz_order_first_interned");
  const Atom a = atom("aaa_order_second_interned");
  EXPECT_LT(a, z);
  EXPECT_GT(z, a);
  EXPECT_LT(atom("abc"), atom("abd"));
  EXPECT_LT(atom("ab"), atom("abc"));
  // UTF-8 byte order is code point order.
  EXPECT_LT(atom("z"), atom("\xc3\xa9"));
}

TEST(Atom, Latin1NamesAreStoredAsUtf8) {
  const Atom a = Atom::from_latin1("caf\xe9");
  EXPECT_EQ(a.text(), "caf\xc3\xa9");
  EXPECT_EQ(a, atom("caf\xc3\xa9"));
  EXPECT_TRUE(a.is_latin1());
  EXPECT_FALSE(atom("\xe6\x97\xa5").is_latin1());
}

TEST(Atom, RejectsInvalidUtf8) {
  for (std::string_view bad : {"\xff", "a\xc3", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    try {
      (void)atom(bad);
      ADD_FAILURE() << "accepted invalid UTF-8";
    } catch (const AtomError& e) {
      EXPECT_EQ(e.kind(), AtomError::Kind::InvalidUtf8);
    }
  }
}

TEST(Atom, LengthLimitIs255Characters) {
  EXPECT_NO_THROW((void)atom(std::string(255, 'x')));
  std::string wide;
  for (int i = 0; i < 255; ++i) wide += "\xe6\x97\xa5";  // 765 bytes, 255 characters
  EXPECT_EQ(atom(wide).text().size(), 765u);
  try {
    (void)atom(std::string(256, 'x'));
    ADD_FAILURE() << "accepted 256 characters";
  } catch (const AtomError& e) {
    EXPECT_EQ(e.kind(), AtomError::Kind::TooLong);
  }
}

TEST(Atom, ExistingDoesNotIntern) {
  const std::size_t before = atom_count();
  EXPECT_FALSE(Atom::existing("spindle_never_interned_atom").has_value());
  EXPECT_EQ(atom_count(), before);
  EXPECT_EQ(Atom::existing("ok"), atoms::ok);
}

TEST(Atom, PrintsBareOnlyWhenErlangDoes) {
  EXPECT_TRUE(atom("ok").prints_bare());
  EXPECT_TRUE(atom("a@b_C9").prints_bare());
  EXPECT_TRUE(atom("\xc3\xa9t\xc3\xa9").prints_bare());  // été
  EXPECT_FALSE(atom("").prints_bare());
  EXPECT_FALSE(atom("Upper").prints_bare());
  EXPECT_FALSE(atom("_x").prints_bare());
  EXPECT_FALSE(atom("a b").prints_bare());
  EXPECT_FALSE(atom("a.b").prints_bare());
  EXPECT_FALSE(atom("and").prints_bare());
  EXPECT_FALSE(atom("receive").prints_bare());
  EXPECT_FALSE(atom("\xe6\x97\xa5").prints_bare());
}

TEST(Atom, TableLimitIsAClearErrorNotAnAbort) {
  const std::size_t old_limit = atom_limit();
  EXPECT_EQ(old_limit, 1u << 20);
  set_atom_limit(atom_count() + 2);
  EXPECT_NO_THROW((void)atom("spindle_limit_test_1"));
  EXPECT_NO_THROW((void)atom("spindle_limit_test_2"));
  try {
    (void)atom("spindle_limit_test_3");
    ADD_FAILURE() << "interned past the limit";
  } catch (const AtomError& e) {
    EXPECT_EQ(e.kind(), AtomError::Kind::TableFull);
    EXPECT_NE(std::string(e.what()).find("atom table full"), std::string::npos);
  }
  EXPECT_EQ(atom("spindle_limit_test_1").text(), "spindle_limit_test_1");  // existing atoms still resolve
  EXPECT_THROW(set_atom_limit(atom_count() - 1), std::invalid_argument);
  EXPECT_THROW(set_atom_limit(max_atom_limit() + 1), std::invalid_argument);
  set_atom_limit(old_limit);
  EXPECT_NO_THROW((void)atom("spindle_limit_test_3"));
}

}  // namespace
}  // namespace spindle

namespace spindle {
namespace {
// The empty atom from a view with no data at all (a default std::string_view).
TEST(Atom, TheEmptyAtomFromANullView) {
  const Atom empty{std::string_view()};
  EXPECT_EQ(empty, atoms::empty);
  EXPECT_EQ(empty.text(), "");
}
}  // namespace
}  // namespace spindle
