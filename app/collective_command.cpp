#include "app/collective_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <memory>

#include "app/paths.hpp"
#include "interconnect/collective.hpp"
#include "drivers/collective_measure.hpp"
#include "interconnect/system_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/error.hpp"
#include "sim/nearest.hpp"
#include "sim/timeline.hpp"
#include "sim/units.hpp"

namespace app {
namespace {

std::uint64_t parse_bytes(const std::string& flag, const std::string& text) {
  try {
    if (!text.empty() && std::all_of(text.begin(), text.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; }))
      return std::stoull(text);
    return sim::units::parse_size(text);
  } catch (const std::exception& e) {
    throw sim::InputError(fmt::format("{} '{}': {}", flag, text, e.what()));
  }
}

// nccl-tests' data types (-d) and their sizes: the count column is bytes / size. The model moves
// bytes, so the type changes the count and not the time.
int type_size(const std::string& dtype) {
  static const std::pair<const char*, int> kTypes[] = {
      {"int8", 1},  {"uint8", 1}, {"int32", 4},  {"uint32", 4}, {"int64", 8},   {"uint64", 8},
      {"half", 2},  {"float", 4}, {"double", 8}, {"bfloat16", 2}, {"fp8_e4m3", 1}, {"fp8_e5m2", 1}};
  std::vector<std::string> names;
  for (const auto& [n, s] : kTypes) {
    if (dtype == n) return s;
    names.emplace_back(n);
  }
  throw sim::InputError(fmt::format("--dtype: unknown type '{}'{}; known: {}", dtype,
                                    sim::did_you_mean(dtype, names), fmt::join(names, ", ")));
}

}  // namespace

int collective_command(const CollectiveOptions& o, sim::PluginCatalog& catalog,
                       std::ostream& out) {
  if (o.system.empty()) throw sim::InputError("--system is required (a name in configs/systems)");
  std::vector<std::string> overrides = o.overrides;
  if (o.nodes < 0) throw sim::InputError("--nodes must be >= 1");
  if (o.nodes > 0) overrides.push_back(fmt::format("nodes={}", o.nodes));
  const interconnect::SystemSpec spec =
      interconnect::SystemSpec::load(config_loader(), o.system, overrides);
  const interconnect::CollectiveOp op = interconnect::parse_op(o.op);
  const auto algo = interconnect::collectives(catalog).create(
      o.algo, sim::Config::empty(sim::SourcePos{"--algo"}, "algo"));

  const int elem = type_size(o.dtype);
  const std::vector<std::string> redops = {"sum", "prod", "min", "max", "avg"};
  if (std::find(redops.begin(), redops.end(), o.redop) == redops.end())
    throw sim::InputError(fmt::format("--redop: unknown reduction '{}'{}; known: {}", o.redop,
                                      sim::did_you_mean(o.redop, redops), fmt::join(redops, ", ")));
  std::vector<std::uint64_t> sizes;
  if (!o.bytes.empty()) {
    if (!o.min_bytes.empty() || !o.max_bytes.empty())
      throw sim::InputError("give --bytes or --min/--max, not both");
    sizes.push_back(parse_bytes("--bytes", o.bytes));
    if (sizes.front() == 0) throw sim::InputError("--bytes must be > 0");
  } else {
    const std::uint64_t lo = parse_bytes("--min", o.min_bytes.empty() ? "8" : o.min_bytes);
    const std::uint64_t hi = parse_bytes("--max", o.max_bytes.empty() ? "256MiB" : o.max_bytes);
    if (lo == 0 || hi < lo) throw sim::InputError("need 0 < --min <= --max");
    if (!(o.factor > 1)) throw sim::InputError("--factor must be > 1");
    sizes = drivers::geometric_sizes(lo, hi, o.factor);
    if (sizes.size() > 200) throw sim::InputError("the sweep has more than 200 sizes");
  }

  {  // the algorithm's own errors (halving-doubling on 6 GPUs) before any output
    drivers::System probe(spec, drivers::SystemOptions{1, nullptr});
    algo->plan(op, probe.topology());
  }
  std::unique_ptr<models::KernelCost> cost;
  if (!o.network_only)
    cost = models::kernel_costs(catalog).create("roofline",
                                                sim::Config::empty(sim::SourcePos{"cost"}, "cost"));

  boost::json::array rows;
  if (!o.json) {
    out << fmt::format("# {} {} on {} ({} GPUs, {} node{}){}\n", o.algo, o.op, spec.name,
                       spec.gpus(), spec.nodes, spec.nodes > 1 ? "s" : "",
                       o.network_only ? ", network only" : "");
    // nccl-tests' columns. warpsim models no difference between out-of-place and in-place and
    // moves no data values, so both halves show the same simulated time and #wrong is "N/A".
    out << fmt::format("#{:>55}{:>33}{:>33}\n", "", "out-of-place", "in-place");
    out << fmt::format("#{:>12} {:>13} {:>9} {:>7} {:>7} {:>10} {:>7} {:>7} {:>6} {:>10} {:>7} "
                       "{:>7} {:>6}\n",
                       "size", "count", "type", "redop", "root", "time", "algbw", "busbw",
                       "#wrong", "time", "algbw", "busbw", "#wrong  protocol");
    out << fmt::format("#{:>12} {:>13} {:>9} {:>7} {:>7} {:>10} {:>7} {:>7} {:>6} {:>10} {:>7} "
                       "{:>7} {:>6}\n",
                       "(B)", "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", "", "(us)",
                       "(GB/s)", "(GB/s)", "");
  }
  std::unique_ptr<sim::TimelineWriter> timeline;
  if (!o.timeline.empty()) timeline = std::make_unique<sim::TimelineWriter>(o.timeline);
  double busbw_sum = 0;
  for (std::uint64_t size : sizes) {
    const bool traced = timeline && size == sizes.back();
    const drivers::CollectiveTiming t = drivers::measure_collective(
        spec, cost.get(), *algo, op, size, traced ? timeline.get() : nullptr, o.gpus_per_thread);
    const double us = t.time.us(), algbw = t.algbw_gbps, busbw = t.busbw_gbps;
    const bool reduces = op == interconnect::CollectiveOp::all_reduce ||
                         op == interconnect::CollectiveOp::reduce_scatter;
    busbw_sum += busbw;
    const std::string redop = reduces ? o.redop : "none";
    const int root = op == interconnect::CollectiveOp::broadcast ? 0 : -1;
    if (o.json) {
      rows.push_back(boost::json::object{{"size", size},
                                         {"count", size / static_cast<std::uint64_t>(elem)},
                                         {"type", o.dtype},
                                         {"redop", redop},
                                         {"root", root},
                                         {"time_us", us},
                                         {"algbw_gbps", algbw},
                                         {"busbw_gbps", busbw},
                                         {"protocol", t.protocol}});
    } else {
      out << fmt::format(" {:>12} {:>13} {:>9} {:>7} {:>7} {:>10.2f} {:>7.2f} {:>7.2f} {:>6} "
                         "{:>10.2f} {:>7.2f} {:>7.2f} {:>6}  {}\n",
                         size, size / static_cast<std::uint64_t>(elem), o.dtype, redop, root, us,
                         algbw, busbw, "N/A", us, algbw, busbw, "N/A", t.protocol);
    }
  }
  if (timeline) timeline->close();
  if (!o.json)
    out << fmt::format("# Out of bounds values : N/A (no data values are moved)\n"
                       "# Avg bus bandwidth    : {:.4f} \n#\n",
                       busbw_sum / static_cast<double>(sizes.size()));
  if (o.json)
    out << boost::json::serialize(boost::json::object{{"system", spec.name},
                                                      {"gpus", spec.gpus()},
                                                      {"op", o.op},
                                                      {"algorithm", o.algo},
                                                      {"results", rows}})
        << "\n";
  return kExitOk;
}

