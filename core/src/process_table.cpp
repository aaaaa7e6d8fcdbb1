#include "process_table.hpp"

#include <algorithm>
#include <mutex>

#include "process_control.hpp"

namespace spindle::detail {

std::uint32_t ProcessTable::KeyInShard::operator()(const ProcessControl& control) const noexcept {
  return key_in_shard(control.key());
}

bool ProcessTable::insert(ProcessControl& control) {
  Shard& s = shard(control.key());
  std::lock_guard lock(s.mutex);
  return s.processes.insert(control);
}

void ProcessTable::erase(ProcessControl& control) {
  {
    Shard& s = shard(control.key());
    std::lock_guard lock(s.mutex);
    s.retired.handled += control.counters.handled.get();
    s.retired.sent += control.counters.sent.get();
    s.retired.mailbox_high_water = std::max(s.retired.mailbox_high_water, control.counters.mailbox_high_water.get());
    if (!s.processes.erase(control)) return;
  }
  control.release();  // the table's reference
}

Pid ProcessTable::find(std::uint32_t key) const {
  Pid found;
  shard(key).processes.visit(key_in_shard(key), [&found](ProcessControl& control) { found = control.pid(); });
  return found;
}

std::vector<Pid> ProcessTable::all() const {
  std::vector<Pid> pids;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    s.processes.for_each([&pids](ProcessControl& control) { pids.push_back(control.pid()); });
  }
  return pids;
}

ProcessTable::Retired ProcessTable::retired() const {
  Retired total;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mutex);
    total.handled += s.retired.handled;
    total.sent += s.retired.sent;
    total.mailbox_high_water = std::max(total.mailbox_high_water, s.retired.mailbox_high_water);
  }
  return total;
}

}  // namespace spindle::detail
