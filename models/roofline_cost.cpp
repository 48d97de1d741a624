// `kernel-cost: roofline` — a CTA's work from its FLOPs on its math unit and its DRAM and L2
// bytes; the GPU model takes the max of compute and memory time under the shares it gets.

#include <algorithm>

#include "models/kernel_cost.hpp"
#include "models/occupancy.hpp"
#include "sim/params.hpp"

namespace models {
namespace {

class RooflineCost final : public KernelCost {
 public:
  explicit RooflineCost(const sim::Params& p)
      : warps_to_saturate_(static_cast<int>(p.integer("warps_to_saturate", 1, 64))),
        fixed_(p.duration("cta_fixed")) {}

  CtaWork cta_work(const GpuSpec& gpu, const workloads::KernelDesc& k) const override {
    const double ctas = static_cast<double>(std::max<std::int64_t>(1, k.ctas()));
    const double per_sm_rate = gpu.achievable(k.unit, k.dtype) / gpu.sm_count;
    CtaWork w;
    w.compute_seconds = k.flops / ctas / per_sm_rate;
    // An SM hides latency with several warps per scheduler; a CTA with fewer warps than that
    // cannot use the whole SM however idle it is.
    const double warps = static_cast<double>(footprint(k).warps);
    w.sm_fraction = std::min(1.0, warps / warps_to_saturate_);
    w.dram_bytes = k.dram_bytes / ctas;
    // Little's law: a CTA's warps keep a bounded number of bytes in flight for one DRAM latency.
    if (gpu.dram_latency > sim::Time::zero())
      w.max_dram_rate = warps * static_cast<double>(gpu.sm.bytes_in_flight_per_warp) /
                        gpu.dram_latency.seconds();
    w.l2_bytes = k.l2_bytes / ctas;
    w.fixed = fixed_;
    // A host <-> device copy streams at the host link's rate (a copy engine, no SM).
    if (k.host_bytes > 0 && gpu.host_link_bandwidth > 0)
      w.fixed += sim::Time::s(k.host_bytes / gpu.host_link_bandwidth);
    return w;
  }

 private:
  int warps_to_saturate_;
  sim::Time fixed_;
};

}  // namespace

const sim::ParamSchema& roofline_params() {
  static const sim::ParamSchema s = sim::schema(R"(
warps_to_saturate | int      | 8    | warps a CTA needs to use a whole SM
cta_fixed         | duration | 0 ns | latency added to every CTA
)");
  return s;
}

std::unique_ptr<KernelCost> make_roofline_cost(const sim::Config& c) {
  return std::make_unique<RooflineCost>(sim::Params(c, roofline_params()));
}

void register_roofline_cost(sim::PluginCatalog& c) {
  kernel_costs(c).add(
      "roofline", "FLOPs on the math unit vs DRAM/L2 bytes, under run-time SM and DRAM shares",
      roofline_params(), [](const sim::Config& c) { return make_roofline_cost(c); });
}

}  // namespace models
