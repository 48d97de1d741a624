#include "app/experiments/windtunnel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "app/experiment.hpp"
#include "drivers/dnn/dnn_run.hpp"
#include "drivers/inference/activation_layout.hpp"
#include "models/kernel_pricer.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"
#include "workloads/tree_ensemble.hpp"

namespace app {
namespace {

using workloads::TreeStrategy;

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(sim::schema(R"(
gpu             | gpu    |                                              | GPU preset (configs/gpus/)
kernel_cost     | map    |                                              | kernel-cost plugin: {name: roofline}
dtype           | string | fp32                                         | features, thresholds, leaf values
kind            | string | random_forest                                | random_forest | gradient_boosting
trees           | int    | 500                                          | trees (boosting with > 2 classes: rounds, a tree per class each)
features        | int    | 28                                           | features per sample
classes         | int    | 2                                            | outputs per sample
depths          | list   |                                              | tree depths to sweep, each in [1, 30]
batches         | list   |                                              | batch sizes to sweep
strategies      | list   | [gemm, tree_traversal, perfect_tree_traversal] | compilation strategies
training_batch  | int    | 1000                                         | samples per fine-tuning step
training_depths | list   | []                                           | depths of the fine-tuning steps (gemm form)
)"),
                                              host_params());
  return s;
}

// Hummingbird's strategy comparison and WindTunnel's fine-tuning step, every point one
// simulated run of the ensemble's tensor program on one GPU (eager: a launch per op, as
// TorchScript runs it).
class WindTunnelExperiment final : public Experiment {
 public:
  WindTunnelExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : gpu_(models::GpuSpec::from_config(cfg.value("gpu"))) {
    cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
    launch_ = schedulers::launch::launch_policies(catalog).create(
        "eager", sim::Config::empty({}, "launch"));
    dtype_ = workloads::read_dtype(cfg.value("dtype"));
    ensemble_.name = "forest";
    ensemble_.kind = workloads::read_ensemble_kind(cfg.value("kind"));
    ensemble_.trees = static_cast<int>(cfg.integer("trees", 1, 100000));
    ensemble_.features = static_cast<int>(cfg.integer("features", 1, 1 << 20));
    ensemble_.classes = static_cast<int>(cfg.integer("classes", 1, 100000));
    depths_ = read_depths(cfg.value("depths"), true);
    for (const sim::Config& v : cfg.value("batches").items()) {
      const std::int64_t b = v.as_int();
      if (b < 1 || b > (1 << 24)) v.fail(fmt::format("a batch must be in [1, 16777216], got {}", b));
      batches_.push_back(b);
    }
    if (batches_.empty()) cfg.value("batches").fail("give at least one batch size");
    for (const sim::Config& v : cfg.value("strategies").items())
      strategies_.push_back(workloads::read_tree_strategy(v));
    if (strategies_.empty()) cfg.value("strategies").fail("give at least one strategy");
    // A crossover needs both sides swept: gemm, and a traversal (which fits at any depth).
    crossover_swept_ = std::count(strategies_.begin(), strategies_.end(), TreeStrategy::gemm) > 0 &&
                       std::count(strategies_.begin(), strategies_.end(), TreeStrategy::gemm) <
                           static_cast<std::ptrdiff_t>(strategies_.size());
    training_batch_ = cfg.integer("training_batch", 1, 1 << 24);
    training_depths_ = read_depths(cfg.value("training_depths"), false);
    host_ = scenario_host(cfg, "eager");
  }

