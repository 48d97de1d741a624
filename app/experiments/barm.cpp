#include "app/experiments/barm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "app/experiment.hpp"
#include "models/memory/policies.hpp"
#include "models/memory/unified_memory.hpp"
#include "drivers/inference/inference_server.hpp"

namespace app {
namespace {

namespace sharing = schedulers::sharing;
namespace memory = models::memory;

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(
      sim::schema(R"(
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
oversubscription           | list   |       | working set / device memory ratios
sm_counts                  | list   |       | SMs the GPU exposes
policies                   | list   |       | sharing policies
tasksets                   | map    |       | name -> {tasks: [{model, batch, arrival, period, deadline, jobs}]}
only_tasksets              | list   |       | run only these task sets
timeline_run               | string | ""    | which run --timeline shows: <set>.os<ratio>.sm<n>.<policy> (default: the first)
)"),
      host_params());
  return s;
}

class BarmExperiment final : public Experiment {
 public:
  BarmExperiment(const sim::Config& cfg, sim::PluginCatalog& catalog)
      : BarmExperiment(sim::Params(cfg, schema()), catalog) {}
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
    for (const sim::Config& r : cfg.value("oversubscription").items()) {
      const double v = r.as_double();
      if (v <= 0 || v > 100) r.fail("oversubscription ratio must be in (0, 100]");
      ratios_.push_back(v);
    }
    for (const sim::Config& s : cfg.value("sm_counts").items()) {
      const auto n = s.as_int();
      if (n < 1 || n > gpu_.sm_count)
        s.fail(fmt::format("SM count must be in [1, {}] on {}", gpu_.sm_count, gpu_.name));
      sm_counts_.push_back(static_cast<int>(n));
    }
    policies_ = read_plugins(sharing::sharing_policies(catalog), cfg.value("policies"));
    const sim::Config sets = cfg.value("tasksets");
    for (const std::string& name : sets.keys())
      tasksets_.push_back(workloads::read_task_set(name, sets.at(name)));
    timeline_run_ = cfg.string("timeline_run");
    if (auto only = cfg.find("only_tasksets")) {  // a subset, for quick runs
      std::vector<workloads::TaskSet> keep;
      for (const sim::Config& n : only->items()) {
        const std::string s = n.as_string();
        bool found = false;
        for (auto& t : tasksets_)
          if (t.name == s) {
            keep.push_back(t);
            found = true;
          }
        if (!found) n.fail(fmt::format("no task set '{}'", s));
      }
      tasksets_ = std::move(keep);
    }
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(tasksets_.size() * ratios_.size() * sm_counts_.size() * policies_.size());
    drivers::ModelLibrary library(gpu_.lowering(workloads::DType::fp32));
    ctx.report += fmt::format(
        "GPU {} ({} SMs available), unified memory: {} eviction, {} prefetch, {} KiB "
        "granularity; fault batch {}, {:.1f} us per batch + {:.2f} us per fault, migration "
        "{:.1f} GB/s.\n\n",
        gpu_.name, gpu_.sm_count, eviction_name_, prefetch_name_, options_.chunk_bytes >> 10,
        uvm_.fault_batch, uvm_.batch_overhead.us(), uvm_.per_fault.us(),
        uvm_.migration_bandwidth / 1e9);
    for (const auto& set : tasksets_) {
      ctx.report += fmt::format("## Task set `{}`\n\nTasks:", set.name);
      for (const auto& t : set.tasks)
        ctx.report += fmt::format(" {} (batch {}, period {:.0f} ms, deadline {:.0f} ms);", t.model,
                                  t.batch, t.period.ms(), t.deadline.ms());
      ctx.report += "\n\nMean response time in ms (p99 / deadline-miss rate / faults):\n\n";
      std::string head = "| oversub. | SMs |", sep = "|---|---|";
      for (const auto& p : policies_) {
        head += fmt::format(" {} |", p.name);
        sep += "---|";
      }
      ctx.report += head + "\n" + sep + "\n";
      // Where the stall time goes, shown for the most oversubscribed cell with the most SMs.
      const double stall_ratio = *std::max_element(ratios_.begin(), ratios_.end());
      const int stall_sms = *std::max_element(sm_counts_.begin(), sm_counts_.end());
      std::vector<memory::MemoryStats> stalls;
      for (double ratio : ratios_)
        for (int sms : sm_counts_) {
          std::string row = fmt::format("| {:.1f} | {} |", ratio, sms);
          for (const auto& p : policies_) {
            drivers::ServeOptions o = options_;
            const std::string point = fmt::format("{}.os{:.1f}.sm{}.{}", set.name, ratio, sms, p.name);
            o.timeline = ctx.timeline_for(point, timeline_run_);
            o.oversubscription = ratio;
            o.sms = sms;
            const drivers::ServeResult r = drivers::serve(gpu_, *cost_, uvm_, *eviction_,
                                                          *prefetcher_, *p.impl, set, o, library);
            const std::string key = "barm." + point;
            // One row for the point, one per task (the task column says which).
            sim::ResultRow point_row{key, params(set.name, ratio, sms, p.name), {}};
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
                  sim::ResultRow{key + ".task." + set.tasks[t].name,
                                 params(set.name, ratio, sms, p.name), {}}
                      .param("task", set.tasks[t].name)
                      .metric("mean_ms", pt.jobs ? pt.sum_ms / jobs : 0)
                      .metric("miss_rate", pt.jobs ? static_cast<double>(pt.dropped + pt.late) / jobs : 0)
                      .metric("faults", static_cast<double>(r.memory.faults_of(app)))
                      .metric("stall_s", r.memory.stall_of(app)));
            }
            if (ratio == stall_ratio && sms == stall_sms) stalls.push_back(r.memory);
            ctx.add_run(r.run, key);
            ctx.end_time = std::max(ctx.end_time, r.run.simulated);
            row += fmt::format(" {:.1f} ({:.1f} / {:.2f} / {}) |", r.mean_ms, r.p99_ms,
                               r.miss_rate, r.memory.faults);
            console_ << fmt::format("{:<8} os{:.1f} sm{} {:<14} mean {:>9.2f} ms  p99 {:>9.2f} ms"
                                    "  miss {:.2f}  faults {}\n",
                                    set.name, ratio, sms, p.name, r.mean_ms, r.p99_ms,
                                    r.miss_rate, r.memory.faults);
          }
          ctx.report += row + "\n";
        }
      ctx.report += "\n" + stall_table(set, stalls, stall_ratio, stall_sms);
    }
    ctx.console << console_.str();
  }

 private:
  static std::vector<std::pair<std::string, std::string>> params(const std::string& set,
                                                                 double ratio, int sms,
                                                                 const std::string& policy) {
    return {{"taskset", set},
            {"oversubscription", fmt::format("{:g}", ratio)},
            {"sms", std::to_string(sms)},
            {"policy", policy}};
  }

  // Each policy's stall time (CTAs waiting for pages, summed) by task, and its three kernels
  // that stalled longest.
  std::string stall_table(const workloads::TaskSet& set,
                          const std::vector<memory::MemoryStats>& stalls, double ratio,
                          int sms) const {
    std::string out = fmt::format(
        "Stall time in s (CTAs waiting for pages, summed) at ratio {:.1f}, {} SMs:\n\n| task |",
        ratio, sms);
    std::string sep = "|---|";
    for (const auto& p : policies_) {
      out += fmt::format(" {} |", p.name);
      sep += "---|";
    }
    out += "\n" + sep + "\n";
    for (std::size_t t = 0; t < set.tasks.size(); ++t) {
      out += fmt::format("| {} |", set.tasks[t].name);
      for (const auto& m : stalls) out += fmt::format(" {:.2f} |", m.stall_of(static_cast<int>(t)));
      out += "\n";
    }
    out += "\nKernel classes that stalled longest (summed over the layers that launch them):\n\n";
    for (std::size_t p = 0; p < stalls.size() && p < policies_.size(); ++p) {
      std::vector<std::pair<double, std::string>> worst;
      for (const auto& [key, s] : stalls[p].stall_by_kernel)
        worst.push_back({s, fmt::format("{} {}", set.tasks.at(static_cast<std::size_t>(key.first)).name,
                                        key.second)});
      const auto n = std::min<std::size_t>(3, worst.size());
      std::partial_sort(worst.begin(), worst.begin() + static_cast<std::ptrdiff_t>(n), worst.end(),
                        [](const auto& a, const auto& b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                        });
      out += fmt::format("- {}:", policies_[p].name);
      for (std::size_t i = 0; i < n; ++i)
        out += fmt::format("{} `{}` {:.2f} s", i ? "," : "", worst[i].second, worst[i].first);
      out += n ? "\n" : " none\n";
    }
    return out + "\n";
  }

  models::GpuSpec gpu_;
  memory::UvmParams uvm_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<memory::EvictionPolicy> eviction_;
  std::unique_ptr<memory::Prefetcher> prefetcher_;
  std::string eviction_name_ = "lru", prefetch_name_ = "none";
  drivers::ServeOptions options_;
  std::vector<double> ratios_;
  std::vector<int> sm_counts_;
  std::vector<NamedPlugin<sharing::SharingPolicy>> policies_;
  std::string timeline_run_;
  std::vector<workloads::TaskSet> tasksets_;
  std::ostringstream console_;
};

}  // namespace

void register_barm_experiment(sim::PluginCatalog& catalog) {
  experiments(catalog).add(
      "barm",
      "multi-tenant DNN inference under oversubscribed unified memory (BARM, Liu 2023)",
      schema(), [&catalog](const sim::Config& cfg) {
        return std::make_unique<BarmExperiment>(cfg, catalog);
      });
}

}  // namespace app
