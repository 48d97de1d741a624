#include "app/sweep_plan.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "app/paths.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/rng.hpp"
#include "sim/stats.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

// A recorded error as one line (results.csv keeps one row per point).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

SweepPlan::SweepPlan(const SweepSpec& spec, fs::path out) : spec_(spec), out_(std::move(out)) {
  const sim::ConfigLoader loader = config_loader();
  for (std::size_t i = 0; i < spec.points.size(); ++i) {
    PlannedPoint p;
    p.index = i;
    p.point = &spec.points[i];
    p.overrides = spec.points[i].overrides(spec.fixed);
    if (spec.points[i].seed) p.overrides.push_back(fmt::format("seed={}", *spec.points[i].seed));
    try {
      const auto root = loader.load(spec.scenario, p.overrides);
      p.hash = fmt::format("{:016x}", sim::stable_hash(sim::dump_yaml(root)));
    } catch (const sim::InputError& e) {
      throw sim::InputError(fmt::format("{}: point {} of {}: {}", spec.file.string(), i + 1,
                                        spec.points.size(), e.what()));
    }
    points_.push_back(std::move(p));
  }
}

fs::path SweepPlan::dir(const PlannedPoint& p) const { return out_ / "points" / p.hash; }
fs::path SweepPlan::error_file(const PlannedPoint& p) const {
  return out_ / "points" / (p.hash + ".error");
}
fs::path SweepPlan::log_file(const PlannedPoint& p) const {
  return out_ / "points" / (p.hash + ".log");
}
bool SweepPlan::complete(const PlannedPoint& p) const {
  return fs::is_regular_file(dir(p) / "metrics.json");
}
std::optional<std::string> SweepPlan::error(const PlannedPoint& p) const {
  if (!fs::is_regular_file(error_file(p))) return std::nullopt;
  return one_line(sim::read_file(error_file(p)));
}

std::vector<const PlannedPoint*> SweepPlan::pending() const {
  std::vector<const PlannedPoint*> out;
  std::set<std::string> seen;
  for (const PlannedPoint& p : points_)
    if (seen.insert(p.hash).second && !complete(p)) out.push_back(&p);
  return out;
}

void SweepPlan::remove_stale_temporaries() const {
  const fs::path points = out_ / "points";
  if (!fs::is_directory(points)) return;
  for (const auto& e : fs::directory_iterator(points))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) fs::remove_all(e.path());
}

std::size_t SweepPlan::write_results_csv() const {
  // Every metric any point reported becomes a column, sorted.
  std::vector<std::map<std::string, double>> metrics(points_.size());
  std::set<std::string> keys;
  std::size_t incomplete = 0;
  for (const PlannedPoint& p : points_) {
    if (!complete(p)) {
      ++incomplete;
      continue;
    }
    const fs::path file = dir(p) / "metrics.json";
    metrics[p.index] = sim::metrics_from_json(sim::read_file(file), file.string());
    for (const auto& [k, v] : metrics[p.index]) keys.insert(k);
  }

  std::string csv = "point,status";
  auto field = [&csv](const std::string& s) {  // appended, not "," + s: no temporaries per cell
    csv += ',';
    sim::append_csv_field(csv, s);
  };
  if (spec_.has_seeds) csv += ",seed";
  for (const auto& c : spec_.columns) field(c);
  for (const auto& k : keys) field(k);
  csv += ",error\n";
  for (const PlannedPoint& p : points_) {
    const bool ok = complete(p);
    const auto err = ok ? std::nullopt : error(p);
    csv += p.hash;
    csv += ok ? ",ok" : err ? ",failed" : ",missing";
    if (spec_.has_seeds) csv += fmt::format(",{}", p.point->seed.value_or(0));
    for (const auto& [k, v] : p.point->values) field(v);
    for (const auto& k : keys) {
      auto it = metrics[p.index].find(k);
      csv += ',';
      if (it != metrics[p.index].end()) csv += fmt::format("{}", it->second);
    }
    field(err.value_or(""));
    csv += '\n';
  }
  sim::write_file_atomic(out_ / "results.csv", csv);
  // What results.csv's columns are, for tools that match points by their axes (warpsim check).
  boost::json::array axes;
  for (const auto& c : spec_.columns) axes.emplace_back(c);
  sim::write_file_atomic(out_ / "sweep.json",
                         boost::json::serialize(boost::json::object{
                             {"axes", axes}, {"seeds", spec_.has_seeds}}) +
                             "\n");
  return incomplete;
}

}  // namespace app
