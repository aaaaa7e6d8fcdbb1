#include "spindle/dist/distribution.hpp"

#include <future>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "connection.hpp"
#include "cookie.hpp"
#include "distribution_impl.hpp"
#include "epmd_client.hpp"
#include "epmd_server.hpp"
#include "global_name_server.hpp"
#include "handshake_io.hpp"
#include "io_loop.hpp"
#include "local_carrier.hpp"
#include "log.hpp"
#include "net_kernel.hpp"
#include "rpc.hpp"
#include "sockets.hpp"
#include "tls.hpp"
#include "outgoing.hpp"
#include "spindle/dist/flags.hpp"
#include "spindle/dist/observer.hpp"
#include "spindle/gen_server.hpp"
#include "spindle/inbox.hpp"

namespace spindle::dist {
namespace {

// The part of a node name before '@' and the host after it.
std::pair<std::string, std::string> split_node_name(std::string_view full) {
  const auto at = full.find('@');
  return {std::string(full.substr(0, at)), std::string(full.substr(at + 1))};
}

// How long an initiator that lost a simultaneous connect waits for the winner's
// connection before giving up on the node.
constexpr auto kRaceGrace = std::chrono::seconds(2);

class Router final : public RemoteRouter {
 public:
  explicit Router(std::shared_ptr<Distribution::Impl> impl) : impl_(std::move(impl)) {}
  void route(Atom node, RemoteSignal&& signal) override { impl_->route(node, std::move(signal)); }

 private:
  std::shared_ptr<Distribution::Impl> impl_;
};

}  // namespace

// ----- Peer and PeerTable -----

Peer::~Peer() {
  NodeList left = queue.close();
  while (!left.empty()) OutgoingItem::destroy(static_cast<OutgoingItem*>(left.pop_front()));
}

PeerTable::~PeerTable() {
  for (auto& c : chunks_) {
    Chunk* chunk = c.load(std::memory_order_acquire);
    if (chunk == nullptr) continue;
    for (auto& slot : *chunk) delete slot.load(std::memory_order_acquire);
    delete chunk;
  }
}

Peer& PeerTable::get(Atom node) {
  if (Peer* p = find(node)) return *p;
  std::lock_guard lock(insert_mutex_);
  const std::uint32_t i = node.index();
  Chunk* chunk = chunks_[i / kChunk].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    chunk = new Chunk();
    chunks_[i / kChunk].store(chunk, std::memory_order_release);
  }
  Peer* peer = (*chunk)[i % kChunk].load(std::memory_order_acquire);
  if (peer == nullptr) {
    peer = new Peer(node);
    (*chunk)[i % kChunk].store(peer, std::memory_order_release);
  }
  return *peer;
}

// ----- Impl: setting up -----

Distribution::Impl::Impl(Node& owner, DistributionOptions opts)
    : node(owner),
      name(owner.name()),
      options(std::move(opts)),
      cookie(options.cookie.empty() ? default_cookie() : options.cookie),
      flags(flags::ours | (options.hidden ? 0 : flags::published)),
      epmd_port(options.epmd_port != 0 ? options.epmd_port : epmd::port_from_environment()),
      tls(options.tls ? make_tls_context(*options.tls) : nullptr) {
  const std::string full(name.text());
  if (!valid_node_name(full) || name == atoms::nonode_at_nohost)
    throw std::runtime_error("distribution needs a node name \"name@host\", not \"" + full + "\"");
  const auto [alive, host] = split_node_name(full);
  error_code ec;
  if (!options.listen_address.empty()) {
    listen_address = asio::ip::make_address(options.listen_address, ec);
    if (ec) throw std::runtime_error("bad listen address \"" + options.listen_address + "\": " + ec.message());
  } else {
    listen_address = asio::ip::make_address(host, ec);
    if (ec) listen_address = asio::ip::address_v4::any();
  }
}

Distribution::Impl::~Impl() = default;

