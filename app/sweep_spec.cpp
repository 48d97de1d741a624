#include "app/sweep_spec.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/rng.hpp"

namespace app {
namespace fs = std::filesystem;
using sim::Config;
using sim::ConfigNode;

namespace {

// One block's points: each a list of (key, value) pairs.
using Assignments = std::vector<std::vector<std::pair<std::string, std::string>>>;

// The values of one axis. Items are taken raw: a value is opaque text for `--set`, so its
// inner keys are the scenario's to check, not the sweep file's.
std::vector<std::string> axis_values(const Config& axis) {
  if (!axis.is_seq() || axis.node()->items.empty())
    axis.fail("expected a non-empty list of values");
  std::vector<std::string> out;
  for (const auto& item : axis.node()->items) out.push_back(sim::dump_yaml_flow(*item));
  return out;
}

// An axis's values: those given from outside when `replace` has its key, else the file's.
std::vector<std::string> values_of(const Config& block, const std::string& key,
                                   const AxisValues& replace) {
  const auto it = replace.find(key);
  return it != replace.end() ? it->second : axis_values(block.at(key));
}

Assignments grid_block(const Config& block, const AxisValues& replace) {
  Assignments out{{}};
  for (const std::string& key : block.keys()) {
    Assignments next;
    const auto values = values_of(block, key, replace);
    for (const auto& partial : out)
      for (const auto& v : values) {
        next.push_back(partial);
        next.back().emplace_back(key, v);
      }
    out = std::move(next);
  }
  return out;
}

Assignments zip_block(const Config& block, const AxisValues& replace) {
  Assignments out;
  std::size_t length = 0;
  std::string first;
  for (const std::string& key : block.keys()) {
    const auto values = values_of(block, key, replace);
    if (out.empty()) {
      length = values.size();
      first = key;
      out.resize(length);
    } else if (values.size() != length) {
      block.at(key).fail(fmt::format("zip axes must have equal lengths: '{}' has {} values, '{}' {}{}",
                                     key, values.size(), first, length,
                                     replace.count(key) || replace.count(first)
                                         ? " (after --set replaced some)"
                                         : ""));
    }
    for (std::size_t i = 0; i < length; ++i) out[i].emplace_back(key, values[i]);
  }
  return out;
}

// A number as --set takes it, with its unit if the axis has one ("1.53 GHz").
std::string number_text(double v, const std::string& unit) {
  const std::string n = fmt::format("{:.6g}", v);
  return unit.empty() ? n : n + " " + unit;
}

// `random: {samples: N, seed: S, params: {key: {uniform|log_uniform|int: [lo, hi]} |
// {choice: [...]}, unit: "GHz"}}`. Each parameter draws from its own stream, keyed by its name,
// so adding a parameter leaves the others' samples unchanged.
Assignments random_block(const Config& block, const AxisValues& replace) {
  for (const std::string& key : block.at("params").keys())
    if (replace.count(key))
      block.at("params").at(key).fail(fmt::format(
          "'{}' is drawn at random: --set cannot replace its values", key));
  const auto samples = block.get_int_in("samples", 1, 1000000);
  const auto seed = static_cast<std::uint64_t>(block.get_int_in("seed", 0, INT64_MAX, 1));
  const Config params = block.at("params");
  Assignments out(static_cast<std::size_t>(samples));
  for (const std::string& key : params.keys()) {
    const Config p = params.at(key);
    const std::string unit = p.get_string("unit", "");
    sim::RngStream rng(seed, key);
    std::vector<std::string> drawn;
    if (p.has("choice")) {
      const auto values = axis_values(p.at("choice"));
      for (std::int64_t i = 0; i < samples; ++i)
        drawn.push_back(values[rng.uniform_int(0, values.size() - 1)]);
    } else {
      std::optional<Config> range;
      std::string kind;
      for (const char* k : {"uniform", "log_uniform", "int"})
        if (p.has(k)) {
          if (range) p.fail("give one distribution: uniform, log_uniform, int or choice");
          range = p.at(k);
          kind = k;
        }
      if (!range) p.fail("expected a distribution: uniform, log_uniform, int or choice");
      const auto bounds = range->items();
      if (bounds.size() != 2) range->fail("expected [low, high]");
      const double lo = bounds[0].as_double(), hi = bounds[1].as_double();
      if (!std::isfinite(lo) || !std::isfinite(hi)) range->fail("bounds must be finite numbers");
      if (!(lo <= hi)) range->fail(fmt::format("low {} is above high {}", lo, hi));
      constexpr double kExactInt = 9007199254740992.0;  // 2^53: every whole double below is exact
      if (kind == "int" && (std::abs(lo) > kExactInt || std::abs(hi) > kExactInt))
        range->fail("int bounds must be within +-2^53 (9007199254740992)");
      if (kind == "log_uniform" && lo <= 0) range->fail("log_uniform needs positive bounds");
      if (kind == "int" && (lo != std::floor(lo) || hi != std::floor(hi)))
        range->fail("int bounds must be whole numbers");
      for (std::int64_t i = 0; i < samples; ++i) {
        if (kind == "int") {
          const std::int64_t v =
              static_cast<std::int64_t>(lo) +
              static_cast<std::int64_t>(rng.uniform_int(0, static_cast<std::uint64_t>(hi - lo)));
          drawn.push_back(unit.empty() ? std::to_string(v) : fmt::format("{} {}", v, unit));
        } else if (kind == "uniform")
          drawn.push_back(number_text(rng.uniform(lo, hi), unit));
        else
          drawn.push_back(
              number_text(std::exp(rng.uniform(std::log(lo), std::log(hi))), unit));
      }
    }
    for (std::size_t i = 0; i < out.size(); ++i) out[i].emplace_back(key, drawn[i]);
  }
  return out;
}

std::vector<std::uint64_t> seeds_of(const Config& c) {
  std::vector<std::uint64_t> out;
  if (c.is_map()) {
    const auto count = c.get_int_in("count", 1, 100000);
    const auto first = c.get_int_in("first", 0, INT64_MAX - count, 1);
    for (std::int64_t i = 0; i < count; ++i) out.push_back(static_cast<std::uint64_t>(first + i));
    return out;
  }
  if (!c.is_seq() || c.node()->items.empty())
    c.fail("expected a list of seeds or {count: N, first: S}");
  std::set<std::uint64_t> seen;
  for (const Config& s : c.items()) {
    const std::int64_t v = s.as_int();
    if (v < 0) s.fail(fmt::format("a seed must be zero or more, got {}", v));
    if (!seen.insert(static_cast<std::uint64_t>(v)).second)
      s.fail(fmt::format("seed {} is listed twice", v));
    out.push_back(static_cast<std::uint64_t>(v));
  }
  return out;
}

// `{name}` placeholders of a key template, each checked to be a name and closed.
void check_template(const Config& at) {
  const std::string t = at.as_string();
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '}') at.fail("a '}' without its '{' in the key template");
    if (t[i] != '{') continue;
    const auto close = t.find('}', i);
    if (close == std::string::npos) at.fail("a '{' without its '}' in the key template");
    if (close == i + 1) at.fail("an empty {} in the key template: name an axis or a config key");
    i = close;
  }
}

