#pragma once
// Measured vs simulated, for `warpsim validate`: per device op, per kernel class and per
// iteration, and the summary errors (MAPE, median |error|, Pearson r) over the ops the chosen
// cost actually predicts.

#include <map>
#include <string>
#include <vector>

#include "drivers/replay/trace_replay.hpp"

namespace app {

using drivers::describe_replay;
using drivers::iteration_spans;
using drivers::IterationSpan;
using drivers::make_replay_cost;
using drivers::parse_replay_cost;
using drivers::ReplayCost;
using drivers::ReplayResult;
using drivers::simulate_replay;

struct KernelClassError {
  std::string name;
  std::size_t count = 0;
  double measured = 0, simulated = 0;  // total seconds
  double error() const { return measured > 0 ? simulated / measured - 1 : 0; }
};

// One op family's device time, and how much of it the trace's work predicts.
struct FamilyCoverage {
  std::string family;
  std::size_t ops = 0, predicted_ops = 0;
  double measured = 0, predicted = 0;  // seconds of measured device time: all, work derived
  double share() const { return measured > 0 ? predicted / measured : 0; }
};

struct Validation {
  std::size_t ops_compared = 0;  // ops predicted by the cost (and measured > 0)
  std::size_t ops_total = 0;
  double kernel_mape = 0;  // mean |sim - meas| / meas over compared ops
  double median_abs_error = 0;
  double pearson_r = 0;                   // of per-op durations
  std::vector<KernelClassError> classes;  // by measured total, largest first
  std::vector<IterationSpan> iterations;
  double iteration_error = 0;  // mean |sim / meas - 1| over iterations
  double end_to_end_measured = 0, end_to_end_simulated = 0;  // first op start to last op end
  // Device time whose work the trace gives (predicted from work, not kept at its measurement),
  // by family, largest first, and over all.
  std::vector<FamilyCoverage> families;
  FamilyCoverage all;
  // Over the compared ops: sum |simulated - measured| / sum measured.
  double time_weighted_error = 0;
};

Validation compare(const workloads::ReplayWorkload& w, const ReplayResult& r, ReplayCost cost);

// Flat metrics under `prefix` (<prefix>.kernel_mape, ...; with `per_iteration`, also
// <prefix>.iteration.<i>.*), the class table as CSV, and a markdown report.
std::map<std::string, double> validation_metrics(const Validation& v,
                                                 const std::string& prefix = "validate",
                                                 bool per_iteration = true);
std::string classes_csv(const Validation& v);
// Every op: measured and simulated start and duration, whether the cost predicted it.
std::string ops_csv(const workloads::ReplayWorkload& w, const ReplayResult& r, ReplayCost cost);
std::string validation_report(const Validation& v, std::size_t worst = 10);

}  // namespace app
