#include <algorithm>
#include <cmath>
#include <numeric>

#include "schedulers/sharing/sharing_policy.hpp"
#include "sim/params.hpp"

namespace schedulers::sharing {

std::vector<models::SmMask> proportional_sm_split(const std::vector<double>& weights,
                                                  int sm_count) {
  const std::size_t n = weights.size();
  std::vector<models::SmMask> masks(n, models::SmMask(static_cast<std::size_t>(sm_count), false));
  if (n == 0) return masks;
  if (static_cast<int>(n) >= sm_count) {
    for (std::size_t i = 0; i < n; ++i) masks[i][i % static_cast<std::size_t>(sm_count)] = true;
    return masks;
  }
  // One each (every app must run), the rest in proportion, rounded down.
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  const int rest = sm_count - static_cast<int>(n);
  std::vector<int> sms(n, 1);
  int given = static_cast<int>(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double share = total > 0 ? weights[i] / total : 1.0 / static_cast<double>(n);
    const int extra = static_cast<int>(std::floor(share * rest));
    sms[i] += extra;
    given += extra;
  }
  const auto first = static_cast<std::size_t>(
      std::max_element(weights.begin(), weights.end()) - weights.begin());
  sms[first] += sm_count - given;
  int next = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (int k = 0; k < sms[i]; ++k) masks[i][static_cast<std::size_t>(next++)] = true;
  return masks;
}

std::vector<std::uint64_t> ascending_demand_quotas(const std::vector<AppDemand>& apps,
                                                   std::uint64_t frames) {
  const std::size_t n = apps.size();
  std::vector<std::uint64_t> quotas(n, 0);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return apps[a].demand() < apps[b].demand();
  });
  std::uint64_t left = frames;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    const std::uint64_t fair = left / (n - k);
    quotas[i] = std::max<std::uint64_t>(1, std::min(apps[i].demand(), fair));
    left -= std::min(left, quotas[i]);
  }
  return quotas;
}

std::vector<std::uint64_t> resident_set_quotas(const std::vector<AppDemand>& apps,
                                               std::uint64_t frames) {
  const std::size_t n = apps.size();
  std::vector<std::uint64_t> least(n), extra(n);  // frames to run, and more to hold it all
  std::vector<double> refaults(n);                // chunks a second if left short of its demand
  std::uint64_t floor = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t d = std::max<std::uint64_t>(1, apps[i].demand());
    least[i] = std::clamp<std::uint64_t>(apps[i].least_chunks, 1, d);
    extra[i] = d - least[i];
    // A one-job app touches its pages once, resident or not.
    refaults[i] = apps[i].period_seconds > 0 ? static_cast<double>(d) / apps[i].period_seconds : 0;
    floor += least[i];
  }
  if (n == 0 || floor > frames) return ascending_demand_quotas(apps, frames);
  // The resident set: a 0/1 knapsack of the frames above the least needs (a task set is a
  // handful of apps on at most a few hundred thousand chunks).
  const std::uint64_t room = frames - floor;
  std::vector<double> saved(room + 1, 0.0);
  std::vector<std::vector<bool>> took(n, std::vector<bool>(room + 1, false));
  for (std::size_t i = 0; i < n; ++i)
    for (std::uint64_t c = room + 1; c-- > extra[i];)  // c from room down to extra[i]
      if (saved[c - extra[i]] + refaults[i] > saved[c]) {
        saved[c] = saved[c - extra[i]] + refaults[i];
        took[i][c] = true;
      }
  std::vector<std::uint64_t> quotas(n);
  std::uint64_t c = room;
  for (std::size_t i = n; i-- > 0;) {
    quotas[i] = least[i];
    if (took[i][c]) {
      quotas[i] += extra[i];
      c -= extra[i];
    }
  }
  // What the resident set leaves, in equal shares to the others (more of a layer's pages stay
  // between its sub-batches), or, when every app is whole, to them all (room to batch).
  std::uint64_t left = frames;
  std::vector<bool> short_app(n);
  std::size_t takers = 0;
  for (std::size_t i = 0; i < n; ++i) {
    left -= quotas[i];
    short_app[i] = quotas[i] < least[i] + extra[i];
    takers += short_app[i];
  }
  const bool to_short = takers > 0;
  if (!to_short) takers = n;
  for (std::size_t i = 0, k = 0; i < n; ++i)
    if (short_app[i] == to_short) quotas[i] += left / takers + (k++ < left % takers ? 1 : 0);
  return quotas;
}

SharingPlan demand_proportional_plan(const std::vector<AppDemand>& apps, int sm_count,
                                     std::uint64_t frames) {
  std::vector<double> demand;
  for (const auto& a : apps) demand.push_back(static_cast<double>(a.demand()));
  return {proportional_sm_split(demand, sm_count), ascending_demand_quotas(apps, frames), {}};
}

SharingPlan whole_gpu_plan(std::size_t apps) {
  SharingPlan p;
  p.masks.assign(apps, {});
  p.quotas.assign(apps, 0);
  return p;
}

namespace {

// One job at a time, in release order, on the whole GPU.
class Fifo final : public SharingPolicy {
 public:
  bool exclusive() const override { return true; }
  SharingPlan plan(const std::vector<AppDemand>& a, int, std::uint64_t) const override {
    return whole_gpu_plan(a.size());
  }
};

// Every job as soon as it is released, all SMs, no limits.
class Greedy final : public SharingPolicy {
 public:
  bool exclusive() const override { return false; }
  SharingPlan plan(const std::vector<AppDemand>& a, int, std::uint64_t) const override {
    return whole_gpu_plan(a.size());
  }
};

class Barm final : public SharingPolicy {
 public:
  bool exclusive() const override { return false; }
  SharingPlan plan(const std::vector<AppDemand>& a, int sms, std::uint64_t frames) const override {
    return demand_proportional_plan(a, sms, frames);
  }
};

// Lazy batching: time sharing like FIFO, but the application picked runs all its pending jobs
// as one batch (up to max_group).
class LazyBatching final : public SharingPolicy {
 public:
  explicit LazyBatching(int max_group) : max_group_(max_group) {}
  bool exclusive() const override { return true; }
  int max_group() const override { return max_group_; }
  SharingPlan plan(const std::vector<AppDemand>& a, int, std::uint64_t) const override {
    return whole_gpu_plan(a.size());
  }