template <class F>
auto Distribution::Impl::on_io_thread(F&& f) -> decltype(f()) {
  if (t_io.owner == this) return f();  // from a process the I/O thread runs
  using Result = decltype(f());
  std::packaged_task<Result()> task(std::forward<F>(f));
  std::future<Result> result = task.get_future();
  asio::post(io, [&task] { task(); });
  return result.get();
}

HandshakeConfig Distribution::Impl::handshake_config() const {
  return {std::string(name.text()), flags, node.creation(), cookie};
}

asio::awaitable<void> Distribution::Impl::register_with_epmd() {
  epmd::NodeEntry entry;
  entry.name = split_node_name(name.text()).first;
  entry.port = listen_port;
  entry.node_type = options.hidden ? 72 : 77;
  entry.lowest_version = 6;
  entry.highest_version = 6;
  if (local_acceptor) entry.extra = local_carrier::advertise(local_acceptor->local_endpoint());
  for (int attempt = 0;; ++attempt) {
    try {
      registration = co_await EpmdRegistration::register_node("127.0.0.1", epmd_port, entry);
      co_return;
    } catch (const EpmdIoError& e) {
      if (!e.connection_refused() || !options.embedded_epmd || attempt >= 2) throw;
    }
    // Nobody answers on the EPMD port: be the EPMD. Loopback only when the node itself
    // listens on loopback; otherwise every interface, as epmd does.
    const auto address = listen_address.is_loopback() ? listen_address : asio::ip::address(asio::ip::address_v4::any());
    try {
      auto server = std::make_unique<EpmdServer>(io, tcp::endpoint(address, epmd_port));
      server->start();
      embedded_epmd = std::move(server);
      serving_epmd = true;
      log().info("{}: no EPMD on port {}; serving it here", name.text(), epmd_port);
    } catch (const std::system_error&) {
      // Another node started one just now: register with that.
    }
  }
}

// ----- Impl: routing (any thread) -----

thread_local Distribution::Impl::IoThread Distribution::Impl::t_io;

void Distribution::Impl::route(Atom to_node, RemoteSignal&& signal) {
  if (closed.load(std::memory_order_acquire)) {
    if (auto answer = noconnection_answer(signal)) node.deliver_remote(to_node, std::move(*answer));
    return;
  }
  Peer* peer = peers.find(to_node);
  if (peer == nullptr) peer = &peers.get(to_node);
  if (peer->overflowing.load(std::memory_order_acquire)) {
    if (auto answer = noconnection_answer(signal)) node.deliver_remote(to_node, std::move(*answer));
    return;
  }
  OutgoingItem* item = OutgoingItem::make(std::move(signal));
  const std::size_t weight = item->weight;
  const std::size_t queued = peer->queued_bytes.fetch_add(weight, std::memory_order_relaxed) + weight;
  if (queued > options.max_queued_bytes) {
    peer->queued_bytes.fetch_sub(weight, std::memory_order_relaxed);
    if (auto answer = noconnection_answer(item->signal)) node.deliver_remote(to_node, std::move(*answer));
    OutgoingItem::destroy(item);
    if (!peer->overflowing.exchange(true, std::memory_order_acq_rel))
      asio::post(io, [this, peer] { queue_overflowed(*peer); });
    return;
  }
  if (peer->queue.push(item) != Mailbox::Push::QueuedWasIdle) {
    if (t_io.owner == this) write_during_long_run();
  } else if (t_io.owner == this && t_io.runner != nullptr && t_io.runner->running()) {
    queue_woke(*peer);  // from a process the I/O thread runs, between its handlers
  } else {
    asio::post(io, [this, peer] { queue_woke(*peer); });
  }
  if (queued > options.busy_limit_bytes) suspend_sender(*peer);
}

