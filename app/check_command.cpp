#include "app/check_command.hpp"

#include <fmt/format.h>
#include <fnmatch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "sim/csv.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/stats.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

struct CheckOptions {
  fs::path baseline, results;
  std::string tolerance = "2%";
  std::vector<std::string> keys;
  BetterDirection better;
  bool all = false;
};

// A metrics.json, or a results folder holding one.
std::map<std::string, double> read_metrics(fs::path p) {
  if (sim::is_folder(p)) p /= "metrics.json";
  return sim::metrics_from_json(sim::read_file(p), p.string());
}

bool matches(const std::string& key, const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
    return ::fnmatch(p.c_str(), key.c_str(), 0) == 0;
  });
}

std::string number(double v) { return std::isnan(v) ? "-" : fmt::format("{:.6g}", v); }

std::string change_text(const MetricChange& c) {
  if (c.kind == MetricChange::Kind::kMissing || c.kind == MetricChange::Kind::kNew) return "";
  if (std::isinf(c.relative)) return "from 0";
  return fmt::format("{:+.3g}%", (c.result - c.baseline) / std::abs(c.baseline) * 100.0);
}

const char* kind_text(MetricChange::Kind k) {
  switch (k) {
    case MetricChange::Kind::kSame: return "same";
    case MetricChange::Kind::kWithin: return "within";
    case MetricChange::Kind::kMoved: return "MOVED";
    case MetricChange::Kind::kImproved: return "improved";
    case MetricChange::Kind::kMissing: return "MISSING";
    case MetricChange::Kind::kNew: return "new";
  }
  return "";
}

// A sweep's results folder: sweep.json names results.csv's axis columns. Its points, each by
// its axis values and seed ("batch=8 gpu=h100-sxm seed=1"), with the metrics.json of each that
// completed (an empty path for one that failed or never ran).
struct SweepPoints {
  std::vector<std::string> axes;
  std::map<std::string, fs::path> points;
};

bool is_sweep(const fs::path& p) {
  return sim::is_file(p / "sweep.json") && sim::is_file(p / "results.csv");
}

SweepPoints read_sweep(const fs::path& dir) {
  SweepPoints out;
  const fs::path manifest = dir / "sweep.json";
  bool seeds = false;
  try {
    const auto doc = boost::json::parse(sim::read_file(manifest)).as_object();
    for (const auto& a : doc.at("axes").as_array()) out.axes.emplace_back(a.as_string());
    seeds = doc.at("seeds").as_bool();
  } catch (const std::exception& e) {
    if (dynamic_cast<const sim::InputError*>(&e)) throw;
    throw sim::InputError(
        fmt::format("{}: not a sweep manifest ({})", manifest.string(), e.what()));
  }
  const fs::path csv = dir / "results.csv";
  const auto rows = sim::parse_csv(sim::read_file(csv), csv.string());
  const std::size_t first = 2 + (seeds ? 1 : 0), width = first + out.axes.size();
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const sim::CsvRow& row = rows[r];
    if (row.size() < width)
      throw sim::InputError(fmt::format("{}:{}: {} fields, the header has at least {}",
                                        csv.string(), row.front().line, row.size(), width));
    std::string label;
    for (std::size_t a = 0; a < out.axes.size(); ++a)
      label += fmt::format("{}{}={}", a ? " " : "", out.axes[a], row[first + a].text);
    if (seeds) label += fmt::format(" seed={}", row[2].text);
    const fs::path metrics = dir / "points" / row[0].text / "metrics.json";
    const bool ok = row[1].text == "ok" && sim::is_file(metrics);
    if (!out.points.emplace(label, ok ? metrics : fs::path()).second)
      throw sim::InputError(fmt::format("{}:{}: point '{}' appears twice", csv.string(),
                                        row.front().line, label));
  }
  return out;
}

