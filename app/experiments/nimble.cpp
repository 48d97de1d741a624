#include "app/experiments/nimble.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "app/experiment.hpp"
#include "drivers/dnn/dnn_run.hpp"
#include "models/kernel_cost.hpp"
#include "sim/params.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace app {
namespace {

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = sim::schema(R"(
gpu         | gpu    |           | GPU preset (configs/gpus/)
host        | host   |           | host costs per framework mode (configs/hosts/)
kernel_cost | map    |           | kernel-cost plugin: {name: roofline, ...}
policy      | plugin | eager     | launch policy (family launch); its host mode picks the host costs
dtype       | string | fp32      | fp32 | fp16 | bf16 | tf32
model       | string |           | zoo model
phase       | string | inference | inference (one forward pass) | training (one step)
batch       | int    | 1         | samples per pass
image_size  | int    |           | input size (absent: the model's default)
num_classes | int    |           | classes of the classifier head (absent: the model's default)
)");
  return s;
}

// One point: a model's forward pass or training step on one GPU under one launch policy.
// Speedups and the multi-stream gain compare points, so the sweeps' reports compute them
// (configs/sweeps/nimble-*.yaml).
class NimbleExperiment final : public Experiment {
 public:
  NimbleExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : gpu_(models::GpuSpec::from_config(cfg.value("gpu"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    dtype_ = workloads::read_dtype(cfg.value("dtype"));
    policy_name_ = sim::plugin_label(cfg.value("policy"));
    policy_ = schedulers::launch::launch_policies(catalog).create_from(cfg.value("policy"));
    host_ = models::HostCosts::for_mode(cfg.value("host"), policy_->host_mode());
    model_ = workloads::read_model_name(cfg.value("model"));
    const std::string phase = cfg.string("phase");
    if (phase != "inference" && phase != "training")
      cfg.value("phase").fail(fmt::format("phase is inference or training, got '{}'", phase));
    training_ = phase == "training";
    batch_ = static_cast<int>(cfg.integer("batch", 1, 4096));
    if (cfg.has("image_size")) image_size_ = static_cast<int>(cfg.integer("image_size", 8, 1024));
    if (cfg.has("num_classes"))
      num_classes_ = static_cast<int>(cfg.integer("num_classes", 2, 100000));
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(1);
    workloads::ModelOptions mo;
    mo.batch = batch_;
    mo.dtype = dtype_;
    mo.image_size = image_size_;
    mo.num_classes = num_classes_;
    mo.training = training_;
    const auto graph =
        workloads::lower_graph(workloads::make_model(model_, mo), gpu_.lowering(dtype_));
    const drivers::DnnRun r = drivers::run_dnn(gpu_, *cost_, *policy_, host_, graph, ctx.timeline);
    const char* time_key = training_ ? "step_ms" : "latency_ms";
    ctx.stats.add_row(sim::ResultRow{"",
                                     {{"phase", training_ ? "training" : "inference"},
                                      {"model", model_},
                                      {"batch", std::to_string(batch_)},
                                      {"policy", policy_name_}},
                                     {}}
                          .metric(time_key, r.latency.ms())
                          .metric("gpu_idle", r.gpu_idle)
                          .metric("streams", r.streams)
                          .metric("kernels", static_cast<double>(graph.kernels.size())));
    ctx.add_run(r.run, "run");
    ctx.end_time = r.latency;
    const std::string what =
        fmt::format("{} {} batch {} under {}", model_, training_ ? "training step" : "inference",
                    batch_, policy_name_);
    ctx.report += fmt::format(
        "{} on {} ({} SMs): {:.3f} ms, {} kernels on {} streams, GPU idle {:.1f}% of the time.\n",
        what, gpu_.name, gpu_.sm_count, r.latency.ms(), graph.kernels.size(), r.streams,
        100 * r.gpu_idle);
    ctx.console << fmt::format("{}: {:.3f} ms ({} kernels, {} streams)\n", what, r.latency.ms(),
                               graph.kernels.size(), r.streams);
  }

 private:
  models::GpuSpec gpu_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<schedulers::launch::LaunchPolicy> policy_;
  std::string policy_name_;
  models::HostCosts host_;
  workloads::DType dtype_ = workloads::DType::fp32;
  std::string model_;
  bool training_ = false;
  int batch_ = 1, image_size_ = 0;
  std::optional<int> num_classes_;
};

}  // namespace

void register_nimble_experiment(sim::PluginCatalog& catalog) {
  add_experiment<NimbleExperiment>(
      catalog, "nimble",
      "a DNN forward pass or training step under a launch policy (Nimble, NeurIPS 2020)", schema());
}

}  // namespace app
