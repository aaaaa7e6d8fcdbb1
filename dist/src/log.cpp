#include "log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <memory>
#include <string>

namespace spindle::dist {
namespace {

std::shared_ptr<spdlog::logger> make(const char* module) {
  const std::string name = std::string("spindle.") + module;
  if (auto registered = spdlog::get(name)) return registered;  // the application's own
  std::shared_ptr<spdlog::logger> root = spdlog::get("spindle");
  if (!root) root = spdlog::stderr_logger_mt("spindle");
  auto logger = std::make_shared<spdlog::logger>(name, root->sinks().begin(), root->sinks().end());
  logger->set_level(root->level());
  logger->flush_on(root->flush_level());
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace

spdlog::logger& log(LogModule module) {
  static const std::array<std::shared_ptr<spdlog::logger>, 3> loggers = {make("dist"), make("epmd"), make("rpc")};
  return *loggers[static_cast<std::size_t>(module)];
}

}  // namespace spindle::dist
