#pragma once
// The I/O thread's loop, with a short busy wait before it sleeps.

#include <chrono>
#include <functional>

#include "asio.hpp"

namespace spindle::dist {

/// Runs `io` until it is stopped, calling `after_each` after every handler (the I/O
/// thread runs there the processes its handler's deliveries woke). After each event it
/// keeps polling for `busy_wait` before it blocks again: the reply to a message it just
/// delivered is usually written within that time, and then reaches this thread without
/// waking it from the kernel (BEAM's schedulers busy-wait before sleeping for the same
/// reason). Zero: never. `after_each` returns false when the handler has spent the busy
/// wait already (a read loop that polled its socket for it): the thread blocks at once.
void run_io_loop(asio::io_context& io, std::chrono::microseconds busy_wait, const std::function<bool()>& after_each);

}  // namespace spindle::dist
