// spindle-etf: convert between Erlang's external term format and Erlang term text.
//
//   spindle-etf decode [FILE]                 ETF bytes -> term text and a newline
//   spindle-etf encode [--compressed] [FILE]  term text -> ETF bytes
//   spindle-etf reencode [FILE]               ETF bytes -> ETF bytes (decode, encode again)
//
// Input comes from FILE or standard input. Malformed input: exit status 1 and one line
// on standard error naming the problem and the byte offset. Bad arguments: status 2.

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "spindle/etf.hpp"
#include "spindle/term_text.hpp"

namespace {

std::vector<std::uint8_t> read_input(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  if (path.empty() || path == "-") {
    std::cin >> std::noskipws;
    bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return bytes;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return bytes;
}

void write_bytes(std::span<const std::uint8_t> bytes) {
  std::cout.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::cout.flush();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Convert between Erlang's external term format and Erlang term text"};
  app.require_subcommand(1);
  std::string file;
  bool compressed = false;

  CLI::App* decode = app.add_subcommand("decode", "ETF bytes (starting with 131) to Erlang term text");
  decode->add_option("FILE", file, "input file (default: standard input)");
  CLI::App* encode = app.add_subcommand("encode", "one Erlang term in text (a trailing '.' allowed) to ETF bytes");
  encode->add_option("FILE", file, "input file (default: standard input)");
  encode->add_flag("--compressed", compressed, "zlib-compress the output (tag 80) when that makes it smaller");
  CLI::App* reencode = app.add_subcommand("reencode", "decode ETF bytes and encode them again");
  reencode->add_option("FILE", file, "input file (default: standard input)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "spindle-etf: " << e.what() << " (see --help)\n";
    return 2;
  }

  const char* step = "input";
  try {
    const std::vector<std::uint8_t> input = read_input(file);
    if (*decode) {
      step = "decode";
      std::cout << spindle::to_string(spindle::etf::decode(input)) << '\n';
    } else if (*encode) {
      step = "encode";
      const std::string text(input.begin(), input.end());
      write_bytes(spindle::etf::encode(spindle::parse_term(text), {.compressed = compressed}));
    } else {
      step = "reencode";
      write_bytes(spindle::etf::encode(spindle::etf::decode(input)));
    }
  } catch (const std::exception& e) {
    std::cerr << "spindle-etf: " << step << ": " << e.what() << '\n';
    return 1;
  }
  return 0;
}
