#include "epmd_server.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "epmd_client.hpp"  // detail::Deadline
#include "log.hpp"
#include "sockets.hpp"
#include "spindle/detail/big_endian.hpp"
#include "spindle/dist/epmd.hpp"
#include "wire.hpp"

namespace spindle::dist {
namespace {

using namespace std::chrono_literals;

// Limits as in OTP's epmd: node names of up to 255 UTF-8 characters (4 bytes each at most),
// and requests of up to three such names (INBUF_SIZE). A longer length field is not worth
// waiting for: the client is dropped before it can make us buffer anything.
constexpr std::size_t kMaxNameCharacters = 255;
constexpr std::size_t kMaxRequestBytes = 3 * kMaxNameCharacters * 4;

// Creations 1-3 are what pre-OTP-23 nodes used (2 bits); 0 means "unknown" in pids and refs.
// Fresh 32-bit creations above them can never be mistaken for either.
constexpr std::uint32_t kLowestCreation = 4;

const epmd::Bytes kKillRefusal = {'N', 'O'};

// What epmd accepts as a node name: 1 to 255 well-formed UTF-8 characters, no NUL.
bool is_valid_node_name(std::string_view name) {
  std::size_t characters = 0;
  for (std::size_t i = 0; i < name.size(); ++characters) {
    const auto lead = static_cast<unsigned char>(name[i]);
    const std::size_t length = lead == 0             ? 0
                               : lead < 0x80         ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || length > name.size() - i) return false;
    for (std::size_t k = 1; k < length; ++k)
      if ((static_cast<unsigned char>(name[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return characters >= 1 && characters <= kMaxNameCharacters;
}

std::string to_string(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

class Session;

// The nodes registered now, each tied to the session (connection) that registered it.
class NodeTable {
 public:
  struct Node {
    epmd::NodeEntry entry;
    std::uint32_t creation;
    const Session* owner;
    int descriptor;  // the registering connection's socket, which DUMP_RESP shows as epmd does
  };

  NodeTable() : last_creation_(std::random_device{}()) {}

  const Node* find(std::string_view name) const {
    for (const Node& node : nodes_)
      if (node.entry.name == name) return &node;
    return nullptr;
  }

  /// Registers `entry` under a creation no earlier registration on this server had.
  const Node& add(epmd::NodeEntry entry, const Session* owner, int descriptor) {
    return nodes_.emplace_back(Node{std::move(entry), next_creation(), owner, descriptor});
  }

  std::optional<Node> remove_owned_by(const Session* owner) {
    for (auto it = nodes_.begin(); it != nodes_.end(); ++it) {
      if (it->owner != owner) continue;
      Node removed = std::move(*it);
      nodes_.erase(it);
      return removed;
    }
    return std::nullopt;
  }

  std::vector<epmd::NodeEntry> entries() const {
    std::vector<epmd::NodeEntry> out;
    out.reserve(nodes_.size());
    for (const Node& node : nodes_) out.push_back(node.entry);
    return out;
  }

  const std::vector<Node>& nodes() const noexcept { return nodes_; }

 private:
  // Like epmd: a random start, then one up per registration, so a node that comes back under
  // its old name gets a new creation and stale pids of its previous life stay recognisable.
  std::uint32_t next_creation() {
    do ++last_creation_;
    while (last_creation_ < kLowestCreation);
    return last_creation_;
  }

  std::vector<Node> nodes_;  // registration order; a handful of nodes, so a vector is fastest
  std::uint32_t last_creation_;
};

}  // namespace

struct EpmdServer::State {
  State(asio::io_context& io, const EpmdServerOptions& server_options) : acceptor(io), options(server_options) {}

  tcp::acceptor acceptor;
  const EpmdServerOptions options;
  std::uint16_t port = 0;
  bool started = false;
  bool closed = false;
  NodeTable nodes;
  std::unordered_set<Session*> sessions;  // every open connection, so close() can close them
};

namespace {

using State = EpmdServer::State;

// One client connection: one request and its answer, then (for ALIVE2) the registration it
// holds until the connection closes. Unregisters its node when it goes away.
class Session {
 public:
  Session(std::shared_ptr<State> state, tcp::socket socket) : state_(std::move(state)), socket_(std::move(socket)) {
    error_code remote_unknown, local_unknown;
    const tcp::endpoint remote = socket_.remote_endpoint(remote_unknown);
    const tcp::endpoint local = socket_.local_endpoint(local_unknown);
    peer_ = remote_unknown ? std::string("(unknown peer)") : to_string(remote);
    // As epmd: "local" means the loopback network or this host's own address.
    local_peer_ =
        !remote_unknown && !local_unknown && (remote.address().is_loopback() || remote.address() == local.address());
    state_->sessions.insert(this);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ~Session() {
    if (const auto node = state_->nodes.remove_owned_by(this))
      log(LogModule::epmd).info("embedded EPMD on port {}: unregistered {} (port {}, creation {})", state_->port, node->entry.name,
                   node->entry.port, node->creation);
    state_->sessions.erase(this);
  }

  void close() noexcept {
    error_code ignored;
    socket_.close(ignored);
  }

  asio::awaitable<void> run() {
    bool registered = false;
    {
      detail::Deadline deadline(socket_.get_executor(), state_->options.request_timeout, [this] { close(); });
      const std::optional<epmd::Request> request = co_await read_request(deadline);
      if (!request) co_return;
      registered = co_await answer(*request);
    }
    if (registered) co_await hold_registration();
  }

 private:
  asio::awaitable<std::optional<epmd::Request>> read_request(const detail::Deadline& deadline) {
    std::array<std::uint8_t, 2> length_field{};
    error_code ec;
    const std::size_t length_bytes =
        co_await asio::async_read(socket_, asio::buffer(length_field), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (deadline.expired())
        warn(fmt::format("sent no request within {} ms; connection closed", state_->options.request_timeout.count()));
      else if (length_bytes > 0)
        warn("truncated request: the connection closed after 1 of the 2 length bytes (at byte 1)");
      co_return std::nullopt;  // a client that connects and leaves is no error (port probes do that)
    }

    const std::size_t length = spindle::detail::load_be16(length_field.data());
    if (length == 0) {
      warn("empty request: length 0 (at byte 0)");
      co_return std::nullopt;
    }
    if (length > kMaxRequestBytes) {
      warn(fmt::format("request length {} (at byte 0) exceeds the limit of {} bytes", length, kMaxRequestBytes));
      co_return std::nullopt;
    }

    epmd::Bytes body(length);
    const std::size_t body_bytes =
        co_await asio::async_read(socket_, asio::buffer(body), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      warn(fmt::format("truncated request: length {} announced, {} after {} bytes (at byte {})", length,
                       deadline.expired() ? "timed out" : "connection closed", body_bytes, 2 + body_bytes));
      co_return std::nullopt;
    }

    try {
      co_return epmd::parse_request(body);
    } catch (const epmd::EpmdError& e) {
      // The codec counts offsets from the start of the body; the stream has the 2-byte length first.
      const std::string what = e.what();
      warn(what.find("(at byte ") == std::string::npos
               ? what
               : what + " (byte offsets count from the request type, after the 2-byte length)");
      co_return std::nullopt;
    }
  }

  /// Answers one request; true when it registered a node, whose connection then stays open.
  asio::awaitable<bool> answer(const epmd::Request& request) {
    using Kind = epmd::Request::Kind;
    switch (request.kind) {
      case Kind::alive2:
        co_return co_await register_node(request.entry);
      case Kind::port_please2:
        co_await answer_port_please(request.name);
        co_return false;
      case Kind::names:
        co_await reply(epmd::names_response(state_->port, state_->nodes.entries()));
        co_return false;
      case Kind::dump:
        if (from_local_peer("DUMP_REQ")) co_await reply(dump_response());
        co_return false;
      case Kind::kill:
        if (from_local_peer("KILL_REQ")) co_await reply(kKillRefusal);
        co_return false;
      case Kind::stop:
        log(LogModule::epmd).info("embedded EPMD on port {}: client {}: STOP_REQ refused (nodes unregister by closing)",
                     state_->port, peer_);
        co_return false;
    }
    co_return false;
  }

  asio::awaitable<bool> register_node(const epmd::NodeEntry& entry) {
    if (!from_local_peer("ALIVE2_REQ")) co_return false;
    const char* refusal = !is_valid_node_name(entry.name)             ? "the name is not 1 to 255 UTF-8 characters"
                          : state_->nodes.find(entry.name) != nullptr ? "the name is in use"
                                                                      : nullptr;
    if (refusal != nullptr) {
      log(LogModule::epmd).info("embedded EPMD on port {}: client {}: cannot register \"{}\": {}", state_->port, peer_, entry.name,
                   refusal);
      co_await reply(epmd::alive2_response(1, 0));
      co_return false;
    }
    const NodeTable::Node& node = state_->nodes.add(entry, this, socket_.native_handle());
    log(LogModule::epmd).info("embedded EPMD on port {}: registered {} (port {}, creation {})", state_->port, node.entry.name,
                 node.entry.port, node.creation);
    co_return co_await reply(epmd::alive2_response(0, node.creation));
  }

  asio::awaitable<void> answer_port_please(std::string_view name) {
    if (name.ends_with('\0')) name.remove_suffix(1);  // epmd accepts a NUL-terminated name too
    if (!is_valid_node_name(name)) {
      warn("PORT_PLEASE2_REQ without a valid node name (at byte 1)");  // epmd closes without an answer
      co_return;
    }
    const NodeTable::Node* node = state_->nodes.find(name);
    co_await reply(epmd::port2_response(node != nullptr ? &node->entry : nullptr));
  }

  // epmd's DUMP_RESP: its port, then a NUL-terminated line per registered node.
  epmd::Bytes dump_response() const {
    epmd::Bytes out;
    detail::WireWriter writer(out);
    writer.u32(state_->port);
    for (const NodeTable::Node& node : state_->nodes.nodes()) {
      writer.bytes(
          fmt::format("active name     <{}> at port {}, fd = {}\n", node.entry.name, node.entry.port, node.descriptor));
      writer.u8(0);
    }
    return out;
  }

  // Registered nodes send nothing more; EPMD only watches for the connection to close.
  asio::awaitable<void> hold_registration() {
    std::array<std::uint8_t, 64> ignored_bytes{};
    for (;;) {
      error_code ec;
      co_await socket_.async_read_some(asio::buffer(ignored_bytes), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }

  asio::awaitable<bool> reply(const epmd::Bytes& bytes) {
    error_code ec;
    co_await asio::async_write(socket_, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      log(LogModule::epmd).debug("embedded EPMD on port {}: client {} did not take the answer: {}", state_->port, peer_,
                    ec.message());
    co_return !ec;
  }

  // epmd serves registration and administration only to its own host.
  bool from_local_peer(const char* request) const {
    if (!local_peer_) warn(fmt::format("{} from a non-local address refused", request));
    return local_peer_;
  }

  void warn(const std::string& what) const {
    log(LogModule::epmd).warn("embedded EPMD on port {}: client {}: {}", state_->port, peer_, what);
  }

  std::shared_ptr<State> state_;
  tcp::socket socket_;
  std::string peer_;
  bool local_peer_ = false;
};

asio::awaitable<void> serve(std::shared_ptr<Session> session) {
  try {
    co_await session->run();
  } catch (const std::exception& e) {
    log(LogModule::epmd).error("embedded EPMD: a client connection failed: {}", e.what());
  }
}

asio::awaitable<void> accept_clients(std::shared_ptr<State> state) {
  const auto executor = co_await asio::this_coro::executor;
  while (!state->closed) {
    error_code ec;
    tcp::socket socket = co_await accept_from(state->acceptor, ec);
    if (state->closed) break;
    if (ec) {
      // Out of descriptors, say: wait a little instead of spinning on the same error.
      log(LogModule::epmd).warn("embedded EPMD on port {}: accept failed: {}", state->port, ec.message());
      asio::steady_timer pause(executor, 100ms);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (state->sessions.size() >= state->options.max_connections) {
      log(LogModule::epmd).warn("embedded EPMD on port {}: {} connections open, the limit; closing a new one", state->port,
                   state->sessions.size());
      continue;  // `socket` closes as it goes out of scope
    }
    asio::co_spawn(executor, serve(std::make_shared<Session>(state, std::move(socket))), asio::detached);
  }
}

}  // namespace

EpmdServer::EpmdServer(asio::io_context& io, const tcp::endpoint& endpoint, EpmdServerOptions options)
    : state_(std::make_shared<State>(io, options)) {
  tcp::acceptor& acceptor = state_->acceptor;
  const auto check = [&](const error_code& ec, const char* step) {
    if (ec)
      throw std::system_error(std::error_code(ec.value(), std::system_category()),
                              "embedded EPMD cannot listen on " + to_string(endpoint) + " (" + step + ")");
  };
  error_code ec;
  listen_on(acceptor, endpoint, ec);
  check(ec, "listen");
  state_->port = acceptor.local_endpoint(ec).port();
  check(ec, "getsockname");
}

EpmdServer::~EpmdServer() { close(); }

void EpmdServer::start() {
  if (state_->started || state_->closed) return;
  state_->started = true;
  asio::co_spawn(state_->acceptor.get_executor(), accept_clients(state_), asio::detached);
}

std::uint16_t EpmdServer::port() const noexcept { return state_->port; }

void EpmdServer::close() noexcept {
  if (state_->closed) return;
  state_->closed = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  for (Session* session : state_->sessions) session->close();
}

}  // namespace spindle::dist
