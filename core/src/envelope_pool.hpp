#pragma once
// Fixed-size blocks for mailbox envelopes, recycled through per-thread magazines.
//
// Envelopes flow one way: built by senders, freed by receivers. Freed blocks collect in
// the freeing thread's magazine; a full magazine goes to a shared depot, and a thread
// whose magazine is empty takes one from there. So a send and its free cost a few
// instructions each, and threads meet (with a compare-and-swap on one of the depot's
// slots, no lock) once per magazine, not once per message. The depot keeps a bounded
// number of magazines and hands the rest back to the heap, so a burst of queued messages
// does not pin its memory for good. Sanitizer builds skip the pool, so ASan sees every
// envelope.

#include <cstddef>

namespace spindle::detail {

void* allocate_envelope_block(std::size_t bytes);
void free_envelope_block(void* block, std::size_t bytes) noexcept;

}  // namespace spindle::detail
