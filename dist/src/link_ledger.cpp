#include "link_ledger.hpp"

namespace spindle::dist {

using Kind = RemoteSignal::Kind;

void LinkLedger::outgoing(const RemoteSignal& s) {
  switch (s.kind) {
    case Kind::link:
      links_.insert({s.from, s.to});
      break;
    case Kind::unlink:
    case Kind::link_exit:  // our process exited: the link is gone
      links_.erase({s.from, s.to});
      break;
    case Kind::monitor:
      ours_.insert_or_assign(s.ref, Monitor{s.from, s.to});
      break;
    case Kind::demonitor:
      ours_.erase(s.ref);
      break;
    case Kind::down:  // our process exited: their monitor is done
      theirs_.erase(s.ref);
      break;
    case Kind::spawn_request:
      spawning_.insert_or_assign(s.ref, s.from);
      break;
    default:
      break;
  }
}

void LinkLedger::incoming(const RemoteSignal& s) {
  switch (s.kind) {
    case Kind::link:
      links_.insert({s.to, s.from});
      break;
    case Kind::unlink:
    case Kind::link_exit:
      links_.erase({s.to, s.from});
      break;
    case Kind::monitor:
      theirs_.insert_or_assign(s.ref, Monitor{s.from, s.to});
      break;
    case Kind::demonitor:
      theirs_.erase(s.ref);
      break;
    case Kind::down:
      ours_.erase(s.ref);
      break;
    case Kind::spawn_reply:
      // The link and monitor the flags report now cross this connection.
      spawning_.erase(s.ref);
      if (s.from.is_pid() && s.payload.is_small()) {
        if (s.payload.as_int() & 1) links_.insert({s.to, s.from});
        if (s.payload.as_int() & 2) ours_.insert_or_assign(s.ref, Monitor{s.to, s.from});
      }
      break;
    default:
      break;
  }
}

std::vector<RemoteSignal> LinkLedger::connection_lost() {
  std::vector<RemoteSignal> out;
  out.reserve(links_.size() + ours_.size() + theirs_.size() + spawning_.size());
  for (const Link& l : links_) out.push_back({Kind::link_exit, l.remote, l.local, Term(), atoms::noconnection});
  for (const auto& [ref, m] : ours_) out.push_back({Kind::down, m.object, m.watcher, ref, atoms::noconnection});
  // Their monitors on our processes end without a message: the processes forget them.
  for (const auto& [ref, m] : theirs_) out.push_back({Kind::demonitor, m.watcher, m.object, ref, Term()});
  for (const auto& [ref, requester] : spawning_)
    out.push_back({Kind::spawn_reply, atoms::noconnection, requester, ref, Term(0)});
  spawning_.clear();
  links_.clear();
  ours_.clear();
  theirs_.clear();
  return out;
}

}  // namespace spindle::dist