std::vector<std::pair<std::string, std::string>> axis_map(const Config& c,
                                                           const std::set<std::string>& axes) {
  if (!c.is_map() || c.node()->entries.empty()) c.fail("expected a map {axis: value}");
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& k : c.keys()) {
    if (!axes.count(k))
      c.at(k).fail(fmt::format("'{}' is not an axis of this sweep", k));
    out.emplace_back(k, sim::dump_yaml_flow(*c.at(k).node()));
  }
  return out;
}

ReportSpec read_report(const Config& c, const std::vector<std::string>& columns) {
  const std::set<std::string> axes(columns.begin(), columns.end());
  ReportSpec r;
  const Config key = c.at("key");
  check_template(key);
  r.key = key.as_string();
  if (auto show = c.find("show"))
    for (const Config& m : show->items()) r.show.push_back(m.as_string());
  if (auto derived = c.find("derived")) {
    std::set<std::string> names;
    for (const Config& d : derived->items()) {
      DerivedMetric m;
      m.name = d.at("name").as_string();
      m.of = d.at("of").as_string();
      if (auto b = d.find("baseline")) m.baseline = axis_map(*b, axes);
      if (auto a = d.find("at")) m.at = axis_map(*a, axes);
      const std::string form = d.get_string("form", m.baseline.empty() ? "copy" : "baseline/point");
      if (form == "copy")
        m.form = DerivedMetric::Form::kCopy;
      else if (form == "baseline/point")
        m.form = DerivedMetric::Form::kBaselineOverPoint;
      else if (form == "point/baseline")
        m.form = DerivedMetric::Form::kPointOverBaseline;
      else if (form == "recovered")
        m.form = DerivedMetric::Form::kRecovered;
      else if (form == "interpolate")
        m.form = DerivedMetric::Form::kInterpolate;
      else if (form == "max")
        m.form = DerivedMetric::Form::kMax;
      else
        d.at("form").fail(fmt::format("unknown form '{}'; known: copy, baseline/point, "
                                      "point/baseline, recovered, interpolate, max",
                                      form));
      const bool curve =
          m.form == DerivedMetric::Form::kInterpolate || m.form == DerivedMetric::Form::kMax;
      if (curve) {
        const Config along = d.at("along");
        m.along = along.as_string();
        if (!axes.count(m.along))
          along.fail(fmt::format("'{}' is not an axis of this sweep", m.along));
        if (!m.baseline.empty()) d.at("baseline").fail("a curve's value takes no baseline");
        if (m.form == DerivedMetric::Form::kInterpolate) {
          m.where = d.at("where").as_string();
          m.equals = d.at("equals").as_double();
        }
      } else if ((m.form == DerivedMetric::Form::kCopy) != m.baseline.empty())
        d.fail(m.baseline.empty() ? "a ratio needs a baseline: {axis: value}"
                                  : "a copy takes no baseline (give form: baseline/point)");
      if (auto k = d.find("key")) {
        check_template(*k);
        m.key = k->as_string();
      }
      if (!names.insert(m.key + "\n" + m.name).second)
        d.at("name").fail(fmt::format("derived metric '{}' is given twice", m.name));
      r.derived.push_back(std::move(m));
    }
  }
  if (auto pub = c.find("published"))
    for (const std::string& k : pub->keys()) r.published[k] = pub->get_double(k);
  return r;
}

}  // namespace

