#include "connection.hpp"

#include <cstring>
#include <thread>

#include "control.hpp"
#include "distribution_impl.hpp"
#include "log.hpp"
#include "outgoing.hpp"
#include "rpc.hpp"
#include "sockets.hpp"
#include "spindle/detail/big_endian.hpp"
#include "spindle/dist/flags.hpp"
#include "spindle/etf.hpp"

namespace spindle::dist {
namespace {

// The read buffer. A frame of at least kOwnBuffer bytes is read into a binary of its
// own, which its large binaries then share without a copy; smaller frames are decoded
// from this buffer (their binaries copied, so no message pins the buffer).
constexpr std::size_t kReadBuffer = std::size_t{256} << 10;
constexpr std::size_t kOwnBuffer = std::size_t{64} << 10;
// A read of fewer bytes than this, on a connection that only receives, is followed by
// a wait for more (read_gather).
constexpr std::size_t kGatherBelow = std::size_t{16} << 10;
// Frames are encoded into one buffer until it holds this much, then written at once.
constexpr std::size_t kBatchBytes = std::size_t{1} << 20;

bool is_message(RemoteSignal::Kind kind) {
  using Kind = RemoteSignal::Kind;
  return kind == Kind::send || kind == Kind::send_named || kind == Kind::send_alias;
}

}  // namespace

Connection::Connection(Distribution::Impl& owner, Peer& peer, Transport transport, HandshakePeer who,
                       std::uint64_t shared_flags)
    : owner_(owner),
      peer_(peer),
      transport_(std::move(transport)),
      who_(std::move(who)),
      address_(transport_.peer_address()),
      flags_(shared_flags),
      reader_(owner.options.limits),
      writer_((shared_flags & flags::dist_hdr_atom_cache) != 0),
      wake_(transport_.executor()),
      tick_timer_(transport_.executor()),
      gather_timer_(transport_.executor()) {}

Connection::~Connection() {
  for (NodeList* list : {&own_, &backlog_, &written_})
    while (!list->empty()) OutgoingItem::destroy(static_cast<OutgoingItem*>(list->pop_front()));
}

void Connection::start() {
  transport_.set_no_delay();
  const auto executor = transport_.executor();
  // Each loop's body starts only once the executor runs it, maybe after a close has let
  // the connection go, so the reference each keeps comes in as an argument.
  asio::co_spawn(executor, read_loop(shared_from_this()), asio::detached);
  asio::co_spawn(executor, write_loop(shared_from_this()), asio::detached);
  asio::co_spawn(executor, tick_loop(shared_from_this()), asio::detached);
}

void Connection::kick() {
  kicked_ = true;
  wake_.cancel();
}

void Connection::kick_from_run() {
  if (!writer_parked_ || transport_.is_tls()) return kick();
  if (write_now_due_) return;
  write_now_due_ = true;
  owner_.write_after_run(shared_from_this());
}

void Connection::write_now() {
  write_now_due_ = false;
  if (closed_) return;
  if (!writer_parked_ || !out_.empty()) return kick();
  fill_batch();  // one batch at most: more goes to the writer, among the thread's other work
  if (!out_.empty() && gathered_.empty()) {  // large binaries: the writer's gather write
    error_code ec;
    out_written_ = transport_.write_now(asio::buffer(out_.data(), out_.size()), ec);
    if (out_written_ == out_.size()) {
      finish_batch();
    } else if (ec != asio::error::would_block && ec != asio::error::try_again) {
      return close("write failed: " + ec.message(), true);
    }
  }
  // The writer stays asleep only if all is written and the queue is idle again, as it left
  // the queue, so that the next push kicks.
  if (!out_.empty() || !backlog_.empty() || !(peer_.queue.idle() || peer_.queue.try_idle())) kick();
}

void Connection::close(const std::string& why, bool failed) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // the owner drops its reference below
  transport_.close();
  wake_.cancel();
  tick_timer_.cancel();
  gather_timer_.cancel();
  // Taken from the queue but never written: links and monitors among them fail.
  while (!backlog_.empty()) {
    auto* item = static_cast<OutgoingItem*>(backlog_.pop_front());
    peer_.queued_bytes.fetch_sub(item->weight, std::memory_order_relaxed);
    if (!item->is_raw())
      if (auto answer = noconnection_answer(item->signal)) owner_.node.deliver_remote(peer_.name, std::move(*answer));
    OutgoingItem::destroy(item);
  }
  owner_.connection_closed(peer_, *this, why, failed);
}

