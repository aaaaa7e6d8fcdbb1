#include "global_name_server.hpp"

#include <algorithm>

#include "log.hpp"
#include "spindle/gen.hpp"
#include "spindle/node.hpp"

namespace spindle::dist {
namespace {

// The version of global's protocol this node speaks. Version 6 is the oldest OTP 25-27
// accept whose lockers talk through the servers (so a reply reaches the peer's locker
// through its global_name_server); later versions add the connect verification and
// overlapping-partition messages, which a partition of one with no names has no use for.
constexpr std::int64_t kProtocolVersion = 6;

bool is(const Term& t, const char* name) { return t.is_atom() && t.as_atom() == atom(name); }

// The tuple's first element is the atom `name` and it has `arity` elements.
bool tagged(const Term& t, const char* name, std::size_t arity) {
  return t.is_tuple(arity) && is(t.as_tuple()[0], name);
}

}  // namespace

Atom GlobalNameServer::registered_name() { return atom("global_name_server"); }

void GlobalNameServer::handle_one_inbox_message(Term message) {
  // What peers send is checked where it is used; a message that breaks an assumption
  // anyway is dropped, rather than taking this node out of `global` for good.
  try {
    handle(message);
  } catch (const std::exception& e) {
    log(LogModule::dist).warn("global_name_server: dropped {}: {}", message.to_string().substr(0, 200), e.what());
  }
}

void GlobalNameServer::handle(const Term& message) {
  if (const auto call = gen::as_call(message)) return handle_call(call->from, call->request);
  if (message.is_tuple(2) && message.as_tuple()[0].is_atom(atoms::gen_cast)) return handle_cast(message.as_tuple()[1]);
  // {whereis, Name, From}, as OTP's global_name_server takes it.
  if (tagged(message, "whereis", 3) && message.as_tuple()[2].is_tuple(2) && message.as_tuple()[2].as_tuple()[0].is_pid())
    return gen::reply(*this, message.as_tuple()[2], whereis(message.as_tuple()[1]));
  if (tagged(message, "nodeup", 2) && message.as_tuple()[1].is_atom()) return node_up(message.as_tuple()[1].as_atom());
  if (tagged(message, "nodedown", 2) && message.as_tuple()[1].is_atom())
    return node_down(message.as_tuple()[1].as_atom());
  if (message.is_tuple(5) && message.as_tuple()[0].is_atom(atoms::DOWN) && message.as_tuple()[3].is_pid()) {
    // Only the DOWN of our own monitor: a peer cannot make us drop another's names.
    const auto w = watched_.find(Pid(message.as_tuple()[3]));
    if (w != watched_.end() && Term(w->second) == message.as_tuple()[1]) forget(Pid(w->first));  // a copy: forget erases w
    return;
  }
  // init_connect_ack, cancel_connect, lost_connection and the like belong to versions
  // after ours; a peer that knows our version does not send them.
  log(LogModule::dist).debug("global_name_server: ignored {}", message.to_string().substr(0, 200));
}

void GlobalNameServer::handle_call(const Term& from, const Term& request) {
  const Pid caller(from.as_tuple()[0]);
  if (tagged(request, "set_lock", 2)) return gen::reply(*this, from, Term(set_lock(request.as_tuple()[1], caller)));
  if (tagged(request, "del_lock", 2)) {
    del_lock(request.as_tuple()[1], caller);
    return gen::reply(*this, from, atoms::true_);
  }
  // {register, Name, Pid, Method} and {register_ext, Name, Pid, Method, RegNode}
  if ((tagged(request, "register", 4) || tagged(request, "register_ext", 5)) && request.as_tuple()[2].is_pid()) {
    insert_name(request.as_tuple()[1], Pid(request.as_tuple()[2]), request.as_tuple()[3]);
    return gen::reply(*this, from, atoms::yes);
  }
  if (tagged(request, "unregister", 2)) {
    names_.erase(request.as_tuple()[1]);
    return gen::reply(*this, from, atoms::ok);
  }
  if (tagged(request, "whereis", 2)) return gen::reply(*this, from, whereis(request.as_tuple()[1]));
  if (is(request, "get_protocol_version")) return gen::reply(*this, from, Term(kProtocolVersion));
  if (is(request, "get_known") || is(request, "get_synced")) return gen::reply(*this, from, known_list());
  // An Erlang global_name_server logs and leaves such a call unanswered; the caller's
  // monitor or timeout ends it.
  log(LogModule::dist).warn("global_name_server: unexpected call {}", request.to_string().substr(0, 200));
}

void GlobalNameServer::handle_cast(const Term& request) {
  if (tagged(request, "init_connect", 4) && request.as_tuple()[1].is_tuple() && request.as_tuple()[2].is_atom()) {
    // {init_connect, {Vsn, HisTag, ...}, Node, {locker, _, HisKnown, HisTheLocker}}
    const auto vsn = request.as_tuple()[1].as_tuple();
    if (vsn.size() < 2) return;
    sessions_[request.as_tuple()[2].as_atom()].his_tag = vsn[1];
    return;
  }
  if ((tagged(request, "lock_set", 4) || tagged(request, "lock_set", 5)) && request.as_tuple()[1].is_pid()) {
    // {lock_set, HisTheLocker, IsLockSet, HisKnown}: the peer's locker has set the lock
    // on its side and here (its requester id names both lockers, so the lock it set here
    // is ours too). Confirm, and send our names: both sides are locked.
    const Pid locker(request.as_tuple()[1]);
    auto it = sessions_.find(locker.node());
    if (it == sessions_.end() || it->second.his_tag.is_nil() || !request.as_tuple()[2].is_atom(atoms::true_)) return;
    cast_to(locker.node(), tuple(atom("lock_set"), pid(), atoms::true_, known_list()));
    cast_to(locker.node(), tuple(atom("exchange"), node().name(), names_list(), Term(), it->second.his_tag));
    return;
  }
  if (tagged(request, "exchange", 5) && request.as_tuple()[1].is_atom() && request.as_tuple()[2].is_list()) {
    // {exchange, Node, Names, NamesExt, MyTag}
    const Atom peer = request.as_tuple()[1].as_atom();
    auto it = sessions_.find(peer);
    if (it == sessions_.end() || !(request.as_tuple()[4] == it->second.my_tag)) return;
    return exchange(peer, it->second, request.as_tuple()[2]);
  }
  if (tagged(request, "resolved", 7) && request.as_tuple()[1].is_atom() && request.as_tuple()[2].is_list() &&
      request.as_tuple()[3].is_list()) {
    // {resolved, Node, HisOps, HisKnown, _, NamesExt, MyTag}
    const Atom peer = request.as_tuple()[1].as_atom();
    auto it = sessions_.find(peer);
    if (it == sessions_.end() || !(request.as_tuple()[6] == it->second.my_tag)) return;
    it->second.his_resolved = tuple(request.as_tuple()[2], request.as_tuple()[3]);
    if (it->second.ops) finish(peer, it->second);
    return;
  }
  if (tagged(request, "new_nodes", 6) && request.as_tuple()[2].is_list() && request.as_tuple()[4].is_list()) {
    // {new_nodes, Node, Ops, NamesExt, Nodes, ExtraInfo}: nodes (and their names) that
    // joined the partition through another member.
    apply(std::vector<Term>(request.as_tuple()[2].as_list().begin(), request.as_tuple()[2].as_list().end()));
    for (const Term& n : request.as_tuple()[4].as_list()) {
      const std::optional<Atom> other = other_node(n);
      if (other && learn(*other)) cast_to(*other, tuple(atom("in_sync"), node().name(), atoms::true_));  // connects
    }
    return;
  }
  if (tagged(request, "in_sync", 3) && request.as_tuple()[1].is_atom()) {
    // A node that learned of us through another member: we are in sync with it.
    learn(request.as_tuple()[1].as_atom());
    return;
  }
  log(LogModule::dist).debug("global_name_server: ignored cast {}", request.to_string().substr(0, 200));
}

void GlobalNameServer::node_up(Atom peer) {
  Session& s = sessions_[peer];
  s.my_tag = Term(next_tag_++);
  s.ops.reset();
  s.his_resolved.reset();
  // {init_connect, {Vsn, MyTag}, node(), {locker, _, Known, TheLocker}}: this process
  // stands in for the locker, as the peer's locker only ever sends to it through us.
  cast_to(peer, tuple(atom("init_connect"), tuple(kProtocolVersion, s.my_tag), node().name(),
                      tuple(atom("locker"), atom("no_longer_a_pid"), Term(), pid())));
}

void GlobalNameServer::node_down(Atom peer) {
  sessions_.erase(peer);
  std::erase(known_, peer);
  std::vector<Pid> gone;
  for (const auto& [p, ref] : watched_)
    if (p.node() == peer) gone.push_back(p);
  for (const Pid& p : gone) forget(p);
}

void GlobalNameServer::exchange(Atom peer, Session& s, const Term& names) {
  // As OTP's resolver: a name new here is inserted; a name held here for another
  // process is a clash, resolved by the node with the smaller name (the other side, when
  // that is it). Resolving keeps the process on the smaller node and kills the other, as
  // global:random_exit_name/3, the default method, does.
  std::vector<Term> ops;     // to apply here
  std::vector<Term> for_him;  // the resolved clashes, to apply there
  for (const Term& entry : names.as_list()) {
    if (!entry.is_tuple(3) || !entry.as_tuple()[1].is_pid()) continue;
    const Term& name = entry.as_tuple()[0];
    const Pid his(entry.as_tuple()[1]);
    const auto mine = names_.find(name);
    if (mine == names_.end()) {
      ops.push_back(tuple(atom("insert"), entry));
    } else if (!(mine->second.pid == his) && node().name() < peer) {
      const bool keep_his = his.node() < mine->second.pid.node();
      const Pid loser = keep_his ? mine->second.pid : his;
      log(LogModule::dist).info("global_name_server: name clash on {} with {}: killing {}", name.to_string(),
                                peer.text(), Term(loser).to_string());
      exit(loser, atoms::kill);
      if (keep_his) {
        ops.push_back(tuple(atom("insert"), entry));
      } else {
        for_him.push_back(tuple(atom("insert"), tuple(name, mine->second.pid, mine->second.method)));
      }
    }
  }
  s.ops = std::move(ops);
  cast_to(peer, tuple(atom("resolved"), node().name(), list_from(for_him), known_list(), atom("unused"), Term(),
                      s.his_tag));
  if (s.his_resolved) finish(peer, s);
}

void GlobalNameServer::finish(Atom peer, Session& s) {
  std::vector<Term> ops = std::move(*s.ops);
  const Term his_ops = s.his_resolved->as_tuple()[0];
  const Term his_known = s.his_resolved->as_tuple()[1];
  ops.insert(ops.end(), his_ops.as_list().begin(), his_ops.as_list().end());
  // The nodes that joined: the peer and the rest of its partition.
  std::vector<Term> joined{Term(peer)};
  for (const Term& n : his_known.as_list())
    if (const std::optional<Atom> other = other_node(n)) joined.emplace_back(*other);
  apply(ops);
  // Our side learns of them (and their names) from us; they learn of us from in_sync.
  const Term news = tuple(atom("new_nodes"), node().name(), list_from(ops), Term(), list_from(joined), Term());
  for (const Atom member : known_) cast_to(member, news);
  for (std::size_t i = 1; i < joined.size(); ++i)
    cast_to(joined[i].as_atom(), tuple(atom("in_sync"), node().name(), atoms::true_));
  for (const Term& n : joined) learn(n.as_atom());
  s.ops.reset();
  s.his_resolved.reset();
  log(LogModule::dist).debug("global_name_server: in sync with {}", peer.text());
}

void GlobalNameServer::apply(const std::vector<Term>& ops) {
  for (const Term& op : ops) {
    if (tagged(op, "insert", 2) && op.as_tuple()[1].is_tuple(3) && op.as_tuple()[1].as_tuple()[1].is_pid()) {
      const auto entry = op.as_tuple()[1].as_tuple();
      insert_name(entry[0], Pid(entry[1]), entry[2]);
    } else if (tagged(op, "delete", 2)) {
      names_.erase(op.as_tuple()[1]);
    }
  }
}

Term GlobalNameServer::whereis(const Term& name) const {
  const auto it = names_.find(name);
  return it == names_.end() ? Term(atom("undefined")) : Term(it->second.pid);
}

Term GlobalNameServer::names_list() const {
  std::vector<Term> out;
  for (const auto& [name, entry] : names_) out.push_back(tuple(name, entry.pid, entry.method));
  return list_from(out);
}

bool GlobalNameServer::learn(Atom member) {
  if (std::find(known_.begin(), known_.end(), member) != known_.end()) return false;
  known_.push_back(member);
  return true;
}

std::optional<Atom> GlobalNameServer::other_node(const Term& entry) const {
  const Term& name = entry.is_tuple(2) ? entry.as_tuple()[0] : entry;
  if (!name.is_atom() || name.as_atom() == node().name()) return std::nullopt;
  return name.as_atom();
}

Term GlobalNameServer::known_list() const {
  std::vector<Term> out(known_.begin(), known_.end());
  return list_from(out);
}

void GlobalNameServer::cast_to(Atom peer, Term request) {
  send(RegisteredName{registered_name(), peer}, tuple(atoms::gen_cast, std::move(request)));
}

bool GlobalNameServer::set_lock(const Term& lock, const Pid& holder) {
  if (!lock.is_tuple(2)) return false;
  const Term& resource = lock.as_tuple()[0];
  const Term& requester = lock.as_tuple()[1];
  auto it = locks_.find(resource);
  if (it == locks_.end()) {
    it = locks_.emplace(resource, Lock{requester, {}}).first;
  } else if (!(it->second.requester == requester)) {
    return false;
  }
  if (std::find(it->second.holders.begin(), it->second.holders.end(), holder) == it->second.holders.end()) {
    it->second.holders.push_back(holder);
    watch(holder);
  }
  return true;
}

void GlobalNameServer::del_lock(const Term& lock, const Pid& holder) {
  if (!lock.is_tuple(2)) return;
  auto it = locks_.find(lock.as_tuple()[0]);
  if (it == locks_.end() || !(it->second.requester == lock.as_tuple()[1])) return;
  std::erase(it->second.holders, holder);
  if (it->second.holders.empty()) locks_.erase(it);
}

void GlobalNameServer::insert_name(const Term& name, const Pid& pid, const Term& method) {
  names_.insert_or_assign(name, Name{pid, method});
  watch(pid);
}

void GlobalNameServer::watch(const Pid& pid) {
  if (!watched_.contains(pid)) watched_.emplace(pid, monitor(pid));
}

void GlobalNameServer::forget(const Pid& pid) {
  if (auto w = watched_.find(pid); w != watched_.end()) {
    demonitor(w->second);
    watched_.erase(w);
  }
  std::erase_if(names_, [&](const auto& entry) { return entry.second.pid == pid; });
  for (auto it = locks_.begin(); it != locks_.end();) {
    std::erase(it->second.holders, pid);
    it = it->second.holders.empty() ? locks_.erase(it) : std::next(it);
  }
}

}  // namespace spindle::dist
