// Conformance of the ETF codec, the term order and the text forms against real Erlang.
//
// Erlang (tests/interop/etf_corpus.erl) generates a random corpus of every kind of
// term; Spindle decodes, re-encodes, parses and prints it; Erlang then checks that
// everything Spindle produced is =:= to the originals. Spindle checks on its side that
// its encoding of parsed text is byte-identical to OTP's and that it sorts the corpus
// exactly as lists:sort/1 does.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "child_process.hpp"
#include "spindle/etf.hpp"
#include "spindle/term_text.hpp"

namespace spindle {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

const std::string kScript = std::string(SPINDLE_SOURCE_DIR) + "/tests/interop/etf_corpus.erl";

std::vector<Bytes> read_records(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const Bytes all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<Bytes> records;
  for (std::size_t pos = 0; pos + 4 <= all.size();) {
    const std::size_t n = (std::size_t{all[pos]} << 24) | (std::size_t{all[pos + 1]} << 16) |
                          (std::size_t{all[pos + 2]} << 8) | all[pos + 3];
    records.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                         all.begin() + static_cast<std::ptrdiff_t>(pos + 4 + n));
    pos += 4 + n;
  }
  return records;
}

void write_records(const std::filesystem::path& path, const std::vector<Bytes>& records) {
  std::ofstream out(path, std::ios::binary);
  for (const Bytes& r : records) {
    const auto n = static_cast<std::uint32_t>(r.size());
    const char size[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                          static_cast<char>(n)};
    out.write(size, 4);
    out.write(reinterpret_cast<const char*>(r.data()), static_cast<std::streamsize>(r.size()));
  }
}

// OTP lays out maps of more than 32 keys in hash order, so only smaller maps can
// match byte for byte.
bool has_large_map(const Term& t) {
  switch (t.type()) {
    case TermType::Map:
      if (t.as_map().size() > 32) return true;
      for (auto [k, v] : t.as_map())
        if (has_large_map(k) || has_large_map(v)) return true;
      return false;
    case TermType::Tuple:
      return std::any_of(t.as_tuple().begin(), t.as_tuple().end(), has_large_map);
    case TermType::List:
      return std::any_of(t.as_list().begin(), t.as_list().end(), has_large_map) || has_large_map(t.as_list().tail());
    default:
      return false;
  }
}

Bytes to_bytes(const Term& t) { return etf::encode(t); }

TEST(EtfConformance, ErlangCorpusRoundTripsThroughSpindle) {
  test::TempDir dir;
  const char* seed = std::getenv("SPINDLE_CORPUS_SEED");
  std::string log;
  ASSERT_EQ(test::run_command({"escript", kScript, "gen", dir.path().string(), "400", seed ? seed : "2026"}, 120s, &log),
            0)
      << log;

  // 1. Decode OTP's encoding of every term and encode it again.
  std::vector<Term> corpus;
  std::vector<Bytes> reencoded;
  for (const Bytes& b : read_records(dir / "terms.etf")) {
    corpus.push_back(etf::decode(b));
    reencoded.push_back(to_bytes(corpus.back()));
  }
  ASSERT_GT(corpus.size(), 400u);
  write_records(dir / "reencoded.etf", reencoded);

  // 2. The compressed forms decode to the same terms.
  std::vector<Bytes> decompressed;
  const auto compressed = read_records(dir / "compressed.etf");
  ASSERT_EQ(compressed.size(), corpus.size());
  for (std::size_t i = 0; i < compressed.size(); ++i) {
    const Term t = etf::decode(compressed[i]);
    EXPECT_EQ(t, corpus[i]) << "compressed term " << i;
    decompressed.push_back(to_bytes(t));
  }
  write_records(dir / "decompressed.etf", decompressed);

  // 3. Parse Erlang's text of each term; the encoding must equal OTP's byte for byte.
  const auto texts = read_records(dir / "texts.txt");
  const auto expected = read_records(dir / "text_terms.etf");
  ASSERT_EQ(texts.size(), expected.size());
  std::vector<Bytes> parsed;
  std::size_t byte_identical = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string text(texts[i].begin(), texts[i].end());
    Term t;
    try {
      t = parse_term(text);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot parse Erlang's text #" << i << ": " << e.what() << "\n" << text.substr(0, 300);
    }
    parsed.push_back(to_bytes(t));
    if (!has_large_map(t)) {
      EXPECT_EQ(parsed.back(), expected[i]) << "text #" << i << ": " << text.substr(0, 300);
      ++byte_identical;
    }
  }
  EXPECT_GT(byte_identical, texts.size() / 2);
  write_records(dir / "parsed.etf", parsed);

  // 4. Print every term; Erlang parses back those that have a text form.
  std::vector<Bytes> printed;
  for (const Term& t : corpus) {
    const std::string s = to_string(t);
    printed.emplace_back(s.begin(), s.end());
  }
  write_records(dir / "printed.txt", printed);

  // 5. Spindle sorts the corpus as lists:sort/1 does.
  const Term erlang_sorted = etf::decode(read_records(dir / "sorted.etf").at(0));
  std::vector<Term> sorted = corpus;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Term& a, const Term& b) { return a < b; });
  const std::vector<Term> theirs = erlang_sorted.as_list().to_vector();
  ASSERT_EQ(theirs.size(), sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i)
    EXPECT_TRUE((sorted[i] <=> theirs[i]) == 0) << "position " << i << ": Spindle has " << to_string(sorted[i]).substr(0, 200)
                                                << ", Erlang has " << to_string(theirs[i]).substr(0, 200);

  // 6. Erlang checks everything Spindle wrote.
  ASSERT_EQ(test::run_command({"escript", kScript, "verify", dir.path().string()}, 120s, &log), 0) << log;
}

}  // namespace
}  // namespace spindle
