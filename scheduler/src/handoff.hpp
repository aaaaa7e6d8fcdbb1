#pragma once
// ThreadSanitizer annotations for handing an actor to another worker through oneTBB,
// whose own synchronisation TSan cannot see (see tbb_pool.hpp): the thread that hands
// work over releases the token, the task that runs it acquires it. Nothing outside TSan
// builds.

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace spindle::detail {

inline char handoff_token;

inline void handoff_release() noexcept {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(&handoff_token);
#endif
}

inline void handoff_acquire() noexcept {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(&handoff_token);
#endif
}

}  // namespace spindle::detail
