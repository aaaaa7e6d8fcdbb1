#pragma once
// The distribution layer's shared state. The node's router and the public Distribution
// both hold it; everything marked "I/O thread" runs only on its io_context's thread.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "asio.hpp"
#include "peer.hpp"
#include "spindle/dist/distribution.hpp"
#include "spindle/dist/handshake.hpp"
#include "transport.hpp"

namespace spindle::dist {

class EpmdServer;
class EpmdRegistration;
struct OutgoingItem;

struct Distribution::Impl : std::enable_shared_from_this<Distribution::Impl> {
  Impl(Node& node, DistributionOptions options);
  ~Impl();

  // ----- any thread -----

  /// A signal for a process of `node` (the RemoteRouter's entry point).
  void route(Atom node, RemoteSignal&& signal);
  /// Runs `f` on the I/O thread and waits for its result.
  template <class F>
  auto on_io_thread(F&& f) -> decltype(f());
  /// Every connection that is up (nothing once closed, or when the I/O thread does not
  /// answer within a second).
  std::vector<ConnectionStats> connection_stats();

  // ----- I/O thread -----

  /// `peer`'s queue went from idle to non-empty.
  void queue_woke(Peer& peer);
  /// Answers everything queued for `peer` as Erlang does when a node cannot be reached,
  /// and leaves the queue idle.
  void fail_queued(Peer& peer);
  /// A process's send left `peer`'s queue past busy_limit_bytes: suspend the process.
  void suspend_sender(Peer& peer);
  /// Resumes the processes suspended on `peer`: all of them, or (when `only_if_under`)
  /// none unless its queue is back under busy_limit_bytes. Any thread.
  void resume_senders(Peer& peer, bool only_if_under);
  /// A send found the peer's queue over max_queued_bytes: drop the connection.
  void queue_overflowed(Peer& peer);
  void start_connecting(Peer& peer);
  asio::awaitable<void> connect(Peer& peer, std::uint64_t attempt);
  /// Accepts connections on `acceptor` (TCP, or the local carrier's) until it closes.
  template <class Acceptor>
  asio::awaitable<void> accept_loop(Acceptor& listener);
  asio::awaitable<void> accept_one(Transport link);
  /// A connection's transport over `socket`: TLS when the node uses it.
  Transport transport(tcp::socket socket);
  /// A connection's transport over a local carrier socket (never TLS).
  Transport transport(local_stream::socket socket);
  /// Connects to `where`, the local carrier a node on this machine advertised; none
  /// (and a log line) when that fails, so that the caller goes on over TCP.
  asio::awaitable<std::optional<Transport>> connect_locally(const std::string& peer_name, const local_stream::endpoint& where);
  /// Whether this node listens on, and connects through, the local carrier.
  bool uses_local_carrier() const noexcept { return options.local_carrier && !tls; }
  /// The acceptor's answer to a node announcing itself (simultaneous connects and all).
  HandshakeStatus decide(const HandshakePeer& who);
  /// A handshake finished: `transport` carries `peer`'s traffic from now on.
  /// After the handshake on the local carrier: the shared-memory rings, when both nodes
  /// use them (shared_ring_bytes); `link` itself otherwise.
  asio::awaitable<Transport> share_memory(Transport link);
  void install(Peer& peer, Transport transport, const Handshake& handshake);
  /// A connection ended: the bookkeeping and the `noconnection` signals.
  void connection_closed(Peer& peer, Connection& connection, const std::string& why, bool failed);
  HandshakeConfig handshake_config() const;
  asio::awaitable<void> register_with_epmd();
  void shutdown();

  Node& node;
  const Atom name;
  DistributionOptions options;
  std::string cookie;
  std::uint64_t flags;
  std::uint16_t epmd_port;
  std::uint16_t listen_port = 0;
  asio::ip::address listen_address;
  std::unique_ptr<ssl::context> tls;  // set when every connection uses TLS
  PeerTable peers;
  /// This node's part in `global`, on visible nodes only (set before the I/O thread starts).
  std::optional<Pid> global_name_server;
  /// Set once by shutdown: new signals are answered as unreachable instead of queued.
  std::atomic<bool> closed{false};
  std::atomic<bool> close_started{false};  // Distribution::close runs once

  // I/O thread
  std::optional<tcp::acceptor> acceptor;
  std::optional<local_stream::acceptor> local_acceptor;  // with uses_local_carrier()
  std::unique_ptr<EpmdServer> embedded_epmd;
  std::unique_ptr<EpmdRegistration> registration;
  std::atomic<bool> serving_epmd{false};

  /// The connection whose read loop asks its socket for the next bytes while the
  /// busy-wait lasts (Connection::read_next): the one that read last. Only compared,
  /// never followed. I/O thread.
  const Connection* spinning_reader = nullptr;
  /// Set by that read loop when it gave up at the end of the busy wait: the I/O thread
  /// then sleeps at once instead of polling for another busy wait (run_io_loop).
  bool busy_wait_spent = false;
  /// Read loops waiting for bytes to gather (Connection::gather). While any does, the
  /// I/O thread sleeps between events instead of polling: the peer sending is what it
  /// waits for, and polling would take CPU from that sender when it shares the machine.
  std::size_t gathering = 0;

  // Last, so it is destroyed first: pending handlers and coroutine frames it destroys
  // may still refer to the members above.
  asio::io_context io;
  std::thread io_thread;
  /// On the I/O thread, who it is (on other threads, all null).
  struct IoThread {
    Impl* owner = nullptr;
    Scheduler::RunWokenHere* runner = nullptr;  // when it runs processes
    unsigned sends = 0;  // by the processes it ran
  };
  static thread_local IoThread t_io;
  /// On the I/O thread: a delivery it just made left a process for it to run.
  static bool io_thread_will_run_woken() noexcept { return t_io.runner != nullptr && t_io.runner->pending(); }
  void write_during_long_run();
  /// On the I/O thread: runs the processes its deliveries woke, then writes at once what
  /// they queued for connections whose writers were idle (Connection::kick_from_run).
  /// After every handler, and from a read loop before its next read, so that a reply is
  /// written before the I/O thread reads again.
  void run_woken_here();
  /// The write_now of every connection listed by write_after_run.
  void write_due_now();
  /// On the I/O thread, from a process it runs: `connection` is to write_now after the run.
  void write_after_run(std::shared_ptr<Connection> connection) { writes_after_run.push_back(std::move(connection)); }
  std::vector<std::shared_ptr<Connection>> writes_after_run;  // I/O thread
};

}  // namespace spindle::dist
