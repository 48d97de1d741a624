#include "drivers/system.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "sim/error.hpp"

namespace drivers {

System::System() : net_(sim_) {}

System::System(const models::GpuSpec& gpu, const SystemOptions& options)
    : net_(sim_), gpu_spec_(gpu), timeline_(options.timeline) {
  build_gpus(options);
}

System::System(const interconnect::SystemSpec& spec, const SystemOptions& options)
    : net_(sim_),
      gpu_spec_(spec.gpu),
      spec_(std::make_unique<interconnect::SystemSpec>(spec)),
      timeline_(options.timeline) {
  topology_ = std::make_unique<interconnect::Topology>(*spec_, net_);
  build_gpus(options);
}

System::~System() = default;

void System::build_gpus(const SystemOptions& o) {
  if (o.host_link) {
    if (gpu_spec_.host_link_bandwidth <= 0)
      throw sim::InputError(fmt::format(
          "gpu '{}' has no host_link bandwidth; unified memory and copies need one",
          gpu_spec_.name));
    host_link_ = true;
    h2d_ = net_.add_resource("host_link.h2d", gpu_spec_.host_link_bandwidth);
    d2h_ = gpu_spec_.host_link_kind == "shared-memory"
               ? h2d_
               : net_.add_resource("host_link.d2h", gpu_spec_.host_link_bandwidth);
  }
  if (!o.cost) return;
  std::vector<models::GpuSpec> specs(static_cast<std::size_t>(o.gpu_models), gpu_spec_);
  std::vector<std::string> names;
  for (int i = 0; i < o.gpu_models; ++i) names.push_back(fmt::format("gpu[{}]", i));
  if (o.sharing == models::SharingMode::mig) {
    if (o.gpu_models != 1) throw std::invalid_argument("system: MIG instances of one GPU only");
    if (o.mig.empty()) throw std::invalid_argument("system: MIG sharing names no instances");
    specs.clear();
    names.clear();
    const auto& geometry = gpu_spec_.sharing.mig;
    for (const models::MigInstance& m : models::mig_layout(geometry, o.mig, o.mig_starts)) {
      specs.push_back(models::mig_instance_spec(gpu_spec_, geometry, *m.profile));
      names.push_back(fmt::format("gpu[0].mig[{}]", names.size()));
    }
  }
  for (std::size_t k = 0; k < specs.size(); ++k) {
    const int i = static_cast<int>(k);
    gpus_.push_back(std::make_unique<models::Gpu>(sim_, specs[k], *o.cost, names[k],
                                                  o.sharing == models::SharingMode::mig ? 0 : i));
    if (o.sharing == models::SharingMode::time_slicing)
      gpus_.back()->time_slice(gpu_spec_.sharing.time_slicing);
    hosts_.push_back(std::make_unique<models::HostRuntime>(sim_, *gpus_.back(), o.host));
    host_gpu_.push_back(i);
    if (timeline_) {
      gpus_.back()->attach_timeline(timeline_);
      hosts_.back()->attach_timeline(timeline_, specs.size() == 1 ? "host" : fmt::format("host[{}]", i));
    }
  }
}

models::HostRuntime& System::add_process(int gpu, const models::HostCosts& costs) {
  models::Gpu& g = *gpus_.at(static_cast<std::size_t>(gpu));
  hosts_.push_back(std::make_unique<models::HostRuntime>(sim_, g, costs));
  // A context of its own: the processes before it on this GPU hold 0, 1, ...
  hosts_.back()->set_context(static_cast<int>(std::count(host_gpu_.begin(), host_gpu_.end(), gpu)));
  host_gpu_.push_back(gpu);
  if (timeline_) hosts_.back()->attach_timeline(timeline_, fmt::format("process {}", hosts_.size() - 1));
  return *hosts_.back();
}

interconnect::Topology& System::topology() {
  if (!topology_) throw std::logic_error("system: built from one GPU, it has no topology");
  return *topology_;
}

sim::FlowNetwork::ResourceId System::h2d() const {
  if (!host_link_) throw std::logic_error("system: built without a host link");
  return h2d_;
}

sim::FlowNetwork::ResourceId System::d2h() const {
  if (!host_link_) throw std::logic_error("system: built without a host link");
  return d2h_;
}

models::memory::UnifiedMemory& System::attach_unified_memory(
    const models::memory::UvmParams& uvm, std::uint64_t frame_bytes, std::uint64_t chunk_bytes,
    const models::memory::EvictionPolicy& eviction, const models::memory::Prefetcher& prefetcher) {
  if (gpus_.empty()) throw std::logic_error("system: unified memory needs a GPU model");
  uvm_ = std::make_unique<models::memory::UnifiedMemory>(sim_, net_, h2d(), d2h(), uvm,
                                                         frame_bytes, chunk_bytes, eviction,
                                                         prefetcher);
  gpus_.front()->attach_paging(uvm_.get());
  return *uvm_;
}

RunSummary System::run() {
  const auto t0 = std::chrono::steady_clock::now();
  sim_.run();
  wall_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary();
}

RunSummary System::summary() const {
  return RunSummary{sim_.events_executed(), sim_.fingerprint(), sim_.now(), wall_seconds_,
                    component_stats()};
}

std::map<std::string, double> System::component_stats() const {
  std::map<std::string, double> c;
  const sim::Time now = sim_.now();
  for (const auto& g : gpus_) {
    const std::string n = g->name();
    c[n + ".sm_busy"] = g->sm_busy(now);
    c[n + ".dram_utilization"] = g->dram_utilization(now);
    c[n + ".active"] = g->active(now);
    c[n + ".kernels"] = static_cast<double>(g->kernels_completed());
    c[n + ".ctas"] = static_cast<double>(g->ctas_executed());
    for (int sm = 0; sm < g->spec().sm_count; ++sm)
      c[fmt::format("{}.sm[{}].busy", n, sm)] = g->sm_busy_of(sm, now);
  }
  for (std::size_t i = 0; i < hosts_.size(); ++i) {  // hosts by index: host[0] is GPU 0's first
    const std::string n = fmt::format("host[{}]", i);
    c[n + ".busy_s"] = hosts_[i]->host_busy().seconds();
    c[n + ".kernels"] = static_cast<double>(hosts_[i]->kernels_completed());
    c[n + ".gpu"] = host_gpu_[i];
  }
  if (uvm_)
    for (const auto& [k, v] : uvm_->stats().totals()) c["uvm." + k] = v;
  if (topology_) {
    const interconnect::Topology& t = *topology_;
    double bytes = 0;
    for (std::size_t r = 0; r < t.resources(); ++r) bytes += t.carried(static_cast<sim::FlowNetwork::ResourceId>(r));
    c["network.carried_mb"] = bytes / 1e6;
  }
  c["sim.events"] = static_cast<double>(sim_.events_executed());
  c["sim.seconds"] = now.seconds();
  return c;
}

}  // namespace drivers
