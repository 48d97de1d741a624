#include "app/experiments/trace_validation.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "app/experiment.hpp"
#include "sim/params.hpp"
#include "app/trace_validation.hpp"
#include "models/gpu_spec.hpp"
#include "sim/error.hpp"
#include "workloads/kineto_trace.hpp"

namespace app {
namespace {
namespace fs = std::filesystem;

struct TraceCase {
  std::string name;
  fs::path file;
  models::GpuSpec gpu;
};

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = sim::schema(R"(
traces      | list   |                   | the traces
traces.name | string |                   | its name (metrics <name>.<cost>.*)
traces.file | path   |                   | a Kineto trace, relative to the scenario file
traces.gpu  | gpu    |                   | the GPU preset to simulate it on
costs       | list   | [trace, roofline] | kernel costs: trace | roofline
timeline_run | string | ""               | which replay --timeline shows beside its measurement: <trace>.<cost> (default: the first)
)");
  return s;
}

class TraceValidationExperiment final : public Experiment {
 public:
  TraceValidationExperiment(const sim::Config& config, sim::PluginCatalog& catalog) {
    const sim::Params cfg(config, schema());
    for (const sim::Config& item : cfg.value("traces").items()) {
      const sim::Params t(item, schema(), "traces.");
      TraceCase c{t.string("name"), t.string("file"), models::GpuSpec::from_config(t.value("gpu"))};
      // Relative paths are relative to the scenario file, so it runs from any folder.
      const sim::Config file = t.value("file");
      if (c.file.is_relative()) c.file = fs::path(file.pos().file).parent_path() / c.file;
      if (!fs::is_regular_file(c.file)) file.fail("no such trace '" + c.file.string() + "'");
      cases_.push_back(std::move(c));
    }
    if (cases_.empty()) cfg.value("traces").fail("at least one trace is needed");
    timeline_run_ = cfg.string("timeline_run");
    const sim::Config costs = cfg.value("costs");
    for (const sim::Config& item : costs.is_scalar() ? std::vector<sim::Config>{costs} : costs.items()) {
      const std::string c = item.as_string();
      try {
        costs_.emplace_back(c, make_replay_cost(catalog, parse_replay_cost(c)));
      } catch (const sim::InputError& e) {
        item.fail(e.what());
      }
    }
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(cases_.size() * costs_.size());
    ctx.report +=
        "| trace | GPU | cost | ops compared | kernel MAPE | median abs error | "
        "Pearson r | iteration error |\n|---|---|---|---:|---:|---:|---:|---:|\n";
    double end = 0;
    for (const TraceCase& c : cases_) {
      const workloads::ReplayWorkload w =
          workloads::build_replay(workloads::kineto::read_trace(c.file));
      for (const auto& [cost_name, cost] : costs_) {
        sim::TimelineWriter* traced = ctx.timeline_for(c.name + "." + cost_name, timeline_run_);
        const ReplayResult r = simulate_replay(w, c.gpu, *cost, traced, traced != nullptr);
        end = std::max(end, r.end_time);
        const Validation v = compare(w, r, parse_replay_cost(cost_name));
        const std::string key = c.name + "." + cost_name;
        ctx.add_run(r.run, key);
        sim::ResultRow row{key, {{"trace", c.name}, {"gpu", c.gpu.name}, {"cost", cost_name}}, {}};
        for (const auto& [k, value] : validation_metrics(v, key, false))
          row.metric(k.substr(key.size() + 1), value);
        ctx.stats.add_row(std::move(row));
        ctx.report +=
            fmt::format("| {} | {} | {} | {}/{} | {:.1f}% | {:.1f}% | {:.3f} | {:.2f}% |\n", c.name,
                        c.gpu.name, cost_name, v.ops_compared, v.ops_total, 100 * v.kernel_mape,
                        100 * v.median_abs_error, v.pearson_r, 100 * v.iteration_error);
        ctx.console << fmt::format("{:<28} {:<9} kernel MAPE {:6.1f}%  iteration error {:6.2f}%\n",
                                   c.name, cost_name, 100 * v.kernel_mape, 100 * v.iteration_error);
      }
    }
    ctx.end_time = sim::Time::s(end);
  }

 private:
  std::vector<TraceCase> cases_;
  std::string timeline_run_;
  std::vector<std::pair<std::string, std::unique_ptr<models::KernelCost>>> costs_;
};

}  // namespace

void register_trace_validation_experiment(sim::PluginCatalog& catalog) {
  experiments(catalog).add(
      "trace_validation", "replay real Kineto traces and report simulated vs measured errors",
      schema(), [&catalog](const sim::Config& cfg) {
        return std::make_unique<TraceValidationExperiment>(cfg, catalog);
      });
}

}  // namespace app
