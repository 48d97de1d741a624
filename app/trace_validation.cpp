#include "app/trace_validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace app {
namespace {

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) return 0;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0;
}

std::string csv_quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

Validation compare(const workloads::ReplayWorkload& w, const ReplayResult& r, ReplayCost cost) {
  Validation v;
  v.ops_total = w.ops.size();
  std::vector<double> meas, sim, abs_err;
  std::map<std::string, KernelClassError> classes;
  std::map<std::string, FamilyCoverage> families;
  double abs_gap = 0, compared_time = 0;
  double m0 = 1e300, m1 = -1e300, s0 = 1e300, s1 = -1e300;
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    const workloads::ReplayOp& op = w.ops[i];
    const double simulated = r.end[i] - r.start[i];
    m0 = std::min(m0, op.measured_start);
    m1 = std::max(m1, op.measured_start + op.measured);
    s0 = std::min(s0, r.start[i]);
    s1 = std::max(s1, r.end[i]);
    KernelClassError& c = classes[op.kernel_class];
    c.name = op.kernel_class;
    ++c.count;
    c.measured += op.measured;
    c.simulated += simulated;
    for (FamilyCoverage* f : {&families[op.family], &v.all}) {
      ++f->ops;
      f->measured += op.measured;
      if (op.work_known) {
        ++f->predicted_ops;
        f->predicted += op.measured;
      }
    }
    const bool predicted = cost == ReplayCost::trace || op.work_known;
    if (!predicted || op.measured <= 0) continue;
    abs_gap += std::abs(simulated - op.measured);
    compared_time += op.measured;
    meas.push_back(op.measured);
    sim.push_back(simulated);
    abs_err.push_back(std::abs(simulated - op.measured) / op.measured);
  }
  v.ops_compared = meas.size();
  if (!abs_err.empty()) {
    double sum = 0;
    for (double e : abs_err) sum += e;
    v.kernel_mape = sum / static_cast<double>(abs_err.size());
    std::vector<double> sorted = abs_err;
    std::nth_element(sorted.begin(),
                     sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    v.median_abs_error = sorted[sorted.size() / 2];
    v.pearson_r = pearson(meas, sim);
  }
  v.time_weighted_error = compared_time > 0 ? abs_gap / compared_time : 0;
  for (auto& [name, f] : families) {
    f.family = name;
    v.families.push_back(f);
  }
  v.all.family = "all";
  std::stable_sort(v.families.begin(), v.families.end(),
                   [](const auto& a, const auto& b) { return a.measured > b.measured; });
  for (auto& [name, c] : classes) v.classes.push_back(c);
  std::stable_sort(v.classes.begin(), v.classes.end(),
                   [](const auto& a, const auto& b) { return a.measured > b.measured; });
  v.iterations = iteration_spans(w, r);
  double it_err = 0;
  for (const IterationSpan& s : v.iterations) it_err += std::abs(s.simulated / s.measured - 1);
  v.iteration_error = v.iterations.empty() ? 0 : it_err / static_cast<double>(v.iterations.size());
  v.end_to_end_measured = m1 - m0;
  v.end_to_end_simulated = s1 - s0;
  return v;
}

std::map<std::string, double> validation_metrics(const Validation& v, const std::string& prefix,
                                                 bool per_iteration) {
  std::map<std::string, double> m;
  auto set = [&](const std::string& key, double value) { m[prefix + "." + key] = value; };
  set("kernel_mape", v.kernel_mape);
  set("kernel_time_weighted_error", v.time_weighted_error);
  set("predicted_share", v.all.share());
  for (const FamilyCoverage& f : v.families) set("predicted_share." + f.family, f.share());
  set("kernel_median_abs_error", v.median_abs_error);
  set("pearson_r", v.pearson_r);
  set("iteration_error", v.iteration_error);
  set("iterations", static_cast<double>(v.iterations.size()));
  set("ops", static_cast<double>(v.ops_total));
  set("ops_compared", static_cast<double>(v.ops_compared));
  set("kernel_classes", static_cast<double>(v.classes.size()));
  set("end_to_end.measured_s", v.end_to_end_measured);
  set("end_to_end.simulated_s", v.end_to_end_simulated);
  set("end_to_end.error",
      v.end_to_end_measured > 0 ? v.end_to_end_simulated / v.end_to_end_measured - 1 : 0);
  if (per_iteration)
    for (std::size_t i = 0; i < v.iterations.size(); ++i) {
      const IterationSpan& s = v.iterations[i];
      set(fmt::format("iteration.{}.measured_s", i), s.measured);
      set(fmt::format("iteration.{}.simulated_s", i), s.simulated);
      set(fmt::format("iteration.{}.error", i), s.simulated / s.measured - 1);
    }
  return m;
}

