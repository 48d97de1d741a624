#include "models/gpu_sharing.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/gpu_spec.hpp"
#include "sim/params.hpp"

namespace models {

std::optional<SharingMode> parse_sharing_mode(const std::string& name) {
  if (name == "time-slicing") return SharingMode::time_slicing;
  if (name == "mps") return SharingMode::mps;
  if (name == "mig") return SharingMode::mig;
  return std::nullopt;
}

std::string to_string(SharingMode mode) {
  switch (mode) {
    case SharingMode::time_slicing: return "time-slicing";
    case SharingMode::mps: return "mps";
    case SharingMode::mig: return "mig";
  }
  return "?";
}

const MigProfile* MigGeometry::find(const std::string& name) const {
  for (const MigProfile& p : profiles)
    if (p.name == name) return &p;
  return nullptr;
}

const MigProfile& MigGeometry::at(const std::string& name) const {
  if (const MigProfile* p = find(name)) return *p;
  throw std::invalid_argument(
      fmt::format("the GPU has no MIG profile '{}' (it has {})", name, names()));
}

std::string MigGeometry::names() const {
  std::string s;
  for (const MigProfile& p : profiles) s += (s.empty() ? "" : ", ") + p.name;
  return s.empty() ? "none" : s;
}

const sim::ParamSchema& SharingSpec::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
time_slice                | duration | 2 ms  | a context's turn on the GPU while other contexts wait (time slicing)
context_switch            | duration | 25 us | the GPU idle between two contexts' turns
mig                       | map      | {}    | Multi-Instance GPU geometry (absent: the GPU has no MIG)
mig.compute_slices        | int      | 7     | compute slices (GPCs) instances are carved from
mig.memory_slices         | int      | 8     | memory slices: each 1/n of memory, L2 and DRAM bandwidth
mig.profiles              | list     | []    | the GPU instance profiles
mig.profiles.name         | string   |       | profile name (1g.5gb ...)
mig.profiles.compute      | int      |       | compute slices it takes
mig.profiles.memory       | int      |       | memory slices it takes
mig.profiles.sms          | int      |       | SMs it exposes
mig.profiles.starts       | list     |       | memory slices an instance of it may start at
)");
  return s;
}

SharingSpec SharingSpec::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  SharingSpec s;
  s.time_slicing.slice = p.duration("time_slice");
  if (s.time_slicing.slice <= sim::Time::zero()) p.value("time_slice").fail("must be positive");
  s.time_slicing.context_switch = p.duration("context_switch");
  const sim::Params mig = p.section("mig");
  s.mig.compute_slices = static_cast<int>(mig.integer("compute_slices", 1, 64));
  s.mig.memory_slices = static_cast<int>(mig.integer("memory_slices", 1, 64));
  for (const sim::Config& item : mig.value("profiles").items()) {
    const sim::Params q(item, schema(), "mig.profiles.");
    MigProfile prof;
    prof.name = q.string("name");
    prof.compute_slices = static_cast<int>(q.integer("compute", 1, s.mig.compute_slices));
    prof.memory_slices = static_cast<int>(q.integer("memory", 1, s.mig.memory_slices));
    prof.sms = static_cast<int>(q.integer("sms", 1, 1024));
    for (const sim::Config& st : q.value("starts").items()) {
      const std::int64_t v = st.as_int();
      if (v < 0 || v + prof.memory_slices > s.mig.memory_slices)
        st.fail(fmt::format("start {} leaves the {} memory slices", v, s.mig.memory_slices));
      prof.starts.push_back(static_cast<int>(v));
    }
    if (prof.starts.empty()) q.value("starts").fail("a profile needs at least one start");
    if (s.mig.find(prof.name)) q.value("name").fail("profile '" + prof.name + "' twice");
    s.mig.profiles.push_back(std::move(prof));
  }
  return s;
}

namespace {

// Places instances `i`.. at starts that overlap nothing placed: depth first, so an order in
// which the first-fit start of one would block a later one still finds a layout (3g after
// two 2g on an A100).
bool place_from(std::size_t i, const std::vector<const MigProfile*>& profiles,
                const std::vector<int>& fixed, std::vector<bool>& used, std::vector<int>& at) {
  if (i == profiles.size()) return true;
  const MigProfile& p = *profiles[i];
  auto free_at = [&](int start) {
    for (int k = start; k < start + p.memory_slices; ++k)
      if (used[static_cast<std::size_t>(k)]) return false;
    return true;
  };
  auto mark = [&](int start, bool v) {
    for (int k = start; k < start + p.memory_slices; ++k) used[static_cast<std::size_t>(k)] = v;
  };
  for (int s : p.starts) {
    if ((fixed[i] >= 0 && s != fixed[i]) || !free_at(s)) continue;
    mark(s, true);
    at[i] = s;
    if (place_from(i + 1, profiles, fixed, used, at)) return true;
    mark(s, false);
  }
  return false;
}

}  // namespace