// Both sides sweeps: points matched by their axis values and seed, each gated as a metrics
// file is; one table of the points that moved. Exit 2 when a point is missing on either side
// (or failed), else 4 when one regressed.
int run_sweep_check(const CheckOptions& o, double tolerance, std::ostream& console) {
  const SweepPoints base = read_sweep(o.baseline), now = read_sweep(o.results);
  if (base.axes != now.axes)
    throw sim::InputError(fmt::format("{} varies {} but {} varies {}: not the same sweep",
                                      o.baseline.string(), fmt::join(base.axes, ", "),
                                      o.results.string(), fmt::join(now.axes, ", ")));
  const std::vector<std::string> patterns = o.keys.empty() ? std::vector<std::string>{"*"} : o.keys;
  std::vector<std::string> missing;
  std::size_t compared = 0, regressed = 0, improved = 0, matched_any = 0;
  std::string table;
  for (const auto& [label, file] : base.points) {
    const auto it = now.points.find(label);
    if (file.empty() || it == now.points.end() || it->second.empty()) {
      missing.push_back(fmt::format("{}: {}", label,
                                    file.empty()              ? "failed in the baseline"
                                    : it == now.points.end() ? "not in the new sweep"
                                                              : "failed in the new sweep"));
      continue;
    }
    const auto changes = compare_metrics(read_metrics(file), read_metrics(it->second), tolerance,
                                         patterns, o.better);
    ++compared;
    bool moved = false, better = false;
    std::string rows;
    for (const auto& c : changes) {
      if (c.kind != MetricChange::Kind::kNew) ++matched_any;
      moved |= c.kind == MetricChange::Kind::kMoved || c.kind == MetricChange::Kind::kMissing;
      better |= c.kind == MetricChange::Kind::kImproved;
      if (o.all || (c.kind != MetricChange::Kind::kSame && c.kind != MetricChange::Kind::kWithin))
        rows += fmt::format("  {:<40}  {:>12}  {:>12}  {:>9}  {}\n", c.key, number(c.baseline),
                            number(c.result), change_text(c), kind_text(c.kind));
    }
    regressed += moved;
    improved += better;
    if (!rows.empty()) table += fmt::format("{}{}\n{}", table.empty() ? "" : "\n", label, rows);
  }
  for (const auto& [label, file] : now.points)
    if (!base.points.contains(label)) missing.push_back(label + ": not in the baseline");
  if (compared > 0 && matched_any == 0)
    throw sim::InputError(fmt::format("{}: no baseline metric matches {}", o.baseline.string(),
                                      fmt::join(patterns, " ")));
  console << table;
  for (const std::string& m : missing) console << "MISSING point " << m << "\n";
  console << fmt::format("{} points compared at tolerance {:g}%: {}{}{}\n", compared,
                         tolerance * 100.0,
                         regressed ? fmt::format("{} REGRESSED", regressed)
                                   : std::string(improved ? "none regressed" : "all within"),
                         improved ? fmt::format(", {} improved", improved) : std::string(),
                         missing.empty() ? "" : fmt::format(", {} MISSING", missing.size()));
  if (!missing.empty()) return kExitBadInput;
  return regressed ? kExitRegression : kExitOk;
}

int run_check(const CheckOptions& o, std::ostream& console) {
  const double tolerance = parse_fraction_option("--tolerance", o.tolerance);
  const bool sweeps = is_sweep(o.baseline), sweep_results = is_sweep(o.results);
  if (sweeps && sweep_results) return run_sweep_check(o, tolerance, console);
  if (sweeps != sweep_results)
    throw sim::InputError(fmt::format("{} is a sweep's results and {} is not: compare a sweep "
                                      "with a sweep",
                                      (sweeps ? o.baseline : o.results).string(),
                                      (sweeps ? o.results : o.baseline).string()));
  const auto baseline = read_metrics(o.baseline);
  const auto results = read_metrics(o.results);
  const std::vector<std::string> patterns = o.keys.empty() ? std::vector<std::string>{"*"} : o.keys;
  const auto changes = compare_metrics(baseline, results, tolerance, patterns, o.better);
  const bool any_baseline = std::any_of(changes.begin(), changes.end(), [](const auto& c) {
    return c.kind != MetricChange::Kind::kNew;
  });
  if (!any_baseline)
    throw sim::InputError(fmt::format("{}: no baseline metric matches {}", o.baseline.string(),
                                      fmt::join(patterns, " ")));

  std::size_t compared = 0, failed = 0, improved = 0;
  std::vector<const MetricChange*> shown;
  std::size_t width = 6;
  for (const auto& c : changes) {
    if (c.kind != MetricChange::Kind::kNew) ++compared;
    if (c.kind == MetricChange::Kind::kMoved || c.kind == MetricChange::Kind::kMissing) ++failed;
    if (c.kind == MetricChange::Kind::kImproved) ++improved;
    if (o.all || c.kind != MetricChange::Kind::kSame) {
      shown.push_back(&c);
      width = std::max(width, c.key.size());
    }
  }
  if (!shown.empty()) {
    console << fmt::format("{:<{}}  {:>12}  {:>12}  {:>9}  {}\n", "metric", width, "baseline",
                           "result", "change", "status");
    for (const auto* c : shown)
      console << fmt::format("{:<{}}  {:>12}  {:>12}  {:>9}  {}\n", c->key, width,
                             number(c->baseline), number(c->result), change_text(*c),
                             kind_text(c->kind));
  }
  console << fmt::format(
      "{} metrics compared at tolerance {:g}%: {}{}\n", compared, tolerance * 100.0,
      failed ? fmt::format("{} REGRESSED", failed)
             : std::string(improved ? "none regressed" : "all within"),
      improved ? fmt::format(", {} improved", improved) : std::string());
  return failed ? kExitRegression : kExitOk;
}

}  // namespace

