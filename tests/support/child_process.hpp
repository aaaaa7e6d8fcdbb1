#pragma once
// Child processes for tests: started with posix_spawn, output captured line by line,
// and always stopped by pid (SIGKILL, then reaped) when the object goes away, even
// when a test fails half way.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace spindle::test {

class ChildProcess {
 public:
  /// Starts `argv[0]` (looked up in PATH) with stdout and stderr captured together.
  explicit ChildProcess(std::vector<std::string> argv, std::vector<std::string> extra_env = {});
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const noexcept { return pid_; }

  /// Waits for the exit status; on timeout kills the process and throws.
  int wait(std::chrono::milliseconds timeout);
  /// Sends `signal` to the process (by pid).
  void signal(int signal);
  /// Waits until a line of output satisfies `match`; returns it, or nothing on timeout.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds timeout);
  /// Everything the process printed so far.
  std::string output() const;

 private:
  void read_output(int fd);
  void reap(int status);

  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  std::string partial_;
  bool closed_ = false;
};

/// Runs a command to completion; returns its exit status and output. Throws on timeout.
int run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout, std::string* output = nullptr);

/// A fresh directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace spindle::test
