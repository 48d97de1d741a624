#include "app/kernel_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <climits>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <CLI/CLI.hpp>
#include <memory>

#include "app/gpu_loader.hpp"
#include "drivers/system.hpp"
#include "models/gpu.hpp"
#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "sim/simulator.hpp"
#include "workloads/graph_builder.hpp"
#include "workloads/lowering.hpp"
#include "models/kernel_pricer.hpp"

namespace app {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using workloads::DType;
using workloads::KernelDesc;

// ---------------------------------------------------------------------------------------------
// The GPU: a preset name or a yaml file, with --set overrides, fully checked.

models::GpuSpec load_gpu(const KernelOptions& o) { return load_gpu_spec(o.gpu, o.overrides); }

// ---------------------------------------------------------------------------------------------
// The op: a one-op graph from the shape options.

struct Problem {
  workloads::OpGraph graph;
  std::string op;     // canonical op name
  std::string shape;  // "M=4096 N=4096 K=4096"
  json::object shape_json;
};

constexpr double kMaxElements = 1099511627776.0;  // 2^40 per tensor: far beyond any GPU memory
constexpr double kMaxFlops = 4.0e18;              // stays exact enough in int64 FLOP counts

void check_elements(std::string_view tensor, std::initializer_list<std::int64_t> dims) {
  double e = 1;
  for (std::int64_t d : dims) e *= static_cast<double>(d);
  if (e > kMaxElements)
    throw sim::InputError(
        fmt::format("the problem is too large: the {} tensor would have {:.3g} "
                    "elements (at most 2^40)",
                    tensor, e));
}

void check_flops(double flops) {
  if (flops > kMaxFlops)
    throw sim::InputError(
        fmt::format("the problem is too large: {:.3g} FLOPs (at most {:.3g})", flops, kMaxFlops));
}

struct ShapeField {
  const char* flag;
  const std::optional<std::int64_t>* value;
  bool may_be_zero;
};

// The options each op takes, canonical op name first.
const std::vector<std::pair<std::string, std::vector<std::string>>>& op_table() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> t{
      {"gemm", {"--m", "--n", "--k", "--batch"}},
      {"conv",
       {"--batch", "--in-channels", "--out-channels", "--size", "--kernel", "--stride",
        "--padding"}},
      {"depthwise_conv",
       {"--batch", "--in-channels", "--size", "--kernel", "--stride", "--padding"}},
      {"pool_max", {"--batch", "--in-channels", "--size", "--kernel", "--stride", "--padding"}},
      {"pool_avg", {"--batch", "--in-channels", "--size", "--kernel", "--stride", "--padding"}},
      {"elementwise", {"--elements", "--function"}},
  };
  return t;
}

std::string canonical_op(const std::string& op) {
  if (op == "pool") return "pool_max";
  std::vector<std::string> names;
  for (const auto& [name, flags] : op_table()) {
    if (name == op) return name;
    names.push_back(name);
  }
  names.push_back("pool");
  throw sim::InputError(fmt::format("unknown op '{}'{}; known: {}", op,
                                    sim::did_you_mean(op, names), fmt::join(names, ", ")));
}

void check_shape_options(const KernelOptions& o, const std::string& op) {
  const std::vector<ShapeField> fields{
      {"--m", &o.m, false},
      {"--n", &o.n, false},
      {"--k", &o.k, false},
      {"--batch", &o.batch, false},
      {"--in-channels", &o.in_channels, false},
      {"--out-channels", &o.out_channels, false},
      {"--size", &o.size, false},
      {"--kernel", &o.kernel, false},
      {"--stride", &o.stride, false},
      {"--padding", &o.padding, true},
      {"--elements", &o.elements, false},
  };
  const auto& takes = std::find_if(op_table().begin(), op_table().end(), [&](const auto& e) {
                        return e.first == op;
                      })->second;
  auto applies = [&](const std::string& flag) {
    return std::find(takes.begin(), takes.end(), flag) != takes.end();
  };
  for (const ShapeField& f : fields) {
    if (!f.value->has_value()) continue;
    const std::int64_t v = **f.value;
    if (!applies(f.flag))
      throw sim::InputError(fmt::format("{} does not apply to --op {} (it takes {})", f.flag, op,
                                        fmt::join(takes, ", ")));
    if (f.may_be_zero ? v < 0 : v <= 0)
      throw sim::InputError(fmt::format("{} must be {}, got {}", f.flag,
                                        f.may_be_zero ? "zero or more" : "positive", v));
    if (v > INT_MAX)
      throw sim::InputError(fmt::format("{} is too large: {} (at most {})", f.flag, v, INT_MAX));
  }
  if (o.function && !applies("--function"))
    throw sim::InputError(fmt::format("--function does not apply to --op {} (it takes {})", op,
                                      fmt::join(takes, ", ")));
}

