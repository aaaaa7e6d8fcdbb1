#pragma once
// Strict UTF-8 decoding (no overlongs, no surrogates, nothing above U+10FFFF).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace spindle::detail {

/// Decodes one code point from `text` at `pos`. Returns the code point and advances
/// `pos`, or returns -1 (leaving `pos` unchanged) on an invalid or truncated sequence.
std::int32_t utf8_next(std::string_view text, std::size_t& pos) noexcept;

/// The number of code points in `text`, or -1 with `error_pos` set to the byte offset
/// of the first invalid sequence.
std::int64_t utf8_count(std::string_view text, std::size_t& error_pos) noexcept;

/// Appends `code_point` (assumed valid) to `out` in UTF-8.
void utf8_append(std::string& out, std::uint32_t code_point);

/// Converts Latin-1 bytes to UTF-8.
std::string latin1_to_utf8(std::string_view latin1);

}  // namespace spindle::detail
