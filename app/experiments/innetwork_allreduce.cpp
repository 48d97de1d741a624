#include "app/experiments/innetwork_allreduce.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "app/experiment.hpp"
#include "drivers/collective_measure.hpp"
#include "drivers/training/ddp_iteration.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/units.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace app {
namespace {

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(sim::schema(R"(
system      | system |          | system preset (configs/systems/)
measure     | string | training | training (a DDP iteration) | allreduce (one collective)
kernel_cost | map    |          | kernel-cost plugin: {name: roofline}
dtype       | string | fp16     | training dtype
launch      | plugin | eager    | launch policy of each rank's step (eager, graph, nimble)
algorithm   | plugin | ring     | collective algorithm (family collective)
model       | string | resnet50 | training: zoo model
batch       | int    | 32       | training: per-GPU batch
bucket      | size   | 25 MiB   | training: gradient bucket size (PyTorch DDP's bucket_cap_mb default)
bytes       | int    | 67108864 | allreduce: message size in bytes (a count, as the keys show it)
)"),
                                              host_params());
  return s;
}

// One point: a DDP training iteration of one model with one gradient-bucket size and one
// collective algorithm, overlapped and not, beside the same iteration without communication;
// or one all-reduce of one size. Comparisons across algorithms are the sweeps' reports
// (configs/sweeps/innetwork-*.yaml).
class InNetworkAllReduce final : public Experiment {
 public:
  InNetworkAllReduce(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : system_(interconnect::SystemSpec::from_config(cfg.value("system"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    dtype_ = workloads::read_dtype(cfg.value("dtype"));
    const std::string measure = cfg.string("measure");
    if (measure != "training" && measure != "allreduce")
      cfg.value("measure").fail(fmt::format("measure is training or allreduce, got '{}'", measure));
    training_ = measure == "training";
    algorithm_name_ = sim::plugin_label(cfg.value("algorithm"));
    algorithm_ = interconnect::collectives(catalog).create_from(cfg.value("algorithm"));
    model_ = workloads::read_model_name(cfg.value("model"));
    batch_ = static_cast<int>(cfg.integer("batch", 1, 4096));
    bucket_ = cfg.size("bucket");
    if (bucket_ == 0) cfg.value("bucket").fail("a bucket size must be > 0");
    bytes_ = static_cast<std::uint64_t>(cfg.integer("bytes", 1, std::int64_t{1} << 50));
    // How each rank's step reaches its GPU: a launch policy (default eager) under a host
    // (default the ideal host), so DDP composes with host costs and Nimble's schedule.
    launch_ = schedulers::launch::launch_policies(catalog).create_from(cfg.value("launch"));
    host_ = scenario_host(cfg, launch_->host_mode());
  }

  void run(RunContext& ctx) override {
    if (training_)
      training(ctx);
    else
      allreduce(ctx);
  }

 private:
  void training(RunContext& ctx) {
    ctx.expect_runs(3);
    workloads::ModelOptions mo;
    mo.batch = batch_;
    mo.dtype = dtype_;
    mo.training = true;
    const workloads::OpGraph g = workloads::make_model(model_, mo);
    const workloads::TaskGraph tg = workloads::lower_graph(g, system_.gpu.lowering(dtype_));
    std::vector<workloads::Phase> phases;
    for (const auto& op : g.ops()) phases.push_back(op.phase);
    const auto buckets = workloads::gradient_buckets(g, static_cast<std::int64_t>(bucket_));
    const drivers::DdpRun alone = drivers::run_ddp(system_, *cost_, *algorithm_, tg, phases,
                                                   buckets, ddp_options({.communicate = false}));
    const drivers::DdpRun over = drivers::run_ddp(system_, *cost_, *algorithm_, tg, phases, buckets,
                                                  ddp_options({.timeline = ctx.timeline}));
    const drivers::DdpRun seq = drivers::run_ddp(system_, *cost_, *algorithm_, tg, phases, buckets,
                                                 ddp_options({.overlap = false}));
    ctx.add_run(alone.run, "alone");
    ctx.add_run(over.run, "overlapped");
    ctx.add_run(seq.run, "no_overlap");
    ctx.end_time = std::max({alone.run.simulated, over.run.simulated, seq.run.simulated});
    const double slowdown = over.backward.ms() / alone.backward.ms();
    const std::vector<std::pair<std::string, std::string>> params = {
        {"system", system_.name},
        {"model", model_},
        {"batch", std::to_string(batch_)},
        {"bucket", fmt::format("{} MiB", bucket_ >> 20)},
        {"algorithm", algorithm_name_}};
    ctx.stats.add_row(sim::ResultRow{"", params, {}}
                          .metric("backward_ms", over.backward.ms())
                          .metric("iteration_ms", over.iteration.ms())
                          .metric("backward_slowdown", slowdown)
                          .metric("iteration_ms_no_overlap", seq.iteration.ms())
                          .metric("allreduce_ms", over.communication.ms())
                          .metric("buckets", static_cast<double>(buckets.size())));
    ctx.stats.add_row(sim::ResultRow{"alone", params, {}}
                          .metric("backward_ms", alone.backward.ms())
                          .metric("iteration_ms", alone.iteration.ms())
                          .metric("forward_ms", alone.forward.ms()));
    ctx.report += fmt::format(
        "DDP training of {} (batch {} per GPU, {} buckets of up to {} MiB) on {} ({} GPUs), "
        "{} all-reduce:\n\n| | backward (ms) | iteration (ms) |\n|---|---:|---:|\n"
        "| no communication | {:.2f} | {:.2f} |\n| overlapped | {:.2f} | {:.2f} |\n"
        "| not overlapped | | {:.2f} |\n\nBackward slowdown from the overlapped all-reduce: "
        "{:.3f}; all-reduce busy {:.2f} ms.\n",
        model_, batch_, buckets.size(), bucket_ >> 20, system_.name, system_.gpus(),
        algorithm_name_, alone.backward.ms(), alone.iteration.ms(), over.backward.ms(),
        over.iteration.ms(), seq.iteration.ms(), slowdown, over.communication.ms());
    ctx.console << fmt::format(
        "{} {} {}: backward {:.2f} ms (alone {:.2f}, x{:.3f}), iteration "
        "{:.2f} ms (not overlapped {:.2f})\n",
        system_.name, model_, algorithm_name_, over.backward.ms(), alone.backward.ms(), slowdown,
        over.iteration.ms(), seq.iteration.ms());
  }

  void allreduce(RunContext& ctx) {
    ctx.expect_runs(1);
    const drivers::CollectiveTiming t =
        drivers::measure_collective(system_, cost_.get(), *algorithm_,
                                    interconnect::CollectiveOp::all_reduce, bytes_, ctx.timeline);
    ctx.add_run(t.run, "allreduce");
    ctx.end_time = t.run.simulated;
    ctx.stats.add_row(sim::ResultRow{"",
                                     {{"system", system_.name},
                                      {"algorithm", algorithm_name_},
                                      {"bytes", std::to_string(bytes_)}},
                                     {}}
                          .metric("time_us", t.time.us())
                          .metric("busbw_gbps", t.busbw_gbps));
    ctx.report += fmt::format(
        "All-reduce of {} bytes on {} ({} GPUs), {}: {:.2f} us, bus "
        "bandwidth {:.1f} GB/s.\n",
        bytes_, system_.name, system_.gpus(), algorithm_name_, t.time.us(), t.busbw_gbps);
    ctx.console << fmt::format("{} {} {} B: {:.2f} us, busbw {:.1f} GB/s\n", system_.name,
                               algorithm_name_, bytes_, t.time.us(), t.busbw_gbps);
  }

  drivers::DdpOptions ddp_options(drivers::DdpOptions o) const {
    o.launch = launch_.get();
    o.host = host_;
    return o;
  }

  interconnect::SystemSpec system_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<interconnect::Collective> algorithm_;
  std::string algorithm_name_;
  std::unique_ptr<schedulers::launch::LaunchPolicy> launch_;
  models::HostCosts host_;
  workloads::DType dtype_ = workloads::DType::fp16;
  bool training_ = true;
  std::string model_;
  int batch_ = 32;
  std::uint64_t bucket_ = 0, bytes_ = 0;
};

}  // namespace

void register_innetwork_allreduce_experiment(sim::PluginCatalog& catalog) {
  add_experiment<InNetworkAllReduce>(
      catalog, "innetwork_allreduce",
      "a data-parallel iteration with overlapped all-reduce, or one all-reduce (KAIST 2021)",
      schema());
}

}  // namespace app
