#pragma once
// The links and monitors that cross one connection, kept from the signals that pass
// through it in both directions, so that losing the connection can tell each local
// process what Erlang promises: `noconnection` to every link and monitor across it.

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "spindle/remote.hpp"

namespace spindle::dist {

class LinkLedger {
 public:
  /// A signal we are sending to the peer.
  void outgoing(const RemoteSignal& s);
  /// A signal the peer sent us.
  void incoming(const RemoteSignal& s);

  /// What the local processes must be told now that the connection is gone (as signals
  /// coming from the peer), and forgets everything.
  std::vector<RemoteSignal> connection_lost();

  std::size_t links() const noexcept { return links_.size(); }
  std::size_t monitors() const noexcept { return ours_.size() + theirs_.size(); }
  std::size_t spawn_requests() const noexcept { return spawning_.size(); }

 private:
  struct Link {
    Term local;
    Term remote;
    bool operator==(const Link&) const = default;
  };
  struct LinkHash {
    std::size_t operator()(const Link& l) const noexcept { return l.local.hash() * 31 + l.remote.hash(); }
  };
  struct Monitor {
    Term watcher;  // who gets the DOWN (ours) or who asked (theirs)
    Term object;   // the monitored pid or name
  };
  struct TermHash {
    std::size_t operator()(const Term& t) const noexcept { return t.hash(); }
  };

  std::unordered_set<Link, LinkHash> links_;
  std::unordered_map<Term, Monitor, TermHash> ours_;    // local processes monitoring remote ones
  std::unordered_map<Term, Monitor, TermHash> theirs_;  // remote processes monitoring local ones
  std::unordered_map<Term, Term, TermHash> spawning_;   // our spawn requests awaiting a reply: id -> requester
};

}  // namespace spindle::dist
