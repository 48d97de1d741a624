#include "app/replay_command.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "app/gpu_loader.hpp"
#include "app/replay_inputs.hpp"
#include "app/trace_validation.hpp"
#include "workloads/kineto_trace.hpp"

namespace app {
namespace {

struct ReplayOptions {
  ReplayInputs in;
  std::string timeline;
};

int replay_command(const ReplayOptions& o, sim::PluginCatalog& catalog, std::ostream& out) {
  const ReplayCost mode = parse_replay_cost(o.in.cost);
  const models::GpuSpec gpu = load_gpu_spec(o.in.gpu, o.in.overrides);
  const auto cost = make_replay_cost(catalog, mode, o.in.cost_params);
  const workloads::kineto::Trace trace = workloads::kineto::read_trace(o.in.trace);
  const workloads::ReplayWorkload w = replay_workload(trace, o.in.system, catalog);

  std::unique_ptr<sim::TimelineWriter> timeline;
  if (!o.timeline.empty()) timeline = std::make_unique<sim::TimelineWriter>(o.timeline);
  const ReplayResult r = simulate_replay(w, gpu, *cost, timeline.get(), true);
  if (timeline) timeline->close();

  out << describe_replay(trace, w, gpu, o.in.cost);
  out << fmt::format("{:<24} {:>12} {:>12} {:>8}\n", "iteration", "measured", "simulated", "error");
  for (const IterationSpan& s : iteration_spans(w, r))
    out << fmt::format("{:<24} {:>9.3f} ms {:>9.3f} ms {:>+7.1f}%\n", s.name.substr(0, 24),
                       s.measured * 1e3, s.simulated * 1e3, 100 * (s.simulated / s.measured - 1));
  out << fmt::format("simulated end to end {:.3f} ms (measured host gaps replayed: {:.3f} ms){}\n",
                     r.end_time * 1e3, r.host_busy * 1e3,
                     o.timeline.empty() ? "" : "; timeline: " + o.timeline);
  return kExitOk;
}

}  // namespace

Command add_replay_command(CLI::App& cli) {
  auto o = std::make_shared<ReplayOptions>();
  auto* sub = cli.add_subcommand("replay", "re-simulate a real PyTorch-profiler (Kineto) trace");
  add_replay_inputs(*sub, o->in);
  sub->add_option("--timeline", o->timeline,
                  "write the simulated run, with the measured one beside it (Perfetto JSON)");
  return {sub, [o](sim::PluginCatalog& catalog, std::ostream& out) {
            return replay_command(*o, catalog, out);
          }};
}

}  // namespace app
