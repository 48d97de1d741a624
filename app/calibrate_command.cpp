#include "app/calibrate_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "app/gpu_loader.hpp"
#include "app/paths.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "workloads/json_nodes.hpp"

namespace app {
namespace {
namespace fs = std::filesystem;

struct CalibrateOptions {
  std::string probe, gpu, out;
};

struct Fit {
  std::string key;    // yaml path under the preset: efficiency.dram
  std::string value;  // as written
  std::string why;    // the source comment
};

// A fraction of a peak, kept in (0, 1]: a probe above the datasheet peak (boost clocks above
// the quoted one) caps at 1 rather than inventing a faster GPU.
double fraction(double measured, double peak) {
  return peak > 0 ? std::clamp(measured / peak, 0.01, 1.0) : 0;
}

int calibrate_command(const CalibrateOptions& o, std::ostream& out) {
  const models::GpuSpec spec = load_gpu_spec(o.gpu, {});
  const sim::Config probe(workloads::parse_json_nodes(sim::read_file(o.probe), o.probe), "");
  const std::string measured_on = probe.get_string("gpu", "an unnamed GPU");

  std::vector<Fit> fits;
  const std::string src =
      fmt::format("warpsim-probe on {} ({})", measured_on, fs::path(o.probe).filename().string());
  if (auto launch = probe.find("launch")) {
    const double latency = launch->get_double("launch_latency_us");
    const double gap = launch->get_double("kernel_gap_us");
    if (latency <= 0 || gap <= 0) launch->fail("launch_latency_us and kernel_gap_us must be > 0");
    fits.push_back({"launch.launch_latency", fmt::format("\"{:.3g} us\"", latency),
                    fmt::format("measured: {}, empty-kernel launch + wait round trip", src)});
    // The probe times the back-to-back period of empty kernels with events: the gap plus each
    // kernel's own device time, which the model charges as one CTA launch and the kernel
    // overhead. Splitting the two needs a profiler's kernel durations (CUPTI): the preset's
    // overhead is kept and the gap fitted so that the model's period is the measured one.
    const double own = (spec.kernel_overhead + spec.cta_launch).seconds() * 1e6;
    if (gap <= own)
      launch->at("kernel_gap_us")
          .fail(fmt::format("{} us is not more than the preset's kernel overhead + CTA launch "
                            "({} us): lower launch.kernel_overhead in the preset",
                            gap, own));
    fits.push_back({"launch.kernel_gap", fmt::format("\"{:.3g} us\"", gap - own),
                    fmt::format("measured: {}, back-to-back empty kernels on one stream every "
                                "{:.3g} us, less the preset's kernel_overhead + cta_launch",
                                src, gap)});
  }
  if (auto mem = probe.find("memory")) {
    const double dram = mem->get_double("dram_GBps") * 1e9;
    if (dram <= 0) mem->fail("dram_GBps must be > 0");
    fits.push_back({"efficiency.dram", fmt::format("{:.3f}", fraction(dram, spec.dram_bandwidth)),
                    fmt::format("measured: {}, copy kernel {:.0f} GB/s of {:.0f} GB/s", src,
                                dram / 1e9, spec.dram_bandwidth / 1e9)});
    if (mem->has("l2_GBps") && spec.l2_bandwidth > 0) {
      const double l2 = mem->get_double("l2_GBps") * 1e9;
      fits.push_back({"efficiency.l2", fmt::format("{:.3f}", fraction(l2, spec.l2_bandwidth)),
                      fmt::format("measured: {}, L2-resident re-reads {:.0f} GB/s of {:.0f} GB/s",
                                  src, l2 / 1e9, spec.l2_bandwidth / 1e9)});
    }
  }
  if (auto gemms = probe.find("gemm")) {
    double best_fp32 = 0, best_tensor = 0;
    std::string tensor_dtype;
    for (const sim::Config& g : gemms->items()) {
      const std::string dtype = g.get_string("dtype");
      const double tflops = g.get_double("tflops");
      if (tflops < 0) g.fail("tflops must be >= 0");
      if (dtype == "fp32") best_fp32 = std::max(best_fp32, tflops);
      if ((dtype == "fp16" || dtype == "bf16") && tflops > best_tensor) {
        best_tensor = tflops;
        tensor_dtype = dtype;
      }
    }
    if (best_fp32 > 0)
      fits.push_back({"efficiency.fp32",
                      fmt::format("{:.3f}", fraction(best_fp32 * 1e12, spec.fp32)),
                      fmt::format("measured: {}, best cuBLAS SGEMM {:.1f} of {:.1f} TFLOP/s", src,
                                  best_fp32, spec.fp32 / 1e12)});
    const double tensor_peak = tensor_dtype == "bf16" ? spec.bf16_tensor : spec.fp16_tensor;
    if (best_tensor > 0 && tensor_peak > 0)
      fits.push_back({"efficiency.tensor",
                      fmt::format("{:.3f}", fraction(best_tensor * 1e12, tensor_peak)),
                      fmt::format("measured: {}, best cuBLAS {} GEMM {:.1f} of {:.1f} TFLOP/s", src,
                                  tensor_dtype, best_tensor, tensor_peak / 1e12)});
  }
  if (fits.empty())
    throw sim::InputError(o.probe + ": no 'launch', 'memory' or 'gemm' section to calibrate from");

  // The preset this extends and where the calibrated file goes: never into the source tree's
  // configs/ unasked, but the working folder (or --out).
  const fs::path base = resolve_gpu_file(o.gpu);
  const std::string stem = base.stem().string();
  const fs::path target = o.out.empty() ? fs::path(stem + ".calibrated.yaml") : fs::path(o.out);
  // A shipped preset is named (`gpus/h100-sxm`, found in the config directories wherever the
  // file moves); a file of the user's by its absolute path.
  const bool is_preset = !(o.gpu.find('/') != std::string::npos || o.gpu.ends_with(".yaml") ||
                           o.gpu.ends_with(".yml"));
  const std::string extends =
      is_preset ? "gpus/" + stem : fs::weakly_canonical(fs::absolute(base)).string();

  std::string yaml = fmt::format(
      "# {} calibrated by `warpsim calibrate {} --gpu {}`: the preset's efficiency factors and\n"
      "# launch overheads fitted to what warpsim-probe measured. Everything else is the preset's.\n"
      "extends: {}\nname: {}.calibrated\n",
      stem, fs::path(o.probe).filename().string(), o.gpu, extends, stem);
  std::string section;
  for (const Fit& f : fits) {
    const std::string head = f.key.substr(0, f.key.find('.'));
    if (head != section) {
      yaml += head + ":\n";
      section = head;
    }
    yaml += fmt::format("  {}: {}  # {}\n", f.key.substr(f.key.find('.') + 1), f.value, f.why);
  }
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  sim::write_file_atomic(target, yaml);
  load_gpu_spec(target.string(), {});  // what we wrote must load
  out << fmt::format("calibrated {} from {} ({}):\n", stem, o.probe, measured_on);
  for (const Fit& f : fits) out << fmt::format("  {:<24} {}\n", f.key, f.value);
  out << "wrote " << target.string() << "\n";
  return kExitOk;
}

}  // namespace

Command add_calibrate_command(CLI::App& cli) {
  auto o = std::make_shared<CalibrateOptions>();
  auto* sub = cli.add_subcommand(
      "calibrate",
      "fit a GPU preset's efficiencies to warpsim-probe results (NAME.calibrated.yaml)");
  sub->add_option("probe", o->probe, "probe.json written by warpsim-probe")->required();
  sub->add_option("--gpu", o->gpu, "the preset to calibrate: a name in configs/gpus, or a yaml")
      ->required();
  sub->add_option("--out", o->out, "where to write (default ./NAME.calibrated.yaml)");
  return {sub, [o](sim::PluginCatalog&, std::ostream& out) { return calibrate_command(*o, out); }};
}

}  // namespace app
