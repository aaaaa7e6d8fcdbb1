#include "stats_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "spindle/term_text.hpp"

namespace spindle::tools {
namespace {

using dist::ConnectionStats;

using Seconds = std::chrono::duration<double>;

// How much a counter grew. Totals read while processes exit can dip a little: no growth.
double growth(std::uint64_t now, std::uint64_t before) {
  return now > before ? static_cast<double>(now - before) : 0.0;
}

// The reading of the same connection last time, or nothing for a new one.
const ConnectionStats* previous(const std::optional<dist::ObservedNode>& last, const ConnectionStats& c) {
  if (!last) return nullptr;
  for (const ConnectionStats& p : last->connections)
    if (p.node == c.node && p.address == c.address) return &p;
  return nullptr;
}

std::string duration(std::chrono::nanoseconds d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
}

}  // namespace

std::string si(double value) {
  if (value >= 1e9) return fmt::format("{:.1f}G", value / 1e9);
  if (value >= 1e6) return fmt::format("{:.1f}M", value / 1e6);
  if (value >= 1e3) return fmt::format("{:.1f}k", value / 1e3);
  return fmt::format("{:.0f}", value);
}

std::string bytes(double value) {
  if (value >= 1 << 30) return fmt::format("{:.1f}GB", value / (1 << 30));
  if (value >= 1 << 20) return fmt::format("{:.1f}MB", value / (1 << 20));
  if (value >= 1 << 10) return fmt::format("{:.1f}KB", value / (1 << 10));
  return fmt::format("{:.0f}B", value);
}

double StatsReport::elapsed(const dist::ObservedNode& now) const {
  const auto since = last_ ? now.node.uptime - last_->node.uptime : now.node.uptime;
  return std::max(Seconds(since).count(), 1e-6);
}

std::vector<double> StatsReport::utilisation(const dist::ObservedNode& now) const {
  std::vector<double> out;
  const double seconds = elapsed(now);
  for (std::size_t i = 0; i < now.node.workers.size(); ++i) {
    auto busy = now.node.workers[i].busy;
    if (last_ && i < last_->node.workers.size()) busy -= last_->node.workers[i].busy;
    out.push_back(std::clamp(Seconds(busy).count() / seconds, 0.0, 1.0));
  }
  return out;
}

std::string StatsReport::line(const dist::ObservedNode& now) {
  const double seconds = elapsed(now);
  const auto rate = [&](std::uint64_t value, std::uint64_t old) { return si(growth(value, old) / seconds); };
  const NodeStats& n = now.node;
  const NodeStats before = last_ ? last_->node : NodeStats{};
  std::string util;
  for (double u : utilisation(now)) util += fmt::format("{}{:.0f}%", util.empty() ? "" : ",", u * 100);
  std::uint64_t steals = 0, steals_before = 0;
  for (const WorkerStats& w : n.workers) steals += w.steals;
  for (const WorkerStats& w : before.workers) steals_before += w.steals;
  double in = 0, out = 0;
  std::size_t queued = 0;
  double suspended = 0;
  for (const ConnectionStats& c : now.connections) {
    const ConnectionStats* p = previous(last_, c);
    in += growth(c.bytes_in, p ? p->bytes_in : 0);
    out += growth(c.bytes_out, p ? p->bytes_out : 0);
    suspended += growth(c.senders_suspended, p ? p->senders_suspended : 0);
    queued += c.queued_bytes;
  }
  std::string text = fmt::format(
      "stats uptime={} procs={} spawned={} sent={}/s handled={}/s mailbox_hwm={} util={} steals={}/s io_runs={}/s "
      "conns={} in={}/s out={}/s queued={} suspended={}/s",
      duration(n.uptime), n.processes, n.spawned, rate(n.messages_sent, before.messages_sent),
      rate(n.messages_handled, before.messages_handled), n.mailbox_high_water, util, rate(steals, steals_before),
      rate(n.io_runs, before.io_runs), now.connections.size(), bytes(in / seconds), bytes(out / seconds), bytes(static_cast<double>(queued)),
      si(suspended / seconds));
  last_ = now;
  return text;
}

std::string StatsReport::screen(const std::string& node_name, const dist::ObservedNode& now,
                                const std::vector<ProcessStats>& processes, std::size_t top) {
  const double seconds = elapsed(now);
  const NodeStats& n = now.node;
  const NodeStats before = last_ ? last_->node : NodeStats{};
  std::string s = fmt::format("spindle-top  {}  up {}\n", node_name, duration(n.uptime));
  s += fmt::format("processes {} (spawned {})   messages sent {}/s, handled {}/s   deepest mailbox {}\n",
                   n.processes, n.spawned, si(growth(n.messages_sent, before.messages_sent) / seconds),
                   si(growth(n.messages_handled, before.messages_handled) / seconds), n.mailbox_high_water);
  const auto util = utilisation(now);
  s += "workers  ";
  for (std::size_t i = 0; i < util.size(); ++i)
    s += fmt::format(" {}:{:>4.0f}% ({} steals)", i, util[i] * 100, si(static_cast<double>(n.workers[i].steals)));
  s += fmt::format("   I/O thread: {} runs/s\n\n", si(growth(n.io_runs, before.io_runs) / seconds));
  s += fmt::format("{:<28} {:<22} {:>4} {:>10} {:>10} {:>10} {:>10} {:>9} {:>11}\n", "CONNECTION", "ADDRESS", "TLS",
                   "IN/s", "OUT/s", "MSGS IN/s", "MSGS OUT/s", "QUEUED", "SUSPENDS/s");
  for (const ConnectionStats& c : now.connections) {
    const ConnectionStats* p = previous(last_, c);
    const auto per_second = [&](std::uint64_t value, std::uint64_t old) { return growth(value, old) / seconds; };
    s += fmt::format("{:<28} {:<22} {:>4} {:>10} {:>10} {:>10} {:>10} {:>9} {:>11}\n", c.node.text(), c.address,
                     c.tls ? "yes" : "no", bytes(per_second(c.bytes_in, p ? p->bytes_in : 0)),
                     bytes(per_second(c.bytes_out, p ? p->bytes_out : 0)),
                     si(per_second(c.messages_in, p ? p->messages_in : 0)),
                     si(per_second(c.messages_out, p ? p->messages_out : 0)),
                     bytes(static_cast<double>(c.queued_bytes)),
                     si(per_second(c.senders_suspended, p ? p->senders_suspended : 0)));
  }
  // The busiest processes: most messages handled since the last reading.
  std::unordered_map<Pid, std::uint64_t> handled_before;
  for (const ProcessStats& p : last_processes_) handled_before.emplace(p.pid, p.handled);
  struct Row {
    const ProcessStats* p;
    double rate;
  };
  std::vector<Row> rows;
  for (const ProcessStats& p : processes) {
    const auto it = handled_before.find(p.pid);
    rows.push_back({&p, growth(p.handled, it == handled_before.end() ? 0 : it->second) / seconds});
  }
  const std::size_t shown = std::min(top, rows.size());
  std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(shown), rows.end(),
                    [](const Row& a, const Row& b) { return a.rate > b.rate; });
  s += fmt::format("\n{:<24} {:<22} {:>11} {:>10} {:>12}\n", "PROCESS", "NAME", "HANDLED/s", "TOTAL",
                   "MAILBOX HWM");
  for (std::size_t i = 0; i < shown; ++i) {
    const ProcessStats& p = *rows[i].p;
    s += fmt::format("{:<24} {:<22} {:>11} {:>10} {:>12}\n", to_string(p.pid.term()),
                     p.name ? std::string(p.name->text()) : std::string(), si(rows[i].rate),
                     si(static_cast<double>(p.handled)), p.mailbox_high_water);
  }
  last_ = now;
  last_processes_ = processes;
  return s;
}

}  // namespace spindle::tools
