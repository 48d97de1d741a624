#include "app/experiments/barm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "app/experiment.hpp"
#include "drivers/inference/inference_server.hpp"
#include "models/memory/policies.hpp"
#include "models/memory/unified_memory.hpp"

namespace app {
namespace {

namespace sharing = schedulers::sharing;
namespace memory = models::memory;

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(sim::schema(R"(
gpu                        | gpu    |       | GPU preset (configs/gpus/)
uvm                        | uvm    |       | UVM driver parameters (configs/uvm/)
kernel_cost                | map    |       | kernel-cost plugin: {name: roofline}
memory                     | map    |       | unified memory
memory.eviction            | plugin |       | eviction policy (family memory)
memory.prefetch            | plugin |       | prefetcher (family memory-prefetch)
memory.granularity         | size   | 2 MiB | eviction unit: 64 KiB or 2 MiB
memory.prefetch_weights    | bool   | false | cudaMemPrefetchAsync of the weights
memory.read_mostly_weights | bool   | false | cudaMemAdviseSetReadMostly on them
memory.reuse_activations   | bool   | false | an activation arena by liveness (else a buffer per blob)
oversubscription           | double | 1     | working set / device memory ratio, in (0, 100]
sms                        | int    |       | SMs the GPU exposes (absent: all of them)
policy                     | plugin | barm  | sharing policy (family sharing)
tasksets                   | map    |       | name -> {tasks: [{model, batch, arrival, period, deadline, jobs, priority}]}
taskset                    | string |       | which of them runs
)"),
                                              host_params());
  return s;
}

class BarmExperiment final : public Experiment {
 public:
  BarmExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : gpu_(models::GpuSpec::from_config(cfg.value("gpu"))),
        uvm_(memory::UvmParams::from_config(cfg.value("uvm"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    const sim::Params mem = cfg.section("memory");
    eviction_name_ = sim::plugin_label(mem.value("eviction"));
    prefetch_name_ = sim::plugin_label(mem.value("prefetch"));
    eviction_ = memory::eviction_policies(catalog).create_from(mem.value("eviction"));
    prefetcher_ = memory::prefetchers(catalog).create_from(mem.value("prefetch"));
    options_.chunk_bytes = mem.size("granularity");
    if (options_.chunk_bytes != memory::kBasicBlockBytes &&
        options_.chunk_bytes != memory::kVaBlockBytes)
      mem.value("granularity").fail("must be 64 KiB (basic block) or 2 MiB (VA block)");
    options_.prefetch_weights = mem.flag("prefetch_weights");
    options_.read_mostly_weights = mem.flag("read_mostly_weights");
    options_.reuse_activations = mem.flag("reuse_activations");
    options_.host = scenario_host(cfg, "eager");
    ratio_ = cfg.real("oversubscription");
    if (!(ratio_ > 0 && ratio_ <= 100))
      cfg.value("oversubscription").fail("oversubscription ratio must be in (0, 100]");
    sms_ = gpu_.sm_count;
    if (cfg.has("sms")) sms_ = static_cast<int>(cfg.integer("sms", 1, gpu_.sm_count));
    policy_name_ = sim::plugin_label(cfg.value("policy"));
    policy_ = sharing::sharing_policies(catalog).create_from(cfg.value("policy"));
    const sim::Config sets = cfg.value("tasksets");
    const std::string wanted = cfg.string("taskset");
    std::vector<std::string> names;
    for (const std::string& name : sets.keys()) {  // every set checked, one kept
      names.push_back(name);
      workloads::TaskSet t = workloads::read_task_set(name, sets.at(name));
      if (name == wanted) taskset_ = std::move(t);
    }
    if (taskset_.name.empty())
      cfg.value("taskset").fail(
          fmt::format("no task set '{}'; the file has {}", wanted, fmt::join(names, ", ")));
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(1);
    drivers::ModelLibrary library(gpu_.lowering(workloads::DType::fp32));
    const workloads::TaskSet& set = taskset_;
    drivers::ServeOptions o = options_;
    o.timeline = ctx.timeline;
    o.oversubscription = ratio_;
    o.sms = sms_;
    const drivers::ServeResult r =
        drivers::serve(gpu_, *cost_, uvm_, *eviction_, *prefetcher_, *policy_, set, o, library);
    // One row for the point, one per task (the task column says which).
    const auto params = std::vector<std::pair<std::string, std::string>>{
        {"taskset", set.name},
        {"oversubscription", fmt::format("{:g}", ratio_)},
        {"sms", std::to_string(sms_)},
        {"policy", policy_name_}};
    sim::ResultRow point_row{"", params, {}};
    point_row.metric("mean_ms", r.mean_ms)
        .metric("p99_ms", r.p99_ms)
        .metric("miss_rate", r.miss_rate)
        .metric("completed", static_cast<double>(r.completed))
        .metric("mean_group", r.mean_group());
    for (const auto& [k, v] : r.memory.totals()) point_row.metric(k, v);
    ctx.stats.add_row(std::move(point_row));
    for (std::size_t t = 0; t < set.tasks.size(); ++t) {
      const auto& pt = r.tasks[t];
      const int app = static_cast<int>(t);
      const double jobs = static_cast<double>(pt.jobs);
      ctx.stats.add_row(
          sim::ResultRow{fmt::format("task.{}", set.tasks[t].name), params, {}}
              .param("task", set.tasks[t].name)
              .metric("mean_ms", pt.jobs ? pt.sum_ms / jobs : 0)
              .metric("miss_rate", pt.jobs ? static_cast<double>(pt.dropped + pt.late) / jobs : 0)
              .metric("faults", static_cast<double>(r.memory.faults_of(app)))
              .metric("stall_s", r.memory.stall_of(app)));
    }
    ctx.add_run(r.run, "run");
    ctx.end_time = r.run.simulated;

    ctx.report += fmt::format(
        "GPU {} ({} of {} SMs), unified memory: {} eviction, {} prefetch, {} KiB granularity; "
        "fault batch {}, {:.1f} us per batch + {:.2f} us per fault, migration {:.1f} GB/s. "
        "Working set {:.1f}x device memory, policy {}.\n\n",
        gpu_.name, sms_, gpu_.sm_count, eviction_name_, prefetch_name_, options_.chunk_bytes >> 10,
        uvm_.fault_batch, uvm_.batch_overhead.us(), uvm_.per_fault.us(),
        uvm_.migration_bandwidth / 1e9, ratio_, policy_name_);
    ctx.report += fmt::format(
        "Task set `{}`: mean response {:.2f} ms, p99 {:.2f} ms, deadline-miss rate {:.3f}, "
        "{} faults.\n\n| task | batch | period (ms) | deadline (ms) | mean (ms) | miss rate | "
        "faults | stall (s) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        set.name, r.mean_ms, r.p99_ms, r.miss_rate, r.memory.faults);
    for (std::size_t t = 0; t < set.tasks.size(); ++t) {
      const auto& task = set.tasks[t];
      const auto& pt = r.tasks[t];
      const double jobs = static_cast<double>(pt.jobs);
      ctx.report += fmt::format(
          "| {} | {} | {:.0f} | {:.0f} | {:.2f} | {:.3f} | {} | {:.3f} |\n", task.name, task.batch,
          task.period.ms(), task.deadline.ms(), pt.jobs ? pt.sum_ms / jobs : 0,
          pt.jobs ? static_cast<double>(pt.dropped + pt.late) / jobs : 0,
          r.memory.faults_of(static_cast<int>(t)), r.memory.stall_of(static_cast<int>(t)));
    }
    ctx.report += '\n';
    ctx.report += worst_stalls(set, r.memory);
    ctx.console << fmt::format(
        "{} os{:g} sm{} {}: mean {:.2f} ms, p99 {:.2f} ms, miss {:.2f}, "
        "faults {}\n",
        set.name, ratio_, sms_, policy_name_, r.mean_ms, r.p99_ms, r.miss_rate, r.memory.faults);
  }

 private:
  // The three kernel classes that stalled longest (CTAs waiting for pages, summed over the
  // layers that launch them).
  static std::string worst_stalls(const workloads::TaskSet& set, const memory::MemoryStats& m) {
    std::vector<std::pair<double, std::string>> worst;
    for (const auto& [key, s] : m.stall_by_kernel)
      worst.push_back(
          {s, fmt::format("{} {}", set.tasks.at(static_cast<std::size_t>(key.first)).name,
                          key.second)});
    const auto n = std::min<std::size_t>(3, worst.size());
    std::partial_sort(worst.begin(), worst.begin() + static_cast<std::ptrdiff_t>(n), worst.end(),
                      [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    std::string out = "Kernel classes that stalled longest:";
    for (std::size_t i = 0; i < n; ++i)
      out += fmt::format("{} `{}` {:.2f} s", i ? "," : "", worst[i].second, worst[i].first);
    return out + (n ? "\n" : " none\n");
  }

  models::GpuSpec gpu_;
  memory::UvmParams uvm_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<memory::EvictionPolicy> eviction_;
  std::unique_ptr<memory::Prefetcher> prefetcher_;
  std::string eviction_name_ = "lru", prefetch_name_ = "none";
  drivers::ServeOptions options_;
  double ratio_ = 1;
  int sms_ = 0;
  std::unique_ptr<sharing::SharingPolicy> policy_;
  std::string policy_name_;
  workloads::TaskSet taskset_;
};

}  // namespace

void register_barm_experiment(sim::PluginCatalog& catalog) {
  add_experiment<BarmExperiment>(
      catalog, "barm",
      "one task set of DNN inference apps under oversubscribed unified memory (BARM, Liu 2023)",
      schema());
}

}  // namespace app
