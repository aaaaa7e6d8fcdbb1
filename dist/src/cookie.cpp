#include "cookie.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace spindle::dist {
namespace {

std::string random_cookie() {
  unsigned char bytes[20];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a new cookie");
  std::string cookie;
  for (unsigned char b : bytes) cookie.push_back(static_cast<char>('A' + b % 26));
  return cookie;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

}  // namespace

std::string default_cookie() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') throw std::runtime_error("no cookie given and $HOME is not set");
  const std::string path = std::string(home) + "/.erlang.cookie";

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    const std::string cookie = random_cookie();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, S_IRUSR);
    if (fd >= 0) {
      const bool written = ::write(fd, cookie.data(), cookie.size()) == static_cast<ssize_t>(cookie.size());
      ::close(fd);
      if (!written) throw std::runtime_error("cannot write " + path);
      return cookie;
    }
    if (errno != EEXIST) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
    // Someone else made it just now: read theirs.
  } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw std::runtime_error(path + " must be accessible by its owner only (chmod 400), as Erlang requires");
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string cookie = trimmed(text.str());
  if (!in && !in.eof()) throw std::runtime_error("cannot read " + path);
  if (cookie.empty()) throw std::runtime_error(path + " is empty");
  return cookie;
}

}  // namespace spindle::dist
