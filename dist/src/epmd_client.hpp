#pragma once
// Talking to an EPMD over TCP (erl_dist_protocol, "EPMD Protocol"): look a node up, list
// the nodes, and register this node for as long as it lives. The bytes come from the
// sans-I/O codec in spindle/dist/epmd.hpp; this file adds sockets and deadlines.
//
// Every coroutine here runs on the I/O thread (the one thread that runs the io_context,
// see DESIGN.md): objects are created, used and destroyed there.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asio.hpp"
#include "spindle/dist/epmd.hpp"

namespace spindle::dist {

/// How long one EPMD request may take, connecting included, unless the caller says otherwise.
/// EPMD runs on the node's own host and answers in microseconds; a few seconds means it is stuck.
inline constexpr std::chrono::milliseconds kEpmdTimeout{5000};

/// A conversation with EPMD that failed. The message names the EPMD (host:port) and the request.
class EpmdIoError : public std::runtime_error {
 public:
  enum class Reason {
    connection_refused,    ///< nothing listens at host:port: no EPMD runs there (start one?)
    timeout,               ///< EPMD did not connect or answer within the deadline
    closed,                ///< EPMD closed the connection before it answered in full
    io_error,              ///< resolving, connecting, reading or writing failed otherwise
    malformed,             ///< the answer does not follow the EPMD protocol
    registration_refused,  ///< ALIVE2 answered with a non-zero result: the name is taken or invalid
  };

  EpmdIoError(Reason reason, const std::string& message) : std::runtime_error(message), reason_(reason) {}
  Reason reason() const noexcept { return reason_; }
  bool connection_refused() const noexcept { return reason_ == Reason::connection_refused; }

 private:
  Reason reason_;
};

/// PORT_PLEASE2_REQ: the node registered as `alive_name` (the part before '@'), or nothing when
/// EPMD does not know it. Throws EpmdIoError; a name the protocol cannot carry is an epmd::EpmdError
/// before any connection is made.
asio::awaitable<std::optional<epmd::NodeEntry>> epmd_port_please(std::string host, std::uint16_t epmd_port,
                                                                 std::string alive_name,
                                                                 std::chrono::milliseconds timeout = kEpmdTimeout);

/// NAMES_REQ: (name, port) of every node EPMD knows. Throws EpmdIoError.
asio::awaitable<std::vector<std::pair<std::string, std::uint16_t>>> epmd_names(
    std::string host, std::uint16_t epmd_port, std::chrono::milliseconds timeout = kEpmdTimeout);

/// This node's entry in EPMD. EPMD keeps a registration while the connection that made it stays
/// open, so this object owns that connection: destroying or closing it unregisters the node.
class EpmdRegistration {
 public:
  /// ALIVE2_REQ for `node`. The deadline covers connecting and the answer; after that the
  /// connection stays open without one. Throws EpmdIoError (registration_refused when EPMD
  /// answers with a non-zero result, e.g. because the name is in use).
  static asio::awaitable<std::unique_ptr<EpmdRegistration>> register_node(
      std::string host, std::uint16_t epmd_port, epmd::NodeEntry node,
      std::chrono::milliseconds timeout = kEpmdTimeout);

  EpmdRegistration(const EpmdRegistration&) = delete;
  EpmdRegistration& operator=(const EpmdRegistration&) = delete;
  ~EpmdRegistration();

  /// The creation EPMD gave this incarnation of the node (goes into its pids, refs and ports).
  std::uint32_t creation() const noexcept { return creation_; }
  const epmd::NodeEntry& node() const noexcept { return node_; }
  bool is_open() const noexcept { return socket_.is_open(); }

  /// Completes when the registration ends: EPMD closed the connection (it died or was killed),
  /// or close() was called. Bytes EPMD sends on it are not part of the protocol and are ignored.
  /// One wait at a time. Destroying the registration during a wait ends the wait as well.
  asio::awaitable<void> wait_until_lost();

  /// Unregisters: closes the connection. Idempotent.
  void close() noexcept;

 private:
  EpmdRegistration(tcp::socket socket, epmd::NodeEntry node, std::uint32_t creation);

  tcp::socket socket_;
  epmd::NodeEntry node_;
  std::uint32_t creation_;
};

namespace detail {

/// Runs `on_expiry` once `timeout` has passed, unless this object is gone (or disarmed) by then.
/// EPMD's client and server use it to close a socket or cancel a resolver, so a peer that
/// accepts but never answers, or connects but never asks, cannot hold a coroutine forever:
/// the pending operation fails, and expired() tells the caller why.
class Deadline {
 public:
  template <class Executor, class OnExpiry>
  Deadline(const Executor& executor, std::chrono::steady_clock::duration timeout, OnExpiry on_expiry)
      : timer_(executor, timeout), state_(std::make_shared<State>()) {
    // The handler owns the state, not the Deadline: a wait that completed just before the
    // Deadline went away still runs, and must then find itself disarmed.
    timer_.async_wait([state = state_, on_expiry = std::move(on_expiry)](const error_code& ec) mutable {
      if (ec || !state->armed) return;
      state->expired = true;
      on_expiry();
    });
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  ~Deadline() { disarm(); }  // the timer's destructor cancels the wait

  void disarm() noexcept { state_->armed = false; }
  bool expired() const noexcept { return state_->expired; }

 private:
  struct State {
    bool armed = true;
    bool expired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace detail
}  // namespace spindle::dist
