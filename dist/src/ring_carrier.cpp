#include "ring_carrier.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

namespace spindle::dist {

RingCarrier::RingCarrier(local_stream::socket socket, SharedRing outgoing, SharedRing incoming)
    : socket_(std::move(socket)),
      out_(std::move(outgoing)),
      in_(std::move(incoming)),
      reader_alarm_(socket_.get_executor()),
      writer_alarm_(socket_.get_executor()) {}

// The coroutine's body starts only once the executor runs it, maybe after the owner has
// let the carrier go, so the reference it keeps comes in as an argument.
void RingCarrier::start() { asio::co_spawn(socket_.get_executor(), listen(shared_from_this()), asio::detached); }

// The socket brings nothing but wake-ups: any byte wakes both sides of this carrier
// (each checks its ring and sleeps again if nothing changed for it), and the socket's
// end is the peer's.
asio::awaitable<void> RingCarrier::listen(std::shared_ptr<RingCarrier> /*self*/) {
  std::array<std::uint8_t, 64> sink{};
  for (;;) {
    error_code ec;
    co_await socket_.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) ended_ = true;
    reader_alarm_.cancel();
    writer_alarm_.cancel();
    if (ec) co_return;
  }
}

void RingCarrier::wake_peer() noexcept {
  const std::uint8_t byte = 1;
  (void)::send(socket_.native_handle(), &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

asio::awaitable<void> RingCarrier::sleep(asio::steady_timer& alarm) {
  if (ended_) co_return;  // the caller's next look reports the end
  alarm.expires_at(asio::steady_timer::time_point::max());
  error_code woken;
  co_await alarm.async_wait(asio::redirect_error(asio::use_awaitable, woken));
}

void RingCarrier::close() noexcept {
  ended_ = true;
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  reader_alarm_.cancel();
  writer_alarm_.cancel();
}

// ----- reading -----

std::size_t RingCarrier::read_now(asio::mutable_buffer into, error_code& ec) {
  ec = {};
  const std::size_t got = in_.read(static_cast<std::uint8_t*>(into.data()), into.size());
  if (got > 0) {
    if (in_.take_writer_waiting()) wake_peer();
    return got;
  }
  // The peer wrote its last bytes before its end reached us: a ring found empty after
  // the end stays empty.
  ec = ended_ ? error_code(asio::error::eof) : error_code(asio::error::would_block);
  return 0;
}

asio::awaitable<std::size_t> RingCarrier::read_some(asio::mutable_buffer into) {
  if (into.size() == 0) co_return 0;
  for (;;) {
    error_code ec;
    const std::size_t got = read_now(into, ec);
    if (got > 0) co_return got;
    if (ec != asio::error::would_block) throw boost::system::system_error(ec);
    if (in_.announce_reader_waiting()) co_await sleep(reader_alarm_);
  }
}

asio::awaitable<std::size_t> RingCarrier::read(asio::mutable_buffer into) {
  std::size_t done = 0;
  while (done < into.size()) done += co_await read_some(into + done);
  co_return done;
}

// ----- writing -----

std::size_t RingCarrier::write_now(asio::const_buffer bytes, error_code& ec) {
  ec = {};
  if (ended_) {
    ec = asio::error::broken_pipe;
    return 0;
  }
  try {
    const std::size_t wrote = out_.write(static_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    if (wrote > 0 && out_.take_reader_waiting()) wake_peer();
    if (wrote < bytes.size()) ec = asio::error::would_block;
    return wrote;
  } catch (const std::exception& e) {
    fault_ = e.what();
    ec = boost::system::errc::make_error_code(boost::system::errc::protocol_error);
    return 0;
  }
}

asio::awaitable<void> RingCarrier::write_all(asio::const_buffer bytes) {
  const auto* data = static_cast<const std::uint8_t*>(bytes.data());
  std::size_t left = bytes.size();
  while (left > 0) {
    if (ended_) throw boost::system::system_error(asio::error::broken_pipe);
    const std::size_t wrote = out_.write(data, left);
    if (wrote > 0) {
      data += wrote;
      left -= wrote;
      if (out_.take_reader_waiting()) wake_peer();  // it reads this part while we wait for room
    } else if (out_.announce_writer_waiting()) {
      co_await sleep(writer_alarm_);
    }
  }
}

// ----- the offers -----

namespace {

// An offer: these 12 bytes, three zero bytes, then 1 with a memfd attached (SCM_RIGHTS)
// or 0 without.
constexpr std::array<char, 12> kOfferMagic{'s', 'p', 'i', 'n', 'd', 'l', 'e', '-', 'r', 'i', 'n', 'g'};
constexpr std::size_t kOfferBytes = 16;
using Offer = std::array<std::uint8_t, kOfferBytes>;

// Descriptors received with the offer, closed unless taken.
struct Received {
  std::vector<int> fds;
  Received() = default;
  Received(const Received&) = delete;
  Received& operator=(const Received&) = delete;
  ~Received() {
    for (int fd : fds) ::close(fd);
  }
  int take() { return std::exchange(fds.front(), -1); }
};

void send_offer(local_stream::socket& socket, int fd) {
  Offer offer{};
  std::memcpy(offer.data(), kOfferMagic.data(), kOfferMagic.size());
  offer[15] = fd >= 0 ? 1 : 0;
  iovec part{offer.data(), offer.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  if (fd >= 0) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  }
  // The socket's buffer is empty right after the handshake: 16 bytes go at once.
  const ssize_t sent = ::sendmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent < 0) throw boost::system::system_error(error_code(errno, boost::system::system_category()), "sending the ring offer");
  if (static_cast<std::size_t>(sent) != offer.size()) throw std::runtime_error("the ring offer did not fit in the socket");
}

asio::awaitable<Offer> receive_offer(local_stream::socket& socket, Received& received) {
  Offer offer{};
  std::size_t have = 0;
  while (have < offer.size()) {
    iovec part{offer.data() + have, offer.size() - have};
    msghdr message{};
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * 4)> control{};
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    // Exactly the offer's bytes: what follows is the peer's wake-ups.
    const ssize_t got = ::recvmsg(socket.native_handle(), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      co_await socket.async_wait(local_stream::socket::wait_read, asio::use_awaitable);
      continue;
    }
    if (got < 0) throw boost::system::system_error(error_code(errno, boost::system::system_category()), "receiving the ring offer");
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd = -1;
        std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
        received.fds.push_back(fd);
      }
    }
    if ((message.msg_flags & MSG_CTRUNC) != 0) throw std::runtime_error("the ring offer came with more than 4 descriptors");
    if (got == 0) throw boost::system::system_error(asio::error::eof, "receiving the ring offer");
    have += static_cast<std::size_t>(got);
  }
  co_return offer;
}

}  // namespace

