// spindle-loopback-floor: the most this machine's TCP loopback allows, as a reference
// for the distribution benchmarks. Two processes (forked, as two nodes are) share one
// connection with TCP_NODELAY and nothing else in the way: no framing, no encoding, no
// scheduler.
//  - By default they bounce a message of --size bytes: round trips/s, the floor under
//    the distribution's ping-pong.
//  - With --stream, one writes --n buffers of --size bytes (the same buffer each time,
//    as a sender of one binary does) and the other reads them into a buffer of
//    --read-size bytes: MB/s, the ceiling over the distribution's bulk workload.
// With --busy-poll the reading side spins on non-blocking reads instead of sleeping in
// the kernel, which is the most any user-space runtime can do here without bypassing
// the kernel.
//
//   spindle-loopback-floor [--n N] [--size BYTES] [--busy-poll] [--stream [--read-size BYTES]]
//
// prints "result ROUND_TRIPS_PER_SECOND", or with --stream "result MB_PER_SECOND".

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + std::strerror(errno)); }

// A socket that closes itself.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {
    if (fd_ < 0) fail("socket");
  }
  ~Socket() { ::close(fd_); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void no_delay(int fd) {
  const int on = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) fail("TCP_NODELAY");
}

// Reads exactly `size` bytes; false at end of stream.
bool read_all(int fd, char* data, std::size_t size, bool busy_poll) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, data + got, size - got, busy_poll ? MSG_DONTWAIT : 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n == 0) {
      return false;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail("recv");
    }
  }
  return true;
}

void write_all(int fd, const char* data, std::size_t size) {
  std::size_t put = 0;
  while (put < size) {
    const ssize_t n = ::send(fd, data + put, size - put, MSG_NOSIGNAL);
    if (n > 0) {
      put += static_cast<std::size_t>(n);
    } else if (errno != EAGAIN && errno != EINTR) {
      fail("send");
    }
  }
}

// The child: connects and echoes until the parent closes the connection.
int echo(std::uint16_t port, std::size_t size, bool busy_poll) {
  Socket s(::socket(AF_INET, SOCK_STREAM, 0));
  const sockaddr_in address = loopback(port);
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fail("connect");
  no_delay(s.fd());
  std::vector<char> buffer(size);
  while (read_all(s.fd(), buffer.data(), size, busy_poll)) write_all(s.fd(), buffer.data(), size);
  return 0;
}

// The child with --stream: connects, writes n buffers of `size` bytes, and closes.
int pour(std::uint16_t port, std::size_t size, long n) {
  Socket s(::socket(AF_INET, SOCK_STREAM, 0));
  const sockaddr_in address = loopback(port);
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fail("connect");
  no_delay(s.fd());
  const std::vector<char> buffer(size, 'x');
  for (long i = 0; i < n; ++i) write_all(s.fd(), buffer.data(), size);
  return 0;
}

// Reads until the writer closes; MB/s from the first byte to the last. A writer that
// stopped short is an error, not a figure.
double megabytes_per_second(int fd, std::size_t expected, std::size_t read_size, bool busy_poll) {
  std::vector<char> buffer(read_size);
  std::size_t total = 0;
  std::chrono::steady_clock::time_point start;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer.data(), read_size, busy_poll ? MSG_DONTWAIT : 0);
    if (n > 0) {
      if (total == 0) start = std::chrono::steady_clock::now();
      total += static_cast<std::size_t>(n);
    } else if (n == 0) {
      break;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      fail("recv");
    }
  }
  if (total != expected)
    throw std::runtime_error("the writing process stopped after " + std::to_string(total) + " of " +
                             std::to_string(expected) + " bytes");
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return static_cast<double>(total) / 1e6 / took.count();
}

double round_trips_per_second(int fd, std::size_t size, long n, bool busy_poll) {
  std::vector<char> buffer(size, 'x');
  const auto bounce = [&] {
    write_all(fd, buffer.data(), size);
    if (!read_all(fd, buffer.data(), size, busy_poll)) throw std::runtime_error("the echo process went away");
  };
  for (int i = 0; i < 1000; ++i) bounce();  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) bounce();
  return static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "The fastest TCP loopback round trip between two processes (result ROUND_TRIPS_PER_SECOND), or with --stream "
      "the fastest one-way stream (result MB_PER_SECOND)");
  long n = 100'000;
  std::size_t size = 64;
  bool busy_poll = false;
  bool stream = false;
  std::size_t read_size = std::size_t{256} << 10;
  app.add_option("--n", n, "round trips timed, or buffers written with --stream")->check(CLI::PositiveNumber);
  app.add_option("--size", size, "bytes each way, or per buffer written with --stream")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  app.add_flag("--busy-poll", busy_poll, "spin on non-blocking reads instead of sleeping in the kernel");
  app.add_flag("--stream", stream, "one way: one process writes, the other reads");
  app.add_option("--read-size", read_size, "bytes per read with --stream (as the distribution's read buffer)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64} << 20));
  CLI11_PARSE(app, argc, argv);
  try {
    Socket listener(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in address = loopback(0);
    if (::bind(listener.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) fail("bind");
    if (::listen(listener.fd(), 1) != 0) fail("listen");
    const timeval patience{10, 0};  // accept gives up if the echo process never connects
    if (::setsockopt(listener.fd(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience) != 0) fail("SO_RCVTIMEO");
    socklen_t length = sizeof address;
    if (::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) fail("getsockname");
    const std::uint16_t port = ntohs(address.sin_port);
    const pid_t child = ::fork();
    if (child < 0) fail("fork");
    if (child == 0) {
      try {
        _exit(stream ? pour(port, size, n) : echo(port, size, busy_poll));
      } catch (const std::exception& e) {
        std::cerr << "spindle-loopback-floor (" << (stream ? "writer" : "echo") << "): " << e.what() << std::endl;
        _exit(1);
      }
    }
    double result = 0;
    {
      Socket connection(::accept(listener.fd(), nullptr, nullptr));
      no_delay(connection.fd());
      result = stream ? megabytes_per_second(connection.fd(), size * static_cast<std::size_t>(n), read_size, busy_poll)
                      : round_trips_per_second(connection.fd(), size, n, busy_poll);
    }  // closing it ends the echo process
    int status = 0;
    ::waitpid(child, &status, 0);
    std::cout << "result " << result << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "spindle-loopback-floor: " << e.what() << std::endl;
    return 1;
  }
}
