#include "drivers/replay/trace_replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "drivers/collective_pricer.hpp"
#include "models/gpu.hpp"
#include "models/host_runtime.hpp"
#include "models/occupancy.hpp"
#include "sim/error.hpp"

namespace drivers {

ReplayCost parse_replay_cost(const std::string& name) {
  if (name == "trace") return ReplayCost::trace;
  if (name == "roofline") return ReplayCost::roofline;
  throw sim::InputError(fmt::format("--cost must be 'trace' or 'roofline', got '{}'", name));
}

std::unique_ptr<models::KernelCost> make_replay_cost(sim::PluginCatalog& catalog, ReplayCost cost,
                                                     const std::vector<std::string>& params) {
  // trace: every op keeps its measured duration. roofline: ops whose work the trace tells are
  // predicted; the rest keep their measurement (and are counted as not predicted).
  auto node = sim::parse_yaml(cost == ReplayCost::trace ? "{prefer: measured}" : "{prefer: model}",
                              "--cost");
  for (const std::string& p : params) {
    if (p.find('=') == std::string::npos || p.starts_with("prefer="))
      throw sim::InputError(
          fmt::format("--cost-param: expected key=value (not prefer), got '{}'", p));
    sim::apply_override(node, p);
  }
  auto created = models::kernel_costs(catalog).create("trace", sim::Config(node, "kernel_cost"));
  sim::check_unused(node);
  return created;
}

namespace {

// The collective an NCCL kernel runs, from its `Collective name` arg (PyTorch's names for the
// c10d calls) or, without one, from the kernel's name.
std::optional<interconnect::CollectiveOp> nccl_op(const workloads::kineto::DeviceOp& d) {
  using interconnect::CollectiveOp;
  const std::string& c = d.collective.name;
  auto has = [&](std::string_view s) { return c.find(s) != std::string::npos; };
  if (has("allreduce") || has("all_reduce")) return CollectiveOp::all_reduce;
  if (has("allgather") || has("all_gather")) return CollectiveOp::all_gather;
  if (has("reduce_scatter") || has("reducescatter")) return CollectiveOp::reduce_scatter;
  if (has("broadcast")) return CollectiveOp::broadcast;
  if (has("send") || has("recv")) return CollectiveOp::send_recv;
  return std::nullopt;
}

}  // namespace

std::size_t price_nccl_kernels(workloads::ReplayWorkload& w, const workloads::kineto::Trace& t,
                               const interconnect::SystemSpec& system,
                               sim::PluginCatalog& catalog) {
  // One pricer per (operation, algorithm, group): each remembers the sizes it priced.
  std::map<std::tuple<int, std::string, int>, std::unique_ptr<CollectivePricer>> pricers;
  std::map<std::string, std::unique_ptr<interconnect::Collective>> algorithms;
  std::size_t priced = 0;
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    workloads::ReplayOp& op = w.ops[i];
    const auto& d = t.device_ops[static_cast<std::size_t>(op.trace_op)];
    if (!d.nccl) continue;
    const auto& c = d.collective;
    const auto kind = nccl_op(d);
    const int elem = workloads::kineto::nccl_dtype_size(c.dtype);
    const double bytes = static_cast<double>(std::max(c.in_elements, c.out_elements)) * elem;
    if (!kind || elem <= 0 || bytes <= 0 || c.group_size < 2) {
      ++w.notes["NCCL kernels without collective args, kept at their measurement"];
      continue;
    }
    if (c.group_size > system.gpus_per_node) {
      ++w.notes[fmt::format("NCCL kernels of a group larger than a {} node, kept at their "
                            "measurement", system.name)];
      continue;
    }
    const std::string algo = d.name.find("TREE") != std::string::npos ? "tree" : "ring";
    auto& a = algorithms[algo];
    if (!a)
      a = interconnect::collectives(catalog).create(
          algo, sim::Config::empty(sim::SourcePos{"nccl kernel"}, "algorithm"));
    auto& pricer = pricers[{static_cast<int>(*kind), algo, c.group_size}];
    if (!pricer)
      pricer = std::make_unique<CollectivePricer>(node_subset(system, c.group_size), *a, *kind);
    w.kernels[i].modelled_seconds = pricer->price(static_cast<std::uint64_t>(bytes)).seconds();
    op.work_known = true;
    op.rule = fmt::format("nccl args on {}", system.name);
    ++w.notes[fmt::format("ops with work from the trace: {}", op.rule)];
    ++priced;
  }
  return priced;
}

