#include "log_capture.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace spindle::test {
namespace {

class KeepingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(message, formatted);
    lines_.emplace_back(formatted.data(), formatted.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

const std::shared_ptr<KeepingSink>& sink() {
  static const auto keeping = std::make_shared<KeepingSink>();
  return keeping;
}

}  // namespace

LogCapture& LogCapture::install() {
  static LogCapture capture;
  static const bool registered = [] {
    // A node that ran before made the loggers already (they write to stderr): add to
    // them, the root "spindle" and its modules' "spindle.*". No node runs now, so nothing
    // logs while the sink goes in.
    if (spdlog::get("spindle")) {
      spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& logger) {
        if (logger->name().starts_with("spindle")) logger->sinks().push_back(sink());
      });
      return true;
    }
    auto logger = std::make_shared<spdlog::logger>(
        "spindle", spdlog::sinks_init_list{std::make_shared<spdlog::sinks::stderr_sink_mt>(), sink()});
    spdlog::register_logger(logger);
    return true;
  }();
  (void)registered;
  return capture;
}

std::vector<std::string> LogCapture::lines() const { return sink()->snapshot(); }

std::size_t LogCapture::count() const { return lines().size(); }

std::vector<std::string> LogCapture::lines_containing(std::string_view text, std::size_t since) const {
  std::vector<std::string> all = lines();
  std::vector<std::string> found;
  for (std::size_t i = since; i < all.size(); ++i)
    if (all[i].find(text) != std::string::npos) found.push_back(std::move(all[i]));
  return found;
}

}  // namespace spindle::test