void Connection::close_after_flush(std::chrono::milliseconds timeout) {
  if (closed_) return;
  flushing_ = true;
  kick();
  // The tick timer doubles as the deadline: the tick loop ends on the next wait.
  tick_timer_.expires_after(timeout);
  tick_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->close("closed (flush timed out)");
  });
}

void Connection::fail(const std::string& what, const std::exception& e) {
  close(what + ": " + e.what(), true);
}

ConnectionStats Connection::stats() const {
  ConnectionStats s;
  s.address = address_;
  s.tls = transport_.is_tls();
  s.up = std::chrono::steady_clock::now() - started_;
  s.bytes_in = bytes_in_;
  s.bytes_out = bytes_out_;
  s.messages_in = messages_in_;
  s.messages_out = messages_out_;
  return s;
}

// ----- reading -----

asio::awaitable<void> Connection::read_loop(std::shared_ptr<Connection> /*self*/) {
  ByteBuffer buffer(kReadBuffer + 4);
  std::uint8_t* const rx = buffer.data();
  const std::size_t capacity = buffer.capacity();
  std::size_t start = 0;
  std::size_t end = 0;
  try {
    while (!closed_) {
      while (end - start >= 4 && !closed_) {
        const std::uint32_t length = spindle::detail::load_be32(rx + start);
        if (length > owner_.options.limits.max_message_bytes)
          throw FrameError("a frame of " + std::to_string(length) + " bytes is over the limit of " +
                               std::to_string(owner_.options.limits.max_message_bytes),
                           0);
        if (length >= kOwnBuffer) {
          std::uint8_t* data = nullptr;
          const std::size_t have = std::min<std::size_t>(end - start - 4, length);
          // A first fragment gets room after it, where the rest of its message goes.
          const std::size_t room = reader_.room_after({rx + start + 4, have}, length);
          const Term frame = binary_uninitialized(length + room, data);
          std::memcpy(data, rx + start + 4, have);
          start += 4 + have;
          if (have < length) co_await transport_.read(asio::buffer(data + have, length - have));
          bytes_in_ += length - have;
          read_since_tick_ = true;
          handle_frame({data, length}, &frame, room);
          continue;
        }
        if (end - start - 4 < length) break;
        handle_frame({rx + start + 4, length}, nullptr);
        start += 4 + length;
      }
      if (closed_) break;
      // Keep room for a whole small frame after the part already here.
      if (start == end) {
        start = end = 0;
      } else if (capacity - end < kOwnBuffer + 4) {
        std::memmove(rx, rx + start, end - start);
        end -= start;
        start = 0;
      }
      // A process these frames woke for the I/O thread runs now, and its answer is
      // written, before the next read: a read started first would find nothing (the peer
      // waits for the answer), and a system call would stand before every answer.
      if (Distribution::Impl::io_thread_will_run_woken()) owner_.run_woken_here();
      const std::size_t got = co_await read_next(asio::buffer(rx + end, capacity - end));
      end += got;
      bytes_in_ += got;
      read_since_tick_ = true;
    }
  } catch (const boost::system::system_error& e) {
    if (!closed_) close(e.code() == asio::error::eof ? "closed by the peer" : std::string("read failed: ") + e.what());
  } catch (const std::exception& e) {
    fail("protocol error", e);
  }
}

