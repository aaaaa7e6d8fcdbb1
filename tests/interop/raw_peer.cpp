#include "raw_peer.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "spindle/byte_buffer.hpp"
#include "spindle/detail/big_endian.hpp"
#include "spindle/dist/flags.hpp"

namespace spindle::test {
namespace {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + std::strerror(error));
  }
  return fd;
}

int milliseconds_until(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

}  // namespace

RawPeer::RawPeer(std::uint16_t port) : fd_(connect_loopback(port)) {}

RawPeer::~RawPeer() { ::close(fd_); }

std::string RawPeer::address() const {
  sockaddr_in local{};
  socklen_t length = sizeof local;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
  return "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
}

void RawPeer::write(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("write to the node: ") + std::strerror(errno));
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

void RawPeer::append_framed(std::span<const std::uint8_t> frame, std::vector<std::uint8_t>& out) {
  std::uint8_t length[4];
  spindle::detail::store_be32(length, static_cast<std::uint32_t>(frame.size()));
  out.insert(out.end(), length, length + 4);
  out.insert(out.end(), frame.begin(), frame.end());
}

void RawPeer::write_frame(std::span<const std::uint8_t> frame) {
  std::vector<std::uint8_t> bytes;
  append_framed(frame, bytes);
  write(bytes);
}

bool RawPeer::read_exactly(std::uint8_t* data, std::size_t size, std::chrono::steady_clock::time_point deadline) {
  while (size > 0) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::recv(fd_, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // closed (or reset) by the node
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void RawPeer::handshake(const std::string& name, const std::string& cookie, std::uint32_t creation,
                        const std::string& expected) {
  dist::Handshake h = dist::Handshake::initiate({name, dist::flags::ours, creation, cookie}, expected);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const auto send_packets = [this](const std::vector<dist::Packet>& packets) {
    for (const dist::Packet& p : packets) {
      const std::uint8_t length[2] = {static_cast<std::uint8_t>(p.size() >> 8), static_cast<std::uint8_t>(p.size())};
      write(length);
      write(p);
    }
  };
  send_packets(h.start());
  while (!h.done()) {
    std::uint8_t length[2];
    if (!read_exactly(length, 2, deadline)) throw std::runtime_error("the node ended the handshake");
    dist::Packet packet((std::size_t{length[0]} << 8) | length[1]);
    if (!read_exactly(packet.data(), packet.size(), deadline)) throw std::runtime_error("the node ended the handshake");
    send_packets(h.receive(packet));
  }
}

std::vector<std::vector<std::uint8_t>> RawPeer::frames(const Term& control, std::span<const std::uint8_t> payload,
                                                       std::size_t fragment_size) {
  ByteBuffer out;
  writer_.write(control, payload, out, fragment_size);
  std::vector<std::vector<std::uint8_t>> result;
  const std::uint8_t* p = out.data();
  const std::uint8_t* const end = p + out.size();
  while (p < end) {
    const std::size_t n = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    result.emplace_back(p + 4, p + 4 + n);
    p += 4 + n;
  }
  return result;
}

void RawPeer::send(const Term& control, std::span<const std::uint8_t> payload) {
  for (const auto& frame : frames(control, payload)) write_frame(frame);
}

std::optional<dist::IncomingMessage> RawPeer::receive(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::uint8_t length[4];
    if (!read_exactly(length, 4, deadline)) return std::nullopt;
    std::vector<std::uint8_t> frame((std::size_t{length[0]} << 24) | (std::size_t{length[1]} << 16) |
                                    (std::size_t{length[2]} << 8) | length[3]);
    if (!read_exactly(frame.data(), frame.size(), deadline)) return std::nullopt;
    if (auto message = reader_.read(frame)) return message;
  }
}

bool RawPeer::closed_by_node(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint8_t buffer[4096];
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace spindle::test
