#include "sim/stats.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "sim/error.hpp"
#include "sim/json_sax.hpp"

namespace sim {

void Accumulator::merge(const Accumulator& o) {
  n_ += o.n_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

void Accumulator::add(double v) {
  ++n_;
  sum_ += v;
  min_ = std::min(min_, v);
  max_ = std::max(max_, v);
}

QuantileSketch::QuantileSketch(double relative_accuracy)
    : gamma_((1 + relative_accuracy) / (1 - relative_accuracy)), log_gamma_(std::log(gamma_)) {}

int QuantileSketch::index_of(double v) const {
  return static_cast<int>(std::ceil(std::log(v) / log_gamma_));
}

double QuantileSketch::value_of(int index) const {
  return 2.0 * std::pow(gamma_, index) / (gamma_ + 1.0);
}

void QuantileSketch::add(double v) {
  acc_.add(v);
  if (v > 0) ++positive_[index_of(v)];
  else if (v < 0) ++negative_[index_of(-v)];
  else ++zeros_;
}

void QuantileSketch::merge(const QuantileSketch& o) {
  for (const auto& [i, c] : o.positive_) positive_[i] += c;
  for (const auto& [i, c] : o.negative_) negative_[i] += c;
  zeros_ += o.zeros_;
  acc_.merge(o.acc_);
}

double QuantileSketch::quantile(double q) const {
  const std::uint64_t n = acc_.count();
  if (n == 0) return 0.0;
  if (q <= 0) return acc_.min();
  if (q >= 1) return acc_.max();
  // Nearest rank, as latency reports define p99: the smallest sample with at least q x n
  // samples at or below it (0-based index ceil(q n) - 1).
  const double rank = std::max(0.0, std::ceil(q * static_cast<double>(n)) - 1);
  double seen = 0;
  double result = acc_.max();
  bool found = false;
  for (auto it = negative_.rbegin(); it != negative_.rend() && !found; ++it) {
    seen += static_cast<double>(it->second);
    if (seen > rank) {
      result = -value_of(it->first);
      found = true;
    }
  }
  if (!found) {
    seen += static_cast<double>(zeros_);
    if (seen > rank) {
      result = 0.0;
      found = true;
    }
  }
  for (auto it = positive_.begin(); it != positive_.end() && !found; ++it) {
    seen += static_cast<double>(it->second);
    if (seen > rank) {
      result = value_of(it->first);
      found = true;
    }
  }
  return std::clamp(result, acc_.min(), acc_.max());
}

void TimeWeighted::set(Time now, double value) {
  area_ += value_ * (now - last_).seconds();
  last_ = now;
  value_ = value;
}

double TimeWeighted::average(Time now) const {
  const double span = (now - start_).seconds();
  if (span <= 0) return value_;
  return (area_ + value_ * (now - last_).seconds()) / span;
}

TimeWeighted& Stats::time_weighted(const std::string& name, Time start) {
  auto it = weighted_.find(name);
  if (it == weighted_.end()) it = weighted_.emplace(name, TimeWeighted(start)).first;
  return it->second;
}

std::map<std::string, double> Stats::flatten(Time now) const {
  std::map<std::string, double> m;
  for (const auto& [k, c] : counters_) m[k] = c.value();
  for (const auto& [k, a] : accumulators_) {
    m[k + ".count"] = static_cast<double>(a.count());
    m[k + ".sum"] = a.sum();
    m[k + ".mean"] = a.mean();
    m[k + ".min"] = a.min();
    m[k + ".max"] = a.max();
  }
  for (const auto& [k, s] : sketches_) {
    m[k + ".count"] = static_cast<double>(s.count());
    m[k + ".mean"] = s.summary().mean();
    m[k + ".p50"] = s.quantile(0.50);
    m[k + ".p90"] = s.quantile(0.90);
    m[k + ".p99"] = s.quantile(0.99);
    m[k + ".max"] = s.summary().max();
  }
  for (const auto& [k, w] : weighted_) m[k + ".avg"] = w.average(now);
  for (const auto& [k, v] : scalars_) m[k] = v;
  return m;
}

namespace {
std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}
}  // namespace

std::string metrics_to_json(const std::map<std::string, double>& metrics) {
  std::string out = "{\n";
  std::size_t i = 0;
  for (const auto& [k, v] : metrics) {
    out += fmt::format("  {}: {}{}\n", boost::json::serialize(boost::json::string(k)), number(v),
                       ++i < metrics.size() ? "," : "");
  }
  out += "}\n";
  return out;
}

namespace {

// Reads metrics.json through Boost.JSON's push parser, converting each number from its own text
// with std::from_chars (correctly rounded): the tree parser of Boost 1.81 can be a unit in the
// last place off, and a value read back must be the value written.
class MetricsHandler : public UnlimitedJsonSizes {
 public:
  std::map<std::string, double> metrics;
  std::string error;  // empty: no semantic error

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code& ec) { return depth_++ == 0 || fail(ec, "nested"); }
  bool on_object_end(std::size_t, boost::system::error_code&) { return --depth_, true; }
  bool on_array_begin(boost::system::error_code& ec) { return fail(ec, "array"); }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    return top(ec) && (key_.append(s.data(), s.size()), true);
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code& ec) {
    if (!top(ec)) return false;
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code& ec) {
    return fail(ec, "string");
  }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code& ec) {
    return fail(ec, "string");
  }
  bool on_number_part(boost::json::string_view s, boost::system::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, boost::json::string_view s, boost::system::error_code& ec) {
    return number(s, ec);
  }
  bool on_uint64(std::uint64_t, boost::json::string_view s, boost::system::error_code& ec) {
    return number(s, ec);
  }
  bool on_double(double, boost::json::string_view s, boost::system::error_code& ec) {
    return number(s, ec);
  }
  bool on_bool(bool, boost::system::error_code& ec) { return fail(ec, "bool"); }
  bool on_null(boost::system::error_code& ec) { return value(std::nan(""), ec); }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

 private:
  bool top(boost::system::error_code& ec) { return depth_ == 1 || fail(ec, "nested"); }
  bool number(boost::json::string_view s, boost::system::error_code& ec) {
    number_.append(s.data(), s.size());
    double v = 0;
    const auto [end, err] = std::from_chars(number_.data(), number_.data() + number_.size(), v);
    if (err != std::errc() || end != number_.data() + number_.size()) return fail(ec, "number");
    number_.clear();
    return value(v, ec);
  }
  bool value(double v, boost::system::error_code& ec) {
    if (depth_ != 1) return fail(ec, "top");
    metrics[key_] = v;
    key_.clear();
    return true;
  }
  bool fail(boost::system::error_code& ec, const char* what) {
    const std::string w = what;
    error = depth_ != 1 || w == "top" || w == "array" || w == "nested"
                ? "expected a JSON object of metrics"
                : fmt::format("metric '{}' is not a number", key_);
    ec = boost::json::error::extra_data;  // any error stops the parser; `error` says which
    return false;
  }

  int depth_ = 0;
  std::string key_, number_;
};

}  // namespace

