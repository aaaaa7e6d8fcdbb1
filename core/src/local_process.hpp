#pragma once
// The one thing the term layer needs to know about processes: how to free the control
// block behind a local pid box (see process_control.hpp).

#include "spindle/term.hpp"

namespace spindle::detail {

void free_local_process(PidBox* box) noexcept;

}  // namespace spindle::detail
