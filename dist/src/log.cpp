#include "log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace spindle::dist {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto registered = spdlog::get("spindle")) return registered;
    return spdlog::stderr_logger_mt("spindle");
  }();
  return *logger;
}

}  // namespace spindle::dist
