#include "app/experiments/nimble.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "app/experiment.hpp"
#include "sim/params.hpp"
#include "drivers/dnn/dnn_run.hpp"
#include "models/kernel_cost.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace app {
namespace {

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = sim::schema(R"(
gpu                  | gpu    |      | GPU preset (configs/gpus/)
host                 | host   |      | host costs per framework mode (configs/hosts/)
kernel_cost          | map    |      | kernel-cost plugin: {name: roofline, ...}
policies             | list   |      | launch policies; the first must be eager
dtype                | string | fp32 | fp32 | fp16 | bf16 | tf32
inference            | map    |      | inference passes (absent: none)
inference.batch      | int    | 1    | samples per pass
inference.models     | list   |      | zoo models
inference.image_size | int    |      | input size (absent: each model's default)
training             | map    |      | training steps (absent: none)
training.models      | list   |      | zoo models
training.batches     | list   |      | batch sizes
training.image_size  | int    | 32   | input size (CIFAR: 32)
training.num_classes | int    | 10   | classes of the classifier head
published            | map    |      | published values by metric key, for report.md
timeline_run         | string | ""   | which run the timeline shows, e.g. inference.resnet50.nimble (default: the first)
)");
  return s;
}

// A launch policy and the host costs of the framework mode it runs under.
struct Policy : NamedPlugin<schedulers::launch::LaunchPolicy> {
  models::HostCosts costs;
};

class NimbleExperiment final : public Experiment {
 public:
  NimbleExperiment(const sim::Config& cfg, sim::PluginCatalog& catalog)
      : NimbleExperiment(sim::Params(cfg, schema()), catalog) {}
  NimbleExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : gpu_(models::GpuSpec::from_config(cfg.value("gpu"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    dtype_ = workloads::parse_dtype(cfg.string("dtype"));
    const sim::Config host = cfg.value("host");
    // A policy is a name, or a map {name: ..., <params>} under a label of its own.
    for (auto& p : read_plugins(schedulers::launch::launch_policies(catalog), cfg.value("policies"))) {
      const models::HostCosts costs = models::HostCosts::for_mode(host, p.impl->host_mode());
      policies_.push_back(Policy{std::move(p), costs});
    }
    if (policies_.empty() || policies_.front().name != "eager")
      cfg.value("policies").fail("the first policy must be 'eager' (speedups are relative to it)");
    if (auto inf = cfg.find_section("inference")) {
      inference_batch_ = static_cast<int>(inf->integer("batch", 1, 4096));
      inference_models_ = read_models(inf->value("models"));
      if (auto sizes = inf->find("image_size")) image_size_ = sizes->as_int();
    }
    if (auto tr = cfg.find_section("training")) {
      training_models_ = read_models(tr->value("models"));
      for (const sim::Config& b : tr->value("batches").items())
        training_batches_.push_back(static_cast<int>(b.as_int()));
      training_image_ = static_cast<int>(tr->integer("image_size", 8, 1024));
      training_classes_ = static_cast<int>(tr->integer("num_classes", 2, 100000));
    }
    published_ = read_published(cfg);
    timeline_run_ = cfg.string("timeline_run");
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs((inference_models_.size() + training_models_.size() * training_batches_.size()) *
                    policies_.size());
    const workloads::LoweringOptions lo = gpu_.lowering(dtype_);
    ctx.report += fmt::format("GPU {}, {} SMs; policies: {}.\n\n", gpu_.name, gpu_.sm_count,
                              fmt::join(names(), ", "));
    if (!inference_models_.empty()) {
      ctx.report += fmt::format("## Inference, batch {}\n\n", inference_batch_);
      table_header(ctx, "model");
      for (const auto& m : inference_models_) {
        workloads::ModelOptions mo;
        mo.batch = inference_batch_;
        mo.dtype = dtype_;
        mo.image_size = static_cast<int>(image_size_);
        const auto graph = workloads::lower_graph(workloads::make_model(m, mo), lo);
        measure(ctx, fmt::format("inference.{}", m),
                {{"phase", "inference"}, {"model", m}, {"batch", std::to_string(inference_batch_)}},
                m, graph);
      }
    }
    if (!training_models_.empty()) {
      ctx.report += fmt::format("\n## Training step, {}x{} input, {} classes\n\n", training_image_,
                                training_image_, training_classes_);
      table_header(ctx, "model, batch");
      for (const auto& m : training_models_)
        for (int b : training_batches_) {
          workloads::ModelOptions mo;
          mo.batch = b;
          mo.dtype = dtype_;
          mo.image_size = training_image_;
          mo.num_classes = training_classes_;
          mo.training = true;
          const auto graph = workloads::lower_graph(workloads::make_model(m, mo), lo);
          measure(ctx, fmt::format("training.{}.bs{}", m, b),
                  {{"phase", "training"}, {"model", m}, {"batch", std::to_string(b)}},
                  fmt::format("{} bs{}", m, b), graph);
        }
    }
    ctx.console << console_.str();
  }

 private:
  // Model names from a list (or one name), each checked where it is written.
  static std::vector<std::string> read_models(const sim::Config& list) {
    std::vector<std::string> out;
    for (const sim::Config& item : list.is_scalar() ? std::vector<sim::Config>{list} : list.items())
      out.push_back(workloads::read_model_name(item));
    return out;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const auto& p : policies_) n.push_back(p.name);
    return n;
  }

  void table_header(RunContext& ctx, const char* first) {
    std::string h = fmt::format("| {} | kernels |", first), sep = "|---|---|";
    for (const auto& p : policies_) {
      h += fmt::format(" {} (ms) |", p.name);
      sep += "---|";
    }
    for (std::size_t i = 1; i < policies_.size(); ++i) {
      h += fmt::format(" {} speedup | published |", policies_[i].name);
      sep += "---|---|";
    }
    ctx.report += h + "\n" + sep + "\n";
    console_ << fmt::format("{:<26}", first);
    for (const auto& p : policies_) console_ << fmt::format(" {:>12}", p.name + " ms");
    console_ << fmt::format(" {:>9}\n", "speedup");
  }

  void measure(RunContext& ctx, const std::string& key,
               const std::vector<std::pair<std::string, std::string>>& params,
               const std::string& label, const workloads::TaskGraph& graph) {
    std::vector<drivers::DnnRun> runs;
    for (const auto& p : policies_) {
      runs.push_back(drivers::run_dnn(gpu_, *cost_, *p.impl, p.costs, graph,
                                      ctx.timeline_for(key + "." + p.name, timeline_run_)));
      const drivers::DnnRun& r = runs.back();
      const std::string k = fmt::format("{}.{}", key, p.name);
      const bool training = key.starts_with("training");
      ctx.stats.add_row(sim::ResultRow{k, params, {}}
                            .param("policy", p.name)
                            .metric(training ? "step_ms" : "latency_ms", r.latency.ms())
                            .metric("gpu_idle", r.gpu_idle)
                            .metric("streams", r.streams)
                            .metric("speedup_vs_eager",
                                    runs.front().latency.seconds() / r.latency.seconds()));
      ctx.add_run(r.run, k);
      ctx.end_time = std::max(ctx.end_time, r.latency);
    }
    // The model's own row: its kernels, and the multi-stream gain (single-stream graph replay
    // over nimble) when both ran.
    sim::ResultRow model_row{key, params, {}};
    model_row.metric("kernels", static_cast<double>(graph.kernels.size()));
    std::optional<std::size_t> g, n;
    for (std::size_t i = 0; i < policies_.size(); ++i) {
      if (policies_[i].name == "graph") g = i;
      if (policies_[i].name == "nimble") n = i;
    }
    if (g && n)
      model_row.metric("multistream_gain", runs[*g].latency.seconds() / runs[*n].latency.seconds());
    ctx.stats.add_row(std::move(model_row));

    std::string row = fmt::format("| {} | {} |", label, graph.kernels.size());
    for (const auto& r : runs) row += fmt::format(" {:.3f} |", r.latency.ms());
    for (std::size_t i = 1; i < runs.size(); ++i) {
      const double s = runs.front().latency.seconds() / runs[i].latency.seconds();
      auto pub = published_.find(key + "." + policies_[i].name);
      row += fmt::format(" {:.2f} | {} |", s,
                         pub == published_.end() ? "" : fmt::format("{:.2f}", pub->second));
    }
    ctx.report += row + "\n";
    console_ << fmt::format("{:<26}", label);
    for (const auto& r : runs) console_ << fmt::format(" {:>12.3f}", r.latency.ms());
    console_ << fmt::format(" {:>8.2f}x\n",
                            runs.front().latency.seconds() / runs.back().latency.seconds());
  }

  models::GpuSpec gpu_;
  std::unique_ptr<models::KernelCost> cost_;
  workloads::DType dtype_ = workloads::DType::fp32;
  std::vector<Policy> policies_;
  int inference_batch_ = 1;
  std::int64_t image_size_ = 0;
  std::vector<std::string> inference_models_, training_models_;
  std::vector<int> training_batches_;
  int training_image_ = 32, training_classes_ = 10;
  std::map<std::string, double> published_;
  std::string timeline_run_;
  std::ostringstream console_;
};

}  // namespace

void register_nimble_experiment(sim::PluginCatalog& catalog) {
  experiments(catalog).add(
      "nimble",
      "DNN inference / training steps under launch policies (Nimble, NeurIPS 2020)",
      schema(), [&catalog](const sim::Config& cfg) {
        return std::make_unique<NimbleExperiment>(cfg, catalog);
      });
}

}  // namespace app
