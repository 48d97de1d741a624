#pragma once
// `warpsim check BASELINE RESULTS`: the regression gate. Compares two metrics.json files key by
// key and fails when a metric moved beyond the tolerance, in either direction: a baseline pins
// behaviour, and an intended change is accepted by updating the baseline (docs/regression-gate.md).
// Metrics given a better direction (latency: lower; throughput: higher) fail only when they move
// the other way; a move their way is reported as improved.

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
  enum class Kind { kSame, kWithin, kMoved, kImproved, kMissing, kNew } kind;
};

// Globs of the metrics for which a move one way is an improvement, not a regression.
struct BetterDirection {
  std::vector<std::string> lower, higher;
};

// Every key matching one of the glob `patterns` ("*" matches dots too), in key order.
std::vector<MetricChange> compare_metrics(const std::map<std::string, double>& baseline,
                                          const std::map<std::string, double>& result,
                                          double tolerance,
                                          const std::vector<std::string>& patterns,
                                          const BetterDirection& better = {});

Command add_check_command(CLI::App& cli);

}  // namespace app
