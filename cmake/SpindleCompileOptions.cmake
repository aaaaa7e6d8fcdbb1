# Warnings and sanitizers for Spindle's own targets (never for third-party code).

add_library(spindle_options INTERFACE)
target_compile_options(spindle_options INTERFACE -Wall -Wextra -Werror -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wno-missing-field-initializers)
target_compile_features(spindle_options INTERFACE cxx_std_20)
# GCC 12 at -O3 reports -Warray-bounds on ordinary std::vector inserts and on code whose
# bounds depend on a tag it cannot follow (GCC bugs 106199, 107852). Real out-of-bounds
# accesses are caught by the ASan+UBSan test run, so this one warning is off for GCC 12.
# GCC 12 also pairs the operator delete of Asio's coroutine frames with the wrong
# operator new when it inlines a frame's destruction (at -O2, with ASan) and reports a
# mismatch that is not there: the frame's class declares both.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(spindle_options INTERFACE -Wno-array-bounds -Wno-mismatched-new-delete)
endif()

if(SPINDLE_SANITIZE)
  string(REPLACE ";" "," _spindle_sanitizers "${SPINDLE_SANITIZE}")
  message(STATUS "Spindle: sanitizers ${_spindle_sanitizers}")
  add_compile_options(-fsanitize=${_spindle_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_spindle_sanitizers})
  # Clang before 15 cannot compile coroutines (Asio's, CoProcess) with UBSan's
  # -fsanitize=function ("Cannot represent a difference across sections", LLVM issue 49689).
  if("undefined" IN_LIST SPINDLE_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 15)
    add_compile_options(-fno-sanitize=function)
  endif()
  if("thread" IN_LIST SPINDLE_SANITIZE)
    # Asio's handler fences (inlined from its headers) draw -Wtsan; its queues also take a
    # mutex, which is what ThreadSanitizer follows.
    add_compile_options(-Wno-tsan)
  endif()
endif()

# libFuzzer (tests/fuzz): every Spindle target gets the fuzzer's coverage instrumentation;
# the fuzz programs themselves link libFuzzer's main. Only clang has it.
if(SPINDLE_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SPINDLE_BUILD_FUZZERS needs clang (libFuzzer); use the 'fuzz' preset "
                        "or -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