void Distribution::Impl::suspend_sender(Peer& peer) {
  // The I/O thread itself never waits, not even in Node::send: it is the writer that
  // would end the wait. (A process it runs is suspended as any process is.)
  if (t_io.owner != nullptr && (t_io.runner == nullptr || !t_io.runner->running())) return;
  std::optional<SuspendedSender> sender = node.suspend_caller();
  if (!sender) return;  // not a process, or already to be suspended
  {
    std::lock_guard lock(peer.waiters_mutex);
    peer.waiters.push_back(std::move(*sender));
    peer.has_waiters.store(true, std::memory_order_seq_cst);
  }
  peer.senders_suspended.fetch_add(1, std::memory_order_relaxed);
  // The writer may have taken the queue under the limit before the sender was listed
  // (it looks at the list after it takes from the queue, this looks at the queue after
  // listing, so one of the two sees the other), or the queue failed meanwhile.
  if (peer.queued_bytes.load(std::memory_order_seq_cst) <= options.busy_limit_bytes ||
      peer.overflowing.load(std::memory_order_acquire) || closed.load(std::memory_order_acquire))
    resume_senders(peer, false);
}

void Distribution::Impl::resume_senders(Peer& peer, bool only_if_under) {
  // The writer took from the queue with relaxed updates of queued_bytes: order them
  // before the look at the list (see suspend_sender).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!peer.has_waiters.load(std::memory_order_seq_cst)) return;
  std::vector<SuspendedSender> resumed;
  {
    std::lock_guard lock(peer.waiters_mutex);
    if (only_if_under && peer.queued_bytes.load(std::memory_order_seq_cst) > options.busy_limit_bytes) return;
    resumed.swap(peer.waiters);
    peer.has_waiters.store(false, std::memory_order_relaxed);
  }
  for (const SuspendedSender& s : resumed) s.resume();
}

void Distribution::Impl::run_woken_here() {
  if (t_io.runner == nullptr) return;
  t_io.runner->run();
  write_due_now();
}

void Distribution::Impl::write_due_now() {
  while (!writes_after_run.empty()) {
    std::vector<std::shared_ptr<Connection>> due;
    due.swap(writes_after_run);
    for (const auto& connection : due) connection->write_now();
  }
}

void Distribution::Impl::write_during_long_run() {
  // A process the I/O thread runs may send a great deal in one handler call, and none of
  // it would be written until the call returns: every so often, let the I/O thread do
  // its own work (write, read, tick) in the middle of the call.
  constexpr unsigned kSendsBetweenPolls = 256;
  if (t_io.runner == nullptr || !t_io.runner->running() || ++t_io.sends % kSendsBetweenPolls != 0) return;
  t_io.runner->aside([this] {
    write_due_now();
    io.poll();
  });
}

// ----- Impl: connections (I/O thread) -----

void Distribution::Impl::queue_woke(Peer& peer) {
  if (closed.load(std::memory_order_relaxed)) return fail_queued(peer);
  switch (peer.state) {
    case Peer::State::up:
      if (t_io.owner == this && t_io.runner != nullptr && t_io.runner->running()) {
        peer.connection->kick_from_run();
      } else {
        peer.connection->kick();
      }
      break;
    case Peer::State::idle:
      start_connecting(peer);
      break;
    case Peer::State::connecting:
    case Peer::State::waiting:
      break;  // written once the connection is up, answered if it fails
  }
}

void Distribution::Impl::queue_overflowed(Peer& peer) {
  const std::string why = "more than " + std::to_string(options.max_queued_bytes) +
                          " bytes queued (max_queued_bytes): the peer is not reading fast enough";
  if (peer.state == Peer::State::up) {
    peer.connection->close(why, true);  // connection_closed ends the overflow
    return;
  }
  // No connection yet: drop what is queued, but let a connection attempt under way go on.
  // Voiding it would let the next send start a second attempt beside it, and the peer,
  // seeing two, would keep one we then throw away (a CI run lost a reconnect that way).
  log().warn("{}: dropping what is queued for {}: {}", name.text(), peer.name.text(), why);
  fail_queued(peer);
  peer.overflowing.store(false, std::memory_order_release);
}