Problem build_problem(const KernelOptions& o, DType dtype) {
  Problem p;
  p.op = canonical_op(o.op);
  check_shape_options(o, p.op);
  workloads::GraphBuilder b("kernel", dtype);
  workloads::OpGraph& g = b.graph();

  if (p.op == "gemm") {
    const std::int64_t m = o.m.value_or(4096), n = o.n.value_or(4096), k = o.k.value_or(4096);
    const std::int64_t batch = o.batch.value_or(1);
    check_elements("A", {batch, m, k});
    check_elements("B", {batch, k, n});
    check_elements("output", {batch, m, n});
    check_flops(2.0 * static_cast<double>(batch) * m * n * k);
    auto dims = [&](std::int64_t r, std::int64_t c) {
      return batch > 1 ? std::vector<std::int64_t>{batch, r, c} : std::vector<std::int64_t>{r, c};
    };
    workloads::Op op;
    op.name = "gemm";
    op.kind = workloads::OpKind::gemm;
    op.inputs = {g.add_tensor("A", dims(m, k), dtype), g.add_tensor("B", dims(k, n), dtype)};
    op.outputs = {g.add_tensor("Y", dims(m, n), dtype)};
    g.add_op(std::move(op));
    p.shape =
        fmt::format("{}M={} N={} K={}", batch > 1 ? fmt::format("batch={} ", batch) : "", m, n, k);
    p.shape_json = {{"batch", batch}, {"m", m}, {"n", n}, {"k", k}};
  } else if (p.op == "elementwise") {
    const std::int64_t elements = o.elements.value_or(std::int64_t{1} << 24);
    const std::string f = o.function.value_or("add");
    const auto& known = workloads::op_functions(workloads::OpKind::elementwise);
    if (std::find(known.begin(), known.end(), f) == known.end())
      throw sim::InputError(fmt::format("unknown elementwise function '{}'{}; known: {}", f,
                                        sim::did_you_mean(f, known), fmt::join(known, ", ")));
    check_elements("input", {elements});
    workloads::Op op;
    op.name = f;
    op.kind = workloads::OpKind::elementwise;
    op.function = f;
    op.inputs = {g.add_tensor("a", {elements}, dtype)};
    if (f != "neg") op.inputs.push_back(g.add_tensor("b", {elements}, dtype));
    op.outputs = {g.add_tensor("y", {elements}, dtype)};
    g.add_op(std::move(op));
    p.shape = fmt::format("{}, {} elements per operand", f, elements);
    p.shape_json = {{"elements", elements}, {"function", f}};
  } else {  // the windowed ops: conv, depthwise_conv, pools
    const bool pool = p.op.starts_with("pool");
    const std::int64_t batch = o.batch.value_or(1), c = o.in_channels.value_or(64);
    const std::int64_t out_c = p.op == "conv" ? o.out_channels.value_or(64) : c;
    const std::int64_t size = o.size.value_or(56), kernel = o.kernel.value_or(3);
    const std::int64_t stride = o.stride.value_or(pool ? 2 : 1);
    const std::int64_t padding = o.padding.value_or(kernel / 2);
    const std::int64_t out = workloads::window_output(
        size, static_cast<int>(kernel), static_cast<int>(stride), static_cast<int>(padding), 1);
    if (out < 1)
      throw sim::InputError(fmt::format("a {}x{} window does not fit a {}x{} input with padding {}",
                                        kernel, kernel, size, size, padding));
    if (pool && padding > kernel / 2)  // PyTorch's rule: padding at most half the window
      throw sim::InputError(
          fmt::format("--padding {} is too large for a {}x{} pool window (at "
                      "most {})",
                      padding, kernel, kernel, kernel / 2));
    check_elements("input", {batch, c, size, size});
    check_elements("output", {batch, out_c, out, out});
    check_elements("weight", {out_c, c, kernel, kernel});
    const double macs_per_output = p.op == "conv" ? static_cast<double>(c) * kernel * kernel
                                                  : static_cast<double>(kernel) * kernel;
    check_flops(2.0 * batch * out_c * out * out * macs_per_output);
    const workloads::TensorId x = b.input("x", {batch, c, size, size});
    const workloads::Hw k(static_cast<int>(kernel)), s(static_cast<int>(stride)),
        pad(static_cast<int>(padding));
    if (p.op == "conv")
      b.conv(x, out_c, k, s, pad);
    else if (p.op == "depthwise_conv")
      b.depthwise_conv(x, k, s, pad);
    else if (p.op == "pool_max")
      b.max_pool(x, k, s, pad);
    else
      b.avg_pool(x, k, s, pad);
    p.shape = fmt::format("N={} C={} H=W={}", batch, c, size);
    if (p.op == "conv") p.shape += fmt::format(" -> K={}", out_c);
    p.shape += fmt::format(", {}x{} window, stride {}, padding {} -> {}x{} output", kernel, kernel,
                           stride, padding, out, out);
    p.shape_json = {{"batch", batch},    {"in_channels", c}, {"size", size},
                    {"kernel", kernel},  {"stride", stride}, {"padding", padding},
                    {"output_size", out}};
    if (p.op == "conv") p.shape_json["out_channels"] = out_c;
  }
  p.graph = std::move(b.graph());
  p.graph.validate();
  return p;
}

