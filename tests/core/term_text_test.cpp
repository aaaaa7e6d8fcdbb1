#include <gtest/gtest.h>

#include <sstream>

#include "spindle/bigint.hpp"
#include "spindle/etf.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(TermPrint, ScalarsAsErlangPrintsThem) {
  EXPECT_EQ(to_string(Term(42)), "42");
  EXPECT_EQ(to_string(Term(-7)), "-7");
  EXPECT_EQ(to_string(integer(BigInt("123456789012345678901234567890"))), "123456789012345678901234567890");
  EXPECT_EQ(to_string(integer(-(BigInt(1) << 64))), "-18446744073709551616");
  EXPECT_EQ(to_string(Term(atoms::ok)), "ok");
  EXPECT_EQ(to_string(Term()), "[]");
  EXPECT_EQ(to_string(tuple()), "{}");
  EXPECT_EQ(to_string(map({})), "#{}");
  EXPECT_EQ(to_string(binary("")), "<<>>");
}

TEST(TermPrint, FloatsInTheShortestFormThatReadsBack) {
  // Each pair is what OTP 25's float_to_list(F, [short]) / ~p printed.
  const std::vector<std::pair<double, std::string>> cases = {
      {1.0e20, "1.0e20"},     {1.0e21, "1.0e21"},     {123456789012345678.0, "1.2345678901234568e17"},
      {1.0e-4, "0.0001"},     {1.0e-5, "1.0e-5"},     {0.1, "0.1"},
      {1.5e300, "1.5e300"},   {5.0e-324, "5.0e-324"}, {-0.0, "-0.0"},
      {100.0, "100.0"},       {1.0e15, "1.0e15"},     {12345.678, "12345.678"},
      {2.5e-3, "0.0025"},     {1.0e3, "1.0e3"},       {123456789.0, "123456789.0"},
      {1234567890123456.0, "1234567890123456.0"},     {12345678901234567.0, "1.2345678901234568e16"},
      {1.5e-4, "1.5e-4"},     {0.001, "0.001"},       {1.0, "1.0"},
  };
  for (const auto& [value, text] : cases) EXPECT_EQ(format_float(value), text) << value;
}

TEST(TermPrint, AtomsQuotedWhereErlangQuotesThem) {
  EXPECT_EQ(to_string(Term(atom("hello world"))), "'hello world'");
  EXPECT_EQ(to_string(Term(atom("Upper"))), "'Upper'");
  EXPECT_EQ(to_string(Term(atom(""))), "''");
  EXPECT_EQ(to_string(Term(atom("and"))), "'and'");
  EXPECT_EQ(to_string(Term(atom("it's"))), "'it\\'s'");
  EXPECT_EQ(to_string(Term(atom("a\\b"))), "'a\\\\b'");
  EXPECT_EQ(to_string(Term(atom("a\nb"))), "'a\\nb'");
  EXPECT_EQ(to_string(Term(atom("a\x7f"))), "'a\\d'");
  EXPECT_EQ(to_string(Term(atom("a\x01" "b"))), "'a\\001b'");
  EXPECT_EQ(to_string(Term(atom("a@b.c"))), "'a@b.c'");
  EXPECT_EQ(to_string(Term(atom("\xe6\x97\xa5"))), "'\xe6\x97\xa5'");
}