void Distribution::Impl::fail_queued(Peer& peer) {
  for (;;) {
    NodeList items = peer.queue.take_all();
    while (!items.empty()) {
      auto* item = static_cast<OutgoingItem*>(items.pop_front());
      peer.queued_bytes.fetch_sub(item->weight, std::memory_order_relaxed);
      if (!item->is_raw())
        if (auto answer = noconnection_answer(item->signal)) node.deliver_remote(peer.name, std::move(*answer));
      OutgoingItem::destroy(item);
    }
    if (peer.queue.idle() || peer.queue.try_idle()) break;
  }
  resume_senders(peer, false);
}

void Distribution::Impl::start_connecting(Peer& peer) {
  peer.state = Peer::State::connecting;
  const std::uint64_t attempt = ++peer.attempt;
  asio::co_spawn(io, connect(peer, attempt), asio::detached);
}

asio::awaitable<void> Distribution::Impl::connect(Peer& peer, std::uint64_t attempt) {
  const std::string full(peer.name.text());
  const auto superseded = [&] { return peer.attempt != attempt || peer.state != Peer::State::connecting; };
  const auto give_up = [&](const std::string& why) {
    if (superseded()) {
      log().info("{}: an attempt to connect to {} that another replaced ended: {}", name.text(), full, why);
      return;
    }
    log().warn("{}: cannot connect to {}: {}", name.text(), full, why);
    peer.state = Peer::State::idle;
    fail_queued(peer);
  };
  try {
    if (!valid_node_name(full)) throw std::runtime_error("not a node name");
    const auto [alive, host] = split_node_name(full);
    const auto found = co_await epmd_port_please(host, epmd_port, alive, options.setup_time);
    if (!found) throw std::runtime_error("EPMD on " + host + " does not know it");
    tcp::resolver resolver(io);
    const auto endpoints =
        co_await resolver.async_resolve(host, std::to_string(found->port), asio::use_awaitable);
    // A Spindle node on this machine that advertises the local carrier is reached there,
    // anything else (or that, when it fails) over TCP.
    std::optional<Transport> carrier;
    if (uses_local_carrier())
      if (const auto where = local_carrier::advertised(found->extra))
        if (local_carrier::on_this_machine(endpoints, host, split_node_name(name.text()).second))
          if (auto local = co_await connect_locally(full, *where)) carrier.emplace(std::move(*local));
    if (!carrier) {
      tcp::socket socket(io);
      detail::Deadline deadline(io.get_executor(), options.setup_time, [&socket] {
        error_code ignored;
        socket.close(ignored);
      });
      error_code ec;
      co_await connect_to(socket, endpoints, ec);
      if (ec) throw boost::system::system_error(ec, "connect");
      carrier.emplace(transport(std::move(socket)));
    }
    Transport link = std::move(*carrier);
    Handshake handshake = Handshake::initiate(handshake_config(), full);
    co_await run_handshake(link, handshake, options.setup_time, host);
    Transport carrier_ready = co_await share_memory(std::move(link));
    if (superseded()) {  // the peer's own connection won meanwhile
      log().info("{}: dropped a connection to {}: another attempt replaced this one", name.text(), full);
      co_return;
    }
    install(peer, std::move(carrier_ready), handshake);
  } catch (const HandshakeError& e) {
    if (e.reason() == HandshakeError::Reason::lost_race && !superseded()) {
      // Both sides connected at once and the peer's attempt goes on: wait for it.
      peer.state = Peer::State::waiting;
      auto timer = std::make_shared<asio::steady_timer>(io, kRaceGrace);
      timer->async_wait([this, &peer, attempt, timer](const error_code& ec) {
        if (ec || peer.attempt != attempt || peer.state != Peer::State::waiting) return;
        log().warn("{}: {} did not complete its simultaneous connection", name.text(), peer.name.text());
        peer.state = Peer::State::idle;
        fail_queued(peer);
      });
      co_return;
    }
    give_up(e.what());
  } catch (const std::exception& e) {
    give_up(e.what());
  }
}