// ---------------------------------------------------------------------------------------------
// Occupancy, from the GPU model's own rules; a kernel that cannot run is bad input here.

models::Occupancy runnable_occupancy(const models::GpuSpec& g, const KernelDesc& k) {
  models::Occupancy o = models::occupancy(g, k);
  if (o.ctas_per_sm == 0)
    throw sim::InputError(fmt::format("kernel '{}' cannot run on {}: {}", k.name, g.name,
                                      o.cannot_run));
  return o;
}

// ---------------------------------------------------------------------------------------------
// Formatting.

std::string si(double v, std::string_view unit) {
  static const char* const prefixes[] = {"", "k", "M", "G", "T", "P", "E"};
  int i = 0;
  while (std::abs(v) >= 1000 && i < 6) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.4g} {}{}", v, prefixes[i], unit);
}

std::string duration(double s) {
  if (s >= 1) return fmt::format("{:.4g} s", s);
  if (s >= 1e-3) return fmt::format("{:.4g} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.4g} us", s * 1e6);
  return fmt::format("{:.4g} ns", s * 1e9);
}

std::string bytes_iec(std::int64_t b) {
  if (b >= 1024 && b % 1024 == 0) return fmt::format("{} KiB", b / 1024);
  if (b >= 1024) return fmt::format("{:.4g} KiB", static_cast<double>(b) / 1024);
  return fmt::format("{} B", b);
}

std::string dim3(const workloads::Dim3& d) {
  return fmt::format("[{}, {}, {}]", d.x, d.y, d.z);
}

json::array dim3_json(const workloads::Dim3& d) {
  return {d.x, d.y, d.z};
}

std::string unit_name(const KernelDesc& k, const models::GpuSpec& g) {
  const bool tensor = k.unit == workloads::MathUnit::tensor_core && g.tensor_peak(k.dtype) > 0;
  return fmt::format("{} ({})", tensor ? "tensor cores" : "CUDA cores",
                     workloads::dtype_name(k.dtype));
}

// ---------------------------------------------------------------------------------------------

