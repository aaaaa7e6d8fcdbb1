#pragma once
/// @file
/// The distribution handshake (erl_dist_protocol, "Distribution Handshake"), both
/// sides, without I/O: feed each packet received (its 2-byte length removed) and send
/// the packets returned (also without length). Version 6 both ways; inbound, the
/// version 5 name message of OTP 23/24 with its complement is accepted too.

#include <array>
#include <cstdint>
#include <optional>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace spindle::dist {

/// What the accepting side answers a connecting node's name with.
enum class HandshakeStatus {
  ok,               ///< go on
  ok_simultaneous,  ///< go on; our own attempt to connect to this node is dropped
  nok,              ///< we keep our own attempt to connect to this node (our name is greater)
  not_allowed,      ///< refused
  alive,            ///< a connection to this node already exists; the peer says if it is stale
};

struct HandshakeConfig {
  std::string name;          ///< our full node name, "name@host"
  std::uint64_t flags;       ///< our capability flags
  std::uint32_t creation;    ///< our incarnation
  std::string cookie;        ///< the shared secret
};

/// The node at the other end, once known.
struct HandshakePeer {
  std::string name;
  std::uint64_t flags = 0;
  std::uint32_t creation = 0;
};

class HandshakeError : public std::runtime_error {
 public:
  enum class Reason {
    malformed,      ///< a packet that is not what the protocol says
    refused,        ///< the peer (or we) answered not_allowed or alive/false
    lost_race,      ///< both sides connected at once and this attempt lost: the peer answered nok (or we did)
    bad_cookie,     ///< a digest that does not match: different cookies
    missing_flags,  ///< the peer lacks capabilities OTP 25 makes mandatory
    bad_name,       ///< a node name that is not "name@host"
  };
  HandshakeError(Reason reason, const std::string& message) : std::runtime_error(message), reason_(reason) {}
  Reason reason() const noexcept { return reason_; }

 private:
  Reason reason_;
};

using Packet = std::vector<std::uint8_t>;

class Handshake {
 public:
  /// The accepting side's answer to a name, given the peer as announced.
  using Decide = std::function<HandshakeStatus(const HandshakePeer&)>;
  /// Where challenges come from (a CSPRNG unless a test says otherwise).
  using ChallengeSource = std::function<std::uint32_t()>;

  /// The connecting side. `expected_peer` is the node we meant to reach (empty: any).
  static Handshake initiate(HandshakeConfig config, std::string expected_peer = {}, ChallengeSource challenges = {});
  /// The accepting side.
  static Handshake accept(HandshakeConfig config, Decide decide, ChallengeSource challenges = {});

  /// True for the side that connected (made by `initiate`).
  bool initiates() const noexcept { return initiator_; }
  /// The first packets to send (the initiator's name; nothing for the acceptor).
  std::vector<Packet> start();
  /// Handles one received packet; returns what to send in reply. Throws HandshakeError
  /// (then close the connection). After sending the packets, check `refusal()`.
  std::vector<Packet> receive(std::span<const std::uint8_t> packet);

  bool done() const noexcept { return state_ == State::done; }
  /// Set when the acceptor refused the peer (nok, not_allowed): send the packets the
  /// last `receive` returned (the status), then close.
  const std::optional<HandshakeError>& refusal() const noexcept { return refusal_; }
  /// The peer as announced so far (complete once done()).
  const HandshakePeer& peer() const noexcept { return peer_; }
  /// Capabilities both sides have (valid once done()).
  std::uint64_t shared_flags() const noexcept { return config_.flags & peer_.flags; }
  /// True if the acceptor answered `alive` and the peer confirmed: the old connection to
  /// this node must be dropped.
  bool replaces_existing() const noexcept { return replaces_existing_; }

  /// MD5 of the cookie followed by the challenge in decimal, as Erlang computes it.
  static std::array<std::uint8_t, 16> digest(std::uint32_t challenge, const std::string& cookie);

 private:
  enum class State {
    initial,
    // initiator
    await_status,
    await_challenge,
    await_ack,
    // acceptor
    await_name,
    await_alive_reply,
    await_complement,
    await_reply,
    done,
    refused,
  };

  Handshake(HandshakeConfig config, ChallengeSource challenges);

  std::vector<Packet> dispatch(std::span<const std::uint8_t> packet);
  std::vector<Packet> on_status(std::span<const std::uint8_t> p);
  std::vector<Packet> on_challenge(std::span<const std::uint8_t> p);
  std::vector<Packet> on_ack(std::span<const std::uint8_t> p);
  std::vector<Packet> on_name(std::span<const std::uint8_t> p);
  std::vector<Packet> on_alive_reply(std::span<const std::uint8_t> p);
  std::vector<Packet> on_complement(std::span<const std::uint8_t> p);
  std::vector<Packet> on_reply(std::span<const std::uint8_t> p);

  std::vector<Packet> after_status();
  Packet name_packet() const;
  Packet challenge_packet();
  void check_peer_flags();
  void check_digest(std::span<const std::uint8_t> digest, std::uint32_t challenge, const char* what) const;

  HandshakeConfig config_;
  ChallengeSource challenges_;
  Decide decide_;
  std::string expected_peer_;
  HandshakePeer peer_;
  State state_ = State::initial;
  std::uint32_t our_challenge_ = 0;
  bool initiator_ = false;
  bool replaces_existing_ = false;
  bool complement_follows_ = false;  // the peer's 'n' name announced a complement ('c')
  std::optional<HandshakeError> refusal_;
};

/// True for "name@host" with both parts non-empty.
bool valid_node_name(std::string_view name) noexcept;

}  // namespace spindle::dist
