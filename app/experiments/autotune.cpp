#include "app/experiments/autotune.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "app/experiment.hpp"
#include "drivers/dnn/dnn_run.hpp"
#include "drivers/dnn/tuning_jobs.hpp"
#include "models/kernel_pricer.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/op_graph.hpp"

namespace app {
namespace {

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(sim::schema(R"(
gpu         | gpu    |      | GPU preset (configs/gpus/)
kernel_cost | map    |      | kernel-cost plugin: {name: roofline}
dtype       | string | fp16 | the models' precision: fp32, fp16, bf16, tf32
models      | list   |      | models to tune: zoo names or op-graph files
batch       | int    | 8    | their batch
percents    | list   |      | GPU shares (MPS %) the tuned models run at, in (0, 100)
repeats     | int    | 3    | times a tuning job runs each candidate kernel
)"),
                                              host_params());
  return s;
}

class AutotuneExperiment final : public Experiment {
 public:
  AutotuneExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : gpu_(models::GpuSpec::from_config(cfg.value("gpu"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    launch_ = schedulers::launch::launch_policies(catalog).create("eager", sim::Config::empty({}, "launch"));
    dtype_ = workloads::read_dtype(cfg.value("dtype"));
    for (const sim::Config& m : cfg.value("models").items())
      models_.push_back(workloads::read_model_name(m));
    if (models_.empty()) cfg.value("models").fail("tune at least one model");
    batch_ = static_cast<int>(cfg.integer("batch", 1, 4096));
    for (const sim::Config& v : cfg.value("percents").items()) {
      const double p = v.as_double();
      if (!(p > 0 && p < 100)) v.fail(fmt::format("a GPU share must be in (0, 100), got {}", p));
      percents_.push_back(static_cast<int>(std::lround(p)));
    }
    if (percents_.empty()) cfg.value("percents").fail("give at least one GPU share");
    repeats_ = static_cast<int>(cfg.integer("repeats", 1, 1000));
    host_ = scenario_host(cfg, "eager");
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(models_.size() * (1 + 2 * percents_.size()) + 2);
    auto lower = [&](const std::string& model, const workloads::LoweringOptions& o) {
      workloads::ModelOptions mo;
      mo.batch = batch_;
      mo.dtype = dtype_;
      return workloads::lower_graph(workloads::make_model(model, mo), o);
    };
    auto latency = [&](const workloads::TaskGraph& g, int sms, const std::string& point) {
      const drivers::DnnRun r = drivers::run_dnn(gpu_, *cost_, *launch_,
                                                 models::HostCosts::ideal(), g, nullptr, sms);
      ctx.add_run(r.run, point);
      return r.latency.seconds() * 1e3;
    };
    std::string table =
        "| model | GPU % | tuned on 100% (ms) | tuned at the share (ms) | gain |\n|---|---:|---:|---:|---:|\n";
    std::vector<std::vector<workloads::KernelDesc>> full_jobs, share_jobs;
    const int jobs_share = models::sms_for_percent(100.0 / static_cast<double>(models_.size()), gpu_.sm_count);
    for (const std::string& model : models_) {
      const std::string label = std::filesystem::path(model).stem().string();  // a graph file's stem
      std::shared_ptr<models::KernelPricer> full_pricer, share_pricer;
      const workloads::TaskGraph full =
          lower(model, models::autotuned_lowering(gpu_, *cost_, dtype_, 0, &full_pricer));
      full_jobs.push_back(full_pricer->priced());
      // The job that tunes this model beside the others: on its 1/N share, for that share.
      lower(model, models::autotuned_lowering(gpu_, *cost_, dtype_, jobs_share, &share_pricer));
      share_jobs.push_back(share_pricer->priced());
      const double whole = latency(full, 0, label + ".whole");
      ctx.stats.add_row(sim::ResultRow{label, {}, {}}.metric("whole_gpu_ms", whole));
      for (int pct : percents_) {
        const int sms = models::sms_for_percent(pct, gpu_.sm_count);
        const workloads::TaskGraph here =
            lower(model, models::autotuned_lowering(gpu_, *cost_, dtype_, sms));
        const double a = latency(full, sms, fmt::format("{}.pct{}.full", label, pct));
        const double b = latency(here, sms, fmt::format("{}.pct{}.here", label, pct));
        ctx.stats.add_row(sim::ResultRow{fmt::format("{}.pct{}", label, pct), {}, {}}
                              .metric("tuned_full_ms", a)
                              .metric("tuned_here_ms", b)
                              .metric("gain", a / b));
        table += fmt::format("| {} | {} | {:.3f} | {:.3f} | {:.3f}x |\n", label, pct, a, b, a / b);
      }
    }
    const drivers::TuningMakespan seq =
        drivers::run_tuning_jobs(gpu_, *cost_, full_jobs, repeats_, false, host_);
    const drivers::TuningMakespan par =
        drivers::run_tuning_jobs(gpu_, *cost_, share_jobs, repeats_, true, host_);
    ctx.stats.add_row(sim::ResultRow{"tuning", {}, {}}
                          .metric("sequential_s", seq.seconds)
                          .metric("spatial_s", par.seconds)
                          .metric("time_reduction", 1 - par.seconds / seq.seconds)
                          .metric("throughput_gain", seq.seconds / par.seconds)
                          .metric("candidates_sequential", static_cast<double>(seq.kernels))
                          .metric("candidates_spatial", static_cast<double>(par.kernels)));
    const std::string line = fmt::format(
        "Tuning {} models on {} ({} candidate runs): {:.3f} s one after another on the whole GPU, "
        "{:.3f} s side by side on {}% shares ({:.0f}% less time, {:.2f}x tuning throughput)\n",
        models_.size(), gpu_.name, seq.kernels, seq.seconds, par.seconds,
        100 / static_cast<int>(models_.size()), 100 * (1 - par.seconds / seq.seconds),
        seq.seconds / par.seconds);
    ctx.report += fmt::format(
        "Kernel variants (GEMM and convolution tiles, split-K) chosen by timing every candidate on "
        "the GPU model: tuned on the whole {} vs tuned at the share the model then runs at, batch "
        "{}, {}.\n\n{}\n{}",
        gpu_.name, batch_, workloads::dtype_names()[static_cast<std::size_t>(dtype_)], table, line);
    ctx.console << line;
  }

 private:
  models::GpuSpec gpu_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<schedulers::launch::LaunchPolicy> launch_;
  workloads::DType dtype_ = workloads::DType::fp16;
  std::vector<std::string> models_;
  int batch_ = 8;
  std::vector<int> percents_;
  int repeats_ = 3;
  models::HostCosts host_;
};

}  // namespace

void register_autotune_experiment(sim::PluginCatalog& catalog) {
  add_experiment<AutotuneExperiment>(
      catalog, "autotune",
      "kernel variants tuned on the whole GPU vs at the share they run at; tuning jobs in turn "
      "vs side by side (Dhakal et al.)",
      schema());
}

}  // namespace app
