#include "epmd_client.hpp"

#include <array>

#include "sockets.hpp"

namespace spindle::dist {
namespace {

using Reason = EpmdIoError::Reason;

// Answers are read until EPMD closes the connection; these bound what a broken EPMD can make
// us buffer. A PORT2_RESP holds at most two 16-bit-length strings; a NAMES_RESP is about 30
// bytes plus the name per node, so 1 MiB is tens of thousands of nodes.
constexpr std::size_t kMaxPort2ResponseBytes = 2 + 10 + 2 + 0xFFFF + 2 + 0xFFFF;
constexpr std::size_t kMaxNamesResponseBytes = std::size_t{1} << 20;

// An ALIVE2 answer starts with its tag and result; the creation that follows is 32 bits in
// ALIVE2_X_RESP (OTP 23+) and 16 bits in the older ALIVE2_RESP. The codec parses the whole
// answer; this only says how many bytes to wait for, since EPMD keeps the connection open.
constexpr std::uint8_t kAlive2XRespTag = 118;
constexpr std::uint8_t kAlive2RespTag = 121;

std::size_t alive2_creation_bytes(std::uint8_t tag) {
  if (tag == kAlive2XRespTag) return 4;
  if (tag == kAlive2RespTag) return 2;
  return 0;  // not an ALIVE2 answer: the codec says so when it parses the two bytes
}

// One request to EPMD and its answer over one connection, under one deadline for all of it.
// Every failure becomes an EpmdIoError that names the EPMD and the request.
class EpmdConversation {
 public:
  EpmdConversation(const asio::any_io_executor& executor, std::string host, std::uint16_t port,
                   std::chrono::milliseconds timeout, std::string request_name)
      : host_(std::move(host)),
        port_(port),
        timeout_(timeout),
        request_name_(std::move(request_name)),
        resolver_(executor),
        socket_(executor),
        deadline_(executor, timeout, [this] {
          resolver_.cancel();
          error_code ignored;
          socket_.close(ignored);
        }) {}
  EpmdConversation(const EpmdConversation&) = delete;
  EpmdConversation& operator=(const EpmdConversation&) = delete;

  asio::awaitable<void> connect() {
    error_code ec;
    const auto endpoints =
        co_await resolver_.async_resolve(host_, std::to_string(port_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) fail_io(ec, "resolving the host");
    co_await connect_to(socket_, endpoints, ec);
    if (ec) fail_io(ec, "connecting");
  }

  asio::awaitable<void> send(const epmd::Bytes& request) {
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) fail_io(ec, "sending the request");
  }

  asio::awaitable<epmd::Bytes> receive_exactly(std::size_t size) {
    epmd::Bytes bytes(size);
    error_code ec;
    co_await asio::async_read(socket_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) fail_io(ec, "reading the answer");
    co_return bytes;
  }

  // For answers that EPMD ends by closing the connection (PORT2_RESP, NAMES_RESP).
  asio::awaitable<epmd::Bytes> receive_until_closed(std::size_t limit) {
    epmd::Bytes bytes;
    error_code ec;
    co_await asio::async_read(socket_, asio::dynamic_buffer(bytes, limit),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) co_return bytes;
    if (ec) fail_io(ec, "reading the answer");
    fail(Reason::malformed, "sent more than " + std::to_string(limit) + " bytes in answer to " + request_name_);
  }

  // Runs a codec parser on EPMD's answer; a protocol violation becomes EpmdIoError(malformed).
  template <class Parse>
  auto parse(Parse&& parse_answer) const {
    try {
      return parse_answer();
    } catch (const epmd::EpmdError& e) {
      fail(Reason::malformed, "answered " + request_name_ + " with a malformed message: " + e.what());
    }
  }

  // The connection, for a registration that must outlive this conversation (and its deadline).
  tcp::socket release_socket() {
    deadline_.disarm();
    return std::move(socket_);
  }

  [[noreturn]] void fail(Reason reason, const std::string& what) const {
    throw EpmdIoError(reason, "EPMD at " + host_ + ":" + std::to_string(port_) + " " + what);
  }

