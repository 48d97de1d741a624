#pragma once
// `warpsim replay TRACE --gpu NAME [--cost trace|roofline] [--timeline FILE]`: re-simulates a
// real Kineto trace and prints measured vs simulated end to end (docs/validation.md).

#include "app/command.hpp"

namespace app {

Command add_replay_command(CLI::App& cli);

}  // namespace app
