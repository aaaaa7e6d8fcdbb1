// ETF encode and decode throughput on the five codec workloads.
//
// With SPINDLE_CODEC_INPUTS=DIR, decoding reads DIR/NAME.etf (written by
// bench/codec_workloads.erl, i.e. OTP's own term_to_binary output), so Spindle and
// BEAM decode identical bytes; otherwise the workloads are built here.
// Decoding goes through a shared buffer, as the distribution layer does, so large
// binaries are not copied. Encoding writes into a reused buffer (as a connection does);
// `encode_fresh` allocates a new vector per call, like term_to_binary.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "spindle/etf.hpp"

namespace {

using spindle::Term;
namespace etf = spindle::etf;

struct Workload {
  std::string name;
  Term term;    // what encode benchmarks encode
  Term buffer;  // the bytes decode benchmarks decode, as a binary term
};

Term small_message() {
  const std::uint32_t words[] = {217782, 2135949313, 1385290053};
  return spindle::tuple(spindle::atoms::ok, spindle::Pid(spindle::atoms::nonode_at_nohost, 80, 0, 0),
                        spindle::Ref(spindle::atoms::nonode_at_nohost, 0, words), spindle::list(1, 2, 3),
                        spindle::binary("hello"));
}

Term nested_100kb() {
  using namespace spindle;
  std::vector<Term> people;
  for (int i = 1; i <= 850; ++i) {
    people.push_back(tuple(atom("person"), i, binary("name_" + std::to_string(i)), list(atom("admin"), atom("user"), i % 7),
                           map({{atom("age"), i % 90}, {atom("score"), i * 1.5}, {atom("tags"), tuple(atom("a"), atom("b"))}}),
                           tuple(i, list(i, i + 1))));
  }
  return list_from(people);
}

std::vector<Workload> build_workloads() {
  using namespace spindle;
  std::vector<std::pair<std::string, Term>> terms;
  terms.emplace_back("small_message", small_message());
  std::string mb;
  for (int i = 0; i < 65536; ++i) mb += "0123456789abcdef";
  terms.emplace_back("binary_1mb", binary(mb));
  std::vector<Term> ints;
  for (int i = 1; i <= 100000; ++i) ints.emplace_back(i);
  terms.emplace_back("int_list_100k", list_from(ints));
  std::vector<std::pair<Term, Term>> pairs;
  for (int i = 1; i <= 10000; ++i) pairs.emplace_back(i, i * 2);
  terms.emplace_back("map_10k", map_from(pairs));
  terms.emplace_back("nested_100kb", nested_100kb());

  const char* dir = std::getenv("SPINDLE_CODEC_INPUTS");
  std::vector<Workload> out;
  for (auto& [name, term] : terms) {
    std::vector<std::uint8_t> bytes = etf::encode(term);
    if (dir != nullptr) {
      std::ifstream in(std::string(dir) + "/" + name + ".etf", std::ios::binary);
      if (!in) throw std::runtime_error("missing input " + std::string(dir) + "/" + name + ".etf");
      bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      term = etf::decode(bytes);  // encode what Erlang encoded
    }
    out.push_back({name, term, binary(std::span<const std::uint8_t>(bytes))});
  }
  return out;
}

void register_all() {
  static const std::vector<Workload> workloads = build_workloads();
  for (const Workload& w : workloads) {
    const auto bytes = static_cast<std::int64_t>(w.buffer.as_binary().size());
    benchmark::RegisterBenchmark(("decode/" + w.name).c_str(), [&w, bytes](benchmark::State& state) {
      for (auto _ : state) {
        Term t = etf::decode(w.buffer);
        benchmark::DoNotOptimize(t);
      }
      state.SetItemsProcessed(state.iterations());
      state.SetBytesProcessed(state.iterations() * bytes);
    });
    benchmark::RegisterBenchmark(("encode/" + w.name).c_str(), [&w, bytes](benchmark::State& state) {
      spindle::ByteBuffer out;
      for (auto _ : state) {
        out.clear();
        etf::encode(w.term, out);
        benchmark::DoNotOptimize(out.data());
      }
      state.SetItemsProcessed(state.iterations());
      state.SetBytesProcessed(state.iterations() * bytes);
    });
    benchmark::RegisterBenchmark(("encode_fresh/" + w.name).c_str(), [&w, bytes](benchmark::State& state) {
      for (auto _ : state) {
        std::vector<std::uint8_t> out = etf::encode(w.term);
        benchmark::DoNotOptimize(out.data());
      }
      state.SetItemsProcessed(state.iterations());
      state.SetBytesProcessed(state.iterations() * bytes);
    });
  }
}

}  // namespace

// `--repeat OP/NAME N` runs one benchmark body exactly N times outside the framework,
// so `valgrind --tool=callgrind` can count its instructions per operation exactly.
int repeat(const std::string& which, long n) {
  for (const Workload& w : build_workloads()) {
    if (which == "decode/" + w.name) {
      for (long i = 0; i < n; ++i) benchmark::DoNotOptimize(etf::decode(w.buffer));
      return 0;
    }
    if (which == "encode/" + w.name) {
      spindle::ByteBuffer out;
      for (long i = 0; i < n; ++i) {
        out.clear();
        etf::encode(w.term, out);
        benchmark::DoNotOptimize(out.data());
      }
      return 0;
    }
  }
  std::fprintf(stderr, "no benchmark named %s\n", which.c_str());
  return 2;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--repeat") return repeat(argv[2], std::atol(argv[3]));
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
