#include "app/experiments/innetwork_allreduce.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "app/experiment.hpp"
#include "drivers/training/ddp_iteration.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "drivers/collective_measure.hpp"
#include "sim/units.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace app {
namespace {

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(
      sim::schema(R"(
systems              | list   |       | items {system: <preset>} (configs/systems/)
kernel_cost          | map    |       | kernel-cost plugin: {name: roofline}
dtype                | string | fp16  | training dtype
launch               | plugin | eager | launch policy of each rank's step (eager, graph, nimble)
training             | map    |       | DDP training runs (absent: none)
training.models      | list   |       | names or {name, batch}
training.batch       | int    | 32    | batch of the models named bare
training.buckets     | list   |       | bucket sizes; the first gives the plain keys
training.algorithms  | list   |       | collective algorithms
allreduce            | map    |       | the all-reduce size sweep (absent: none)
allreduce.algorithms | list   |       | collective algorithms
allreduce.min        | size   |       | smallest message
allreduce.max        | size   |       | largest message
allreduce.factor     | double | 4     | size step
published            | map    |       | published values by metric key, for report.md
timeline_run         | string | ""    | which run --timeline shows: <system>.<model>.<algorithm> (default: the first)
)"),
      host_params());
  return s;
}

struct ModelRun {
  std::string name;
  int batch = 32;
};

using Algorithm = NamedPlugin<interconnect::Collective>;

