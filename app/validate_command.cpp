#include "app/validate_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <memory>
#include <optional>

#include "app/gpu_loader.hpp"
#include "app/replay_inputs.hpp"
#include "app/trace_validation.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/stats.hpp"
#include "workloads/kineto_trace.hpp"

namespace app {
namespace {
namespace fs = std::filesystem;

struct ValidateOptions {
  ReplayInputs in;
  std::string max_mape, out, timeline;
  std::string baseline_gpu;  // e.g. the preset before calibration
  bool quiet = false;
};

int validate_command(const ValidateOptions& o, sim::PluginCatalog& catalog, std::ostream& out) {
  const ReplayCost mode = parse_replay_cost(o.in.cost);
  const double limit =
      o.max_mape.empty() ? -1 : parse_fraction_option("--max-mape", o.max_mape);  // -1: no gate
  const models::GpuSpec gpu = load_gpu_spec(o.in.gpu, o.in.overrides);
  std::optional<models::GpuSpec> baseline;
  if (!o.baseline_gpu.empty()) baseline = load_gpu_spec(o.baseline_gpu, o.in.overrides);
  const auto cost = make_replay_cost(catalog, mode, o.in.cost_params);
  const workloads::kineto::Trace trace = workloads::kineto::read_trace(o.in.trace);
  const workloads::ReplayWorkload w = replay_workload(trace, o.in.system, catalog);

  std::string stem = fs::path(o.in.trace).filename().string();
  for (const char* ext : {".gz", ".json"})
    if (stem.ends_with(ext)) stem.resize(stem.size() - std::string_view(ext).size());
  const fs::path dir = o.out.empty() ? fs::path("results") / ("validate-" + stem) : fs::path(o.out);
  Validation v;
  std::string header, report;
  sim::write_folder_atomic(dir, [&](const fs::path& tmp) {
    std::unique_ptr<sim::TimelineWriter> timeline;
    if (!o.timeline.empty()) timeline = std::make_unique<sim::TimelineWriter>(o.timeline);
    const ReplayResult r = simulate_replay(w, gpu, *cost, timeline.get(), true);
    v = compare(w, r, mode);
    header = describe_replay(trace, w, gpu, o.in.cost);
    report = validation_report(v);
    auto metrics = validation_metrics(v);
    if (baseline) {
      // The same trace on the baseline GPU (say, before calibration), for a before/after line.
      const Validation b = compare(w, simulate_replay(w, *baseline, *cost, nullptr, false), mode);
      metrics.merge(validation_metrics(b, "validate.baseline", false));
      auto row = [](const std::string& name, const Validation& x) {
        return fmt::format("| {} | {:.1f}% | {:.1f}% | {:.3f} | {:.2f}% |\n", name,
                           100 * x.kernel_mape, 100 * x.median_abs_error, x.pearson_r,
                           100 * x.iteration_error);
      };
      report +=
          "\nbefore / after:\n\n| GPU | kernel MAPE | median abs error | Pearson r | "
          "iteration error |\n|---|---:|---:|---:|---:|\n" +
          row(baseline->name + " (--baseline-gpu)", b) + row(gpu.name, v);
    }
    sim::write_file_atomic(tmp / "metrics.json", sim::metrics_to_json(metrics));
    sim::write_file_atomic(tmp / "kernel_classes.csv", classes_csv(v));
    sim::write_file_atomic(tmp / "ops.csv", ops_csv(w, r, mode));
    sim::write_file_atomic(tmp / "report.md",
                           fmt::format("# validate {}\n\n```\n{}```\n\n{}", stem, header, report));
    if (timeline) timeline->close();
  });
  if (!o.quiet) out << header << report << "results: " << dir.string() << "\n";
  if (limit >= 0 && v.kernel_mape > limit) {
    out << fmt::format("kernel MAPE {:.1f}% exceeds --max-mape {:.1f}%\n", 100 * v.kernel_mape,
                       100 * limit);
    return kExitOverLimit;
  }
  return kExitOk;
}

}  // namespace

Command add_validate_command(CLI::App& cli) {
  auto o = std::make_shared<ValidateOptions>();
  auto* sub = cli.add_subcommand(
      "validate",
      "replay a Kineto trace and report simulated vs measured (exit 3 over --max-mape)");
  add_replay_inputs(*sub, o->in);
  sub->add_option("--max-mape", o->max_mape, "exit 3 when the kernel MAPE exceeds this: 25% or 0.25");
  sub->add_option("--baseline-gpu", o->baseline_gpu,
                  "also replay on this GPU and report before/after (e.g. the preset before "
                  "`warpsim calibrate`)");
  sub->add_option("--out", o->out, "results folder (default results/validate-<trace>)");
  sub->add_option("--timeline", o->timeline,
                  "write measured and simulated runs side by side (Perfetto JSON)");
  sub->add_flag("--quiet", o->quiet, "print nothing but a --max-mape failure");
  return {sub, [o](sim::PluginCatalog& catalog, std::ostream& out) {
            return validate_command(*o, catalog, out);
          }};
}

}  // namespace app