struct KernelReport {
  const KernelDesc* k = nullptr;
  models::Occupancy occ;
  std::int64_t ctas_per_wave = 0;
  std::int64_t waves = 0;
  double achievable_flops = 0, achievable_bw = 0;
  double compute_s = 0, memory_s = 0;  // roofline times at the achievable rates
  bool compute_bound = false;
  double time_s = 0;
};

}  // namespace

int kernel_command(const KernelOptions& o, sim::PluginCatalog& catalog, std::ostream& out) {
  const models::GpuSpec spec = load_gpu(o);
  const DType dtype = workloads::parse_dtype(o.dtype);
  const auto cost = models::kernel_costs(catalog).create(
      o.cost, sim::Config::empty(sim::SourcePos{"--cost"}, "kernel_cost"));
  const Problem problem = build_problem(o, dtype);

  if (o.select != "heuristic" && o.select != "fastest")
    throw sim::InputError(
        fmt::format("--select: '{}' is not heuristic or fastest", o.select));
  const workloads::LoweringOptions lo = o.select == "fastest"
                                            ? models::autotuned_lowering(spec, *cost, dtype)
                                            : spec.lowering(dtype);
  const workloads::TaskGraph tasks = workloads::lower_graph(problem.graph, lo);
  if (tasks.kernels.empty())
    throw sim::InputError(fmt::format("--op {} launches no kernel", problem.op));

  std::vector<KernelReport> reports(tasks.kernels.size());
  for (std::size_t i = 0; i < tasks.kernels.size(); ++i) {
    KernelReport& r = reports[i];
    const KernelDesc& k = tasks.kernels[i];
    r.k = &k;
    r.occ = runnable_occupancy(spec, k);
    r.ctas_per_wave = std::int64_t{r.occ.ctas_per_sm} * spec.sm_count;
    r.waves = (k.ctas() + r.ctas_per_wave - 1) / r.ctas_per_wave;
    r.achievable_flops = spec.achievable(k.unit, k.dtype);
    r.achievable_bw = spec.achievable_dram();
    const models::GpuSpec::RooflineBound bound = spec.roofline(k);
    r.compute_s = bound.compute_seconds;
    r.memory_s = bound.memory_seconds;
    r.compute_bound = bound.compute_bound();
  }

  // The kernels in order on one stream from the ideal host (none in the way); each one's time
  // is from its stream handing it to the GPU to its end.
  drivers::System system(spec, drivers::SystemOptions{1, cost.get()});
  std::vector<sim::Time> start(tasks.kernels.size()), end(tasks.kernels.size());
  for (std::size_t i = 0; i < tasks.kernels.size(); ++i)
    system.host().launch(0, tasks.kernels[i], [&, i](sim::Time s) {
      start[i] = s;
      end[i] = system.sim().now();
    });
  system.run();
  if (system.gpu().kernels_completed() != tasks.kernels.size())
    throw std::logic_error("not every kernel finished");
  double total_s = 0, total_flops = 0, total_bytes = 0;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    reports[i].time_s = (end[i] - start[i]).seconds();
    total_s += reports[i].time_s;
    total_flops += reports[i].k->flops;
    total_bytes += reports[i].k->dram_bytes;
  }

  if (o.json) {
    json::array kernels;
    for (const KernelReport& r : reports) {
      const KernelDesc& k = *r.k;
      json::array limits;
      for (const auto& l : r.occ.limits) limits.emplace_back(json::string(l));
      const double flops_rate = k.flops / r.time_s, bw = k.dram_bytes / r.time_s;
      json::object j{
          {"name", k.name},
          {"grid", dim3_json(k.grid)},
          {"block", dim3_json(k.block)},
          {"ctas", k.ctas()},
          {"threads_per_cta", k.threads_per_cta()},
          {"registers_per_thread", k.registers_per_thread},
          {"shared_memory_per_cta", k.shared_mem_per_cta},
          {"ctas_per_sm", r.occ.ctas_per_sm},
          {"occupancy_limited_by", std::move(limits)},
          {"ctas_per_wave", r.ctas_per_wave},
          {"waves", r.waves},
          {"math_unit", k.unit == workloads::MathUnit::tensor_core ? "tensor_core" : "fp32_core"},
          {"dtype", workloads::dtype_name(k.dtype)},
          {"flops", k.flops},
          {"dram_bytes", k.dram_bytes},
          {"l2_bytes", k.l2_bytes},
          {"bound", r.compute_bound ? "compute" : "memory"},
          {"achievable_flops_per_s", r.achievable_flops},
          {"achievable_dram_bytes_per_s", r.achievable_bw},
          {"roofline_compute_s", r.compute_s},
          {"roofline_memory_s", r.memory_s},
          {"time_s", r.time_s},
          {"achieved_tflops", flops_rate / 1e12},
          {"achieved_gbps", bw / 1e9},
          {"percent_of_achievable_flops", 100 * flops_rate / r.achievable_flops},
          {"percent_of_achievable_dram", 100 * bw / r.achievable_bw},
          {"percent_of_achievable",
           100 * (r.compute_bound ? flops_rate / r.achievable_flops : bw / r.achievable_bw)},
      };
      if (k.dram_bytes > 0)
        j["arithmetic_intensity"] = k.flops / k.dram_bytes;
      else
        j["arithmetic_intensity"] = nullptr;
      kernels.emplace_back(std::move(j));
    }
    const json::object doc{
        {"gpu", spec.name},
        {"architecture", spec.architecture},
        {"sm_count", spec.sm_count},
        {"op", problem.op},
        {"dtype", workloads::dtype_name(dtype)},
        {"kernel_cost", o.cost},
        {"shape", problem.shape_json},
        {"kernels", std::move(kernels)},
        {"total_time_s", total_s},
        {"total_flops", total_flops},
        {"total_dram_bytes", total_bytes},
        {"achieved_tflops", total_flops / total_s / 1e12},
        {"achieved_gbps", total_bytes / total_s / 1e9},
    };
    out << json::serialize(doc) << "\n";
    return 0;
  }

  // The answer first, on a line of its own for scripts (`awk '/^time:/ {print $2}'`), in ms.
  out << fmt::format("time: {:.6g} ms\n", total_s * 1e3);
  out << fmt::format("{} {} ({}): {} kernel{} on {} ({}, {} SMs), kernel-cost {}\n", problem.op,
                     problem.shape, workloads::dtype_name(dtype),
                     tasks.kernels.size() == 1 ? "one" : std::to_string(tasks.kernels.size()),
                     tasks.kernels.size() == 1 ? "" : "s", spec.name, spec.architecture,
                     spec.sm_count, o.cost);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const KernelReport& r = reports[i];
    const KernelDesc& k = *r.k;
    const double flops_rate = k.flops / r.time_s, bw = k.dram_bytes / r.time_s;
    out << fmt::format("\nkernel {}/{}: {}\n", i + 1, reports.size(), k.name);
    out << fmt::format(
        "  launch     grid {} = {} CTAs, block {} = {} threads, {} registers/thread, "
        "{} shared memory/CTA\n",
        dim3(k.grid), k.ctas(), dim3(k.block), k.threads_per_cta(), k.registers_per_thread,
        bytes_iec(k.shared_mem_per_cta));
    out << fmt::format(
        "  occupancy  {} CTA{}/SM, limited by {}; {} CTAs per wave -> {} wave{} "
        "({:.2f})\n",
        r.occ.ctas_per_sm, r.occ.ctas_per_sm == 1 ? "" : "s", fmt::join(r.occ.limits, " and "),
        r.ctas_per_wave, r.waves, r.waves == 1 ? "" : "s",
        static_cast<double>(k.ctas()) / static_cast<double>(r.ctas_per_wave));
    out << fmt::format("  work       {} on {}, {} DRAM{}, {}\n", si(k.flops, "FLOP"),
                       unit_name(k, spec), si(k.dram_bytes, "B"),
                       k.l2_bytes > 0 ? fmt::format(" + {} L2", si(k.l2_bytes, "B")) : "",
                       k.dram_bytes > 0 ? fmt::format("{:.4g} FLOP/B", k.flops / k.dram_bytes)
                                        : std::string("no DRAM traffic"));
    out << fmt::format("  roofline   {}-bound: compute {} at {}/s {} memory {} at {}/s\n",
                       r.compute_bound ? "compute" : "memory", duration(r.compute_s),
                       si(r.achievable_flops, "FLOP"),
                       r.compute_bound ? ">" : "<=", duration(r.memory_s),
                       si(r.achievable_bw, "B"));
    out << fmt::format(
        "  simulated  {}: {:.4g} TFLOP/s, {:.4g} GB/s = {:.1f}% of achievable {}\n",
        duration(r.time_s), flops_rate / 1e12, bw / 1e9,
        100 * (r.compute_bound ? flops_rate / r.achievable_flops : bw / r.achievable_bw),
        r.compute_bound ? "compute" : "DRAM bandwidth");
  }
  if (reports.size() > 1)
    out << fmt::format("\ntotal      {} back to back: {:.4g} TFLOP/s, {:.4g} GB/s\n",
                       duration(total_s), total_flops / total_s / 1e12,
                       total_bytes / total_s / 1e9);
  return 0;
}