TEST(TermPrint, StringsAndBinaries) {
  EXPECT_EQ(to_string(string("abc\n")), "\"abc\\n\"");
  EXPECT_EQ(to_string(string("say \"hi\"")), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(to_string(list(1, 2, 3)), "[1,2,3]");      // not printable: a list
  EXPECT_EQ(to_string(list(97, 127)), "[97,127]");     // DEL is not printable in ~p
  EXPECT_EQ(to_string(list(233)), "\"\xc3\xa9\"");     // é: printable Latin-1
  EXPECT_EQ(to_string(list(1000)), "[1000]");          // beyond Latin-1: a list, as ~p
  EXPECT_EQ(to_string(binary("hello")), "<<\"hello\">>");
  EXPECT_EQ(to_string(binary("h\xc3\xa9llo")), "<<\"h\xc3\xa9llo\"/utf8>>");
  EXPECT_EQ(to_string(binary(std::string("\x00\x01\xff", 3))), "<<0,1,255>>");
  EXPECT_EQ(to_string(bitstring(Bytes{1, 64}, 11)), "<<1,2:3>>");
  EXPECT_EQ(to_string(bitstring(Bytes{0x80}, 1)), "<<1:1>>");
  PrintOptions no_strings;
  no_strings.strings = false;
  EXPECT_EQ(to_string(string("ab"), no_strings), "[97,98]");
}

TEST(TermPrint, Containers) {
  const Term t = tuple(atoms::ok, list(1, 2.5, string("str"), binary("bin"), map({{atom("a"), atom("b")}})));
  EXPECT_EQ(to_string(t), "{ok,[1,2.5,\"str\",<<\"bin\">>,#{a => b}]}");
  EXPECT_EQ(to_string(list_from(std::vector<Term>{1, 2}, Term(3))), "[1,2|3]");
  EXPECT_EQ(to_string(map({{1, 2}, {atom("k"), list(1)}})), "#{1 => 2,k => [1]}");
  std::ostringstream os;
  os << tuple(1, 2);
  EXPECT_EQ(os.str(), "{1,2}");
}

TEST(TermPrint, IdentifiersAndFuns) {
  EXPECT_EQ(to_string(Pid(atoms::nonode_at_nohost, 80, 0, 0)), "<0.80.0>");
  EXPECT_EQ(to_string(Pid(atom("b@host"), 80, 1, 3)), "<b@host.80.1>");
  EXPECT_EQ(to_string(Pid(atom("b@127.0.0.1"), 5, 0, 3)), "<'b@127.0.0.1'.5.0>");
  PrintOptions local;
  local.local_node = atom("b@host");
  EXPECT_EQ(to_string(Pid(atom("b@host"), 80, 1, 3), local), "<0.80.1>");
  const std::uint32_t words[] = {217782, 2135949313, 1385290053};
  EXPECT_EQ(to_string(Ref(atoms::nonode_at_nohost, 0, words)), "#Ref<0.1385290053.2135949313.217782>");
  EXPECT_EQ(to_string(Port(atoms::nonode_at_nohost, 5, 0)), "#Port<0.5>");
  EXPECT_EQ(to_string(export_fun(atom("lists"), atom("sum"), 1)), "fun lists:sum/1");
  EXPECT_EQ(to_string(export_fun(atom("My"), atom("f"), 0)), "fun 'My':f/0");
}

TEST(TermParse, TheIssueExample) {
  const Term t = parse_term(
      "{ok, [1, 2.5, \"str\", <<\"bin\">>, #{a => b}], 'Quoted atom', 123456789012345678901234567890}");
  EXPECT_EQ(t, tuple(atoms::ok, list(1, 2.5, string("str"), binary("bin"), map({{atom("a"), atom("b")}})),
                     atom("Quoted atom"), integer(BigInt("123456789012345678901234567890"))));
}

TEST(TermParse, Syntax) {
  EXPECT_EQ(parse_term("42."), Term(42));
  EXPECT_EQ(parse_term("  -42  % a comment\n . "), Term(-42));
  EXPECT_EQ(parse_term("- 7"), Term(-7));
  EXPECT_EQ(parse_term("16#ff"), Term(255));
  EXPECT_EQ(parse_term("-2#1010"), Term(-10));
  EXPECT_EQ(parse_term("36#zz"), Term(1295));
  EXPECT_EQ(parse_term("1_000_000"), Term(1000000));
  EXPECT_EQ(parse_term("$a"), Term(97));
  EXPECT_EQ(parse_term("$\\n"), Term(10));
  EXPECT_EQ(parse_term("$\xc3\xa9"), Term(233));
  EXPECT_EQ(parse_term("1.5e3"), Term(1500.0));
  EXPECT_EQ(parse_term("2.5E-2"), Term(0.025));
  EXPECT_EQ(parse_term("-0.0"), Term(-0.0));
  EXPECT_EQ(parse_term("[]"), Term());
  EXPECT_EQ(parse_term("[1,2|3]"), list_from(std::vector<Term>{1, 2}, Term(3)));
  EXPECT_EQ(parse_term("[a|[b]]"), list(atom("a"), atom("b")));
  EXPECT_EQ(parse_term("\"ab\" \"cd\""), string("abcd"));
  EXPECT_EQ(parse_term("\"\""), Term());
  EXPECT_EQ(parse_term("\"\\x{65E5}\\t\\e\\101\\^A\""), list(0x65E5, 9, 27, 65, 1));
  EXPECT_EQ(parse_term("'\\''"), Term(atom("'")));
  EXPECT_EQ(parse_term("a@b_C"), Term(atom("a@b_C")));
  EXPECT_EQ(parse_term("\xc3\xa9t\xc3\xa9"), Term(atom("\xc3\xa9t\xc3\xa9")));
  EXPECT_EQ(parse_term("#{a => 1, a => 2}"), map({{atom("a"), 2}}));
  EXPECT_EQ(parse_term("#{1 => x, 1.0 => y}").as_map().size(), 2u);
  EXPECT_EQ(parse_term("{}"), tuple());
  EXPECT_EQ(parse_term("<<>>"), binary(""));
  EXPECT_EQ(parse_term("<<1,2,3>>"), binary(std::string("\x01\x02\x03")));
  EXPECT_EQ(parse_term("<<\"h\xc3\xa9\"/utf8>>"), binary("h\xc3\xa9"));
  EXPECT_EQ(parse_term("<<\"ab\", 0, $c>>"), binary(std::string("ab\0c", 4)));
  EXPECT_EQ(parse_term("<<1,2:3>>"), bitstring(Bytes{1, 64}, 11));
  EXPECT_EQ(parse_term("<<-1:16>>"), binary("\xff\xff"));
  EXPECT_EQ(parse_term("<<256:16, 955/utf8>>"), binary(std::string("\x01\x00\xce\xbb", 4)));
  EXPECT_EQ(parse_term("fun lists:sum/1"), export_fun(atom("lists"), atom("sum"), 1));
  EXPECT_EQ(parse_term("fun 'M':'f'/0"), export_fun(atom("M"), atom("f"), 0));
}

TEST(TermParse, ErrorsSayWhatAndWhere) {
  const auto error = [](std::string_view text) -> ParseError {
    try {
      const Term t = parse_term(text);
      ADD_FAILURE() << "parsed " << to_string(t);
    } catch (const ParseError& e) {
      return e;
    }
    return ParseError(0, 0, 0, "");
  };
  EXPECT_EQ(error("").offset(), 0u);
  const ParseError unterminated = error("{ok,\n  \"abc");
  EXPECT_EQ(unterminated.line(), 2u);
  EXPECT_EQ(unterminated.column(), 3u);
  EXPECT_NE(std::string(unterminated.what()).find("unterminated string"), std::string::npos);
  EXPECT_NE(error("{1,2").detail().find("expected ',' or '}'"), std::string::npos);
  EXPECT_NE(error("X").detail().find("variables"), std::string::npos);
  EXPECT_NE(error("and").detail().find("reserved word"), std::string::npos);
  EXPECT_NE(error("1 2").detail().find("after the term"), std::string::npos);
  EXPECT_NE(error("<0.80.0>").detail().find("pids"), std::string::npos);
  EXPECT_NE(error("37#1").detail().find("base"), std::string::npos);
  EXPECT_NE(error("<<\"\xe6\x97\xa5\">>").detail().find("/utf8"), std::string::npos);
  EXPECT_NE(error("#{a}").detail().find("=>"), std::string::npos);
  EXPECT_NE(error("'\xff'").detail().find("UTF-8"), std::string::npos);
  EXPECT_NE(error("1.0e999").detail().find("out of range"), std::string::npos);
  EXPECT_NE(error(std::string(200000, '[')).detail().find("nested deeper"), std::string::npos);
  EXPECT_EQ(parse_term(std::string(50000, '[') + std::string(50000, ']')).as_list().length(), 1u);
}

TEST(TermText, PrintThenParseRoundTrips) {
  const std::vector<Term> terms = {
      tuple(atoms::ok, list(1, 2.5, string("str"), binary("bin"), map({{atom("a"), atom("b")}}))),
      integer(-(BigInt(1) << 300)),
      Term(0.1), Term(1.0e-300), Term(-2.5e100),
      Term(atom("it's \\ odd\n")),
      string("tab\there"), list(233, 255, 160), list(1000, 2000),
      binary(std::string("\x00\xff", 2)), binary("h\xc3\xa9"), bitstring(Bytes{0xAB, 0xC0}, 10),
      map({{tuple(1, 2), list(Term())}, {1.0, 1}, {1, 1.0}}),
      list_from(std::vector<Term>{atom("x")}, Term(atom("y"))),
      export_fun(atom("m"), atom("f"), 3),
  };
  for (const Term& t : terms) EXPECT_EQ(parse_term(to_string(t)), t) << to_string(t);
}

}  // namespace
}  // namespace spindle