ReplayResult simulate_replay(const workloads::ReplayWorkload& w, const models::GpuSpec& gpu,
                             const models::KernelCost& cost, sim::TimelineWriter* timeline,
                             bool with_measured) {
  using HK = models::HostCommand::Kind;
  using SK = workloads::HostStep::Kind;
  models::HostProgram program;
  program.streams = std::max<std::int32_t>(1, static_cast<std::int32_t>(w.stream_ids.size()));
  program.events = w.events;
  program.commands.reserve(w.host.size());
  for (const workloads::HostStep& s : w.host) {
    models::HostCommand c;
    switch (s.kind) {
      case SK::gap:
        c.kind = HK::work;
        c.duration = sim::Time::s(s.seconds);
        c.label = "host (measured gap)";
        break;
      case SK::launch:
        c.kind = HK::launch;
        c.stream = s.stream;
        c.kernel = s.op;
        break;
      case SK::record:
      case SK::wait:
        c.kind = s.kind == SK::record ? HK::record : HK::wait;
        c.stream = s.stream;
        c.event = s.event;
        break;
      case SK::synchronize:
        c.kind = s.stream < 0 ? HK::synchronize : HK::stream_synchronize;
        c.stream = std::max(0, s.stream);
        break;
    }
    program.commands.push_back(std::move(c));
  }

  // A kernel tuned for the traced GPU may not fit the simulated one (a 124 KiB-shared-memory
  // sm80 tile on a V100): that is a question the trace cannot answer, so it is bad input.
  for (std::size_t i = 0; i < w.kernels.size(); ++i) {
    const models::Occupancy occ = models::occupancy(gpu, w.kernels[i]);
    if (occ.ctas_per_sm == 0)
      throw sim::InputError(fmt::format(
          "{}: device op {} ('{}') cannot run on {}: {}; replay on a GPU that can hold it",
          w.source, i, w.ops[i].kernel_class.substr(0, 80), gpu.name, occ.cannot_run));
  }
  // The host's own costs are in the measured gaps: the runtime adds none of its own (but the
  // GPU's launch latency, which the gaps do not hold).
  System system(gpu, SystemOptions{1, &cost, models::HostCosts{}, false, nullptr});
  models::Gpu& device = system.gpu();
  models::HostRuntime& host = system.host();
  ReplayResult r;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.start.assign(w.ops.size(), nan);
  r.end.assign(w.ops.size(), nan);
  device.on_kernel([&](const workloads::KernelDesc& k, sim::Time start, sim::Time end) {
    const auto i = static_cast<std::size_t>(&k - w.kernels.data());
    r.start[i] = start.seconds();
    r.end[i] = end.seconds();
  });
  if (timeline) {
    if (with_measured) {
      const int pid = timeline->process("measured (trace)", 0);
      std::vector<int> tids;
      for (std::int64_t id : w.stream_ids)
        tids.push_back(timeline->thread(pid, fmt::format("stream {}", id)));
      for (std::size_t i = 0; i < w.ops.size(); ++i) {
        const workloads::ReplayOp& op = w.ops[i];
        timeline->complete(pid, tids[static_cast<std::size_t>(op.stream)], op.kernel_class,
                           "measured", sim::Time::s(op.measured_start), sim::Time::s(op.measured));
      }
    }
    device.attach_timeline(timeline);
    host.attach_timeline(timeline);
  }
  bool done = false;
  host.run(program, w.kernels, [&] { done = true; });
  r.run = system.run();
  if (!done) throw std::logic_error("replay: the host program did not finish");
  r.end_time = r.run.simulated.seconds();
  r.host_busy = host.host_busy().seconds();
  for (std::size_t i = 0; i < w.ops.size(); ++i)
    if (std::isnan(r.end[i])) throw std::logic_error(fmt::format("replay: op {} never ran", i));
  return r;
}

std::vector<IterationSpan> iteration_spans(const workloads::ReplayWorkload& w,
                                           const ReplayResult& r) {
  const bool whole = w.iterations.empty();
  std::vector<IterationSpan> spans(whole ? 1 : w.iterations.size());
  std::vector<double> m0(spans.size(), 1e300), m1(spans.size(), -1e300), s0 = m0, s1 = m1;
  if (whole) spans[0].name = "whole trace";
  for (std::size_t i = 0; !whole && i < spans.size(); ++i) spans[i].name = w.iterations[i];
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    const std::int32_t it = whole ? 0 : w.ops[i].iteration;
    if (it < 0) continue;
    const auto k = static_cast<std::size_t>(it);
    ++spans[k].ops;
    m0[k] = std::min(m0[k], w.ops[i].measured_start);
    m1[k] = std::max(m1[k], w.ops[i].measured_start + w.ops[i].measured);
    s0[k] = std::min(s0[k], r.start[i]);
    s1[k] = std::max(s1[k], r.end[i]);
  }
  std::vector<IterationSpan> out;
  for (std::size_t k = 0; k < spans.size(); ++k) {
    if (spans[k].ops == 0) continue;
    spans[k].measured = m1[k] - m0[k];
    spans[k].simulated = s1[k] - s0[k];
    out.push_back(spans[k]);
  }
  return out;
}

}  // namespace drivers

namespace drivers {

std::string describe_replay(const workloads::kineto::Trace& t, const workloads::ReplayWorkload& w,
                            const models::GpuSpec& gpu, const std::string& cost) {
  std::size_t known = 0;
  for (const auto& op : w.ops) known += op.work_known;
  std::string s = fmt::format(
      "trace {}: {} kernels ({} NCCL), {} device ops on {} stream{}, {} "
      "iteration{}, traced on {}\n",
      t.source, t.kernels(), t.nccl_kernels(), w.ops.size(), w.stream_ids.size(),
      w.stream_ids.size() == 1 ? "" : "s", w.iterations.size(), w.iterations.size() == 1 ? "" : "s",
      t.devices.empty() ? std::string("an unnamed GPU") : t.devices[0].name);
  s += fmt::format("simulated on {} ({} SMs), kernel cost '{}'", gpu.name, gpu.sm_count, cost);
  if (cost == "roofline")
    s += fmt::format(": {} of {} ops predicted from their work, the rest keep their measurement",
                     known, w.ops.size());
  s += "\n";
  for (const auto& [what, n] : t.warnings) s += fmt::format("  skipped: {} x{}\n", what, n);
  for (const auto& [what, n] : w.notes) s += fmt::format("  note: {} x{}\n", what, n);
  return s;
}

}  // namespace drivers