HandshakeStatus Distribution::Impl::decide(const HandshakePeer& who) {
  if (closed.load(std::memory_order_relaxed)) return HandshakeStatus::not_allowed;
  std::optional<Atom> remote;
  try {
    remote = Atom(who.name);
  } catch (const std::exception&) {
    return HandshakeStatus::not_allowed;
  }
  if (*remote == name) {
    log().warn("{}: refused a connection from a node with this node's own name", name.text());
    return HandshakeStatus::not_allowed;
  }
  Peer& peer = peers.get(*remote);
  switch (peer.state) {
    case Peer::State::up:
      return HandshakeStatus::alive;
    case Peer::State::connecting:
      // Both sides are connecting: the node with the greater name keeps its own attempt.
      if (name.text() > remote->text()) return HandshakeStatus::nok;
      ++peer.attempt;  // ours is superseded
      peer.state = Peer::State::waiting;
      return HandshakeStatus::ok_simultaneous;
    case Peer::State::idle:
    case Peer::State::waiting:
      peer.state = Peer::State::waiting;
      return HandshakeStatus::ok;
  }
  return HandshakeStatus::not_allowed;
}

template <class Acceptor>
asio::awaitable<void> Distribution::Impl::accept_loop(Acceptor& listener) {
  for (;;) {
    error_code ec;
    auto socket = co_await accept_from(listener, ec);
    if (ec == asio::error::operation_aborted || !listener.is_open()) co_return;
    if (ec) {
      log().warn("{}: accept failed: {}", name.text(), ec.message());
      continue;
    }
    asio::co_spawn(io, accept_one(transport(std::move(socket))), asio::detached);
  }
}

asio::awaitable<void> Distribution::Impl::accept_one(Transport link) {
  const std::string from = link.peer_address();
  Handshake handshake = Handshake::accept(handshake_config(), [this](const HandshakePeer& who) { return decide(who); });
  std::optional<Transport> ready;
  try {
    co_await run_handshake(link, handshake, options.setup_time);
    ready.emplace(co_await share_memory(std::move(link)));
  } catch (const std::exception& e) {
    const std::string who = handshake.peer().name.empty() ? from : handshake.peer().name + " (" + from + ")";
    const auto* refusal = dynamic_cast<const HandshakeError*>(&e);
    if (refusal != nullptr && refusal->reason() == HandshakeError::Reason::lost_race) {
      // Both nodes connected at once and ours goes on: the normal end of that race.
      log().info("{}: {} connected to us while we connected to it; our connection goes on", name.text(), who);
    } else {
      log().warn("{}: refused a connection from {}: {}", name.text(), who, e.what());
    }
    // An attempt we were waiting for failed: nothing queued for that node can go.
    if (!handshake.peer().name.empty()) {
      if (auto remote = Atom::existing(handshake.peer().name))
        if (Peer* peer = peers.find(*remote); peer != nullptr && peer->state == Peer::State::waiting) {
          peer->state = Peer::State::idle;
          fail_queued(*peer);
        }
    }
    co_return;
  }
  install(peers.get(Atom(handshake.peer().name)), std::move(*ready), handshake);
}

Transport Distribution::Impl::transport(tcp::socket socket) {
  return tls ? Transport(std::move(socket), *tls) : Transport(std::move(socket));
}

Transport Distribution::Impl::transport(local_stream::socket socket) { return Transport(std::move(socket)); }

asio::awaitable<std::optional<Transport>> Distribution::Impl::connect_locally(const std::string& peer_name,
                                                                             const local_stream::endpoint& where) {
  local_stream::socket socket(io);
  detail::Deadline deadline(io.get_executor(), options.setup_time, [&socket] {
    error_code ignored;
    socket.close(ignored);
  });
  error_code ec;
  co_await dist::connect_locally(socket, where, ec);
  if (!ec) co_return transport(std::move(socket));
  log().info("{}: {} advertises a local socket, but connecting to it failed ({}); connecting over TCP",
             name.text(), peer_name, ec.message());
  co_return std::nullopt;
}

