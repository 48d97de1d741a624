#include "app/knee_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <map>
#include <memory>

#include "app/gpu_loader.hpp"
#include "drivers/dnn/knee_curve.hpp"
#include "models/kernel_cost.hpp"
#include "schedulers/launch/launch_policy.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/stats.hpp"
#include "workloads/lowering.hpp"
#include "workloads/model_zoo.hpp"

namespace app {

int knee_command(const KneeOptions& o, sim::PluginCatalog& catalog, std::ostream& out) {
  const models::GpuSpec gpu = load_gpu_spec(o.gpu, o.overrides);
  const std::string model = workloads::read_model_name(
      sim::Config(sim::parse_yaml(fmt::format("\"{}\"", o.model), "--model"), "model"));
  const workloads::DType dtype = workloads::parse_dtype(o.dtype);
  if (o.step < 1 || o.step > 100) throw sim::InputError("--step: a GPU% between 1 and 100");
  const double within = parse_fraction_option("--within", o.within);
  for (int b : o.batches)
    if (b < 1 || b > 4096) throw sim::InputError(fmt::format("--batch {}: must be 1..4096", b));
  const auto none = [](const char* what) { return sim::Config::empty(sim::SourcePos{what}, what); };
  const auto cost = models::kernel_costs(catalog).create("roofline", none("kernel_cost"));
  const auto eager = schedulers::launch::launch_policies(catalog).create("eager", none("policy"));

  std::map<std::string, double> metrics;
  std::string csv = "model,batch,gpu_percent,sms,latency_ms\n";
  out << fmt::format("# {} on {} ({} SMs), {}, ideal host: latency vs the share of the GPU its "
                     "CTAs may occupy\n",
                     model, gpu.name, gpu.sm_count, o.dtype);
  for (int batch : o.batches) {
    workloads::ModelOptions mo;
    mo.batch = batch;
    mo.dtype = dtype;
    const auto graph = workloads::lower_graph(workloads::make_model(model, mo), gpu.lowering(dtype));
    const drivers::KneeCurve c = drivers::knee_curve(gpu, *cost, *eager, models::HostCosts::ideal(),
                                                     graph, o.step, within);
    const drivers::SharePoint& knee = c.points[c.knee];
    out << fmt::format("\nbatch {}: knee at {}% ({} SMs), {:.3f} ms; the whole GPU {:.3f} ms\n",
                       batch, knee.percent, knee.sms, knee.latency_ms, c.whole_ms());
    out << fmt::format("{:>6} {:>5} {:>12} {:>9}\n", "GPU%", "SMs", "latency ms", "vs 100%");
    const std::string key = fmt::format("knee.{}.bs{}", model, batch);
    for (const drivers::SharePoint& p : c.points) {
      out << fmt::format("{:>6} {:>5} {:>12.3f} {:>+8.1f}%{}\n", p.percent, p.sms, p.latency_ms,
                         100 * (p.latency_ms / c.whole_ms() - 1),
                         p.sms == knee.sms ? "  <- knee" : "");
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
      ->delimiter(',')
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
