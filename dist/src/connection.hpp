#pragma once
// One established connection to another node (after the handshake): reads frames and
// delivers what they carry, writes what the peer's queue holds in batches, and ticks.
// Lives on the I/O thread; its coroutines keep it alive until they end.

#include <memory>
#include <string>

#include "asio.hpp"
#include "link_ledger.hpp"
#include "outgoing.hpp"
#include "spindle/byte_buffer.hpp"
#include "spindle/dist/distribution.hpp"
#include "spindle/dist/frame.hpp"
#include "spindle/dist/handshake.hpp"
#include "spindle/mailbox.hpp"
#include "transport.hpp"

namespace spindle::dist {

struct Peer;
struct IncomingControl;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Distribution::Impl& owner, Peer& peer, Transport transport, HandshakePeer who, std::uint64_t shared_flags);
  ~Connection();

  /// Starts reading, writing and ticking.
  void start();
  /// The peer's queue has something: the writer looks again.
  void kick();
  /// The same from a process the I/O thread runs: while the writer is idle, what is
  /// queued is written by `write_now` once the I/O thread has run its processes, on that
  /// thread and without waking the writer (for a request read, handled and answered on
  /// the I/O thread, the cost of waking a coroutine is a good part of the answer's).
  void kick_from_run();
  /// Writes a batch of what is queued now, as much as the socket takes without waiting;
  /// the writer is woken for whatever remains.
  void write_now();
  /// Ends the connection (idempotent): the socket closes, then the owner is told (and
  /// logs `why` once, as a warning when the connection `failed`).
  void close(const std::string& why, bool failed = false);
  /// Writes what is queued, then closes; gives up after `timeout`.
  void close_after_flush(std::chrono::milliseconds timeout);

  bool is_open() const noexcept { return !closed_; }
  /// Its traffic so far (`node` and `queued_bytes` are the owner's to fill in).
  ConnectionStats stats() const;
  const HandshakePeer& who() const noexcept { return who_; }
  /// "ADDRESS:PORT" of the peer's end, for the log.
  const std::string& address() const noexcept { return address_; }
  LinkLedger& ledger() noexcept { return ledger_; }

 private:
  // Each takes the reference that keeps the connection alive while it runs.
  asio::awaitable<void> read_loop(std::shared_ptr<Connection> self);
  asio::awaitable<void> write_loop(std::shared_ptr<Connection> self);
  asio::awaitable<void> tick_loop(std::shared_ptr<Connection> self);
  /// The next bytes from the peer, into `into` (never 0 bytes: the end of the stream
  /// and errors throw). See the .cpp for why it asks the socket itself for a while.
  asio::awaitable<std::size_t> read_next(asio::mutable_buffer into);
  /// After a small read on a connection that only receives: waits for more (see the .cpp).
  asio::awaitable<void> gather();
  std::size_t note_read(std::size_t got) noexcept;
  /// One frame, whole: decodes it and delivers what it completes (`owner` and `room`:
  /// see FrameReader::read).
  void handle_frame(std::span<const std::uint8_t> frame, const Term* owner, std::size_t room = 0);
  void deliver(IncomingControl&& control);
  /// Appends `item`'s frame(s) to the output, then destroys it (after the write, when
  /// the output refers to its memory).
  void encode(OutgoingItem* item);
  /// Our own control messages, then what the peer's queue holds, into the batch.
  void fill_batch();
  /// Writes the batch (from `out_written_` on), then `finish_batch`.
  asio::awaitable<void> write_batch();
  /// After a batch is written: its items go, and the output is empty again.
  void finish_batch();
  /// The batch as buffers for one gather write.
  void gather_buffers();
  /// Queues a control message of our own, written before the peer's queue.
  void send_own(Term control);
  /// Closes the connection for a protocol or I/O error.
  void fail(const std::string& what, const std::exception& e);

  Distribution::Impl& owner_;
  Peer& peer_;
  Transport transport_;
  HandshakePeer who_;
  std::string address_;
  const std::uint64_t flags_;  // what both sides support
  FrameReader reader_;
  FrameWriter writer_;
  LinkLedger ledger_;

  asio::steady_timer wake_;  // the writer sleeps on it
  asio::steady_timer tick_timer_;
  asio::steady_timer gather_timer_;  // see gather
  bool kicked_ = false;
  bool writer_parked_ = false;  // the writer waits on wake_, with the peer's queue idle
  bool write_now_due_ = false;  // kick_from_run listed this connection for write_now
  bool tick_due_ = false;
  bool wrote_since_tick_ = false;
  bool read_since_tick_ = false;
  int silent_intervals_ = 0;
  bool closed_ = false;
  bool flushing_ = false;
  // When the read loop last came back from the I/O thread's queue, and when a batch
  // was last written (see read_next).
  std::chrono::steady_clock::time_point turn_began_;
  std::chrono::steady_clock::time_point last_write_;
  // What gather decides on: the last read took little, nothing was written since it.
  bool last_read_small_ = false;
  bool wrote_since_read_ = false;
  bool gathering_ = false;  // gather_timer_ is running

  // One batch: bytes, plus large binaries gathered from the messages that hold them
  // (kept in `written_` until the write is done).
  ByteBuffer out_;
  std::size_t out_written_ = 0;  // of out_, by write_now before it handed the rest over
  std::vector<etf::ExternalBytes> gathered_;
  FrameOutput output_{out_, &gathered_, OutgoingItem::kMinExternal};
  std::vector<asio::const_buffer> buffers_;
  NodeList written_;
  NodeList own_;      // our own control messages (acks, replies)
  NodeList backlog_;  // taken from the queue, not yet encoded
  std::uint64_t next_unlink_id_ = 1;

  // Statistics (I/O thread).
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint64_t messages_in_ = 0;
  std::uint64_t messages_out_ = 0;
};

}  // namespace spindle::dist
