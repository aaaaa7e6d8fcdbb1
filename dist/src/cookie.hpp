#pragma once
// The default cookie, as Erlang finds it: ~/.erlang.cookie, created with a random
// cookie (readable by its owner only) when it does not exist.

#include <string>

namespace spindle::dist {

/// Throws std::runtime_error when $HOME is unset, or the file cannot be read or made,
/// or is readable by others (Erlang refuses such a file too).
std::string default_cookie();

}  // namespace spindle::dist
