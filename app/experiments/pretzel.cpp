#include "app/experiments/pretzel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "app/experiment.hpp"
#include "drivers/pipeline/gpu_operators.hpp"
#include "drivers/pipeline/pipeline_server.hpp"
#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "models/cpu_cost.hpp"
#include "workloads/ml_pipeline.hpp"
#include "workloads/request_stream.hpp"

namespace app {
namespace {

using drivers::PipelineServing;

const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = schema_of(sim::schema(R"(
zoo                      | map    | {}      | the generated pipeline zoo (absent keys: PRETZEL's 250 + 50)
zoo.sentiment            | int    | 250     | sentiment pipelines (tokenize, char/word n-grams, concat, linear)
zoo.regression           | int    | 50      | regression pipelines (normalize, linear or trees)
zoo.char_dictionaries    | int    | 8       | distinct char n-gram dictionaries the sentiment pipelines share
zoo.word_dictionaries    | int    | 8       | distinct word n-gram dictionaries
zoo.latency_critical     | int    | 10      | the first N pipelines are latency-critical
zoo.trees_on_gpu         | bool   | false   | the regression pipelines' tree ensembles run on `gpu`
gpu                      | gpu    |         | GPU of the on-GPU operators (needed only when there are some)
kernel_cost              | map    | {name: roofline} | kernel-cost plugin of the GPU model
pipelines                | list   |         | pipelines written out (replaces the zoo; docs/pretzel.md)
requests                 | map    |         | the request stream (keys: docs/serving.md); prompt = review characters
popularity               | double | 1       | Zipf exponent of pipeline popularity (0: uniform)
fanout                   | int    | 1       | pipelines each input is scored by
throughput_requests      | int    | 20000   | requests of the closed-loop throughput run
memory                   | size   | 32 GiB  | the server's memory, for pipelines per device
server                   | map    | {}      | the serving processes
server.runtime           | size   | 150 MB  | the serving process (CLR, ML.NET, the server), once
server.model_runtime     | size   | 8 MB    | black box: a loaded model's operator objects and compiled code
server.container         | size   | 0 B     | black box: a container per model (Clipper-style)
server.plan              | size   | 64 KB   | white box: a compiled plan
server.reserved_cores    | int    | 2       | white box: cores only latency-critical pipelines use
)"),
                                              schema_of(models::cpu_params(), host_params()));
  return s;
}

// Black-box vs white-box serving of the same pipelines under the same request streams: memory
// with every pipeline loaded, pipelines per device, hot and cold latency under an open-loop
// stream, and closed-loop throughput.
class PretzelExperiment final : public Experiment {
 public:
  PretzelExperiment(const sim::Params& cfg, sim::PluginCatalog& catalog)
      : requests_cfg_(cfg.value("requests")) {
    if (auto list = cfg.find("pipelines")) {
      zoo_ = workloads::read_pipelines(*list);
    } else {
      const sim::Params zoo = cfg.section("zoo");
      workloads::PipelineZooSpec z;
      z.sentiment = static_cast<int>(zoo.integer("sentiment", 0, 100000));
      z.regression = static_cast<int>(zoo.integer("regression", 0, 100000));
      z.char_dictionaries = static_cast<int>(zoo.integer("char_dictionaries", 1, 100000));
      z.word_dictionaries = static_cast<int>(zoo.integer("word_dictionaries", 1, 100000));
      z.latency_critical = static_cast<int>(zoo.integer("latency_critical", 0, 100000));
      z.trees_on_gpu = zoo.flag("trees_on_gpu");
      if (z.sentiment + z.regression < 1) cfg.value("zoo").fail("the zoo needs at least one pipeline");
      zoo_spec_ = z;
    }
    popularity_ = cfg.real("popularity");
    if (!(popularity_ >= 0 && popularity_ <= 10))
      cfg.value("popularity").fail(fmt::format("a Zipf exponent in [0, 10], got {}", popularity_));
    fanout_ = static_cast<int>(cfg.integer("fanout", 1, 64));
    const std::size_t pipelines =
        zoo_spec_ ? static_cast<std::size_t>(zoo_spec_->sentiment + zoo_spec_->regression) : zoo_.size();
    if (static_cast<std::size_t>(fanout_) > pipelines)
      cfg.value("fanout").fail(fmt::format("fanout {} exceeds the {} pipelines", fanout_, pipelines));
    throughput_requests_ = cfg.integer("throughput_requests", 1, 10000000);
    memory_ = static_cast<double>(cfg.size("memory"));
    base_.cpu = models::CpuSpec::from_params(cfg.section("cpu"));
    const sim::Params server = cfg.section("server");
    base_.runtime_bytes = static_cast<double>(server.size("runtime"));
    base_.model_runtime_bytes = static_cast<double>(server.size("model_runtime"));
    base_.container_bytes = static_cast<double>(server.size("container"));
    base_.plan_bytes = static_cast<double>(server.size("plan"));
    base_.reserved_cores =
        static_cast<int>(server.integer("reserved_cores", 0, base_.cpu.cores - 1));
    bool on_gpu = zoo_spec_ && zoo_spec_->trees_on_gpu;
    for (const auto& p : zoo_)
      for (const auto& op : p.ops) on_gpu = on_gpu || op.on_gpu;
    if (on_gpu) {
      const auto g = cfg.find("gpu");
      if (!g) {
        if (zoo_spec_) cfg.value("zoo").fail("trees_on_gpu needs a `gpu:` to run them on");
        cfg.value("pipelines").fail("an operator with `device: gpu` needs a `gpu:` to run on");
      }
      gpu_ = models::GpuSpec::from_config(*g);
      cost_ = models::kernel_costs(catalog).create_from(cfg.value("kernel_cost"));
      launch_ = schedulers::launch::launch_policies(catalog).create(
          "eager", sim::Config::empty({}, "launch"));
      host_ = scenario_host(cfg, "eager");
    }
    // Read the stream now, so a bad one fails before anything runs.
    sim::RngStream check(0, "requests");
    workloads::read_requests(requests_cfg_, check);
  }