std::vector<MigInstance> mig_layout(const MigGeometry& geometry,
                                    const std::vector<std::string>& profiles,
                                    const std::vector<int>& starts) {
  if (geometry.profiles.empty()) throw std::invalid_argument("the GPU has no MIG profiles");
  std::vector<const MigProfile*> ps;
  std::vector<int> fixed;
  int compute = 0;
  std::vector<bool> taken(static_cast<std::size_t>(geometry.memory_slices), false);  // by fixed ones
  for (std::size_t i = 0; i < profiles.size(); ++i) {
    const MigProfile* p = &geometry.at(profiles[i]);
    const int start = i < starts.size() ? starts[i] : -1;
    if (start >= 0) {
      if (std::find(p->starts.begin(), p->starts.end(), start) == p->starts.end())
        throw std::invalid_argument(
            fmt::format("MIG profile {} cannot start at memory slice {}", p->name, start));
      for (int k = start; k < start + p->memory_slices; ++k) {
        if (taken[static_cast<std::size_t>(k)])
          throw std::invalid_argument(fmt::format(
              "MIG instance {} ({} at memory slice {}) overlaps an instance before it", i,
              p->name, start));
        taken[static_cast<std::size_t>(k)] = true;
      }
    }
    compute += p->compute_slices;
    if (compute > geometry.compute_slices)
      throw std::invalid_argument(fmt::format(
          "MIG instances take {} compute slices, the GPU has {}", compute,
          geometry.compute_slices));
    ps.push_back(p);
    fixed.push_back(start);
  }
  std::vector<int> at(ps.size(), -1);
  std::vector<bool> used(static_cast<std::size_t>(geometry.memory_slices), false);
  if (!place_from(0, ps, fixed, used, at))
    throw std::invalid_argument(fmt::format("MIG instances {} do not fit in the GPU's {} memory "
                                            "slices at any placement the profiles allow",
                                            fmt::join(profiles, " + "), geometry.memory_slices));
  std::vector<MigInstance> out;
  for (std::size_t i = 0; i < ps.size(); ++i) out.push_back({ps[i], at[i]});
  return out;
}

GpuSpec mig_instance_spec(const GpuSpec& gpu, const MigGeometry& geometry,
                          const MigProfile& profile) {
  GpuSpec g = gpu;
  g.name = gpu.name + "/" + profile.name;
  const double mem = static_cast<double>(profile.memory_slices) / geometry.memory_slices;
  const double sm = static_cast<double>(profile.sms) / gpu.sm_count;
  g.sm_count = profile.sms;
  // The preset's peaks are whole-GPU figures at the same clock: they scale with the SMs.
  for (double* peak : {&g.fp64, &g.fp32, &g.fp16_tensor, &g.bf16_tensor, &g.tf32_tensor,
                       &g.int8_tensor})
    *peak *= sm;
  g.dram_capacity = static_cast<std::uint64_t>(std::llround(static_cast<double>(gpu.dram_capacity) * mem));
  g.dram_bandwidth *= mem;
  g.l2_size = static_cast<std::uint64_t>(std::llround(static_cast<double>(gpu.l2_size) * mem));
  g.l2_bandwidth *= mem;
  return g;
}

int sms_for_percent(double percent, int sm_count) {
  return std::clamp(static_cast<int>(std::lround(percent / 100.0 * sm_count)), 1, sm_count);
}

SmMask first_sms(int sms, int sm_count) {
  if (sms <= 0 || sms >= sm_count) return {};
  SmMask m(static_cast<std::size_t>(sm_count), false);
  std::fill_n(m.begin(), sms, true);
  return m;
}

std::vector<SmMask> mps_masks(const std::vector<double>& percents, int sm_count) {
  std::vector<SmMask> masks;
  int next = 0;
  for (double pct : percents) {
    if (!(pct > 0 && pct <= 100))
      throw std::invalid_argument(fmt::format("an MPS active-thread percentage must be in (0, 100], "
                                              "got {}", pct));
    if (pct >= 100) {
      masks.emplace_back();
      continue;
    }
    const int n = sms_for_percent(pct, sm_count);
    SmMask m(static_cast<std::size_t>(sm_count), false);
    for (int i = 0; i < n; ++i) m[static_cast<std::size_t>((next + i) % sm_count)] = true;
    next = (next + n) % sm_count;
    masks.push_back(std::move(m));
  }
  return masks;
}

}  // namespace models
