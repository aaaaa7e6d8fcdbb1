#pragma once
// SPINDLE_SANITIZED_HEAP: this translation unit is built with AddressSanitizer or
// ThreadSanitizer, so the runtime's memory must come from the global heap, where the
// sanitizer sees it. GCC says so with __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; Clang 14
// defines neither and answers only __has_feature.

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SPINDLE_SANITIZED_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SPINDLE_SANITIZED_HEAP 1
#endif
#endif
