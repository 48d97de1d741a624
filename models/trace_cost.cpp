// `kernel-cost: trace` -- a kernel takes the duration it was measured at on a real GPU
// (KernelDesc::measured_seconds, set by trace readers). The measured time is spread over the
// kernel's waves on the simulated GPU, so a kernel still occupies SMs the way its launch shape
// says and concurrency with other kernels still emerges. With `prefer: model`, kernels whose
// work is known (FLOPs or bytes from the trace) are priced by the roofline model instead and
// only the rest keep their measurement: that is how `warpsim replay --cost roofline` checks the
// kernel model without pretending to predict kernels it knows nothing about. Kernels another
// model priced (KernelDesc::modelled_seconds: NCCL kernels on the network model) take that.

#include <algorithm>
#include <cmath>

#include "models/kernel_cost.hpp"
#include "models/occupancy.hpp"
#include "sim/error.hpp"
#include "sim/params.hpp"

namespace models {
namespace {

// Its own key, then the roofline's (the model it falls back on).
const sim::ParamSchema& schema() {
  static const sim::ParamSchema s = [] {
    sim::ParamSchema out = {{"prefer", "string", "measured",
                             "measured | model: price kernels whose work is known by the roofline "
                             "model"}};
    for (sim::ParamSpec p : roofline_params()) {
      p.description = "roofline: " + p.description;
      out.push_back(p);
    }
    return out;
  }();
  return s;
}

class TraceCost final : public KernelCost {
 public:
  explicit TraceCost(const sim::Config& c) : roofline_(make_roofline_cost(c)) {
    const std::string prefer = sim::Params(c, schema()).string("prefer");
    if (prefer != "measured" && prefer != "model")
      c.fail("prefer must be 'measured' or 'model', got '" + prefer + "'");
    prefer_model_ = prefer == "model";
  }

  CtaWork cta_work(const GpuSpec& gpu, const workloads::KernelDesc& k) const override {
    const bool has_work = k.flops > 0 || k.dram_bytes > 0 || k.host_bytes > 0;
    const bool modelled = prefer_model_ && k.modelled_seconds > 0;
    if (!modelled && (k.measured_seconds <= 0 || (prefer_model_ && has_work)))
      return roofline_->cta_work(gpu, k);
    // A measured (or another model's) duration, spread over the kernel's waves.
    const double seconds = modelled ? k.modelled_seconds : k.measured_seconds;
    CtaWork w;
    const int per_sm = std::max(1, ctas_per_sm(gpu, k));
    const double per_wave = static_cast<double>(per_sm) * gpu.sm_count;
    const double waves = std::max(1.0, std::ceil(static_cast<double>(k.ctas()) / per_wave));
    // The GPU model adds the kernel overhead once and a CTA launch per wave: the rest of the
    // measured time is the waves' own.
    const double own = seconds - gpu.kernel_overhead.seconds() -
                       waves * gpu.cta_launch.seconds();
    w.fixed = sim::Time::s(std::max(0.0, own) / waves);
    return w;
  }

 private:
  std::unique_ptr<KernelCost> roofline_;
  bool prefer_model_ = false;
};

}  // namespace

void register_trace_cost(sim::PluginCatalog& c) {
  kernel_costs(c).add(
      "trace",
      "measured durations from a trace (spread over the kernel's waves); roofline without one",
      schema(), [](const sim::Config& c) { return std::make_unique<TraceCost>(c); });
}

}  // namespace models