 private:
  [[noreturn]] void fail_io(const error_code& ec, const char* step) const {
    if (deadline_.expired())
      fail(Reason::timeout, "did not answer " + request_name_ + " within " + std::to_string(timeout_.count()) +
                                " ms (stuck while " + step + ")");
    if (ec == asio::error::connection_refused)
      fail(Reason::connection_refused, "refused the connection for " + request_name_ + ": no EPMD listens there");
    if (ec == asio::error::eof || ec == asio::error::connection_reset)
      fail(Reason::closed, "closed the connection before it answered " + request_name_);
    fail(Reason::io_error, "failed " + std::string(step) + " for " + request_name_ + ": " + ec.message());
  }

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::string request_name_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  detail::Deadline deadline_;  // last: it closes the members above, so it goes first
};

std::string quoted(const std::string& name) { return "\"" + name + "\""; }

}  // namespace

asio::awaitable<std::optional<epmd::NodeEntry>> epmd_port_please(std::string host, std::uint16_t epmd_port,
                                                                 std::string alive_name,
                                                                 std::chrono::milliseconds timeout) {
  const epmd::Bytes request = epmd::port_please2_request(alive_name);
  EpmdConversation epmd(co_await asio::this_coro::executor, std::move(host), epmd_port, timeout,
                        "PORT_PLEASE2_REQ for " + quoted(alive_name));
  co_await epmd.connect();
  co_await epmd.send(request);
  const epmd::Bytes answer = co_await epmd.receive_until_closed(kMaxPort2ResponseBytes);
  co_return epmd.parse([&] { return epmd::parse_port2_response(answer); });
}

asio::awaitable<std::vector<std::pair<std::string, std::uint16_t>>> epmd_names(std::string host,
                                                                               std::uint16_t epmd_port,
                                                                               std::chrono::milliseconds timeout) {
  EpmdConversation epmd(co_await asio::this_coro::executor, std::move(host), epmd_port, timeout, "NAMES_REQ");
  co_await epmd.connect();
  co_await epmd.send(epmd::names_request());
  const epmd::Bytes answer = co_await epmd.receive_until_closed(kMaxNamesResponseBytes);
  co_return epmd.parse([&] { return epmd::parse_names_response(answer); });
}

asio::awaitable<std::unique_ptr<EpmdRegistration>> EpmdRegistration::register_node(std::string host,
                                                                                   std::uint16_t epmd_port,
                                                                                   epmd::NodeEntry node,
                                                                                   std::chrono::milliseconds timeout) {
  const epmd::Bytes request = epmd::alive2_request(node);
  EpmdConversation epmd(co_await asio::this_coro::executor, std::move(host), epmd_port, timeout,
                        "ALIVE2_REQ for " + quoted(node.name));
  co_await epmd.connect();
  co_await epmd.send(request);
  epmd::Bytes answer = co_await epmd.receive_exactly(2);
  if (const std::size_t creation_bytes = alive2_creation_bytes(answer[0]); creation_bytes > 0) {
    const epmd::Bytes creation = co_await epmd.receive_exactly(creation_bytes);
    answer.insert(answer.end(), creation.begin(), creation.end());
  }
  const epmd::Alive2Response response = epmd.parse([&] { return epmd::parse_alive2_response(answer); });
  if (response.result != 0)
    epmd.fail(Reason::registration_refused, "refused to register " + quoted(node.name) + " (result " +
                                                std::to_string(response.result) +
                                                "): the name is in use by another node, or is not a valid node name");
  co_return std::unique_ptr<EpmdRegistration>(
      new EpmdRegistration(epmd.release_socket(), std::move(node), response.creation));
}

EpmdRegistration::EpmdRegistration(tcp::socket socket, epmd::NodeEntry node, std::uint32_t creation)
    : socket_(std::move(socket)), node_(std::move(node)), creation_(creation) {}

EpmdRegistration::~EpmdRegistration() { close(); }

void EpmdRegistration::close() noexcept {
  error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<void> EpmdRegistration::wait_until_lost() {
  std::array<std::uint8_t, 64> ignored_bytes{};
  for (;;) {
    error_code ec;
    co_await socket_.async_read_some(asio::buffer(ignored_bytes), asio::redirect_error(asio::use_awaitable, ec));
    // Aborted: close() was called, or this object is being destroyed; touch nothing.
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      close();
      co_return;
    }
  }
}

}  // namespace spindle::dist
