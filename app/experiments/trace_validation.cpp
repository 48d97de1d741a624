#include "app/experiments/trace_validation.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "app/experiment.hpp"
#include "app/trace_validation.hpp"
#include "interconnect/system_spec.hpp"
#include "models/gpu_spec.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/params.hpp"
#include "workloads/kineto_trace.hpp"

namespace app {
namespace {
namespace fs = std::filesystem;

struct TraceCase {
  std::string name;
  fs::path file;
  models::GpuSpec gpu;
  std::optional<interconnect::SystemSpec> system;  // prices its NCCL kernels
};

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = sim::schema(R"(
traces      | list   |                   | the traces
traces.name | string |                   | its name (metrics <name>.<cost>.*)
traces.file | path   |                   | a Kineto trace, relative to the scenario file
traces.gpu  | gpu    |                   | the GPU preset to simulate it on
traces.system | system |                 | a system preset whose network prices its NCCL kernels (absent: they keep their measurement)
trace       | string |                   | which of them this point replays
cost        | string | trace             | kernel cost: trace (the measured durations) | roofline
)");
  return s;
}

// One point: one trace replayed under one kernel cost and compared with its measurement.
class TraceValidationExperiment final : public Experiment {
 public:
  TraceValidationExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : catalog_(catalog) {
    const std::string wanted = cfg.string("trace");
    std::vector<std::string> names;
    for (const sim::Config& item : cfg.value("traces").items()) {  // every case checked, one kept
      const sim::Params t(item, schema(), "traces.");
      TraceCase c{t.string("name"), t.string("file"), models::GpuSpec::from_config(t.value("gpu")),
                  std::nullopt};
      if (t.has("system")) c.system = interconnect::SystemSpec::from_config(t.value("system"));
      // Relative paths are relative to the scenario file, so it runs from any folder.
      const sim::Config file = t.value("file");
      if (c.file.is_relative()) c.file = fs::path(file.pos().file).parent_path() / c.file;
      if (!sim::is_file(c.file)) file.fail("no such trace '" + c.file.string() + "'");
      names.push_back(c.name);
      if (c.name == wanted) case_ = std::move(c);
    }
    if (names.empty()) cfg.value("traces").fail("at least one trace is needed");
    if (!case_)
      cfg.value("trace").fail(
          fmt::format("no trace '{}' in traces: ({})", wanted, fmt::join(names, ", ")));
    cost_name_ = cfg.string("cost");
    try {
      cost_ = make_replay_cost(catalog, parse_replay_cost(cost_name_));
    } catch (const sim::InputError& e) {
      cfg.value("cost").fail(e.what());
    }
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(1);
    const TraceCase& c = *case_;
    const workloads::kineto::Trace trace = workloads::kineto::read_trace(c.file);
    workloads::ReplayWorkload w = workloads::build_replay(trace);
    if (c.system) drivers::price_nccl_kernels(w, trace, *c.system, catalog_);
    const ReplayResult r = simulate_replay(w, c.gpu, *cost_, ctx.timeline, ctx.timeline != nullptr);
    const Validation v = compare(w, r, parse_replay_cost(cost_name_));
    ctx.add_run(r.run, "replay");
    ctx.end_time = sim::Time::s(r.end_time);
    const std::string key = c.name + "." + cost_name_;
    sim::ResultRow row{"", {{"trace", c.name}, {"gpu", c.gpu.name}, {"cost", cost_name_}}, {}};
    for (const auto& [k, value] : validation_metrics(v, key, false))
      row.metric(k.substr(key.size() + 1), value);
    ctx.stats.add_row(std::move(row));
    ctx.report += fmt::format(
        "Trace {} on {}, kernel cost {}: {}/{} ops compared, kernel MAPE {:.1f}%, median abs "
        "error {:.1f}%, Pearson r {:.3f}, iteration error {:.2f}%.\n",
        c.name, c.gpu.name, cost_name_, v.ops_compared, v.ops_total, 100 * v.kernel_mape,
        100 * v.median_abs_error, v.pearson_r, 100 * v.iteration_error);
    ctx.console << fmt::format("{:<28} {:<9} kernel MAPE {:6.1f}%  iteration error {:6.2f}%\n",
                               c.name, cost_name_, 100 * v.kernel_mape, 100 * v.iteration_error);
  }

 private:
  std::optional<TraceCase> case_;
  std::string cost_name_;
  sim::PluginCatalog& catalog_;
  std::unique_ptr<models::KernelCost> cost_;
};

}  // namespace

void register_trace_validation_experiment(sim::PluginCatalog& catalog) {
  add_experiment<TraceValidationExperiment>(
      catalog, "trace_validation",
      "replay one real Kineto trace and report simulated vs measured errors", schema());
}

}  // namespace app
