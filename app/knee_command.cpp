#include "app/knee_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "app/gpu_loader.hpp"
#include "drivers/dnn/dnn_run.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/stats.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace app {
namespace {

std::vector<int> parse_batches(const std::string& text) {
  std::vector<int> out;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto comma = std::min(text.find(',', at), text.size());
    const std::string item = text.substr(at, comma - at);
    char* end = nullptr;
    const long b = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || b < 1 || b > 4096)
      throw sim::InputError(
          fmt::format("--batch '{}': expected batch sizes 1..4096 separated by commas", text));
    out.push_back(static_cast<int>(b));
    at = comma + 1;
  }
  return out;
}

struct Point {
  int percent = 0, sms = 0;
  double latency_ms = 0;
};

}  // namespace

int knee_command(const KneeOptions& o, sim::PluginCatalog& catalog, std::ostream& out) {
  const models::GpuSpec gpu = load_gpu_spec(o.gpu, o.overrides);
  const std::string model = workloads::read_model_name(
      sim::Config(sim::parse_yaml(fmt::format("\"{}\"", o.model), "--model"), "model"));
  const workloads::DType dtype = workloads::parse_dtype(o.dtype);
  if (o.step < 1 || o.step > 100) throw sim::InputError("--step: a GPU% between 1 and 100");
  const double within = parse_fraction_option("--within", o.within);
  const std::vector<int> batches = parse_batches(o.batches);
  const auto none = [](const char* what) { return sim::Config::empty(sim::SourcePos{what}, what); };
  const auto cost = models::kernel_costs(catalog).create("roofline", none("kernel_cost"));
  const auto eager = schedulers::launch::launch_policies(catalog).create("eager", none("policy"));
  const models::HostCosts host = models::HostCosts::ideal();

  std::map<std::string, double> metrics;
  std::string csv = "model,batch,gpu_percent,sms,latency_ms\n";
  out << fmt::format("# {} on {} ({} SMs), {}, ideal host: latency vs the share of the GPU its "
                     "CTAs may occupy\n",
                     model, gpu.name, gpu.sm_count, o.dtype);
  for (int batch : batches) {
    workloads::ModelOptions mo;
    mo.batch = batch;
    mo.dtype = dtype;
    const auto graph = workloads::lower_graph(workloads::make_model(model, mo), gpu.lowering(dtype));
    std::vector<Point> points;
    for (int pct = o.step; pct < 100 + o.step; pct += o.step) {
      const int percent = std::min(pct, 100);
      const int sms = std::clamp(
          static_cast<int>(std::lround(percent / 100.0 * gpu.sm_count)), 1, gpu.sm_count);
      if (!points.empty() && points.back().sms == sms) continue;  // the same SMs again
      const drivers::DnnRun r = drivers::run_dnn(gpu, *cost, *eager, host, graph, nullptr, sms);
      points.push_back({percent, sms, r.latency.ms()});
      if (percent == 100) break;
    }
    const double whole = points.back().latency_ms;
    const Point& knee = *std::find_if(points.begin(), points.end(), [&](const Point& p) {
      return p.latency_ms <= whole * (1 + within);
    });
    out << fmt::format("\nbatch {}: knee at {}% ({} SMs), {:.3f} ms; the whole GPU {:.3f} ms\n",
                       batch, knee.percent, knee.sms, knee.latency_ms, whole);
    out << fmt::format("{:>6} {:>5} {:>12} {:>9}\n", "GPU%", "SMs", "latency ms", "vs 100%");
    const std::string key = fmt::format("knee.{}.bs{}", model, batch);
    for (const Point& p : points) {
      out << fmt::format("{:>6} {:>5} {:>12.3f} {:>+8.1f}%{}\n", p.percent, p.sms, p.latency_ms,
                         100 * (p.latency_ms / whole - 1), p.sms == knee.sms ? "  <- knee" : "");
      csv += fmt::format("{},{},{},{},{:.9g}\n", model, batch, p.percent, p.sms, p.latency_ms);
      metrics[fmt::format("{}.pct{}.latency_ms", key, p.percent)] = p.latency_ms;
    }
    metrics[key + ".knee_percent"] = knee.percent;
    metrics[key + ".knee_latency_ms"] = knee.latency_ms;
  }
  if (!o.out.empty()) {
    sim::write_folder_atomic(o.out, [&](const std::filesystem::path& tmp) {
      sim::write_file_atomic(tmp / "knee.csv", csv);
      sim::write_file_atomic(tmp / "metrics.json", sim::metrics_to_json(metrics));
    });
    out << "results: " << o.out << "\n";
  }
  return kExitOk;
}

Command add_knee_command(CLI::App& cli) {
  auto o = std::make_shared<KneeOptions>();
  CLI::App* sub = cli.add_subcommand(
      "knee", "a DNN's latency vs the share of the GPU it may use, and the knee of the curve");
  sub->add_option("--gpu", o->gpu, "a GPU in configs/gpus, or a GPU yaml")->required();
  sub->add_option("--model", o->model, "a model-zoo name: resnet50, vgg16, ... (an unknown name lists them)")
      ->required();
  sub->add_option("--batch", o->batches, "batch sizes, comma separated: 1,8,32")
      ->capture_default_str();
  sub->add_option("--dtype", o->dtype, "fp32 | fp16 | bf16 | tf32")->capture_default_str();
  sub->add_option("--step", o->step, "GPU% between points")->capture_default_str();
  sub->add_option("--within", o->within,
                  "the knee: the smallest share whose latency is within this of the whole GPU's")
      ->capture_default_str();
  sub->add_option("--set", o->overrides, "override a GPU key: gpu.sm_count=100");
  sub->add_option("--out", o->out, "a folder for knee.csv and metrics.json");
  return {sub, [o](sim::PluginCatalog& catalog, std::ostream& out) {
            return knee_command(*o, catalog, out);
          }};
}

}  // namespace app
