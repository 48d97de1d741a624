#include "app/experiments/model_serving.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "app/experiment.hpp"
#include "drivers/inference/model_server.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/op_graph.hpp"

namespace app {
namespace {

namespace sharing = schedulers::sharing;

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(sim::schema(R"(
gpu              | gpu      |        | GPU preset (configs/gpus/)
kernel_cost      | map      |        | kernel-cost plugin: {name: roofline}
dtype            | string   | fp16   | the models' precision: fp32, fp16, bf16, tf32
policy           | plugin   | gslice | sharing policy (family sharing): temporal, mps-default, mps-static, mig-static, gslice, dstack, per-kernel
models           | list     |        | the served models
models.name      | string   |        | its label in metrics (default: the model)
models.model     | string   |        | a zoo model, or an op-graph file (docs/op-graph-format.md)
models.slo       | duration |        | a request's latency objective, arrival to result
models.max_batch | int      | 32     | the largest batch the server may form
models.requests  | map      |        | its request stream (keys: docs/serving.md; lengths unused)
duration         | duration |        | serve the arrivals of this long only, every stream cut there (absent: each stream whole)
requests_csv     | bool     | false  | write requests.csv (one row per request)
ideal            | bool     | false  | also report the ideal scheduler's bound (ideal_goodput_rps, fraction_of_ideal)
engine           | string   | eager  | how the models are built: eager (PyTorch: a kernel per op) or tensorrt (batch norms folded into their convs, activations fused)
mps_cap          | string   | mask   | how an MPS percentage caps a client: mask (a fixed set of SMs) or count (at most that many SMs at a time, any of them, as the hardware does)
)"),
                                              host_params());
  return s;
}

class ModelServingExperiment final : public Experiment {
 public:
  ModelServingExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : gpu_(models::GpuSpec::from_config(cfg.value("gpu"))), dtype_(workloads::read_dtype(cfg.value("dtype"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    policy_name_ = sim::plugin_label(cfg.value("policy"));
    policy_ = sharing::sharing_policies(catalog).create_from(cfg.value("policy"));
    host_ = scenario_host(cfg, "eager");
    write_requests_ = cfg.flag("requests_csv");
    ideal_ = cfg.flag("ideal");
    const std::string cap = cfg.string("mps_cap");
    if (cap != "mask" && cap != "count")
      cfg.value("mps_cap").fail(fmt::format("unknown MPS cap '{}'; known: mask, count", cap));
    mps_count_cap_ = cap == "count";
    const std::string engine = cfg.string("engine");
    if (engine != "eager" && engine != "tensorrt")
      cfg.value("engine").fail(fmt::format("unknown engine '{}'; known: eager, tensorrt", engine));
    tensorrt_ = engine == "tensorrt";
    if (auto d = cfg.find("duration")) {
      cut_ = cfg.duration("duration");
      if (*cut_ <= sim::Time::zero()) d->fail("must be positive");
    }
    for (const sim::Config& item : cfg.value("models").items()) {
      const sim::Params m(item, schema(), "models.");
      Served s;
      s.stream.model = workloads::read_model_name(m.value("model"));
      // A graph file's label is its stem (a zoo name is its own).
      s.stream.name = m.has("name") ? m.string("name")
                                    : std::filesystem::path(s.stream.model).stem().string();
      for (const Served& o : served_)
        if (o.stream.name == s.stream.name)
          m.value("model").fail(fmt::format("two served models named '{}': give one a name:", s.stream.name));
      s.stream.slo_seconds = m.duration("slo").seconds();
      if (!(s.stream.slo_seconds > 0)) m.value("slo").fail("an SLO must be positive");
      s.stream.max_batch = static_cast<int>(m.integer("max_batch", 1, 8192));
      s.requests = m.value("requests");
      // Read once now, so a bad stream fails before anything runs; run() draws it from the seed.
      sim::RngStream check(0, "requests");
      workloads::read_requests(s.requests, check);
      served_.push_back(std::move(s));
    }
    if (served_.empty()) cfg.value("models").fail("serve at least one model");
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(1);
    std::vector<drivers::ModelStream> streams;
    for (const Served& s : served_) {
      drivers::ModelStream m = s.stream;
      sim::RngStream rng = ctx.rng.stream("requests." + s.stream.name);
      m.requests = workloads::read_requests(s.requests, rng);
      if (cut_)
        std::erase_if(m.requests, [&](const workloads::Request& q) { return q.arrival > *cut_; });
      streams.push_back(std::move(m));
    }
    workloads::LoweringOptions lowering = gpu_.lowering(dtype_);
    if (tensorrt_) lowering.fold_batch_norm = lowering.fuse_bias_activation = true;
    drivers::ModelLibrary library(lowering, dtype_);
    drivers::LatencyProfiles profiles(gpu_, *cost_, library);
    drivers::ModelServerOptions o;
    o.host = host_;
    o.timeline = ctx.timeline;
    o.on_items = ctx.on_items;
    o.ideal_bound = ideal_;
    o.mps_count_cap = mps_count_cap_;
    const drivers::ModelServerResult r =
        drivers::serve_models(gpu_, *cost_, *policy_, streams, o, library, profiles);
    ctx.add_run(r.run, "serve");
    ctx.end_time = r.run.simulated;
    if (write_requests_) ctx.files["requests.csv"] = r.requests_csv;

    const std::vector<std::pair<std::string, std::string>> params{{"gpu", gpu_.name},
                                                                  {"policy", policy_name_}};
    // Goodput per unit of GPU busy: GSLICE's "GPU utilization efficiency".
    const double efficiency = r.gpu_utilization > 0 ? r.goodput / r.gpu_utilization : 0;
    sim::ResultRow row{"", params, {}};
    row.metric("throughput_rps", r.throughput)
        .metric("capacity_rps", r.capacity)
        .metric("goodput_rps", r.goodput)
        .metric("slo_attainment", r.slo_attainment)
        .metric("gpu_utilization", r.gpu_utilization)
        .metric("efficiency", efficiency)
        .metric("reallocations", static_cast<double>(r.reallocations))
        .metric("context_switches", static_cast<double>(r.context_switches))
        .metric("profile_runs", static_cast<double>(profiles.runs()));
    if (ideal_)
      row.metric("ideal_goodput_rps", r.ideal_goodput)
          .metric("fraction_of_ideal", r.ideal_goodput > 0 ? r.goodput / r.ideal_goodput : 0);
    ctx.stats.add_row(std::move(row));
    std::string table =
        "| model | SLO (ms) | arrived | served | met SLO | dropped | p50 (ms) | p99 (ms) | mean "
        "batch | share at start | share at end |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
    for (std::size_t i = 0; i < r.models.size(); ++i) {
      const auto& m = r.models[i];
      ctx.stats.add_row(sim::ResultRow{"model." + m.name, params, {}}
                            .param("model", m.name)
                            .metric("throughput_rps", m.throughput)
                            .metric("capacity_rps", m.capacity)
                            .metric("goodput_rps", m.goodput)
                            .metric("mean_ms", m.mean_ms)
                            .metric("p50_ms", m.p50_ms)
                            .metric("p99_ms", m.p99_ms)
                            .metric("dropped", static_cast<double>(m.dropped))
                            .metric("mean_batch", m.mean_batch)
                            .metric("percent", r.last.models[i].percent)
                            .metric("batch", r.last.models[i].batch));
      table += fmt::format("| {} | {:.0f} | {} | {} | {} | {} | {:.2f} | {:.2f} | {:.1f} | {} | {} |\n",
                           m.name, streams[i].slo_seconds * 1e3, m.arrived, m.served, m.met,
                           m.dropped, m.p50_ms, m.p99_ms, m.mean_batch,
                           share(r.initial, i), share(r.last, i));
    }
    const std::string line = fmt::format(
        "{} models on {} under {} ({}): {:.0f} req/s served, {:.0f} req/s within SLO ({:.1f}% of "
        "arrivals), GPU {:.0f}% busy, {} re-allocations, {} context switches\n",
        r.models.size(), gpu_.name, policy_name_, models::to_string(r.initial.mode), r.throughput,
        r.goodput, 100 * r.slo_attainment, 100 * r.gpu_utilization, r.reallocations,
        r.context_switches);
    ctx.report += line + "\n" + table;
    if (ideal_)
      ctx.report += fmt::format(
          "\nIdeal scheduler (a fluid bound: every model at its most efficient batch and share, "
          "packed with no loss): {:.0f} req/s within SLO; this policy reaches {:.1f}% of it.\n",
          r.ideal_goodput, r.ideal_goodput > 0 ? 100 * r.goodput / r.ideal_goodput : 0.0);
    ctx.console << line;
  }

 private:
  struct Served {
    drivers::ModelStream stream;
    sim::Config requests;
  };
  static std::string share(const sharing::ServingPlan& plan, std::size_t i) {
    const auto& p = plan.models[i];
    std::string s = plan.mode == models::SharingMode::mig ? p.mig
                    : plan.mode == models::SharingMode::mps ? fmt::format("{}%", p.percent)
                                                            : "time slice";
    s += fmt::format(", batch {}", p.batch);
    if (p.window > 0) s += fmt::format(", window {:.2f}+{:.2f} of {:.1f} ms", p.offset, p.window,
                                       plan.period_seconds * 1e3);
    return s;
  }

  models::GpuSpec gpu_;
  workloads::DType dtype_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<sharing::SharingPolicy> policy_;
  std::string policy_name_;
  models::HostCosts host_;
  bool write_requests_ = false, ideal_ = false, mps_count_cap_ = false;
  bool tensorrt_ = false;  // engine: tensorrt (folded norms, fused activations)
  std::optional<sim::Time> cut_;
  std::vector<Served> served_;
};

}  // namespace

void register_model_serving_experiment(sim::PluginCatalog& catalog) {
  add_experiment<ModelServingExperiment>(
      catalog, "model_serving",
      "request streams of several DNN models with SLOs on one shared GPU (GSLICE, D-STACK)",
      schema());
}

}  // namespace app
