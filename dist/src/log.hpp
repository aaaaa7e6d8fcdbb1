#pragma once
// The distribution layer's log: the spdlog logger named "spindle" if the application
// registered one, else one writing to stderr (stdout belongs to the application: the
// spindle-node tool prints its "ready" line there).

#include <spdlog/spdlog.h>

namespace spindle::dist {

spdlog::logger& log();

}  // namespace spindle::dist