Command add_collective_command(CLI::App& cli) {
  auto opts = std::make_shared<CollectiveOptions>();
  CollectiveOptions& o = *opts;
  auto* sub = cli.add_subcommand(
      "collective", "time a collective like nccl-tests (size, count, type, time, algbw, busbw)");
  sub->add_option("--system", o.system, "a system in configs/systems, or a system yaml")
      ->required();
  sub->add_option("--op", o.op, "all_reduce | reduce_scatter | all_gather | broadcast | send_recv")
      ->capture_default_str();
  sub->add_option("--algo", o.algo, "ring | tree | halving-doubling | in-network | hierarchical")
      ->capture_default_str();
  sub->add_option("--bytes,-b", o.bytes, "one message size: 64MiB, 1GB, 4096");
  sub->add_option("--min", o.min_bytes, "sweep: smallest size (8)");
  sub->add_option("--max", o.max_bytes, "sweep: largest size (256MiB)");
  sub->add_option("--factor,-f", o.factor, "sweep: size multiplier")->capture_default_str();
  sub->add_option("--nodes", o.nodes, "nodes of the system (default: the preset's)");
  sub->add_option("--set", o.overrides, "override a system key: node.link.bandwidth=\"300 GB/s\"");
  sub->add_flag("--network-only", o.network_only,
                "links only: no GPU model, collective kernels take no time");
  sub->add_option("--dtype,-d", o.dtype, "nccl-tests' data type: float, half, bfloat16, int8 ... "
                                         "(the count column)")->capture_default_str();
  sub->add_option("--redop,-o", o.redop, "nccl-tests' reduction: sum, prod, min, max, avg")
      ->capture_default_str();
  sub->add_option("--gpus-per-thread,-g", o.gpus_per_thread,
                  "nccl-tests' -g: one host thread launches on this many GPUs in turn (1: one "
                  "rank per GPU, as mpirun -np N ... -g 1)")
      ->check(CLI::Range(1, 1 << 16));
  sub->add_flag("--json", o.json, "print one JSON object");
  sub->add_option("--timeline", o.timeline,
                  "write a Chrome/Perfetto trace of the last size (pieces per phase, kernels)");
  return {sub, [opts](sim::PluginCatalog& catalog, std::ostream& out) {
            return collective_command(*opts, catalog, out);
          }};
}

}  // namespace app