class InNetworkAllReduce final : public Experiment {
 public:
  InNetworkAllReduce(const sim::Config& cfg, sim::PluginCatalog& catalog)
      : InNetworkAllReduce(sim::Params(cfg, schema()), catalog) {}
  InNetworkAllReduce(const sim::Params& cfg, sim::PluginCatalog& catalog) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    dtype_ = workloads::parse_dtype(cfg.string("dtype"));
    for (const sim::Config& s : cfg.value("systems").items())
      systems_.push_back(interconnect::SystemSpec::from_config(s.at("system")));
    if (systems_.empty()) cfg.value("systems").fail("give at least one system");
    // Algorithms are stateless planners: each is built once, from its place in the config.
    auto read_algos = [&](const sim::Config& list) {
      return read_plugins(interconnect::collectives(catalog), list);
    };
    if (auto tr = cfg.find_section("training")) {
      const int batch = static_cast<int>(tr->integer("batch", 1, 4096));
      for (const sim::Config& m : tr->value("models").items()) {
        ModelRun mr;
        mr.name = workloads::read_model_name(m.is_scalar() ? m : m.at("name"));
        mr.batch = m.is_scalar() ? batch : static_cast<int>(m.get_int_in("batch", 1, 4096, batch));
        models_.push_back(mr);
      }
      for (const sim::Config& b : tr->value("buckets").items()) {
        const auto v = b.as_string();
        buckets_.push_back(static_cast<std::int64_t>(sim::units::parse_size(v)));
        if (buckets_.back() <= 0) b.fail("a bucket size must be > 0");
      }
      if (buckets_.empty()) tr->value("buckets").fail("give at least one bucket size");
      train_algos_ = read_algos(tr->value("algorithms"));
    }
    if (auto ar = cfg.find_section("allreduce")) {
      sweep_algos_ = read_algos(ar->value("algorithms"));
      const std::uint64_t lo = ar->size("min"), hi = ar->size("max");
      const double f = ar->real("factor");
      if (lo == 0 || hi < lo || !(f > 1)) ar->config().fail("need 0 < min <= max and factor > 1");
      sizes_ = drivers::geometric_sizes(lo, hi, f);
    }
    // How each rank's step reaches its GPU: a launch policy (default eager) under a host
    // (default the ideal host), so DDP composes with host costs and Nimble's schedule.
    launch_ = schedulers::launch::launch_policies(catalog).create_from(cfg.value("launch"));
    host_ = scenario_host(cfg, launch_->host_mode());
    timeline_run_ = cfg.string("timeline_run");
    published_ = read_published(cfg);
  }

  void run(RunContext& ctx) override {
    // Per system: each model and bucket alone and per algorithm overlapped and not; the sweep.
    ctx.expect_runs(systems_.size() * (models_.size() * buckets_.size() * (1 + 2 * train_algos_.size()) +
                                       sweep_algos_.size() * sizes_.size()));
    for (const auto& sys : systems_) {
      ctx.report += fmt::format("## {} ({} GPUs)\n\n", sys.name, sys.gpus());
      if (!models_.empty()) training(ctx, sys);
      if (!sizes_.empty()) sweep(ctx, sys);
    }
    if (!published_.empty()) {
      ctx.report += "## Published figures beside the simulated ones\n\n| metric | published | "
                    "simulated |\n|---|---|---|\n";
      const auto simulated = ctx.stats.flatten(ctx.end_time);
      for (const auto& [key, value] : published_) {
        const auto it = simulated.find(key);
        ctx.report += fmt::format("| {} | {:.3g} | {} |\n", key, value,
                                  it != simulated.end() ? fmt::format("{:.3g}", it->second) : "-");
      }
    }
    ctx.console << console_;
  }

 private:
  void training(RunContext& ctx, const interconnect::SystemSpec& sys) {
    const workloads::LoweringOptions lo = sys.gpu.lowering(dtype_);
    ctx.report += "| model | bucket | algorithm | backward alone (ms) | backward overlapped (ms) | "
                  "slowdown | iteration overlapped (ms) | iteration not overlapped (ms) |\n"
                  "|---|---|---|---|---|---|---|---|\n";
    for (const ModelRun& m : models_) {
      workloads::ModelOptions mo;
      mo.batch = m.batch;
      mo.dtype = dtype_;
      mo.training = true;
      const workloads::OpGraph g = workloads::make_model(m.name, mo);
      const workloads::TaskGraph tg = workloads::lower_graph(g, lo);
      std::vector<workloads::Phase> phases;
      for (const auto& op : g.ops()) phases.push_back(op.phase);
      for (std::size_t bi = 0; bi < buckets_.size(); ++bi) {
        const auto buckets = workloads::gradient_buckets(g, buckets_[bi]);
        const std::string model_key =
            bi == 0 ? m.name
                    : fmt::format("{}_bucket{}MiB", m.name, buckets_[bi] >> 20);
        const std::string base = fmt::format("innet.{}.{}", sys.name, model_key);
        const drivers::DdpRun alone =
            drivers::run_ddp(sys, *cost_, *train_algos_.front().impl, tg, phases, buckets,
                             ddp_options({.communicate = false}));
        ctx.add_run(alone.run, base + ".alone");
        const std::vector<std::pair<std::string, std::string>> params = {
            {"system", sys.name}, {"model", m.name}, {"batch", std::to_string(m.batch)},
            {"bucket", fmt::format("{} MiB", buckets_[bi] >> 20)}};
        ctx.stats.add_row(sim::ResultRow{base + ".alone", params, {}}
                              .param("algorithm", "none")
                              .metric("backward_ms", alone.backward.ms())
                              .metric("iteration_ms", alone.iteration.ms())
                              .metric("forward_ms", alone.forward.ms()));
        sim::ResultRow model_row{base, params, {}};
        model_row.metric("buckets", static_cast<double>(buckets.size()));
        std::map<std::string, double> slowdown;
        for (const auto& [a, algo] : train_algos_) {
          sim::TimelineWriter* traced = ctx.timeline_for(
              fmt::format("{}.{}.{}", sys.name, model_key, a), timeline_run_);
          const drivers::DdpRun over = drivers::run_ddp(sys, *cost_, *algo, tg, phases, buckets,
                                                        ddp_options({.timeline = traced}));
          const drivers::DdpRun seq = drivers::run_ddp(sys, *cost_, *algo, tg, phases, buckets,
                                                       ddp_options({.overlap = false}));
          const std::string k = fmt::format("{}.{}", base, a);
          slowdown[a] = over.backward.ms() / alone.backward.ms();
          ctx.stats.add_row(sim::ResultRow{k, params, {}}
                                .param("algorithm", a)
                                .metric("backward_ms", over.backward.ms())
                                .metric("iteration_ms", over.iteration.ms())
                                .metric("backward_slowdown", slowdown[a])
                                .metric("iteration_ms_no_overlap", seq.iteration.ms())
                                .metric("allreduce_ms", over.communication.ms()));
          ctx.add_run(over.run, k);
          ctx.add_run(seq.run, k + ".no_overlap");
          ctx.report += fmt::format("| {} | {} MiB | {} | {:.2f} | {:.2f} | {:.3f} | {:.2f} | {:.2f} |\n",
                                    m.name, buckets_[bi] >> 20, a, alone.backward.ms(),
                                    over.backward.ms(), slowdown[a], over.iteration.ms(),
                                    seq.iteration.ms());
          console_ += fmt::format("{:<12} {:<24} {:<17} backward {:8.2f} ms (alone {:8.2f}, x{:.3f})  "
                                  "iteration {:8.2f} ms (not overlapped {:8.2f})\n",
                                  sys.name, model_key, a, over.backward.ms(), alone.backward.ms(),
                                  slowdown[a], over.iteration.ms(), seq.iteration.ms());
        }
        // How much of the host algorithm's slowdown the in-network one removes.
        if (slowdown.count("ring") && slowdown.count("in-network") && slowdown["ring"] > 1)
          model_row.metric("in-network.recovered",
                           (slowdown["ring"] - slowdown["in-network"]) / (slowdown["ring"] - 1));
        ctx.stats.add_row(std::move(model_row));
      }
    }
    ctx.report += "\n";
  }

  void sweep(RunContext& ctx, const interconnect::SystemSpec& sys) {
    ctx.report += "| algorithm | size (B) | time (us) | busbw (GB/s) |\n|---|---|---|---|\n";
    std::map<std::uint64_t, double> ring_us;
    for (const auto& [a, algo] : sweep_algos_) {
      for (std::uint64_t size : sizes_) {
        const drivers::CollectiveTiming t = drivers::measure_collective(
            sys, cost_.get(), *algo, interconnect::CollectiveOp::all_reduce, size);
        const double us = t.time.us(), busbw = t.busbw_gbps;
        const std::string k = fmt::format("allreduce.{}.{}.{}", sys.name, a, size);
        ctx.add_run(t.run, k);
        sim::ResultRow row{k, {{"system", sys.name}, {"algorithm", a}, {"bytes", std::to_string(size)}}, {}};
        row.metric("time_us", us).metric("busbw_gbps", busbw);
        if (a == "ring") ring_us[size] = us;
        if (a != "ring" && ring_us.count(size)) row.metric("speedup_vs_ring", ring_us[size] / us);
        ctx.stats.add_row(std::move(row));
        ctx.report += fmt::format("| {} | {} | {:.2f} | {:.1f} |\n", a, size, us, busbw);
      }
    }
    ctx.report += "\n";
  }

  drivers::DdpOptions ddp_options(drivers::DdpOptions o) const {
    o.launch = launch_.get();
    o.host = host_;
    return o;
  }

  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<schedulers::launch::LaunchPolicy> launch_;
  models::HostCosts host_;
  workloads::DType dtype_ = workloads::DType::fp16;
  std::vector<interconnect::SystemSpec> systems_;
  std::vector<ModelRun> models_;
  std::vector<std::int64_t> buckets_;
  std::vector<Algorithm> train_algos_, sweep_algos_;
  std::vector<std::uint64_t> sizes_;
  std::map<std::string, double> published_;
  std::string console_;
  std::string timeline_run_;  // <system>.<model>.<algorithm>: the overlapped run --timeline shows
};

}  // namespace

void register_innetwork_allreduce_experiment(sim::PluginCatalog& catalog) {
  experiments(catalog).add(
      "innetwork_allreduce",
      "data-parallel training with overlapped all-reduce, host vs in-network (KAIST 2021)",
      schema(),
      [&catalog](const sim::Config& cfg) {
        return std::make_unique<InNetworkAllReduce>(cfg, catalog);
      });
}

}  // namespace app