// While the I/O thread's busy-wait lasts, the read loop that read last asks its socket
// for the peer's next bytes, and only then waits in the reactor. One read finds and
// takes them; through the reactor it is epoll_wait, then the read, and a system call
// costs a microsecond or more on a virtual machine, a good part of a loopback round
// trip. One connection at a time does this (another that reads takes over), so many
// busy connections do not each spend the thread's time on empty reads. The loop gives
// the thread's other work (other connections, writers, timers) its turn every kTurn,
// before a read as well, so a connection that always has bytes cannot keep the thread
// to itself; and every few empty reads it lets a thread waiting for this core run.
asio::awaitable<std::size_t> Connection::read_next(asio::mutable_buffer into) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kTurn = std::chrono::microseconds(20);
  constexpr std::size_t kReadsPerYield = 16;
  const auto busy_wait = owner_.options.io_busy_wait;
  // Only while an answer may be on its way: a batch went out within the busy wait. A
  // peer that only streams to us gets the reactor, which lets its bytes gather between
  // reads instead of taking them a frame at a time with a system call each, on a core
  // its own sender may need.
  if (busy_wait.count() > 0 && !transport_.is_tls() && Clock::now() - last_write_ < busy_wait) {
    struct Spinning {
      const Connection*& reader;
      const Connection* self;
      ~Spinning() {
        if (reader == self) reader = nullptr;
      }
    } spinning{owner_.spinning_reader, this};
    spinning.reader = this;
    const auto executor = transport_.executor();
    const auto until = Clock::now() + busy_wait;
    for (std::size_t empty_reads = 1;; ++empty_reads) {
      if (Clock::now() - turn_began_ >= kTurn) {
        co_await asio::post(executor, asio::use_awaitable);
        turn_began_ = Clock::now();
      }
      error_code ec;
      const std::size_t got = transport_.read_now(into, ec);
      if (got > 0) co_return note_read(got);
      if (ec != asio::error::would_block && ec != asio::error::try_again) throw boost::system::system_error(ec);
      if (spinning.reader != this) break;
      if (Clock::now() >= until) {
        owner_.busy_wait_spent = true;
        break;
      }
      if (empty_reads % kReadsPerYield == 0) std::this_thread::yield();
    }
  }
  // Decided here, not in gather: a coroutine call costs a frame even when it does nothing.
  if (last_read_small_ && !wrote_since_read_ && owner_.options.read_gather.count() > 0 && transport_.can_gather())
    co_await gather();
  const std::size_t got = co_await transport_.read_some(into);
  turn_began_ = Clock::now();
  co_return note_read(got);
}

std::size_t Connection::note_read(std::size_t got) noexcept {
  last_read_small_ = got < kGatherBelow;
  wrote_since_read_ = false;
  return got;
}

// A connection that only receives, after a small read: the I/O thread sleeps for
// read_gather while the peer's next frames gather in the socket, with the kernel told
// not to wake it for them, then reads them all at once. No wait when bytes come in
// faster than the node takes them (a big read) or when something went out since the
// last read (an answer: the peer may be waiting for it to send more); and a write
// during the wait ends it (finish_batch).
asio::awaitable<void> Connection::gather() {
  transport_.set_low_water(static_cast<int>(kGatherBelow));
  gather_timer_.expires_after(owner_.options.read_gather);
  gathering_ = true;
  ++owner_.gathering;
  error_code ignored;
  co_await gather_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  --owner_.gathering;
  gathering_ = false;
  transport_.set_low_water(1);  // the read that follows may wait in the reactor
}

void Connection::handle_frame(std::span<const std::uint8_t> frame, const Term* owner, std::size_t room) {
  if (auto message = reader_.read(frame, owner, room)) {
    ++messages_in_;
    deliver(interpret(std::move(*message)));
  }
}

void Connection::deliver(IncomingControl&& c) {
  using Action = IncomingControl::Action;
  switch (c.action) {
    case Action::ack_unlink:
      // The new link protocol: acknowledge at once. The unlink reaches the process
      // before anything it sends after this ack could, so the order holds.
      send_own(unlink_ack(c.unlink_id, c.signal.to, c.signal.from));
      [[fallthrough]];
    case Action::signal:
      ledger_.incoming(c.signal);
      owner_.node.deliver_remote(peer_.name, std::move(c.signal));
      return;
    case Action::spawn: {
      // spawn/4 of registered process kinds and erpc's calls of registered functions
      // (rpc:call and friends). The reply goes out before anything the new process
      // sends: own messages are written before the queue's.
      const Spawned spawned =
          start_spawn_request(owner_.node, *c.spawn, [this](const RemoteSignal& s) { ledger_.incoming(s); });
      if (!spawned.result.is_pid())
        log(LogModule::rpc).debug("spawn request from {} ({}) for {}:{}/{} refused ({})", who_.name, address_, c.spawn->module.text(),
                    c.spawn->function.text(), c.spawn->arity, spawned.result.to_string());
      send_own(spawn_reply(c.spawn->request_id, c.spawn->from,
                           (spawned.linked ? 1 : 0) | (spawned.monitored ? 2 : 0), spawned.result));
      return;
    }
    case Action::ignore:
      return;
  }
}

// ----- writing -----

void Connection::send_own(Term control) {
  own_.push_back(OutgoingItem::raw(std::move(control)));
  kick();
}

