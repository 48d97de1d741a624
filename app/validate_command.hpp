#pragma once
// `warpsim validate TRACE --gpu NAME [--cost trace|roofline] [--max-mape X] [--out DIR]`:
// replays a Kineto trace and reports simulated vs measured (docs/validation.md). Exit 3 when
// the kernel MAPE exceeds --max-mape, for CI gates.

#include "app/command.hpp"

namespace app {

inline constexpr int kExitOverLimit = 3;

Command add_validate_command(CLI::App& cli);

}  // namespace app
