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
  std::filesystem::path scenario;  // resolved against the sweep file's folder
  std::vector<std::string> fixed;  // `set:` as "key=value"
  std::vector<std::string> columns;  // axis keys in order (without the seed)
  std::map<std::string, sim::SourcePos> key_pos;  // where each `set:` and axis key is written
  bool has_seeds = false;
  std::vector<SweepPoint> points;
};

// Reads and checks a sweep file; bad input throws sim::InputError naming file:line:col.
SweepSpec load_sweep(const std::filesystem::path& file);

}  // namespace app