void Connection::encode(OutgoingItem* item) {
  peer_.queued_bytes.fetch_sub(item->weight, std::memory_order_relaxed);  // 0 for our own
  ++messages_out_;
  const std::size_t fragment = (flags_ & flags::fragments) ? owner_.options.fragment_size : 0;
  const RemoteSignal& s = item->signal;
  if (item->is_raw()) {
    writer_.write(s.payload, Payload(), output_, fragment);
  } else if (item->control_fits(flags_)) {
    writer_.write_encoded(item->control_atoms(), item->control(), item->payload(), output_, fragment);
  } else if (const std::optional<Term> control = control_message(s, flags_, next_unlink_id_)) {
    if (s.kind == RemoteSignal::Kind::unlink) ++next_unlink_id_;
    ledger_.outgoing(s);
    if (is_message(s.kind)) {
      writer_.write(*control, item->payload(), output_, fragment);
    } else if (carries_payload(s.kind, flags_)) {
      ByteBuffer reason;
      etf::encode_body(s.payload, reason);
      writer_.write(*control, Payload(reason.bytes()), output_, fragment);
    } else {
      writer_.write(*control, Payload(), output_, fragment);
    }
  }  // else the peer cannot take it (an alias send without DFLAG_ALIAS)
  if (item->has_externals()) {
    written_.push_back(item);
  } else {
    OutgoingItem::destroy(item);
  }
}

void Connection::gather_buffers() {
  buffers_.clear();
  std::size_t at = 0;
  for (const etf::ExternalBytes& e : gathered_) {
    if (e.at > at) buffers_.emplace_back(out_.data() + at, e.at - at);
    buffers_.emplace_back(e.data, e.size);
    at = e.at;
  }
  if (out_.size() > at) buffers_.emplace_back(out_.data() + at, out_.size() - at);
}

void Connection::fill_batch() {
  while (!own_.empty()) encode(static_cast<OutgoingItem*>(own_.pop_front()));
  if (backlog_.empty()) backlog_ = peer_.queue.take_all();
  while (!backlog_.empty() && output_.size() < kBatchBytes) encode(static_cast<OutgoingItem*>(backlog_.pop_front()));
  owner_.resume_senders(peer_, true);  // those suspended while the queue was over the busy limit
}

asio::awaitable<void> Connection::write_batch() {
  if (gathered_.empty()) {
    co_await transport_.write(asio::buffer(out_.data() + out_written_, out_.size() - out_written_));
  } else {
    gather_buffers();
    co_await transport_.write(buffers_);
  }
  finish_batch();
}

void Connection::finish_batch() {
  bytes_out_ += output_.size();
  while (!written_.empty()) OutgoingItem::destroy(static_cast<OutgoingItem*>(written_.pop_front()));
  output_.clear();
  out_written_ = 0;
  wrote_since_tick_ = true;
  last_write_ = std::chrono::steady_clock::now();
  wrote_since_read_ = true;
  if (gathering_) gather_timer_.cancel();  // the peer may answer at once
}

asio::awaitable<void> Connection::write_loop(std::shared_ptr<Connection> /*self*/) {
  try {
    while (!closed_) {
      if (out_.empty()) fill_batch();  // else write_now left the rest of a batch
      if (out_.empty()) {
        if (tick_due_) {
          tick_due_ = false;
          FrameWriter::write_tick(out_);
        } else if (flushing_) {
          close("closed");
          break;
        } else {
          if (!kicked_ && (peer_.queue.idle() || peer_.queue.try_idle())) {
            wake_.expires_at(asio::steady_timer::time_point::max());
            error_code ec;
            writer_parked_ = true;
            co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            writer_parked_ = false;
          }
          kicked_ = false;
          continue;
        }
      }
      co_await write_batch();
    }
  } catch (const boost::system::system_error& e) {
    if (!closed_) close(std::string("write failed: ") + e.what(), true);
  } catch (const std::exception& e) {
    fail("cannot send", e);
  }
}

// ----- ticks -----

asio::awaitable<void> Connection::tick_loop(std::shared_ptr<Connection> /*self*/) {
  const auto interval = std::max(owner_.options.net_ticktime / 4, std::chrono::milliseconds(1));
  while (!closed_ && !flushing_) {
    tick_timer_.expires_after(interval);
    error_code ec;
    co_await tick_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (closed_ || flushing_) break;
    if (read_since_tick_) {
      silent_intervals_ = 0;
    } else if (++silent_intervals_ >= 4) {
      close("net_tick_timeout: nothing received for " + std::to_string(owner_.options.net_ticktime.count()) + " ms", true);
      break;
    }
    read_since_tick_ = false;
    if (!wrote_since_tick_) {
      tick_due_ = true;
      kick();
    }
    wrote_since_tick_ = false;
  }
}

}  // namespace spindle::dist
