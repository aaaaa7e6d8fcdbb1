#pragma once
// The registered process `global_name_server` of a visible node: its part in the
// protocol of OTP's `global` module, so that a BEAM node connected to this one counts it
// as synchronised (`global:sync()` returns) and can register global names and take
// global locks across it.
//
// It joins as a member without a locker of its own: it announces itself to each visible
// peer (init_connect, protocol version 6), lets the peer's locker set the `global` lock
// here and confirms it (lock_set), then exchanges names as every member does: each side
// sends the names it holds and applies the other's, the new nodes learn of each other
// (in_sync, new_nodes), and from then on it answers the calls a member must (set_lock,
// del_lock, register, unregister). What it does not do: lock its own side of the
// partition when a new node joins through it (the joining node's locker locks its own
// side and this node), and resolve a name registered on both sides with the name's own
// method: when it is the one to resolve (the smaller node name), it does what OTP's
// default method does, keeping the process on the smaller node and killing the other.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "spindle/process.hpp"

namespace spindle::dist {

class GlobalNameServer final : public Process {
 public:
  /// The atom this process is registered under, as on every Erlang node.
  static Atom registered_name();

 protected:
  void handle_one_inbox_message(Term message) override;

 private:
  struct Name {
    Pid pid;
    Term method;
  };
  // A synchronisation session with one visible peer.
  struct Session {
    Term my_tag;   // in our init_connect; the peer returns it in exchange and resolved
    Term his_tag;  // from its init_connect ([] until it came)
    std::optional<std::vector<Term>> ops;  // what its names change here, once it sent them
    std::optional<Term> his_resolved;       // {Ops, HisKnown} from its resolved
  };
  struct Lock {
    Term requester;          // LockRequesterId: every holder uses the same one
    std::vector<Pid> holders;
  };

  void handle(const Term& message);
  void handle_call(const Term& from, const Term& request);
  void handle_cast(const Term& request);
  void node_up(Atom peer);
  void node_down(Atom peer);
  void cast_to(Atom peer, Term request);
  /// The lock request `lock` = {ResourceId, LockRequesterId} from `holder`: granted when
  /// the resource is free or held for the same requester.
  bool set_lock(const Term& lock, const Pid& holder);
  void del_lock(const Term& lock, const Pid& holder);
  void exchange(Atom peer, Session& s, const Term& names);
  /// Both sides have resolved: apply the operations and tell everyone who is new.
  void finish(Atom peer, Session& s);
  void apply(const std::vector<Term>& ops);
  Term names_list() const;
  /// The pid registered as `name`, or `undefined`.
  Term whereis(const Term& name) const;
  Term known_list() const;
  /// Adds `member` to our partition; false if it was there already.
  bool learn(Atom member);
  /// The node in a known-nodes entry (`Node` or `{Node, Vsn}`), unless it is this one.
  std::optional<Atom> other_node(const Term& entry) const;
  void insert_name(const Term& name, const Pid& pid, const Term& method);
  void watch(const Pid& pid);
  /// A process that held locks or names is gone.
  void forget(const Pid& pid);

  std::unordered_map<Atom, Session> sessions_;
  std::vector<Atom> known_;  // the other members of our partition
  std::unordered_map<Term, Lock> locks_;  // by ResourceId
  std::unordered_map<Term, Name> names_;
  std::unordered_map<Pid, Ref> watched_;
  std::int64_t next_tag_ = 1;
};

}  // namespace spindle::dist
