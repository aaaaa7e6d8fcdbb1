#include "spindle/dist/observer.hpp"

#include <string>

namespace spindle::dist {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

const Term& field(const Term& map, const char* key) {
  const Term* value = map.as_map().find(atom(key));
  if (value == nullptr) throw BadTermAccess(std::string("statistics without \"") + key + "\"");
  return *value;
}

std::uint64_t count(const Term& map, const char* key) {
  const Term& value = field(map, key);
  if (!value.is_small() || value.as_int() < 0) throw BadTermAccess(std::string("\"") + key + "\" is not a count");
  return static_cast<std::uint64_t>(value.as_int());
}

// For fields added later: a node from before them reports none.
std::uint64_t count_if_present(const Term& map, const char* key) {
  return map.as_map().find(atom(key)) == nullptr ? 0 : count(map, key);
}

template <class T, class Read>
std::vector<T> read_list(const Term& list, Read read) {
  std::vector<T> out;
  for (const Term& item : list.as_list()) out.push_back(read(item));
  return out;
}

}  // namespace

Term stats_term(const ObservedNode& o) {
  std::vector<Term> workers;
  for (const WorkerStats& w : o.node.workers)
    workers.push_back(map({{atom("runs"), w.runs},
                           {atom("steals"), w.steals},
                           {atom("busy_us"), duration_cast<microseconds>(w.busy).count()},
                           {atom("caught"), w.caught}}));
  std::vector<Term> connections;
  for (const ConnectionStats& c : o.connections)
    connections.push_back(map({{atom("node"), c.node},
                               {atom("address"), binary(c.address)},
                               {atom("tls"), c.tls},
                               {atom("up_ms"), duration_cast<milliseconds>(c.up).count()},
                               {atom("bytes_in"), c.bytes_in},
                               {atom("bytes_out"), c.bytes_out},
                               {atom("messages_in"), c.messages_in},
                               {atom("messages_out"), c.messages_out},
                               {atom("queued_bytes"), c.queued_bytes},
                               {atom("senders_suspended"), c.senders_suspended}}));
  return map({{atom("uptime_ms"), duration_cast<milliseconds>(o.node.uptime).count()},
              {atom("processes"), o.node.processes},
              {atom("spawned"), o.node.spawned},
              {atom("messages_sent"), o.node.messages_sent},
              {atom("messages_handled"), o.node.messages_handled},
              {atom("mailbox_high_water"), o.node.mailbox_high_water},
              {atom("workers"), list_from(workers)},
              {atom("io_runs"), o.node.io_runs},
              {atom("connections"), list_from(connections)}});
}

ObservedNode observed_from_term(const Term& stats) {
  ObservedNode o;
  o.node.uptime = milliseconds(count(stats, "uptime_ms"));
  o.node.processes = count(stats, "processes");
  o.node.spawned = count(stats, "spawned");
  o.node.messages_sent = count(stats, "messages_sent");
  o.node.messages_handled = count(stats, "messages_handled");
  o.node.mailbox_high_water = count(stats, "mailbox_high_water");
  o.node.io_runs = count_if_present(stats, "io_runs");
  o.node.workers = read_list<WorkerStats>(field(stats, "workers"), [](const Term& w) {
    return WorkerStats{count(w, "runs"), count(w, "steals"), microseconds(count(w, "busy_us")), count_if_present(w, "caught")};
  });
  o.connections = read_list<ConnectionStats>(field(stats, "connections"), [](const Term& c) {
    ConnectionStats s;
    s.node = field(c, "node").as_atom();
    s.address = std::string(field(c, "address").as_binary().as_string_view());
    s.tls = field(c, "tls").is_atom(atoms::true_);
    s.up = milliseconds(count(c, "up_ms"));
    s.bytes_in = count(c, "bytes_in");
    s.bytes_out = count(c, "bytes_out");
    s.messages_in = count(c, "messages_in");
    s.messages_out = count(c, "messages_out");
    s.queued_bytes = count(c, "queued_bytes");
    s.senders_suspended = count_if_present(c, "senders_suspended");
    return s;
  });
  return o;
}

Term processes_term(const std::vector<ProcessStats>& processes) {
  std::vector<Term> rows;
  rows.reserve(processes.size());
  for (const ProcessStats& p : processes)
    rows.push_back(tuple(p.pid, p.name ? Term(*p.name) : Term(atoms::undefined), p.handled, p.sent,
                         p.mailbox_high_water));
  return list_from(rows);
}

std::vector<ProcessStats> processes_from_term(const Term& processes) {
  return read_list<ProcessStats>(processes, [](const Term& row) {
    if (!row.is_tuple(5)) throw BadTermAccess("a process row is {Pid, Name, Handled, Sent, HighWater}");
    const auto t = row.as_tuple();
    ProcessStats p;
    p.pid = t[0].as_pid();
    if (!t[1].is_atom(atoms::undefined)) p.name = t[1].as_atom();
    for (std::size_t i = 2; i < 5; ++i)
      if (!t[i].is_small() || t[i].as_int() < 0) throw BadTermAccess("a process count is not a count");
    p.handled = static_cast<std::uint64_t>(t[2].as_int());
    p.sent = static_cast<std::uint64_t>(t[3].as_int());
    p.mailbox_high_water = static_cast<std::uint64_t>(t[4].as_int());
    return p;
  });
}

}  // namespace spindle::dist
