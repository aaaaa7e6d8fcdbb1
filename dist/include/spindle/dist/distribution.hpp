#pragma once
/// @file
/// `Distribution`: makes a Node a member of an Erlang cluster. It listens for
/// connections, registers with EPMD (starting an embedded EPMD when none answers),
/// connects to other nodes on the first signal for them, and carries messages, links,
/// monitors and exit signals both ways, all on one Asio I/O thread of its own.
///
///     spindle::Node node({.name = "spin@127.0.0.1"});
///     spindle::dist::Distribution dist(node, {.cookie = "secret"});
///     node.send(spindle::RegisteredName{spindle::atom("shell"), spindle::atom("erl@127.0.0.1")}, msg);

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spindle/dist/frame.hpp"
#include "spindle/node.hpp"

namespace spindle::dist {

/// TLS on every connection, as OTP's inet_tls_dist does it (`erl -proto_dist inet_tls`
/// with an `ssl_dist_optfile`): TCP, then TLS 1.2 or later, then the distribution
/// handshake and frames inside it. EPMD stays plain, as in OTP. Every node of the cluster
/// must use TLS: a plain node cannot talk to a TLS one.
struct TlsOptions {
  /// PEM file with this node's certificate, and the chain up to its authority.
  std::string certfile;
  /// PEM file with the private key; empty: it is in `certfile`.
  std::string keyfile;
  /// PEM file with the authorities that sign the peers' certificates.
  std::string cacertfile;
  /// Check every peer's certificate against `cacertfile`: a node we connect to must
  /// present one that names the host part of its node name (an IP address as an
  /// iPAddress subjectAltName), and a node connecting to us must present one at all.
  /// Off only for tests.
  bool verify = true;
};

struct DistributionOptions {
  /// The shared secret. Empty: read ~/.erlang.cookie, creating it (as Erlang does, with
  /// a random cookie, mode 0400) when it does not exist.
  std::string cookie;
  /// A hidden node is not part of the peers' `nodes()` and receives no `global`
  /// traffic. Visible nodes are announced as such in EPMD and the handshake.
  bool hidden = true;
  /// The EPMD port; 0: $ERL_EPMD_PORT, else 4369.
  std::uint16_t epmd_port = 0;
  /// Start an embedded EPMD on `epmd_port` when nothing answers there.
  bool embedded_epmd = true;
  /// The distribution listen port; 0: any free one.
  std::uint16_t listen_port = 0;
  /// Where to listen (and serve the embedded EPMD). Empty: the host part of the node
  /// name when it is an IP address, else every interface.
  std::string listen_address;
  /// Erlang's net_ticktime: a peer silent this long is taken for dead; a quiet link
  /// sends a tick every quarter of it.
  std::chrono::milliseconds net_ticktime = std::chrono::seconds(60);
  /// Erlang's net_setuptime: the longest a connection set-up (EPMD query, connect and
  /// handshake) may take.
  std::chrono::milliseconds setup_time = std::chrono::seconds(7);
  /// Messages larger than this go out as fragments (to peers with DFLAG_FRAGMENTS),
  /// which bounds any one frame. A message within it arrives whole, and a Spindle
  /// receiver then uses its large binaries in place rather than copying them out of
  /// reassembled fragments: measured on loopback, 64 KB binaries stream about 15% faster
  /// than with OTP's 64 KB fragments.
  std::size_t fragment_size = std::size_t{1} << 20;
  /// The most bytes of signals waiting to go to one node (encoded, plus bookkeeping).
  /// A send that would pass it closes the connection to that node, with a warning in
  /// the log: links and monitors across it get `noconnection`, and signals to that node
  /// are dropped until the connection is gone (so none overtakes a dropped one). A peer
  /// that stops reading thus costs at most this much memory.
  std::size_t max_queued_bytes = std::size_t{1} << 30;
  /// Erlang's dist_buf_busy_limit: a process whose send leaves more than this waiting
  /// for one node is suspended once its current handler returns (its mail waits; exit
  /// signals do not) until the writer has taken the queue back under it, or the
  /// connection is gone (Process::suspend_pending lets a loop of sends stop at once). A
  /// thread that runs no processes waits in Node::send instead. So a fast sender to a
  /// slow node waits instead of queueing without bound. Workers and the I/O thread never
  /// wait, and a handler call is not cut short: what they queue is bounded by
  /// max_queued_bytes.
  std::size_t busy_limit_bytes = std::size_t{1} << 20;
  /// How long the I/O thread keeps polling after its last event before it sleeps. A
  /// reply written within it reaches the I/O thread without a wake-up from the kernel,
  /// which is most of a round trip's cost on loopback; the price is this much CPU after
  /// each burst of traffic (none while idle). Meanwhile the connection that read last
  /// asks its socket directly, one system call where epoll would take two. Zero: sleep
  /// at once.
  std::chrono::microseconds io_busy_wait = std::chrono::microseconds(200);
  /// How long a connection that only receives (nothing written since its last read)
  /// lets bytes gather after a small read before it reads again; a write ends the wait.
  /// A stream of small messages is then taken several frames per system call instead of
  /// one or two, and so with far fewer of the ACKs that each read sends back, which cost
  /// the sender as well; the kernel does not wake the I/O thread for the bytes meanwhile
  /// (SO_RCVLOWAT), and the I/O thread does not poll while any connection waits so. The
  /// price: a message that follows another within this time may wait up to this long.
  /// Plain sockets only (not TLS or shared memory). Zero: read again at once.
  std::chrono::microseconds read_gather = std::chrono::microseconds(100);
  /// The I/O thread runs a process that a message it read wakes, for a short while
  /// (Scheduler::RunWokenHere), instead of waking a worker for it: a request is read,
  /// handled and answered on one thread, as on a BEAM scheduler that polled the socket.
  /// A process that stays busy longer goes on to the workers. Off: every process runs
  /// on the workers (the I/O thread only delivers).
  bool io_runs_processes = true;
  /// What a peer may make us hold: frame and message sizes, fragments in progress.
  FrameLimits limits = {};
  /// TLS for every connection; none: plain TCP (Erlang's default, inet_tcp_dist).
  std::optional<TlsOptions> tls;
  /// Spindle nodes on one machine connect over a Unix domain socket rather than TCP over
  /// loopback: the same handshake (cookie and all) and frames (through shared memory
  /// after the handshake, see shared_ring_bytes), with less of the kernel's work per byte. The node listens on one too, in Linux's abstract namespace (reachable
  /// from its network namespace, as its TCP port is), and advertises it in the Extra field
  /// of its EPMD registration; Erlang nodes ignore that and use TCP. Connecting falls back
  /// to TCP when the local socket cannot be reached. Off: TCP only. Never with `tls`.
  bool local_carrier = true;
  /// Two nodes on the local carrier that both set this move their frames through shared
  /// memory after the handshake: a ring of this many bytes (a power of two, at least
  /// 64 KB) each way, in a sealed memfd passed over the socket, which then carries only
  /// wake-ups. A 64 KB binary then crosses with two copies in cache instead of two into
  /// fresh kernel buffers. 0: the local socket carries the frames.
  std::size_t shared_ring_bytes = std::size_t{4} << 20;
};

/// One connection to another node, as `Distribution::connection_stats` reads it.
struct ConnectionStats {
  Atom node;
  std::string address;  ///< the peer's "IP:PORT", "local socket" (local_carrier) or "shared memory" (shared_ring_bytes)
  bool tls = false;
  std::chrono::nanoseconds up{0};  ///< how long it has been up
  std::uint64_t bytes_in = 0;      ///< received, frames and ticks (the TCP payload, or what TLS decrypted)
  std::uint64_t bytes_out = 0;
  std::uint64_t messages_in = 0;   ///< messages and signals received (a fragmented one once)
  std::uint64_t messages_out = 0;
  std::size_t queued_bytes = 0;    ///< waiting to be written (see max_queued_bytes)
  std::uint64_t senders_suspended = 0;  ///< times a sender (process or thread) was suspended sending to the node (busy_limit_bytes), ever
};

class Distribution {
 public:
  /// Starts distribution for `node`, whose name must be "name@host". Throws
  /// std::runtime_error with the reason when it cannot listen or register with EPMD.
  /// The Distribution must be destroyed before the node.
  Distribution(Node& node, DistributionOptions options = {});
  /// `close()`, then stops the I/O thread. From then on other nodes are unreachable.
  ~Distribution();
  Distribution(const Distribution&) = delete;
  Distribution& operator=(const Distribution&) = delete;