 private:
  int max_group_;
};

// Liu (2023): per layer, the sub-batch and the SMs that minimise the layer's estimated time,
// fault penalty included. Pages: per-app quotas, so no app thrashes another, chosen to keep
// whole the apps that would refault the most (resident_set_quotas) rather than BARM's ascending
// demand, which at high ratios leaves every app a little short and so refaulting all of it;
// a whole app's groups are capped at what its quota holds.
// SMs: each app owns a share in proportion to the compute its releases need (page demand says
// nothing of that), and a layer that will not fault also takes the SMs of apps with no job
// running. A faulting layer keeps to its own: its CTAs would sit stalled on the borrowed SMs,
// holding them from their owner's next job, while the driver -- not the SMs -- sets its pace.
class LayerBatch final : public SharingPolicy {
 public:
  explicit LayerBatch(int max_group) : max_group_(max_group) {}
  bool exclusive() const override { return false; }
  int max_group() const override { return max_group_; }
  SharingPlan plan(const std::vector<AppDemand>& a, int sms, std::uint64_t frames) const override {
    std::vector<double> need;
    for (const auto& app : a) need.push_back(app.utilisation());
    // Pages for one job each; an app kept whole merges no more jobs than its quota holds (a
    // larger group would refault inside it), one left short batches freely, since every job
    // streams its weights in anyway and a group shares them.
    std::vector<AppDemand> one = a;
    for (AppDemand& d : one) d.in_flight = 1;
    SharingPlan p{proportional_sm_split(need, sms), resident_set_quotas(one, frames), {}};
    for (std::size_t i = 0; i < a.size(); ++i)
      p.groups.push_back(p.quotas[i] < one[i].demand() ? 0 : group_within(a[i], p.quotas[i]));
    return p;
  }
  LayerChoice choose_layer(const LayerCost& c, int jobs, int own_sms,
                           int idle_sms) const override {
    LayerChoice best{jobs, own_sms};
    double best_t = 0;
    for (int b = jobs; b >= 1; --b) {
      const int subs = (jobs + b - 1) / b;
      const double footprint = static_cast<double>(c.weight_bytes) +
                               static_cast<double>(c.activation_bytes_per_job) * b;
      const bool fits = footprint <= static_cast<double>(c.budget_bytes);
      // Weights fault in once if the sub-batch fits beside them, else again every sub-batch,
      // with the activations that spill.
      double fault_bytes = static_cast<double>(c.missing_weight_bytes);
      if (!fits)
        fault_bytes += static_cast<double>(subs - 1) * static_cast<double>(c.weight_bytes) +
                       static_cast<double>(c.activation_bytes_per_job) * jobs;
      const int sms = fault_bytes > 0 ? own_sms : own_sms + idle_sms;
      const double t = subs * c.compute_seconds(b, sms) + fault_bytes * c.fault_seconds_per_byte;
      if (b == jobs || t < best_t) {
        best = {b, sms};
        best_t = t;
      }
    }
    return best;
  }

 private:
  // Jobs one run of a whole app may merge: those in flight, no more than its quota holds.
  int group_within(const AppDemand& d, std::uint64_t quota) const {
    const std::uint64_t fit =
        (quota - d.weight_chunks) / std::max<std::uint64_t>(1, d.activation_chunks);
    const auto in_flight = static_cast<std::uint64_t>(std::clamp(d.in_flight, 1, max_group_));
    return static_cast<int>(std::min(fit, in_flight));
  }

  int max_group_;
};

const sim::ParamSchema& group_params(const char* what) {
  static const sim::ParamSchema lazy = {{"max_group", "int", "8", "most jobs merged into one batch"}};
  static const sim::ParamSchema layer = {
      {"max_group", "int", "8", "most pending jobs of one app batched"}};
  return std::string_view(what) == "lazy" ? lazy : layer;
}

int read_group(const sim::Config& c, const char* what) {
  return static_cast<int>(sim::Params(c, group_params(what)).integer("max_group", 1, 64));
}

}  // namespace

void register_sharing_policies(sim::PluginCatalog& c) {
  auto& r = sharing_policies(c);
  r.add("fifo", "one job at a time in release order, whole GPU", {},
        [](const sim::Config&) { return std::make_unique<Fifo>(); });
  r.add("greedy", "every job at once, all SMs, no page limits", {},
        [](const sim::Config&) { return std::make_unique<Greedy>(); });
  r.add("barm", "SMs split by page demand, per-app page quotas in ascending demand", {},
        [](const sim::Config&) { return std::make_unique<Barm>(); });
  r.add("lazy-batching", "time sharing; the chosen app runs its pending jobs as one batch",
        group_params("lazy"),
        [](const sim::Config& cfg) { return std::make_unique<LazyBatching>(read_group(cfg, "lazy")); });
  r.add("layer-batch",
        "per layer, the batch size and SMs of least time with the fault penalty; quotas keep "
        "whole the apps that would refault most (Liu 2023)",
        group_params("layer"),
        [](const sim::Config& cfg) { return std::make_unique<LayerBatch>(read_group(cfg, "layer")); });
  register_serving_policies(r);
}

}  // namespace schedulers::sharing
