#pragma once
/// @file
/// Distribution capability flags (erl_dist_protocol, "Distribution Flags").

#include <cstdint>

namespace spindle::dist {

namespace flags {
inline constexpr std::uint64_t published = 0x1;
inline constexpr std::uint64_t atom_cache = 0x2;
inline constexpr std::uint64_t extended_references = 0x4;
inline constexpr std::uint64_t dist_monitor = 0x8;
inline constexpr std::uint64_t fun_tags = 0x10;
inline constexpr std::uint64_t dist_monitor_name = 0x20;
inline constexpr std::uint64_t hidden_atom_cache = 0x40;
inline constexpr std::uint64_t new_fun_tags = 0x80;
inline constexpr std::uint64_t extended_pids_ports = 0x100;
inline constexpr std::uint64_t export_ptr_tag = 0x200;
inline constexpr std::uint64_t bit_binaries = 0x400;
inline constexpr std::uint64_t new_floats = 0x800;
inline constexpr std::uint64_t unicode_io = 0x1000;
inline constexpr std::uint64_t dist_hdr_atom_cache = 0x2000;
inline constexpr std::uint64_t small_atom_tags = 0x4000;
inline constexpr std::uint64_t utf8_atoms = 0x10000;
inline constexpr std::uint64_t map_tag = 0x20000;
inline constexpr std::uint64_t big_creation = 0x40000;
inline constexpr std::uint64_t send_sender = 0x80000;
inline constexpr std::uint64_t big_seqtrace_labels = 0x100000;
inline constexpr std::uint64_t exit_payload = 0x400000;
inline constexpr std::uint64_t fragments = 0x800000;
inline constexpr std::uint64_t handshake_23 = 0x1000000;
inline constexpr std::uint64_t unlink_id = 0x2000000;
// Bit 26, as kernel/include/dist.hrl of OTP 25 defines it (the HTML protocol doc says bit 36).
inline constexpr std::uint64_t mandatory_25_digest = 0x4000000;
inline constexpr std::uint64_t spawn = std::uint64_t{1} << 32;
inline constexpr std::uint64_t name_me = std::uint64_t{1} << 33;
inline constexpr std::uint64_t v4_nc = std::uint64_t{1} << 34;
inline constexpr std::uint64_t alias = std::uint64_t{1} << 35;

/// What OTP 25 refuses to connect without (DFLAG_DIST_MANDATORY_25).
inline constexpr std::uint64_t mandatory_25 = extended_references | fun_tags | new_fun_tags | extended_pids_ports |
                                              export_ptr_tag | bit_binaries | new_floats | utf8_atoms | map_tag |
                                              big_creation | handshake_23;
static_assert(mandatory_25 == 0x1070F94);

/// Everything Spindle implements. `published` is added for visible nodes.
inline constexpr std::uint64_t ours = mandatory_25 | mandatory_25_digest | dist_monitor | dist_monitor_name |
                                      unicode_io | dist_hdr_atom_cache | small_atom_tags | send_sender |
                                      big_seqtrace_labels | exit_payload | fragments | unlink_id | spawn | v4_nc |
                                      alias;
}  // namespace flags

}  // namespace spindle::dist
