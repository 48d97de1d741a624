#include "app/sweep_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "sim/config.hpp"
#include "sim/csv.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/stats.hpp"

namespace app {
namespace fs = std::filesystem;

namespace {

struct Point {
  std::string hash;
  std::string seed;
  std::vector<std::pair<std::string, std::string>> axes;  // in column order
  std::map<std::string, double> metrics;
};

std::string axis_value(const Point& p, const std::string& key) {
  for (const auto& [k, v] : p.axes)
    if (k == key) return v;
  return {};
}

// The complete points of OUT/results.csv.
std::vector<Point> read_points(const SweepSpec& spec, const fs::path& csv) {
  const auto rows = sim::parse_csv(sim::read_file(csv), csv.string());
  if (rows.empty()) throw sim::InputError(sim::SourcePos{csv.string(), 1, 1}, "no header");
  const sim::CsvRow& header = rows.front();
  const std::size_t first_axis = spec.has_seeds ? 3 : 2;
  const std::size_t first_metric = first_axis + spec.columns.size();
  if (header.size() < first_metric + 1)
    throw sim::InputError(sim::SourcePos{csv.string(), 1, 1},
                          "the header does not match the sweep file's axes");
  std::vector<Point> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const sim::CsvRow& row = rows[r];
    if (row.size() != header.size())
      throw sim::InputError(sim::SourcePos{csv.string(), row.front().line, 1},
                            fmt::format("{} fields, the header has {}", row.size(), header.size()));
    if (row[1].text != "ok") continue;
    Point p;
    p.hash = row[0].text;
    if (spec.has_seeds) p.seed = row[2].text;
    for (std::size_t c = 0; c < spec.columns.size(); ++c)
      p.axes.emplace_back(spec.columns[c], row[first_axis + c].text);
    for (std::size_t c = first_metric; c + 1 < header.size(); ++c) {
      const std::string& t = row[c].text;
      if (t.empty()) continue;
      double v = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || end != t.data() + t.size())
        throw sim::InputError(sim::SourcePos{csv.string(), row[c].line, row[c].column},
                              fmt::format("'{}': expected a number, got '{}'", header[c].text, t));
      p.metrics[header[c].text] = v;
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Fills a key template's {placeholders} from a point: its axis values, `seed`, or a key of its
// resolved config (read once per point).
class KeyFiller {
 public:
  KeyFiller(const SweepSpec& spec, const fs::path& out) : spec_(spec), out_(out) {}

  std::string fill(const std::string& tmpl, const Point& p) {
    std::string key;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
      if (tmpl[i] != '{') {
        key.push_back(tmpl[i]);
        continue;
      }
      const auto close = tmpl.find('}', i);
      key += value(tmpl.substr(i + 1, close - i - 1), p);
      i = close;
    }
    return key;
  }

 private:
  std::string value(const std::string& name, const Point& p) {
    if (name == "seed" && spec_.has_seeds) return p.seed;
    for (const auto& [k, v] : p.axes)
      if (k == name) {
        // A plugin written as a map ({name: orca, max_batch: 64}) is keyed by its name, as in
        // the config below.
        if (v.starts_with("{")) {
          const auto node = sim::parse_yaml(v, spec_.file.string());
          if (auto n = node->find("name"); n && n->kind == sim::ConfigNode::Kind::kScalar)
            return n->scalar;
        }
        return v;
      }
    auto& root = configs_[p.hash];
    if (!root) {
      const fs::path file = out_ / "points" / p.hash / "config.yaml";
      root = sim::parse_yaml(sim::read_file(file), file.string());
    }
    const auto node = sim::find_path(root, name);
    if (!node)
      throw sim::InputError(fmt::format(
          "{}: report key '{{{}}}' is neither an axis of the sweep nor a key of its scenario",
          spec_.file.string(), name));
    if (node->kind == sim::ConfigNode::Kind::kScalar) return node->scalar;
    if (auto n = node->find("name"); n && n->kind == sim::ConfigNode::Kind::kScalar)
      return n->scalar;  // a plugin written as a map: its name
    return sim::dump_yaml_flow(*node);
  }

  const SweepSpec& spec_;
  fs::path out_;
  std::map<std::string, std::shared_ptr<sim::ConfigNode>> configs_;
};

bool matches(const Point& p, const std::vector<std::pair<std::string, std::string>>& values) {
  return std::all_of(values.begin(), values.end(),
                     [&](const auto& kv) { return axis_value(p, kv.first) == kv.second; });
}

// Whether `key` walks in a zip block with one of `baseline`'s axes (and is not one itself).
bool zipped_with(const SweepSpec& spec, const std::string& key,
                 const std::vector<std::pair<std::string, std::string>>& baseline) {
  for (const auto& block : spec.zipped) {
    const auto in = [&](const std::string& k) {
      return std::find(block.begin(), block.end(), k) != block.end();
    };
    if (in(key) && std::any_of(baseline.begin(), baseline.end(),
                               [&](const auto& kv) { return in(kv.first); }))
      return true;
  }
  return false;
}

// The point that differs from `p` only in `baseline`'s axis values (and has its seed); the
// axes zipped with those follow them.
const Point* baseline_of(const SweepSpec& spec, const std::vector<Point>& points, const Point& p,
                         const std::vector<std::pair<std::string, std::string>>& baseline) {
  for (const Point& q : points) {
    if (q.seed != p.seed) continue;
    bool same = true;
    for (const auto& axis : q.axes) {
      const auto& k = axis.first;  // named: the lambda captures it (clang 14)
      const auto& v = axis.second;
      const auto b = std::find_if(baseline.begin(), baseline.end(),
                                  [&](const auto& kv) { return kv.first == k; });
      if (b == baseline.end() && zipped_with(spec, k, baseline)) continue;
      if (v != (b != baseline.end() ? b->second : axis_value(p, k))) {
        same = false;
        break;
      }
    }
    if (same) return &q;
  }
  return nullptr;
}

double numeric(const std::string& s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size() ? v : std::nan("");
}

// The curve through `p` along axis `along`: the points of its seed that differ from it only
// there, in increasing order of that axis (numeric values; others as written).
std::vector<const Point*> curve_of(const std::vector<Point>& points, const Point& p,
                                   const std::string& along) {
  std::vector<const Point*> curve;
  for (const Point& q : points) {
    if (q.seed != p.seed) continue;
    bool same = true;
    for (const auto& [k, v] : q.axes)
      if (k != along && v != axis_value(p, k)) {
        same = false;
        break;
      }
    if (same) curve.push_back(&q);
  }
  std::stable_sort(curve.begin(), curve.end(), [&](const Point* a, const Point* b) {
    const double x = numeric(axis_value(*a, along)), y = numeric(axis_value(*b, along));
    return std::isnan(x) || std::isnan(y) ? axis_value(*a, along) < axis_value(*b, along) : x < y;
  });
  return curve;
}

// `of` where `where` first reaches `equals` along the curve, linear between the bracketing
// points; NaN when it never does.
double interpolate(const std::vector<const Point*>& curve, const DerivedMetric& d) {
  const Point* prev = nullptr;
  for (const Point* q : curve) {
    const auto w = q->metrics.find(d.where), o = q->metrics.find(d.of);
    if (w == q->metrics.end() || o == q->metrics.end()) continue;
    if (w->second == d.equals) return o->second;
    if (prev && w->second > d.equals) {
      const double w0 = prev->metrics.at(d.where), o0 = prev->metrics.at(d.of);
      if (w0 < d.equals) return o0 + (o->second - o0) * (d.equals - w0) / (w->second - w0);
    }
    prev = q;
  }
  return std::nan("");
}

std::string number(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.4g}", v);
}

}  // namespace