asio::awaitable<std::shared_ptr<RingCarrier>> share_rings(local_stream::socket& socket, std::optional<SharedRing> mine) {
  send_offer(socket, mine ? mine->fd() : -1);
  Received received;
  const Offer offer = co_await receive_offer(socket, received);
  for (std::size_t i = 0; i < offer.size(); ++i) {
    const std::uint8_t expected = i < kOfferMagic.size() ? static_cast<std::uint8_t>(kOfferMagic[i]) : 0;
    if (i == 15 ? offer[i] > 1 : offer[i] != expected)
      throw std::runtime_error("the peer's first bytes after the handshake are no ring offer (byte " + std::to_string(i) +
                               " is " + std::to_string(offer[i]) + ")");
  }
  const bool offered = offer[15] == 1;
  if (received.fds.size() != (offered ? 1U : 0U))
    throw std::runtime_error("a ring offer with " + std::to_string(received.fds.size()) + " descriptors, not " +
                             (offered ? "1" : "0"));
  if (!mine || !offered) co_return nullptr;
  SharedRing theirs = SharedRing::adopt(received.take());
  // Both are mapped, and the peer has its own descriptor for ours.
  mine->release_fd();
  theirs.release_fd();
  auto carrier = std::make_shared<RingCarrier>(std::move(socket), std::move(*mine), std::move(theirs));
  carrier->start();
  co_return carrier;
}

}  // namespace spindle::dist
