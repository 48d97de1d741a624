#pragma once
// Re-simulates a traced run: the replay workload's host issue sequence drives the host runtime
// model, its device ops run on the GPU model under a kernel-cost plugin, and each op's simulated
// start and end are kept for comparison with what was measured.

#include <memory>
#include <string>
#include <vector>

#include "drivers/system.hpp"
#include "interconnect/system_spec.hpp"
#include "models/gpu_spec.hpp"
#include "models/kernel_cost.hpp"
#include "sim/timeline.hpp"
#include "sim/registry.hpp"
#include "workloads/kineto_trace.hpp"
#include "workloads/replay_workload.hpp"

namespace drivers {

// --cost trace | roofline, as a kernel-cost plugin configuration.
enum class ReplayCost { trace, roofline };
ReplayCost parse_replay_cost(const std::string& name);
// `params`: extra kernel-cost parameters, "key=value" (--cost-param cta_fixed="2 us").
std::unique_ptr<models::KernelCost> make_replay_cost(sim::PluginCatalog& catalog, ReplayCost cost,
                                                     const std::vector<std::string>& params = {});

struct ReplayResult {
  std::vector<double> start, end;  // per op, seconds from the replay's origin
  double end_time = 0;             // host done and device idle
  double host_busy = 0;
  RunSummary run;
};

// Prices the trace's NCCL kernels on the network model of `system`: each one's collective, from
// its args (collective name, message elements, dtype, group size), on the system's first
// `group size` GPUs with the algorithm its kernel name says (RING, TREE), alone on the network
// (the kernel's wait for its peers is not modelled). Sets KernelDesc::modelled_seconds and the
// op's rule; kernels without args, or with a group the system's node cannot hold, stay unknown
// (counted in notes). Returns how many it priced.
std::size_t price_nccl_kernels(workloads::ReplayWorkload& w, const workloads::kineto::Trace& t,
                               const interconnect::SystemSpec& system,
                               sim::PluginCatalog& catalog);

// `timeline`: the simulated run (host + streams), and when `with_measured`, the measured run
// beside it as its own process.
ReplayResult simulate_replay(const workloads::ReplayWorkload& w, const models::GpuSpec& gpu,
                             const models::KernelCost& cost, sim::TimelineWriter* timeline,
                             bool with_measured);

// An iteration's device span (first op start to last op end), measured and simulated.
struct IterationSpan {
  std::string name;
  std::size_t ops = 0;
  double measured = 0, simulated = 0;  // seconds
};
// One per ProfilerStep; the whole trace as one when it has none.
std::vector<IterationSpan> iteration_spans(const workloads::ReplayWorkload& w,
                                           const ReplayResult& r);

}  // namespace drivers

namespace drivers {

// A few lines on what was replayed: the trace, its GPU and the simulated one, what it holds,
// and every counted approximation and skipped event.
std::string describe_replay(const workloads::kineto::Trace& t, const workloads::ReplayWorkload& w,
                            const models::GpuSpec& gpu, const std::string& cost);

}  // namespace drivers
