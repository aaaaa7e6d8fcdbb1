# Warnings and sanitizers for Spindle's own targets (never for third-party code).

add_library(spindle_options INTERFACE)
target_compile_options(spindle_options INTERFACE -Wall -Wextra -Werror -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wno-missing-field-initializers)
target_compile_features(spindle_options INTERFACE cxx_std_20)

if(SPINDLE_SANITIZE)
  string(REPLACE ";" "," _spindle_sanitizers "${SPINDLE_SANITIZE}")
  message(STATUS "Spindle: sanitizers ${_spindle_sanitizers}")
  add_compile_options(-fsanitize=${_spindle_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_spindle_sanitizers})
endif()
