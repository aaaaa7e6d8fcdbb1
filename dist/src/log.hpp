#pragma once
// The distribution layer's loggers, one per module: "spindle.dist" (connections,
// handshakes), "spindle.epmd" (the embedded EPMD) and "spindle.rpc" (rex, net_kernel,
// spawn requests). Each takes the sinks and level of the spdlog logger named "spindle"
// when the application registered one, else writes to stderr (stdout belongs to the
// application: spindle-node prints its "ready" line there). They are registered with
// spdlog, so `spdlog::get("spindle.epmd")->set_level(spdlog::level::debug)` turns one
// module up on its own. Nothing is formatted for a level that is off.

#include <spdlog/spdlog.h>

namespace spindle::dist {

enum class LogModule { dist, epmd, rpc };

spdlog::logger& log(LogModule module = LogModule::dist);

}  // namespace spindle::dist