asio::awaitable<Transport> Distribution::Impl::share_memory(Transport link) {
  local_stream::socket* socket = link.local_socket();
  if (socket == nullptr) co_return link;
  detail::Deadline deadline(io.get_executor(), options.setup_time, [socket] {
    error_code ignored;
    socket->close(ignored);
  });
  // A node that cannot make its ring (no memfd here, no memory) offers none, and the
  // socket carries the frames.
  std::optional<SharedRing> mine;
  if (options.shared_ring_bytes > 0) {
    try {
      mine.emplace(SharedRing::create(options.shared_ring_bytes));
    } catch (const std::exception& e) {
      log().warn("{}: no shared-memory ring for a local connection ({}); its socket carries the frames", name.text(),
                 e.what());
    }
  }
  try {
    auto rings = co_await share_rings(*socket, std::move(mine));
    if (rings) co_return Transport(std::move(rings));
  } catch (const boost::system::system_error&) {
    if (deadline.expired())
      throw std::runtime_error("no ring offer came within " + std::to_string(options.setup_time.count()) + " ms");
    throw;
  }
  co_return link;
}

void Distribution::Impl::install(Peer& peer, Transport link, const Handshake& handshake) {
  if (closed.load(std::memory_order_relaxed)) {
    // A handshake that finished after close() began: it gets no connection (close()
    // closes the ones it found, and a connection left over would outlive the I/O
    // context it depends on). Dropping `link` closes the socket.
    peer.state = Peer::State::idle;
    fail_queued(peer);
    return;
  }
  auto connection = std::make_shared<Connection>(*this, peer, std::move(link), handshake.peer(), handshake.shared_flags());
  std::shared_ptr<Connection> old = std::exchange(peer.connection, connection);
  peer.state = Peer::State::up;
  ++peer.attempt;
  if (old) old->close("replaced by a new connection from the same node");
  log().info("{}: connected to {} ({})", name.text(), peer.name.text(), connection->address());
  if (global_name_server && (handshake.peer().flags & flags::published) != 0)
    node.send(*global_name_server, tuple(atom("nodeup"), peer.name));
  connection->start();
  connection->kick();
}

void Distribution::Impl::connection_closed(Peer& peer, Connection& connection, const std::string& why, bool failed) {
  log().log(failed ? spdlog::level::warn : spdlog::level::info, "{}: connection to {} ({}) closed: {}", name.text(),
            peer.name.text(), connection.address(), why);
  for (RemoteSignal& s : connection.ledger().connection_lost()) node.deliver_remote(peer.name, std::move(s));
  if (peer.connection.get() != &connection) return;  // an old connection, already replaced
  if (global_name_server) node.send(*global_name_server, tuple(atom("nodedown"), peer.name));
  peer.connection.reset();
  peer.state = Peer::State::idle;
  fail_queued(peer);
  peer.overflowing.store(false, std::memory_order_release);
}

void Distribution::Impl::shutdown() {
  closed.store(true, std::memory_order_release);
  error_code ignored;
  if (acceptor) acceptor->close(ignored);
  if (local_acceptor) local_acceptor->close(ignored);
  if (registration) registration->close();
  if (embedded_epmd) embedded_epmd->close();
}

// ----- Distribution -----

