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

int run_check(const CheckOptions& o, std::ostream& console) {
  const double tolerance = parse_fraction_option("--tolerance", o.tolerance);
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