std::vector<MetricChange> compare_metrics(const std::map<std::string, double>& baseline,
                                          const std::map<std::string, double>& result,
                                          double tolerance,
                                          const std::vector<std::string>& patterns,
                                          const BetterDirection& better) {
  using Kind = MetricChange::Kind;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::set<std::string> keys;
  for (const auto& [k, v] : baseline) keys.insert(k);
  for (const auto& [k, v] : result) keys.insert(k);
  std::vector<MetricChange> out;
  for (const std::string& k : keys) {
    if (!matches(k, patterns)) continue;
    if (matches(k, better.lower) && matches(k, better.higher))
      throw sim::InputError(fmt::format(
          "metric '{}' matches both --lower-is-better and --higher-is-better: a metric has one "
          "better side",
          k));
    const auto b = baseline.find(k), r = result.find(k);
    MetricChange c{k, b == baseline.end() ? nan : b->second, r == result.end() ? nan : r->second,
                   0.0, Kind::kSame};
    if (b == baseline.end()) {
      c.kind = Kind::kNew;
    } else if (r == result.end()) {
      c.kind = Kind::kMissing;
    } else if (std::isnan(c.baseline) || std::isnan(c.result)) {
      c.kind = std::isnan(c.baseline) && std::isnan(c.result) ? Kind::kSame : Kind::kMoved;
      c.relative = c.kind == Kind::kSame ? 0.0 : std::numeric_limits<double>::infinity();
    } else if (c.baseline == c.result) {
      c.kind = Kind::kSame;
    } else {
      c.relative = c.baseline == 0 ? std::numeric_limits<double>::infinity()
                                   : std::abs(c.result - c.baseline) / std::abs(c.baseline);
      c.kind = c.relative <= tolerance ? Kind::kWithin : Kind::kMoved;
      const bool lower = c.result < c.baseline;
      if (c.kind == Kind::kMoved &&
          ((lower && matches(k, better.lower)) || (!lower && matches(k, better.higher))))
        c.kind = Kind::kImproved;
    }
    out.push_back(c);
  }
  return out;
}

Command add_check_command(CLI::App& cli) {
  auto o = std::make_shared<CheckOptions>();
  auto* sub = cli.add_subcommand(
      "check", "regression gate: compare metrics with a baseline (exit 4 when one moved)");
  sub->add_option("baseline", o->baseline, "baseline metrics.json (or a results folder)")
      ->required();
  sub->add_option("results", o->results, "new metrics.json (or a results folder)")->required();
  sub->add_option("--tolerance", o->tolerance, "allowed relative change, e.g. 2% (default 2%)");
  sub->add_option("--keys", o->keys, "only metrics matching this glob, e.g. 'inference.*' (repeatable)");
  sub->add_option("--lower-is-better", o->better.lower,
                  "metrics (glob) that may fall beyond the tolerance: 'serve.*_ms' (repeatable)");
  sub->add_option("--higher-is-better", o->better.higher,
                  "metrics (glob) that may rise beyond the tolerance: '*.throughput' (repeatable)");
  sub->add_flag("--all", o->all, "list every compared metric, not only those that changed");
  return {sub, [o](sim::PluginCatalog&, std::ostream& console) { return run_check(*o, console); }};
}

}  // namespace app
