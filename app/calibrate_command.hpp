#pragma once
// `warpsim calibrate PROBE.json --gpu NAME [--out FILE]`: fits a GPU preset's efficiency
// factors and launch overheads to what warpsim-probe measured (validator/), and writes
// configs/gpus/NAME.calibrated.yaml (extends the preset; every value says where it came from).

#include "app/command.hpp"

namespace app {

Command add_calibrate_command(CLI::App& cli);

}  // namespace app