  void run(RunContext& ctx) override {
    if (zoo_spec_) {
      sim::RngStream zoo_rng = ctx.rng.stream("pretzel.zoo");
      zoo_ = workloads::make_pipeline_zoo(*zoo_spec_, zoo_rng);
    }
    if (gpu_) base_.gpu_seconds = drivers::price_gpu_operators(zoo_, *gpu_, *cost_, host_, *launch_);
    sim::RngStream rank_rng = ctx.rng.stream("pretzel.ranks");
    const std::vector<int> ranks =
        workloads::popularity_ranks(static_cast<int>(zoo_.size()), rank_rng);
    sim::RngStream stream_rng = ctx.rng.stream("pretzel.requests");
    sim::RngStream open_picks = ctx.rng.stream("pretzel.popularity");
    const std::vector<workloads::Request> arrivals = workloads::read_requests(requests_cfg_, stream_rng);
    if (arrivals.empty()) throw sim::InputError("pretzel: the request stream is empty");
    const auto open = workloads::assign_pipelines(arrivals, ranks, popularity_, fanout_, open_picks);
    // The closed loop: the same mix, everything at once on a warm server.
    sim::RngStream closed_rng = ctx.rng.stream("pretzel.closed");
    sim::RngStream closed_picks = ctx.rng.stream("pretzel.closed.popularity");
    workloads::RequestStreamSpec s;
    s.arrivals.kind = workloads::ArrivalProcess::Kind::constant;
    s.arrivals.rate = 1e12;
    s.count = throughput_requests_;
    std::vector<double> lengths;
    for (const workloads::Request& r : arrivals) lengths.push_back(r.prompt_tokens);
    s.prompt = workloads::LengthDistribution::empirical(std::move(lengths));
    const auto closed = workloads::assign_pipelines(workloads::generate_requests(s, closed_rng),
                                                    ranks, popularity_, fanout_, closed_picks);
    ctx.expect_runs(6);
    struct ModeResult {
      double memory, density, hot_p50, hot_p99, cold_p99, throughput, hit;
      std::int64_t cold_starts;
    };
    auto serve = [&](PipelineServing mode, const char* name) {
      drivers::PipelineServerOptions o = base_;
      o.mode = mode;
      o.warm = true;
      const auto hot = drivers::serve_pipelines(zoo_, open, o);
      ctx.add_run(hot.run, std::string(name) + ".hot");
      const auto tput = drivers::serve_pipelines(zoo_, closed, o);
      ctx.add_run(tput.run, std::string(name) + ".throughput");
      o.warm = false;
      const auto cold = drivers::serve_pipelines(zoo_, open, o);
      ctx.add_run(cold.run, std::string(name) + ".cold");
      ModeResult m{hot.memory_bytes,
                   drivers::pipelines_per_device(zoo_, o, memory_),
                   hot.p50 * 1e3,
                   hot.p99 * 1e3,
                   cold.p99 * 1e3,
                   tput.throughput,
                   hot.mean_hit_rate,
                   cold.cold_starts};
      ctx.stats.add_row(sim::ResultRow{name, {}, {}}
                            .metric("memory_gb", m.memory / 1e9)
                            .metric("pipelines_per_device", m.density)
                            .metric("hot.p50_ms", m.hot_p50)
                            .metric("hot.p99_ms", m.hot_p99)
                            .metric("cold.p99_ms", m.cold_p99)
                            .metric("cold_starts", static_cast<double>(m.cold_starts))
                            .metric("throughput_rps", m.throughput)
                            .metric("llc_hit_rate", m.hit)
                            .metric("gpu_busy", tput.gpu_busy));
      return m;
    };
    const ModeResult black = serve(PipelineServing::black_box, "black_box");
    const ModeResult white = serve(PipelineServing::white_box, "white_box");
    sim::ResultRow ratios{"pretzel", {}, {}};
    ratios.metric("memory_ratio", black.memory / white.memory)
        .metric("p99_ratio", black.hot_p99 / white.hot_p99)
        .metric("cold_p99_ratio", black.cold_p99 / white.cold_p99)
        .metric("throughput_ratio", white.throughput / black.throughput)
        .metric("density_ratio", white.density / std::max(1.0, black.density));
    ctx.stats.add_row(std::move(ratios));

    const std::size_t shared_objects = drivers::shared_parameter_objects(zoo_);
    auto row = [](const char* what, double b, double w, const char* unit, double published,
                  bool higher_better) {
      const double ratio = higher_better ? w / b : b / w;
      return fmt::format("| {} | {:.4g} {} | {:.4g} {} | {:.2f}x | {} |\n", what, b, unit, w, unit,
                         ratio, published > 0 ? fmt::format("{}x", published) : std::string("-"));
    };
    std::string table =
        "| | black box | white box | white-box gain | published gain |\n|---|---:|---:|---:|---:|\n";
    table += row("memory, all pipelines loaded", black.memory / 1e9, white.memory / 1e9, "GB", 25, false);
    table += row("pipelines per device", black.density, white.density, "", 0, true);
    table += row("P99 latency, hot", black.hot_p99, white.hot_p99, "ms", 5.5, false);
    table += row("P50 latency, hot", black.hot_p50, white.hot_p50, "ms", 0, false);
    table += row("P99 latency, cold", black.cold_p99, white.cold_p99, "ms", 0, false);
    table += row("throughput (closed loop)", black.throughput, white.throughput, "pred/s", 4.7, true);
    table += row("LLC hit rate of lookups", black.hit, white.hit, "", 0, true);
    const std::string line = fmt::format(
        "{} pipelines ({} parameter objects shared by several), {} cores: white box / black box "
        "memory {:.1f}x lower, P99 {:.2f}x lower, throughput {:.2f}x higher\n",
        zoo_.size(), shared_objects, base_.cpu.cores, black.memory / white.memory,
        black.hot_p99 / white.hot_p99, white.throughput / black.throughput);
    ctx.report += fmt::format(
        "Classical-ML pipelines served as black boxes (a model each) and as white-box plans over "
        "shared objects (PRETZEL); {} open-loop requests, fanout {}.\n\n{}\n{}",
        open.size(), fanout_, table, line);
    ctx.console << line;
  }

 private:
  sim::Config requests_cfg_;
  std::optional<workloads::PipelineZooSpec> zoo_spec_;
  std::vector<workloads::Pipeline> zoo_;
  double popularity_ = 1;
  int fanout_ = 1;
  std::int64_t throughput_requests_ = 20000;
  double memory_ = 0;
  drivers::PipelineServerOptions base_;
  std::optional<models::GpuSpec> gpu_;  // only when some operator runs on it
  std::unique_ptr<models::KernelCost> cost_;
  std::unique_ptr<schedulers::launch::LaunchPolicy> launch_;
  models::HostCosts host_;
};

}  // namespace

void register_pretzel_experiment(sim::PluginCatalog& catalog) {
  add_experiment<PretzelExperiment>(
      catalog, "pretzel",
      "classical-ML pipelines served black-box vs white-box: memory, density, P99, throughput "
      "(PRETZEL, OSDI 2018)",
      schema());
}

}  // namespace app
