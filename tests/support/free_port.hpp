#pragma once
// Ports for tests that start servers (EPMD above all) on 127.0.0.1.

#include <cstdint>

namespace spindle::test {

/// A port nothing listens on now, picked at random below the kernel's ephemeral range.
/// Ports from that range (what binding port 0 gives) are handed at any moment to other
/// tests' connections and listeners, so one could be taken before the test used it.
std::uint16_t free_port();

}  // namespace spindle::test
