#pragma once
// `warpsim check BASELINE RESULTS`: the regression gate. Compares two metrics.json files key by
// key and fails when a metric moved beyond the tolerance, in either direction: a baseline pins
// behaviour, and an intended change is accepted by updating the baseline (docs/regression-gate.md).

#include <map>
#include <string>
#include <vector>

#include "app/command.hpp"

namespace app {

// A regression: some baseline metric moved beyond the tolerance or disappeared.
inline constexpr int kExitRegression = 4;

struct MetricChange {
  std::string key;
  double baseline, result;  // NaN where absent
  double relative;          // |result - baseline| / |baseline|; inf when baseline is 0
  enum class Kind { kSame, kWithin, kMoved, kMissing, kNew } kind;
};

// Every key matching one of the glob `patterns` ("*" matches dots too), in key order.
std::vector<MetricChange> compare_metrics(const std::map<std::string, double>& baseline,
                                          const std::map<std::string, double>& result,
                                          double tolerance,
                                          const std::vector<std::string>& patterns);

Command add_check_command(CLI::App& cli);

}  // namespace app