SweepReport make_sweep_report(const SweepSpec& spec, const fs::path& out) {
  if (!spec.report)
    throw sim::InputError(fmt::format("{}: the sweep has no `report:` (key, derived, published)",
                                      spec.file.string()));
  const ReportSpec& r = *spec.report;
  SweepReport rep;
  rep.published = r.published;
  const std::vector<Point> points = read_points(spec, out / "results.csv");
  // What derived metrics read: the points' metrics and each derived metric before them.
  std::vector<Point> work = points;
  KeyFiller keys(spec, out);
  auto put = [&](const std::string& key, double v, const std::string& what) {
    const auto [it, fresh] = rep.metrics.emplace(key, v);
    if (!fresh && !(it->second == v || (std::isnan(v) && std::isnan(it->second))))
      throw sim::InputError(fmt::format(
          "{}: two points give '{}' ({}): the report key must tell them apart (add an axis)",
          spec.file.string(), key, what));
  };

  double simulated = 0;
  std::vector<std::string> point_keys;
  for (const Point& p : points) {
    const std::string key = keys.fill(r.key, p);
    point_keys.push_back(key);
    rep.points.emplace_back(p.hash, key);
    for (const auto& [m, v] : p.metrics) {
      if (m.starts_with("run.")) continue;  // the run's own bookkeeping, summed below
      put(key + "." + m, v, m);
    }
    if (auto it = p.metrics.find("run.simulated_seconds"); it != p.metrics.end())
      simulated = std::max(simulated, it->second);
  }
  // Derived metrics, and per point those named under the point's own key (for the table).
  std::vector<std::map<std::string, double>> derived(points.size()), later(points.size());
  for (const DerivedMetric& d : r.derived) {
    for (std::size_t i = 0; i < points.size(); ++i) {
      const Point& p = work[i];
      if (!matches(p, d.at)) continue;
      double value = 0;
      if (d.form == DerivedMetric::Form::kInterpolate || d.form == DerivedMetric::Form::kMax) {
        const auto curve = curve_of(work, p, d.along);
        if (d.form == DerivedMetric::Form::kInterpolate) {
          value = interpolate(curve, d);
        } else {
          value = std::nan("");
          for (const Point* q : curve)
            if (auto o = q->metrics.find(d.of); o != q->metrics.end())
              value = std::isnan(value) ? o->second : std::max(value, o->second);
        }
        if (std::isnan(value)) continue;
      }
      const auto v = p.metrics.find(d.of);
      if (v == p.metrics.end() && d.form != DerivedMetric::Form::kInterpolate &&
          d.form != DerivedMetric::Form::kMax)
        continue;
      if (v != p.metrics.end() && (d.form == DerivedMetric::Form::kCopy ||
                                   d.form == DerivedMetric::Form::kBaselineOverPoint ||
                                   d.form == DerivedMetric::Form::kPointOverBaseline ||
                                   d.form == DerivedMetric::Form::kRecovered))
        value = v->second;
      if (d.form != DerivedMetric::Form::kCopy && d.form != DerivedMetric::Form::kInterpolate &&
          d.form != DerivedMetric::Form::kMax) {
        const Point* q = baseline_of(spec, work, p, d.baseline);
        if (!q) continue;
        const auto b = q->metrics.find(d.of);
        if (b == q->metrics.end()) continue;
        switch (d.form) {
          case DerivedMetric::Form::kBaselineOverPoint:
            value = b->second / value;
            break;
          case DerivedMetric::Form::kPointOverBaseline:
            value = value / b->second;
            break;
          case DerivedMetric::Form::kRecovered:
            if (b->second == 1) continue;  // the baseline has no slowdown to recover
            value = (b->second - value) / (b->second - 1);
            break;
          case DerivedMetric::Form::kCopy:
          case DerivedMetric::Form::kInterpolate:
          case DerivedMetric::Form::kMax:
            break;
        }
      }
      put((d.key.empty() ? point_keys[i] : keys.fill(d.key, p)) + "." + d.name, value, d.name);
      if (d.key.empty()) derived[i][d.name] = value;
      later[i][d.name] = value;
    }
    for (std::size_t i = 0; i < points.size(); ++i)  // visible to the derived metrics after it
      for (const auto& [m, v] : later[i]) work[i].metrics.emplace(m, v);
    later.assign(points.size(), {});
  }
  rep.metrics["run.simulated_seconds"] = simulated;
  for (std::size_t i = 0; i < points.size(); ++i) {
    SweepReport::Row row{point_keys[i], points[i].axes, {}};
    for (const auto& [m, v] : points[i].metrics)
      if (!m.starts_with("run.")) row.metrics[m] = v;
    for (const auto& [m, v] : derived[i]) row.metrics[m] = v;
    rep.rows.push_back(std::move(row));
  }

  // The table: axes, the metrics shown, the per-point derived ones.
  std::vector<std::string> show = r.show;
  if (show.empty()) {
    std::set<std::string> all;
    for (const Point& p : points)
      for (const auto& [m, v] : p.metrics)
        if (!m.starts_with("run.")) all.insert(m);
    for (const auto& m : all) {
      if (show.size() == 8) break;
      show.push_back(m);
    }
  }
  std::vector<std::string> derived_cols;
  for (const DerivedMetric& d : r.derived)
    if (d.key.empty() &&
        std::find(derived_cols.begin(), derived_cols.end(), d.name) == derived_cols.end())
      derived_cols.push_back(d.name);

  std::string& md = rep.markdown;
  md += fmt::format("## {}\n\n", spec.name);
  if (!spec.description.empty()) md += spec.description + "\n\n";
  md += fmt::format(
      "{} of {} points complete (sweep {}); each point's own report is "
      "points/<point>/report.md.\n\n",
      points.size(), spec.points.size(), spec.file.filename().string());
  std::string head = "| point |", sep = "|---|";
  for (const auto& c : spec.columns) {
    head += fmt::format(" {} |", c);
    sep += "---|";
  }
  for (const auto& m : show) {
    head += fmt::format(" {} |", m);
    sep += "---:|";
  }
  for (const auto& m : derived_cols) {
    head += fmt::format(" {} |", m);
    sep += "---:|";
  }
  md += head + "\n" + sep + "\n";
  for (std::size_t i = 0; i < points.size(); ++i) {
    std::string row = fmt::format("| {} |", point_keys[i]);
    for (const auto& [k, v] : points[i].axes) row += fmt::format(" {} |", v);
    for (const auto& m : show) {
      const auto it = points[i].metrics.find(m);
      row += fmt::format(" {} |", it == points[i].metrics.end() ? "" : number(it->second));
    }
    for (const auto& m : derived_cols) {
      const auto it = derived[i].find(m);
      row += fmt::format(" {} |", it == derived[i].end() ? "" : number(it->second));
    }
    md += row + "\n";
  }
  md += "\n";
  rep.summary = fmt::format("{}: {} of {} points\n", spec.name, points.size(), spec.points.size());
  if (points.size() <= 12)  // a small sweep is shown whole on the console
    for (std::size_t i = 0; i < points.size(); ++i) {
      std::string line = fmt::format("  {:<40}", point_keys[i]);
      for (const auto& m : show)
        if (auto it = points[i].metrics.find(m); it != points[i].metrics.end())
          line += fmt::format(" {} {}", m, number(it->second));
      for (const auto& [m, v] : derived[i]) line += fmt::format(" {} {}", m, number(v));
      rep.summary += line + "\n";
    }
  if (!r.published.empty()) {
    md +=
        "Published figures beside the simulated ones (the model never reads them):\n\n"
        "| metric | simulated | published | simulated / published |\n|---|---:|---:|---:|\n";
    for (const auto& [key, value] : r.published) {
      const auto it = rep.metrics.find(key);
      const bool have = it != rep.metrics.end();
      md += fmt::format("| {} | {} | {} | {} |\n", key, have ? number(it->second) : "-",
                        number(value), have && value != 0 ? number(it->second / value) : "-");
      if (have)  // the console keeps to what this run simulated
        rep.summary += fmt::format("  {:<52} simulated {:>9}  published {:>9}\n", key,
                                   number(it->second), number(value));
    }
    md += "\n";
  }
  return rep;
}

std::string tidy_results_csv(
    const std::vector<std::pair<std::string, const SweepReport*>>& sweeps) {
  // A run's own tidy table (sim::Stats): a row per point, its sweep and axes as parameters.
  sim::Stats table;
  for (const auto& [name, rep] : sweeps)
    for (const auto& row : rep->rows) {
      sim::ResultRow r{row.key, {{"sweep", name}}, {}};
      r.params.insert(r.params.end(), row.axes.begin(), row.axes.end());
      for (const auto& [m, v] : row.metrics) r.metric(m, v);
      table.add_row(std::move(r));
    }
  return table.results_csv();
}

void write_sweep_report(const SweepReport& report, const std::string& title, const fs::path& out) {
  sim::write_file_atomic(out / "metrics.json", sim::metrics_to_json(report.metrics));
  sim::write_file_atomic(out / "report.md", fmt::format("# {}\n\n{}", title, report.markdown));
  if (!report.published.empty())
    sim::write_file_atomic(out / "published.json", sim::metrics_to_json(report.published));
}

}  // namespace app