  /// The port other nodes connect to.
  std::uint16_t listen_port() const noexcept;
  /// The EPMD port registered with.
  std::uint16_t epmd_port() const noexcept;
  /// True when this node runs the EPMD others register with.
  bool runs_embedded_epmd() const noexcept;

  /// Erlang's net_adm:ping/1: connects if need be and asks the other node's net_kernel.
  /// True for pong. Call from outside the node's processes (it waits).
  bool ping(Atom node, std::chrono::milliseconds timeout = std::chrono::seconds(7));
  /// global:whereis_name/1: the process registered under the global `name` in this
  /// node's partition, as the visible BEAM nodes it is in sync with registered it; none
  /// on a hidden node (hidden nodes are not part of `global`). Call from outside the
  /// node's processes (it asks this node's global_name_server and waits).
  std::optional<Pid> global_whereis(const Term& name, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Nodes with a connection up.
  std::vector<Atom> connected_nodes() const;
  /// Bytes of signals waiting to be written to `node` (see max_queued_bytes).
  std::size_t queued_bytes(Atom node) const;
  /// Every connection that is up, with its traffic so far.
  std::vector<ConnectionStats> connection_stats() const;
  /// Erlang's disconnect_node/1: drops the connection (links and monitors across it get
  /// `noconnection`). False if there was none.
  bool disconnect(Atom node);

  /// Stops accepting, sends what is queued for each connected node (waiting up to
  /// `flush_timeout`), closes every connection and leaves EPMD. Idempotent.
  void close(std::chrono::milliseconds flush_timeout = std::chrono::seconds(2));

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace spindle::dist