Distribution::Distribution(Node& node, DistributionOptions options)
    : impl_(std::make_shared<Impl>(node, std::move(options))) {
  Impl& d = *impl_;
  if (!d.options.hidden) {
    // Before any connection: every visible peer's nodeup must reach it.
    const Pid server = node.spawn<GlobalNameServer>();
    if (node.register_name(server, GlobalNameServer::registered_name())) d.global_name_server = server;
    else node.exit(server, atoms::kill);
  }
  d.io_thread = std::thread([&d] {
    std::optional<Scheduler::RunWokenHere> here;
    if (d.options.io_runs_processes) here.emplace(d.node.scheduler());
    Impl::t_io = {&d, here ? &*here : nullptr};
    run_io_loop(d.io, d.options.io_busy_wait, [&d] {
      d.run_woken_here();
      return !std::exchange(d.busy_wait_spent, false) && d.gathering == 0;
    });
    here.reset();
    d.writes_after_run.clear();  // the connections are closed: nothing more is written
    Impl::t_io = {};
  });
  try {
    d.on_io_thread([&d] {
      d.acceptor.emplace(d.io);
      error_code ec;
      listen_on(*d.acceptor, tcp::endpoint(d.listen_address, d.options.listen_port), ec);
      if (ec) throw boost::system::system_error(ec, "listen");
      d.listen_port = d.acceptor->local_endpoint().port();
      asio::co_spawn(d.io, d.accept_loop(*d.acceptor), asio::detached);
      if (d.uses_local_carrier()) {
        d.local_acceptor.emplace(d.io);
        listen_locally(*d.local_acceptor, ec);
        if (ec) throw boost::system::system_error(ec, "listen on a local socket");
        asio::co_spawn(d.io, d.accept_loop(*d.local_acceptor), asio::detached);
      }
    });
    std::promise<void> registered;
    asio::co_spawn(d.io, d.register_with_epmd(), [&registered](std::exception_ptr e) {
      if (e) {
        registered.set_exception(e);
      } else {
        registered.set_value();
      }
    });
    registered.get_future().get();
  } catch (const std::exception& e) {
    close(std::chrono::milliseconds(0));
    d.io.stop();
    d.io_thread.join();
    throw std::runtime_error(std::string("cannot start distribution for ") + std::string(node.name().text()) + ": " +
                             e.what());
  }
  const Pid net_kernel = node.spawn<NetKernel>();
  node.register_name(net_kernel, atoms::net_kernel);
  start_rex(node);  // rpc for erl_call and the C and Java interfaces
  // spindle:stats() and spindle:processes(), for spindle-top and any Erlang node.
  node.register_function(atom("spindle"), atom("stats"), 0,
                         [&node, weak = std::weak_ptr<Impl>(impl_)](std::span<const Term>) {
                           ObservedNode observed{node.stats(), {}};
                           if (auto impl = weak.lock()) observed.connections = impl->connection_stats();
                           return stats_term(observed);
                         });
  node.register_function(atom("spindle"), atom("processes"), 0,
                         [&node](std::span<const Term>) { return processes_term(node.process_stats()); });
  node.set_remote_router(std::make_shared<Router>(impl_));
  log().info("{}: distribution up on port {} ({}, EPMD port {}{})", node.name().text(), d.listen_port,
             d.tls ? "TLS" : d.local_acceptor ? "TCP, and a local socket for Spindle nodes on this machine" : "TCP",
             d.epmd_port, d.serving_epmd ? ", embedded" : "");
}

Distribution::~Distribution() {
  impl_->node.functions().remove(atom("spindle"), atom("stats"), 0);
  impl_->node.functions().remove(atom("spindle"), atom("processes"), 0);
  close();
  impl_->node.set_remote_router(nullptr);
  impl_->io.stop();
  impl_->io_thread.join();
}

std::uint16_t Distribution::listen_port() const noexcept { return impl_->listen_port; }
std::uint16_t Distribution::epmd_port() const noexcept { return impl_->epmd_port; }
bool Distribution::runs_embedded_epmd() const noexcept { return impl_->serving_epmd.load(); }

std::size_t Distribution::queued_bytes(Atom node) const {
  const Peer* peer = impl_->peers.find(node);
  return peer == nullptr ? 0 : peer->queued_bytes.load(std::memory_order_relaxed);
}

std::vector<ConnectionStats> Distribution::connection_stats() const { return impl_->connection_stats(); }

