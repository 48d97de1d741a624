#pragma once
// The one reporter: a sweep's points made into one result. It reads the sweep's results.csv
// (and, for key placeholders that are no axis, each point's resolved config.yaml), names every
// point's metrics by the report's key template, computes the derived metrics, and sets the
// published figures beside the simulated ones.
//
//   OUT/metrics.json   <key>.<metric> for every complete point, derived metrics,
//   run.simulated_seconds OUT/report.md      the points as a table, then published vs simulated
//   OUT/published.json the report's published figures by metric key (for plots), when it has any

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "app/sweep_spec.hpp"

namespace app {

struct SweepReport {
  std::map<std::string, double> metrics;
  std::map<std::string, double> published;  // the sweep file's, by metric key
  std::string markdown;  // a level-2 section, so several sweeps' reports concatenate
  std::string summary;   // a few lines for the console
  std::vector<std::pair<std::string, std::string>> points;  // complete points: hash, report key
  // The complete points as tidy rows: report key, axis values, metrics (their own and the
  // derived ones under the point's key).
  struct Row {
    std::string key;
    std::vector<std::pair<std::string, std::string>> axes;
    std::map<std::string, double> metrics;
  };
  std::vector<Row> rows;
};

// Several sweeps' rows as one results.csv: point (report key), sweep, every axis any of them
// varies, every metric (empty where a row has none).
std::string tidy_results_csv(const std::vector<std::pair<std::string, const SweepReport*>>& sweeps);

// From OUT/results.csv; bad templates (a placeholder nothing fills, two points under one key)
// throw sim::InputError naming the sweep file.
SweepReport make_sweep_report(const SweepSpec& spec, const std::filesystem::path& out);

// Writes OUT/metrics.json, OUT/report.md and OUT/published.json, each atomically.
void write_sweep_report(const SweepReport& report, const std::string& title,
                        const std::filesystem::path& out);

}  // namespace app