  void run(RunContext& ctx) override {
    ctx.expect_runs(depths_.size() * batches_.size() * strategies_.size() +
                    2 * training_depths_.size());
    std::string table = "| depth | batch |";
    for (TreeStrategy s : strategies_) table += fmt::format(" {} (ms) |", name(s));
    table += " best | heuristic | heuristic / best |\n|---:|---:|";
    for (std::size_t i = 0; i < strategies_.size() + 3; ++i) table += "---:|";
    table += "\n";
    int points = 0, picked_best = 0;
    double worst_regret = 1;
    std::map<std::int64_t, int> crossover;  // batch -> first depth a traversal beats gemm
    for (std::int64_t batch : batches_) {
      for (int depth : depths_) {
        const std::string point = fmt::format("d{}.b{}", depth, batch);
        sim::ResultRow row{point, {}, {}};
        std::map<TreeStrategy, double> ms;
        table += fmt::format("| {} | {} |", depth, batch);
        for (TreeStrategy s : strategies_) {
          const std::optional<double> t = time_ms(ctx, depth, batch, s, false, point);
          row.metric(fmt::format("{}.fits", name(s)), t ? 1 : 0);
          if (t) {
            ms[s] = *t;
            row.metric(fmt::format("{}.ms", name(s)), *t);
          }
          table += t ? fmt::format(" {:.3f} |", *t) : std::string(" OOM |");
        }
        const TreeStrategy heuristic = workloads::heuristic_tree_strategy(depth);
        if (ms.empty()) {
          table += " - | " + name(heuristic) + " | - |\n";
          ctx.stats.add_row(std::move(row));
          continue;
        }
        const auto best = std::min_element(ms.begin(), ms.end(), [](const auto& a, const auto& b) {
          return a.second < b.second;
        });
        row.metric("best", static_cast<double>(best->first));
        std::string regret_cell = "-";
        if (auto h = ms.find(heuristic); h != ms.end()) {
          const double regret = h->second / best->second;
          row.metric("heuristic_over_best", regret);
          ++points;
          if (h->first == best->first) ++picked_best;
          worst_regret = std::max(worst_regret, regret);
          regret_cell = fmt::format("{:.2f}x", regret);
        }
        double traversal = std::numeric_limits<double>::infinity();
        for (const auto& [s, t] : ms)
          if (s != TreeStrategy::gemm) traversal = std::min(traversal, t);
        if (auto g = ms.find(TreeStrategy::gemm); g != ms.end() && std::isfinite(traversal)) {
          row.metric("gemm_over_traversal", g->second / traversal);
          if (traversal < g->second && !crossover.count(batch)) crossover[batch] = depth;
        } else if (crossover_swept_ && g == ms.end() && std::isfinite(traversal) && !crossover.count(batch)) {
          crossover[batch] = depth;  // gemm does not even fit any more
        }
        table += fmt::format(" {} | {} | {} |\n", name(best->first), name(heuristic), regret_cell);
        ctx.stats.add_row(std::move(row));
      }
    }
    std::string lines;
    for (std::int64_t batch : batches_) {
      if (!crossover_swept_) break;
      const auto c = crossover.find(batch);
      // No crossover in the swept depths: one past the deepest, so the metric stays ordered.
      const int depth = c == crossover.end() ? depths_.back() + 1 : c->second;
      ctx.stats.add_row(sim::ResultRow{fmt::format("b{}", batch), {}, {}}.metric("crossover_depth", depth));
      lines += fmt::format("batch {}: traversal first beats gemm at depth {}{}\n", batch, depth,
                           c == crossover.end() ? " (not within the swept depths)" : "");
    }
    sim::ResultRow summary{"heuristic", {}, {}};
    if (points > 0)
      summary.metric("picks_best", static_cast<double>(picked_best) / points)
          .metric("worst_over_best", worst_regret);
    ctx.stats.add_row(std::move(summary));

    std::string training;
    if (!training_depths_.empty()) {
      training = fmt::format(
          "\nFine-tuning (WindTunnel): one step of the relaxed gemm form, batch {}, Adam.\n\n"
          "| depth | inference (ms) | training step (ms) | step / inference |\n|---:|---:|---:|---:|\n",
          training_batch_);
      for (int depth : training_depths_) {
        const std::string point = fmt::format("train.d{}", depth);
        const std::optional<double> step =
            time_ms(ctx, depth, training_batch_, TreeStrategy::gemm, true, point);
        const std::optional<double> infer =
            time_ms(ctx, depth, training_batch_, TreeStrategy::gemm, false, point + ".inference");
        sim::ResultRow row{point, {}, {}};
        if (step) row.metric("step_ms", *step);
        if (infer) row.metric("inference_ms", *infer);
        if (step && infer) row.metric("step_over_inference", *step / *infer);
        training += fmt::format("| {} | {} | {} | {} |\n", depth,
                                infer ? fmt::format("{:.3f}", *infer) : "OOM",
                                step ? fmt::format("{:.3f}", *step) : "OOM",
                                step && infer ? fmt::format("{:.2f}x", *step / *infer) : "-");
        ctx.stats.add_row(std::move(row));
      }
    }
    const std::string head = fmt::format(
        "A {} of {} trees, {} features, {} classes on {} ({}), one kernel launch per op from the host; "
        "complete trees of each depth. OOM: the program's tensors exceed the GPU's memory.\n\n",
        workloads::ensemble_kind_name(ensemble_.kind), ensemble_.total_trees(), ensemble_.features,
        ensemble_.classes, gpu_.name,
        workloads::dtype_name(dtype_));
    const std::string verdict =
        points > 0 ? fmt::format("The depth heuristic picks the fastest strategy at {} of {} points; "
                                 "at worst it is {:.2f}x the fastest.\n",
                                 picked_best, points, worst_regret)
                   : std::string();
    ctx.report += "Tree ensembles as tensor programs (Hummingbird strategies).\n\n" + head + table +
                  "\n" + lines + verdict + training;
    ctx.console << lines << verdict;
  }

