#pragma once
// A sweep's points laid out on disk, and its tidy results table.
//
//   OUT/points/<hash>/        a complete point: `warpsim run`'s results folder, published whole
//   OUT/points/<hash>.error   a failed point: its one-line error
//   OUT/points/<hash>.log     what a point printed, kept when not empty
//   OUT/results.csv           one row per point: point, status, [seed], axis values, metrics, error
//
// <hash> is a hash of the point's fully resolved config, so the same point always lands in the
// same folder: a re-run skips what is complete, and two sweeps that share a point share it.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/sweep_spec.hpp"

namespace app {

struct PlannedPoint {
  std::size_t index = 0;               // position in the sweep file's order
  const SweepPoint* point = nullptr;
  std::vector<std::string> overrides;  // --set for `warpsim run`, fixed ones first
  std::string hash;                    // 16 hex digits of the resolved config's hash
};

class SweepPlan {
 public:
  // Resolves every point's config against the base scenario (bad overrides are reported here,
  // at their point) and names it by its hash.
  SweepPlan(const SweepSpec& spec, std::filesystem::path out);

  const SweepSpec& spec() const { return spec_; }
  const std::filesystem::path& out() const { return out_; }
  const std::vector<PlannedPoint>& points() const { return points_; }

  std::filesystem::path dir(const PlannedPoint& p) const;         // OUT/points/<hash>
  std::filesystem::path error_file(const PlannedPoint& p) const;  // OUT/points/<hash>.error
  std::filesystem::path log_file(const PlannedPoint& p) const;    // OUT/points/<hash>.log
  bool complete(const PlannedPoint& p) const;                     // its metrics.json exists
  std::optional<std::string> error(const PlannedPoint& p) const;  // its recorded failure

  // Points still to run, each hash once (identical points share one run).
  std::vector<const PlannedPoint*> pending() const;
  // Removes half-written results a killed run left behind (<hash>.tmp-<pid> folders).
  void remove_stale_temporaries() const;

  // Writes OUT/results.csv atomically from what is on disk; returns the number of points that
  // are not complete (failed, or never run).
  std::size_t write_results_csv() const;

 private:
  const SweepSpec& spec_;
  std::filesystem::path out_;
  std::vector<PlannedPoint> points_;
};

}  // namespace app
