#pragma once
// Runs a shipped experiment (configs/experiments/<name>.yaml) with the real `warpsim` binary and
// returns its metrics.json. For test targets that define WARPSIM_EXE and WARPSIM_SOURCE.

#include <map>
#include <string>

#include "run_program.hpp"
#include "sim/stats.hpp"
#include "temp_dir.hpp"

namespace testing {

inline std::map<std::string, double> run_experiment(const std::string& name,
                                                    const std::string& overrides) {
  TempDir d;
  const std::string cmd = std::string(WARPSIM_EXE) + " run " + WARPSIM_SOURCE +
                          "/configs/experiments/" + name + ".yaml --quiet --out " +
                          (d.path() / "r").string() + " " + overrides;
  const auto r = run_program(cmd);
  CAPTURE(r.output);
  REQUIRE(r.code == 0);
  return sim::metrics_from_json(read(d.path() / "r" / "metrics.json"), "metrics.json");
}

}  // namespace testing
