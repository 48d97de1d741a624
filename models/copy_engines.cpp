#include "models/copy_engines.hpp"

#include <algorithm>
#include <utility>

namespace models {

CopyEngines::CopyEngines(sim::Simulator& sim, const GpuSpec& spec, sim::FairShare& dram,
                         sim::FairShare::ResourceId dram_res, std::function<void()> shares_changed)
    : sim_(sim),
      spec_(spec),
      dram_(dram),
      dram_res_(dram_res),
      shares_changed_(std::move(shares_changed)) {}

void CopyEngines::start(const CtaWork& work, std::function<void()> on_done) {
  const std::uint32_t id = copies_.acquire();
  Copy& c = copies_[id];
  c.work = work;
  c.on_done = std::move(on_done);
  c.active = true;
  c.run.since = sim_.now() + spec_.cta_launch + work.fixed;
  if (work.dram_bytes > 0) {
    // An engine streams like a grid spread over the whole GPU: it competes for DRAM with the
    // weight of one resident CTA per SM, and alone it can take all of it.
    const sim::FairShare::ResourceId res[1] = {dram_res_};
    c.flow = dram_.add_flow(res, sim::FairShare::kUncapped, static_cast<double>(spec_.sm_count));
    c.has_flow = true;
    shares_changed_();  // timed in retime(), once the shares are solved
  } else {
    time(id);
  }
}

void CopyEngines::retime() {
  for (std::uint32_t id = 0; id < copies_.size(); ++id) {
    Copy& c = copies_[id];
    if (!c.active || !c.has_flow) continue;
    c.rate = dram_.rate(c.flow);
    time(id);  // an unchanged rate keeps its completion
  }
}

void CopyEngines::time(std::uint32_t id) {
  Copy& c = copies_[id];
  double t = 0;
  if (c.work.dram_bytes > 0) {
    if (c.rate <= 0) return;  // no share yet: timed when it gets one
    t = std::max(c.work.dram_bytes / c.rate, spec_.dram_latency.seconds());
  }
  c.run.run_at(sim_, t > 0 ? 1.0 / t : 0.0, [this, id] { finish(id); });
}

void CopyEngines::finish(std::uint32_t id) {
  Copy& c = copies_[id];
  c.active = false;
  if (c.has_flow) {
    dram_.remove_flow(c.flow);
    shares_changed_();  // the kernels get its bandwidth back
  }
  // Like a kernel, a copy signals completion after the device's fixed overhead.
  sim_.schedule_in(spec_.kernel_overhead, std::move(c.on_done));
  copies_.release(id);
}

}  // namespace models
