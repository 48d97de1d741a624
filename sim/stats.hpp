#pragma once
// Statistics collected by components under hierarchical names ("gpu[0].sm[17].busy"), written
// as metrics.json (flat "dotted.key": number pairs, sorted) and stats.csv (component,stat,value).

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/time.hpp"

namespace sim {

// A count of things.
class Counter {
 public:
  void add(double v = 1) { value_ += v; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// count / sum / mean / min / max of samples.
class Accumulator {
 public:
  void add(double v);
  void merge(const Accumulator& o);
  std::uint64_t count() const { return n_; }
  double sum() const { return sum_; }
  double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0.0; }
  double min() const { return n_ ? min_ : 0.0; }
  double max() const { return n_ ? max_ : 0.0; }

 private:
  std::uint64_t n_ = 0;
  double sum_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

// Quantiles with a bounded relative error (DDSketch: logarithmic buckets), O(log range) memory,
// deterministic, and mergeable across runs.
class QuantileSketch {
 public:
  explicit QuantileSketch(double relative_accuracy = 0.005);
  void add(double v);
  void merge(const QuantileSketch& o);
  // The nearest-rank q-quantile (the smallest sample with at least q x n samples at or below
  // it), within the relative accuracy; q in [0, 1]; 0 when empty.
  double quantile(double q) const;
  std::uint64_t count() const { return acc_.count(); }
  const Accumulator& summary() const { return acc_; }

 private:
  int index_of(double v) const;
  double value_of(int index) const;

  double gamma_, log_gamma_;
  std::map<int, std::uint64_t> positive_, negative_;
  std::uint64_t zeros_ = 0;
  Accumulator acc_;
};

// The time-average of a piecewise-constant signal (utilization, queue length).
class TimeWeighted {
 public:
  explicit TimeWeighted(Time start = Time::zero()) : start_(start), last_(start) {}
  void set(Time now, double value);
  double average(Time now) const;
  double current() const { return value_; }

 private:
  Time start_, last_;
  double value_ = 0;
  double area_ = 0;  // value x seconds
};

// One point of an experiment in tidy form: what was varied (its parameters) and what it
// measured. Stats keeps the point as a row of results.csv and its metrics as flat keys
// `<prefix>.<metric>` of metrics.json, from the same numbers, so the two agree to the digit.
struct ResultRow {
  std::string prefix;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, double>> metrics;
  ResultRow& param(std::string name, std::string value) {
    params.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  ResultRow& metric(std::string name, double value) {
    metrics.emplace_back(std::move(name), value);
    return *this;
  }
};

class Stats {
 public:
  Counter& counter(const std::string& name) { return counters_[name]; }
  Accumulator& accumulator(const std::string& name) { return accumulators_[name]; }
  QuantileSketch& quantiles(const std::string& name) { return sketches_[name]; }
  TimeWeighted& time_weighted(const std::string& name, Time start = Time::zero());
  // A single named number (an experiment's result).
  void set(const std::string& name, double value) { scalars_[name] = value; }
  // A component's statistic under its hierarchical name ("nimble.resnet50.eager.gpu[0].sm_busy"):
  // written to stats.csv only, so metrics.json keeps to what experiments report.
  void component(const std::string& name, double value) { components_[name] = value; }

  // Every statistic as flat dotted keys; time-weighted ones averaged up to `now`.
  std::map<std::string, double> flatten(Time now) const;
  // A point's parameters and metrics (its metrics also become `<prefix>.<metric>`, or bare
  // `<metric>` when the prefix is empty).
  void add_row(ResultRow row);
  bool has_rows() const { return !rows_.empty(); }
  // One row per point: the parameter columns (in first-seen order), then the metric columns
  // (sorted), empty where a row has no such value; numbers written as in metrics.json.
  std::string results_csv() const;
  std::string metrics_json(Time now) const;
  std::string stats_csv(Time now) const;

 private:
  std::map<std::string, Counter> counters_;
  std::map<std::string, Accumulator> accumulators_;
  std::map<std::string, QuantileSketch> sketches_;
  std::map<std::string, TimeWeighted> weighted_;
  std::map<std::string, double> scalars_;
  std::map<std::string, double> components_;
  std::vector<ResultRow> rows_;
};

// Appends one CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
void append_csv_field(std::string& out, std::string_view s);

// JSON text of flat metrics, one key per line, keys sorted; non-finite values become null.
std::string metrics_to_json(const std::map<std::string, double>& metrics);
// Reads metrics.json back (used by golden tests and `warpsim check`).
std::map<std::string, double> metrics_from_json(const std::string& text, const std::string& source);

}  // namespace sim
