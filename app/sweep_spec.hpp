#pragma once
// A sweep file: one base scenario and the axes to vary it along (docs/sweeps.md).
//
//   scenario: ../experiments/quickstart.yaml    # relative to the sweep file
//   set: {inference.models: [resnet50]}          # fixed overrides for every point (optional)
//   axes:                                        # blocks, combined as a cartesian product
//     - grid: {inference.batch: [1, 8], policies: [[eager], [nimble]]}   # every combination
//     - zip: {gpu: [h100-sxm, a100-sxm4-80gb], dtype: [fp16, fp32]}      # paired, same length
//     - random: {samples: 8, seed: 3, params: {inference.batch: {int: [1, 64]}}}
//   seeds: [1, 2, 3]                             # or {count: 3, first: 1}; repeats every point
//   report:                                      # the sweep's own metrics.json and report.md
//     key: "inference.{model}.{policy}"          # a point's metric m becomes <key>.m
//     derived:                                   # metrics across points
//       - {name: speedup_vs_eager, of: latency_ms, baseline: {policy: eager}}
//     published: {<metric key>: <the paper's value>}      # shown beside, never read
//   extends: other-sweep.yaml                    # its keys, these replacing them
//
// Axis keys are `--set` paths; values are any YAML (lists and maps too). The points are
// expanded in a fixed order, so a sweep file always means the same list of points.

#include <cstdint>
#include <filesystem>
#include <map>

#include "sim/error.hpp"
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace app {

// A metric the report computes from the points' own: the value of `of` at each point (a copy),
// its ratio to the value at the point that differs only in `baseline`'s axis values, or a value
// read off the curve of points that differ only in axis `along` (a latency-throughput curve over
// the arrival rate). Derived metrics are computed in order, and each is a point metric for the
// ones after it (a ratio of two curves' interpolated values).
struct DerivedMetric {
  // copy; baseline/point (a speedup); point/baseline; recovered: for slowdowns (1 = none), the
  // share of the baseline's that the point removes, (baseline - point) / (baseline - 1);
  // interpolate: `of` where metric `where` reaches `equals` along the curve (linear between the
  // two points that bracket it; none when the curve does not reach it); max: the curve's largest.
  enum class Form { kCopy, kBaselineOverPoint, kPointOverBaseline, kRecovered, kInterpolate, kMax };
  std::string name;  // its key is <key>.<name>
  std::string of;    // the point metric it is computed from
  Form form = Form::kCopy;
  std::vector<std::pair<std::string, std::string>> baseline;  // axis -> value (as written)
  std::vector<std::pair<std::string, std::string>> at;        // only points with these values
  std::string key;   // its own key template; empty: the report's
  std::string along;  // interpolate, max: the axis the curve runs along
  std::string where;  // interpolate: the metric that reaches `equals`
  double equals = 0;
};

// `report:` -- how a sweep's points become one flat metrics.json and a report.md (app/sweep_report).
struct ReportSpec {
  std::string key;  // template of a point's key: {axis} or {config.key} placeholders
  std::vector<std::string> show;  // metrics tabulated in report.md (empty: the first eight)
  std::vector<DerivedMetric> derived;
  std::map<std::string, double> published;  // metric key -> a paper's value, for comparison
};

// One point of a sweep: the axis values that make it, in column order.
struct SweepPoint {
  std::vector<std::pair<std::string, std::string>> values;  // key -> one-line YAML value
  std::optional<std::uint64_t> seed;                         // from `seeds:`, if any

  // The `--set` overrides that turn the base scenario into this point (fixed ones first).
  std::vector<std::string> overrides(const std::vector<std::string>& fixed) const;
};

struct SweepSpec {
  std::filesystem::path file;      // the sweep file itself
  std::string name;                // `name:`, default the file's stem
  std::string description;
  std::filesystem::path scenario;  // resolved against the sweep file's folder
  std::vector<std::string> fixed;  // `set:` as "key=value"
  std::vector<std::string> columns;  // axis keys in order (without the seed)
  // Each zip block's keys: they vary together, so a point differs from another in all or none.
  std::vector<std::vector<std::string>> zipped;
  std::map<std::string, sim::SourcePos> key_pos;  // where each `set:` and axis key is written
  bool has_seeds = false;
  std::vector<SweepPoint> points;
  std::optional<ReportSpec> report;
};

// Axis values given from outside the file (`warpsim run X.yaml --set axis=[...]`): each replaces
// the values a grid or zip axis of that key lists. Values are one-line YAML, as --set takes them.
using AxisValues = std::map<std::string, std::vector<std::string>>;

// Reads and checks a sweep file; bad input throws sim::InputError naming file:line:col. Keys of
// `replace` that the file does not vary are ignored (the caller asks columns which it varies).
SweepSpec load_sweep(const std::filesystem::path& file, const AxisValues& replace = {});

}  // namespace app