std::vector<ConnectionStats> Distribution::Impl::connection_stats() {
  // Read on the I/O thread. A caller (spindle:stats() runs on a worker) may get here as
  // the distribution closes and its I/O thread stops for good: then the reading never
  // runs, and after a second it gets none rather than waiting forever.
  if (closed.load(std::memory_order_acquire)) return {};
  auto read = [this] {
    std::vector<ConnectionStats> up;
    peers.for_each([&up](Peer& p) {
      if (p.state != Peer::State::up || !p.connection) return;
      ConnectionStats s = p.connection->stats();
      s.node = p.name;
      s.queued_bytes = p.queued_bytes.load(std::memory_order_relaxed);
      s.senders_suspended = p.senders_suspended.load(std::memory_order_relaxed);
      up.push_back(std::move(s));
    });
    return up;
  };
  if (t_io.owner == this) return read();  // from a process the I/O thread runs
  auto reading = std::make_shared<std::promise<std::vector<ConnectionStats>>>();
  std::future<std::vector<ConnectionStats>> result = reading->get_future();
  asio::post(io, [read, reading] { reading->set_value(read()); });
  if (result.wait_for(std::chrono::seconds(1)) != std::future_status::ready) return {};
  return result.get();
}

std::vector<Atom> Distribution::connected_nodes() const {
  Impl& d = *impl_;
  return d.on_io_thread([&d] {
    std::vector<Atom> up;
    d.peers.for_each([&up](Peer& p) {
      if (p.state == Peer::State::up) up.push_back(p.name);
    });
    return up;
  });
}

bool Distribution::disconnect(Atom node) {
  Impl& d = *impl_;
  return d.on_io_thread([&d, node] {
    Peer* peer = d.peers.find(node);
    if (peer == nullptr || peer->state != Peer::State::up) return false;
    std::shared_ptr<Connection> connection = peer->connection;
    connection->close("disconnected");
    return true;
  });
}

bool Distribution::ping(Atom node, std::chrono::milliseconds timeout) {
  if (node == impl_->name) return true;
  Inbox inbox(impl_->node);
  const Ref watch = inbox.monitor(RegisteredName{atoms::net_kernel, node});
  const Ref tag = impl_->node.make_ref();
  impl_->node.send(RegisteredName{atoms::net_kernel, node},
                   tuple(atoms::gen_call, tuple(inbox.pid(), tag), tuple(atoms::is_auth, impl_->name)));
  const auto answer = inbox.receive(
      [&](const Term& m) {
        return (m.is_tuple(2) && m.as_tuple()[0] == Term(tag)) ||
               (m.is_tuple(5) && m.as_tuple()[0].is_atom(atoms::DOWN) && m.as_tuple()[1] == Term(watch));
      },
      timeout);
  return answer && answer->as_tuple()[0] == Term(tag) && answer->as_tuple()[1].is_atom(atoms::yes);
}

std::optional<Pid> Distribution::global_whereis(const Term& name, std::chrono::milliseconds timeout) {
  if (!impl_->global_name_server) return std::nullopt;
  Inbox inbox(impl_->node);
  const Term answer = gen_server::call(inbox, *impl_->global_name_server, tuple(atom("whereis"), name), timeout);
  return answer.is_pid() ? std::optional(answer.as_pid()) : std::nullopt;
}

void Distribution::close(std::chrono::milliseconds flush_timeout) {
  Impl& d = *impl_;
  if (d.close_started.exchange(true)) return;
  std::vector<std::shared_ptr<Connection>> open = d.on_io_thread([&d, flush_timeout] {
    d.shutdown();
    std::vector<std::shared_ptr<Connection>> connections;
    d.peers.for_each([&](Peer& p) {
      if (p.state == Peer::State::up && p.connection) {
        connections.push_back(p.connection);
        p.connection->close_after_flush(flush_timeout);
      } else {
        d.fail_queued(p);
      }
    });
    return connections;
  });
  // Wait for the flushes (each ends by its deadline at the latest).
  const auto deadline = std::chrono::steady_clock::now() + flush_timeout + std::chrono::milliseconds(200);
  while (std::chrono::steady_clock::now() < deadline) {
    const bool all_closed = d.on_io_thread([&open] {
      for (const auto& c : open)
        if (c->is_open()) return false;
      return true;
    });
    if (all_closed) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.on_io_thread([&d, &open] {
    for (const auto& c : open) c->close("closed");
    d.peers.for_each([](Peer& p) {
      if (p.connection) p.connection->close("closed");
    });
  });
}

}  // namespace spindle::dist