Command add_kernel_command(CLI::App& cli) {
  auto opts = std::make_shared<KernelOptions>();
  KernelOptions& kernel = *opts;
  auto* sub = cli.add_subcommand(
      "kernel", "predict one kernel's time and explain it (occupancy, waves, roofline bound)");
  sub->add_option("--gpu", kernel.gpu, "a GPU in configs/gpus, or a GPU yaml")->required();
  sub
      ->add_option("--op", kernel.op,
                   "gemm | conv | depthwise_conv | pool_max (pool) | pool_avg | elementwise")
      ->capture_default_str();
  sub->add_option("--dtype", kernel.dtype, "fp32 | fp16 | bf16 | tf32 | int8")
      ->capture_default_str();
  sub->add_option("--cost", kernel.cost, "kernel-cost plugin")->capture_default_str();
  sub->add_option("--set", kernel.overrides, "override a GPU key: gpu.sm_count=100");
  struct ShapeOption {
    const char* flag;
    std::optional<std::int64_t>* field;
    const char* help;
  };
  for (const ShapeOption& o : {
           ShapeOption{"--m", &kernel.m, "gemm: rows of A and of the output (4096)"},
           {"--n", &kernel.n, "gemm: columns of B and of the output (4096)"},
           {"--k", &kernel.k, "gemm: the inner dimension (4096)"},
           {"--batch", &kernel.batch, "images (conv, pool), or batched GEMMs (1)"},
           {"--in-channels", &kernel.in_channels, "conv, pool: input channels (64)"},
           {"--out-channels", &kernel.out_channels, "conv: output channels (64)"},
           {"--size", &kernel.size, "conv, pool: input height = width (56)"},
           {"--kernel", &kernel.kernel, "conv, pool: window height = width (3)"},
           {"--stride", &kernel.stride, "conv, pool: stride (1; pools 2)"},
           {"--padding", &kernel.padding, "conv, pool: padding on each side (kernel / 2)"},
           {"--elements", &kernel.elements, "elementwise: elements per operand (16777216)"},
       })
    sub->add_option_function<std::int64_t>(
        o.flag, [field = o.field](const std::int64_t& v) { *field = v; }, o.help);
  sub->add_option_function<std::string>(
      "--function", [&kernel](const std::string& f) { kernel.function = f; },
      "elementwise: add | sub | mul | div | max | min | neg (add)");
  sub->add_flag("--json", kernel.json, "print one JSON object");
  sub->add_option("--select", kernel.select,
                  "gemm, conv: heuristic (the lowering's tile rule) | fastest (every tile and "
                  "split-K priced on the model)")
      ->capture_default_str();

  return {sub, [opts](sim::PluginCatalog& catalog, std::ostream& out) {
            return kernel_command(*opts, catalog, out);
          }};
}

}  // namespace app