std::string classes_csv(const Validation& v) {
  std::string s = "kernel_class,count,measured_s,simulated_s,error\n";
  for (const KernelClassError& c : v.classes)
    s += fmt::format("{},{},{:.9g},{:.9g},{:.6g}\n", csv_quote(c.name), c.count, c.measured,
                     c.simulated, c.error());
  return s;
}

std::string ops_csv(const workloads::ReplayWorkload& w, const ReplayResult& r, ReplayCost cost) {
  std::string s =
      "op,kernel_class,family,stream,iteration,predicted,rule,flops,dram_bytes,host_bytes,"
      "measured_start_s,measured_s,simulated_start_s,simulated_s\n";
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    const workloads::ReplayOp& op = w.ops[i];
    const bool predicted = cost == ReplayCost::trace || op.work_known;
    // The rule that derived its work; "measured" where the replay kept the measurement.
    const std::string rule = op.work_known ? op.rule : "measured";
    s += fmt::format("{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.9g},{:.9g},{:.9g},{:.9g}\n", i,
                     csv_quote(op.kernel_class), op.family,
                     w.stream_ids[static_cast<std::size_t>(op.stream)], op.iteration,
                     predicted ? 1 : 0, csv_quote(rule), w.kernels[i].flops,
                     w.kernels[i].dram_bytes, w.kernels[i].host_bytes, op.measured_start,
                     op.measured, r.start[i], r.end[i] - r.start[i]);
  }
  return s;
}

std::string validation_report(const Validation& v, std::size_t worst) {
  auto shorten = [](const std::string& s) { return s.size() > 70 ? s.substr(0, 67) + "..." : s; };
  std::string s;
  // First: how much of the device time the model predicts at all.
  s += fmt::format("device time predicted from work: {:.1f}% ({} of {} ops); by family:",
                   100 * v.all.share(), v.all.predicted_ops, v.all.ops);
  for (const FamilyCoverage& f : v.families)
    s += fmt::format(" {} {:.1f}% of {:.3f} ms", f.family, 100 * f.share(), f.measured * 1e3);
  s += "\n";
  s += fmt::format(
      "ops compared {} of {}: kernel MAPE {:.1f}%, time-weighted |error| {:.1f}%, median |error| "
      "{:.1f}%, Pearson r {:.3f}\n",
      v.ops_compared, v.ops_total, 100 * v.kernel_mape, 100 * v.time_weighted_error,
      100 * v.median_abs_error, v.pearson_r);
  s += fmt::format("end to end (device): measured {:.3f} ms, simulated {:.3f} ms ({:+.1f}%)\n",
                   v.end_to_end_measured * 1e3, v.end_to_end_simulated * 1e3,
                   100 * (v.end_to_end_simulated / v.end_to_end_measured - 1));
  s += fmt::format(
      "\n| iteration | ops | measured ms | simulated ms | error |\n|---|---:|---:|---:|---:|\n");
  for (const IterationSpan& it : v.iterations)
    s += fmt::format("| {} | {} | {:.3f} | {:.3f} | {:+.1f}% |\n", it.name, it.ops,
                     it.measured * 1e3, it.simulated * 1e3, 100 * (it.simulated / it.measured - 1));
  s += fmt::format("\nmean |iteration error| {:.2f}%\n", 100 * v.iteration_error);
  s += "\n| kernel class | count | measured ms | simulated ms | error "
       "|\n|---|---:|---:|---:|---:|\n";
  for (std::size_t i = 0; i < v.classes.size() && i < 15; ++i) {
    const KernelClassError& c = v.classes[i];
    s += fmt::format("| {} | {} | {:.3f} | {:.3f} | {:+.1f}% |\n", shorten(c.name), c.count,
                     c.measured * 1e3, c.simulated * 1e3, 100 * c.error());
  }
  std::vector<KernelClassError> by_gap = v.classes;
  std::stable_sort(by_gap.begin(), by_gap.end(), [](const auto& a, const auto& b) {
    return std::abs(a.simulated - a.measured) > std::abs(b.simulated - b.measured);
  });
  s += fmt::format("\n{} worst kernel classes (largest |simulated - measured| time):\n", worst);
  for (std::size_t i = 0; i < by_gap.size() && i < worst; ++i) {
    const KernelClassError& c = by_gap[i];
    s += fmt::format("  {:>+8.3f} ms {:>+7.1f}%  x{:<5} {}\n", (c.simulated - c.measured) * 1e3,
                     100 * c.error(), c.count, shorten(c.name));
  }
  return s;
}

}  // namespace app