std::map<std::string, double> metrics_from_json(const std::string& text,
                                                const std::string& source) {
  boost::json::basic_parser<MetricsHandler> p(boost::json::parse_options{});
  boost::system::error_code ec;
  p.write_some(false, text.data(), text.size(), ec);
  if (!ec && !p.done()) ec = boost::json::error::incomplete;
  if (ec) {
    const std::string why = p.handler().error;
    throw InputError(SourcePos{source}, why.empty() ? "invalid JSON: " + ec.message() : why);
  }
  return std::move(p.handler().metrics);
}

std::string Stats::metrics_json(Time now) const { return metrics_to_json(flatten(now)); }

void Stats::add_row(ResultRow row) {
  // A run that is one point reports its metrics bare (no prefix).
  for (const auto& [k, v] : row.metrics) scalars_[row.prefix.empty() ? k : row.prefix + "." + k] = v;
  rows_.push_back(std::move(row));
}

void append_csv_field(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
    out.append(s);
    return;
  }
  out.push_back('"');
  for (char c : s) {
    if (c == '"') out.push_back('"');  // a quote is written twice
    out.push_back(c);
  }
  out.push_back('"');
}

std::string Stats::results_csv() const {
  std::vector<std::string> params;
  std::set<std::string> metrics;
  for (const ResultRow& r : rows_) {
    for (const auto& [k, v] : r.params)
      if (std::find(params.begin(), params.end(), k) == params.end()) params.push_back(k);
    for (const auto& [k, v] : r.metrics) metrics.insert(k);
  }
  std::string out = "point";
  for (const auto& p : params) {
    out.push_back(',');
    append_csv_field(out, p);
  }
  for (const auto& m : metrics) {
    out.push_back(',');
    append_csv_field(out, m);
  }
  out.push_back('\n');
  for (const ResultRow& r : rows_) {
    append_csv_field(out, r.prefix);
    for (const auto& p : params) {
      out.push_back(',');
      for (const auto& [k, v] : r.params)
        if (k == p) append_csv_field(out, v);
    }
    for (const auto& m : metrics) {
      out.push_back(',');
      for (const auto& [k, v] : r.metrics)
        if (k == m) out.append(number(v));
    }
    out.push_back('\n');
  }
  return out;
}

std::string Stats::stats_csv(Time now) const {
  std::string out = "component,stat,value\n";
  std::map<std::string, double> all = flatten(now);
  all.insert(components_.begin(), components_.end());
  for (const auto& [k, v] : all) {
    // Split at the last dot outside brackets: "gpu[0].sm[1].busy.avg" -> component "gpu[0].sm[1]".
    const auto dot = k.rfind('.');
    // A bare key is the point's own metric: component "point".
    const std::string comp = dot == std::string::npos ? "point" : k.substr(0, dot);
    const std::string stat = dot == std::string::npos ? k : k.substr(dot + 1);
    out += fmt::format("{},{},{}\n", comp, stat, number(v));
  }
  return out;
}

}  // namespace sim