std::vector<std::string> SweepPoint::overrides(const std::vector<std::string>& fixed) const {
  std::vector<std::string> out = fixed;
  for (const auto& [k, v] : values) out.push_back(k + "=" + v);
  return out;
}

SweepSpec load_sweep(const fs::path& file, const AxisValues& replace) {
  if (!sim::is_file(file))
    throw sim::InputError(sim::SourcePos{file.string()}, "no such sweep file");
  // `extends:` only: a sweep's values are --set text, so no reference (gpu: name) is expanded.
  const auto root = sim::ConfigLoader({file.parent_path()}).load(file);
  const Config cfg(root, "");
  if (!cfg.is_map()) cfg.fail("expected a map with `scenario:` and `axes:`");

  SweepSpec spec;
  spec.file = file;
  spec.name = cfg.get_string("name", file.stem().string());
  spec.description = cfg.get_string("description", "");
  const Config scenario = cfg.at("scenario");
  // Relative to the file that writes it (an extended sweep may sit elsewhere).
  spec.scenario = fs::path(scenario.pos().file).parent_path() / scenario.as_string();
  if (!sim::is_file(spec.scenario))
    scenario.fail(fmt::format("no such scenario file '{}'", spec.scenario.string()));

  std::set<std::string> keys;  // every varied or fixed key, once
  auto claim = [&](const Config& at, const std::string& key) {
    if (key.empty() || key.front() == '.' || key.back() == '.' ||
        key.find("..") != std::string::npos)
      at.fail(fmt::format("'{}' is not a key path (a.b.c)", key));
    if (key == "seed") at.fail("vary the seed with `seeds:`, not as an axis");
    if (!keys.insert(key).second) at.fail(fmt::format("key '{}' is set twice in this sweep", key));
    spec.key_pos[key] = at.node()->key_pos;
  };
  if (auto set = cfg.find("set")) {
    for (const std::string& key : set->keys()) {
      claim(set->at(key), key);
      spec.fixed.push_back(key + "=" + sim::dump_yaml_flow(*set->at(key).node()));
    }
  }

  Assignments points{{}};
  if (auto axes = cfg.find("axes")) {
    for (const Config& block : axes->items()) {
      if (!block.is_map() || block.node()->entries.size() != 1)
        block.fail("each axis block is a map with one key: grid, zip or random");
      const std::string kind = block.node()->entries.front().first;
      Assignments part;
      if (kind == "grid")
        part = grid_block(block.at("grid"), replace);
      else if (kind == "zip")
        part = zip_block(block.at("zip"), replace);
      else if (kind == "random")
        part = random_block(block.at("random"), replace);
      else
        Config(block.node()->entries.front().second, kind)
            .fail(fmt::format("unknown axis kind '{}'; known: grid, zip, random", kind));
      const Config inner = block.at(kind);
      const Config named = kind == "random" ? inner.at("params") : inner;
      for (const auto& key : named.keys()) {
        claim(named.at(key), key);
        spec.columns.push_back(key);
      }
      if (kind == "zip") spec.zipped.push_back(named.keys());
      Assignments next;
      for (const auto& a : points)
        for (const auto& b : part) {
          next.push_back(a);
          next.back().insert(next.back().end(), b.begin(), b.end());
        }
      points = std::move(next);
    }
  }

  std::vector<std::optional<std::uint64_t>> seeds{std::nullopt};
  if (auto s = cfg.find("seeds")) {
    seeds.clear();
    for (std::uint64_t v : seeds_of(*s)) seeds.emplace_back(v);
    spec.has_seeds = true;
  }
  if (auto r = cfg.find("report")) spec.report = read_report(*r, spec.columns);
  sim::check_unused(root);

  for (const auto& values : points)
    for (const auto& seed : seeds) spec.points.push_back(SweepPoint{values, seed});
  if (spec.points.size() > 1000000) cfg.fail("more than a million points; narrow the axes");
  return spec;
}

}  // namespace app