 private:
  static std::string name(TreeStrategy s) { return std::string(workloads::tree_strategy_name(s)); }

  static std::vector<int> read_depths(const sim::Config& list, bool required) {
    std::vector<int> out;
    for (const sim::Config& v : list.items()) {
      const std::int64_t d = v.as_int();
      if (d < 1 || d > workloads::kMaxTreeDepth)
        v.fail(fmt::format("tree depth {} is outside [1, {}], the deepest the format allows", d,
                           workloads::kMaxTreeDepth));
      out.push_back(static_cast<int>(d));
    }
    if (required && out.empty()) list.fail("give at least one tree depth");
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // One pass (or training step); nothing when the program's tensors do not fit the GPU.
  std::optional<double> time_ms(RunContext& ctx, int depth, std::int64_t batch, TreeStrategy s,
                                bool training, const std::string& point) {
    workloads::TreeEnsemble e = ensemble_;
    e.depth = depth;
    workloads::TreeGraphOptions o;
    o.batch = batch;
    o.strategy = s;
    o.dtype = dtype_;
    o.training = training;
    // Sizes first: the gemm form of a deep tree has tables of 2^(2d) entries per tree, which
    // must not be built just to find they do not fit.
    // (The traversals' largest tensors may be int64 indices.)
    const int elem = s == TreeStrategy::gemm ? workloads::dtype_size(dtype_) : 8;
    const double largest = workloads::tree_program_largest_tensor(e, o) * elem;
    if (largest > static_cast<double>(gpu_.dram_capacity)) {
      ctx.add_run(drivers::RunSummary{}, point + "." + name(s));
      return std::nullopt;
    }
    const workloads::OpGraph g = workloads::make_tree_graph(e, o);
    const double bytes = static_cast<double>(g.parameter_bytes()) +
                         static_cast<double>(drivers::arena_bytes(g));
    if (bytes > static_cast<double>(gpu_.dram_capacity)) {
      ctx.add_run(drivers::RunSummary{}, point + "." + name(s));
      return std::nullopt;
    }
    const workloads::TaskGraph tg =
        workloads::lower_graph(g, models::autotuned_lowering(gpu_, *cost_, dtype_));
    const drivers::DnnRun r = drivers::run_dnn(gpu_, *cost_, *launch_, host_, tg);
    ctx.add_run(r.run, point + "." + name(s));
    return r.latency.seconds() * 1e3;
  }

  models::GpuSpec gpu_;
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<schedulers::launch::LaunchPolicy> launch_;
  workloads::DType dtype_ = workloads::DType::fp32;
  workloads::TreeEnsemble ensemble_;
  std::vector<int> depths_;
  std::vector<std::int64_t> batches_;
  std::vector<TreeStrategy> strategies_;
  bool crossover_swept_ = false;  // gemm and a traversal both among the strategies
  std::int64_t training_batch_ = 1000;
  std::vector<int> training_depths_;
  models::HostCosts host_;
};

}  // namespace

void register_windtunnel_experiment(sim::PluginCatalog& catalog) {
  add_experiment<WindTunnelExperiment>(
      catalog, "windtunnel",
      "tree ensembles compiled to tensor programs: gemm vs tree traversal vs perfect-tree "
      "traversal over depth and batch, and a fine-tuning step (Hummingbird, WindTunnel)",
      schema());
}

}  // namespace app
