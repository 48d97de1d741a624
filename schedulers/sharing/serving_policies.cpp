// The `sharing` policies for request streams of several models on one GPU (the model server):
// the baselines (temporal, mps-default, mps-static, mig-static) and the spatial sharers of the
// literature (gslice, dstack). Each decides a sharing mode, a GPU share and a batch per model
// from the models' latency profiles (runs of the GPU model); nothing here is a typed number of a
// paper.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "models/occupancy.hpp"
#include "schedulers/sharing/sharing_policy.hpp"
#include "sim/params.hpp"

namespace schedulers::sharing {

int slo_batch(const ServedModel& m, int percent) {
  int best = m.batches.front();
  for (int b : m.batches)
    if (m.latency(b, percent) <= m.slo_seconds / 2) best = b;
  return best;
}

int slo_batch_mig(const ServedModel& m, const std::string& profile) {
  int best = m.batches.front();
  for (int b : m.batches)
    if (m.mig_latency(b, profile) <= m.slo_seconds / 2) best = b;
  return best;
}

int knee_percent(const ServedModel& m, int batch, int step, double within) {
  const double whole = m.latency(batch, 100);
  for (int p = step; p < 100; p += step)
    if (m.latency(batch, p) <= whole * (1 + within)) return p;
  return 100;
}

EfficientBatch most_efficient(const ServedModel& m, int step) {
  EfficientBatch best;
  for (int b : m.batches)
    for (int p = step; p <= 100; p += step) {
      const double t = m.latency(b, p);
      const double cost = t * p / 100.0 / b;
      if (t <= m.slo_seconds / 2 && cost < best.cost) best = {b, p, cost};
    }
  return best;
}

double ideal_goodput(const std::vector<ServedModel>& m, int step) {
  std::vector<std::pair<double, double>> cost_rate;  // GPU-seconds per request, rate
  for (const ServedModel& x : m) {
    const EfficientBatch best = most_efficient(x, step);
    if (std::isfinite(best.cost)) cost_rate.emplace_back(best.cost, x.rate);
  }
  std::sort(cost_rate.begin(), cost_rate.end());
  double gpu = 1.0, served = 0;
  for (const auto& [cost, rate] : cost_rate) {
    const double n = std::min(rate, gpu / cost);
    served += n;
    gpu -= n * cost;
    if (gpu <= 0) break;
  }
  return served;
}

namespace {

// Batches of a model sized for its SLO at its share: what every spatial policy does last.
ServingPlan with_slo_batches(ServingPlan plan, const std::vector<ServedModel>& models) {
  for (std::size_t i = 0; i < models.size(); ++i) {
    ModelPlacement& p = plan.models[i];
    p.batch = plan.mode == models::SharingMode::mig ? slo_batch_mig(models[i], p.mig)
                                                    : slo_batch(models[i], p.percent);
  }
  return plan;
}

ServingPlan uniform(models::SharingMode mode, std::size_t n) {
  ServingPlan plan;
  plan.mode = mode;
  plan.models.assign(n, ModelPlacement{});
  return plan;
}

// Triton/Clipper-like temporal sharing: every model a process of its own on a time-sliced GPU,
// so one model's kernels run at a time; each batch sized for its SLO on the whole GPU.
class Temporal : public SharingPolicy {
 public:
  ServingPlan serving_plan(const std::vector<ServedModel>& m, const GpuShareInfo&) const override {
    return with_slo_batches(uniform(models::SharingMode::time_slicing, m.size()), m);
  }
};

// Default MPS: every client at 100% (kernels of all models co-run wherever they fit), batches
// sized for the SLO as if alone.
class MpsDefault : public SharingPolicy {
 public:
  ServingPlan serving_plan(const std::vector<ServedModel>& m, const GpuShareInfo&) const override {
    return with_slo_batches(uniform(models::SharingMode::mps, m.size()), m);
  }
};

// Kernel-granularity allocation, the mechanism of the ideal scheduler D-STACK compares with:
// every model's kernels co-run, each kernel on SMs no other kernel holds, as many as one wave of
// its grid fills (or those free), in launch order; each model at its most efficient batch (the
// one the ideal bound assumes). Greedy, not an oracle: it knows every grid but no deadline.
class PerKernel : public SharingPolicy {
 public:
  explicit PerKernel(int step) : step_(step) {}
  ServingPlan serving_plan(const std::vector<ServedModel>& m, const GpuShareInfo&) const override {
    ServingPlan plan = uniform(models::SharingMode::mps, m.size());
    for (std::size_t i = 0; i < m.size(); ++i) {
      const EfficientBatch e = most_efficient(m[i], step_);
      plan.models[i].batch = std::isfinite(e.cost) ? e.batch : m[i].batches.front();
    }
    plan.kernel_sms = [](const workloads::KernelDesc& k, const models::GpuSpec& spec) {
      return models::one_wave_sms(spec, k);
    };
    return plan;
  }

 private:
  int step_;
};

// MPS with fixed active-thread percentages (given, or an equal split).
class MpsStatic : public SharingPolicy {
 public:
  explicit MpsStatic(std::vector<double> percents) : percents_(std::move(percents)) {}
  ServingPlan serving_plan(const std::vector<ServedModel>& m, const GpuShareInfo&) const override {
    ServingPlan plan = uniform(models::SharingMode::mps, m.size());
    for (std::size_t i = 0; i < m.size(); ++i) {
      const double pct = percents_.empty() ? 100.0 / static_cast<double>(m.size())
                                           : percents_[std::min(i, percents_.size() - 1)];
      plan.models[i].percent = std::clamp(static_cast<int>(std::lround(pct)), 1, 100);
    }
    return with_slo_batches(plan, m);
  }

 private:
  std::vector<double> percents_;
};

// A MIG instance per model (given profiles, or the largest profile every model can have one of).
class MigStatic : public SharingPolicy {
 public:
  explicit MigStatic(std::vector<std::string> profiles) : profiles_(std::move(profiles)) {}
  ServingPlan serving_plan(const std::vector<ServedModel>& m,
                           const GpuShareInfo& gpu) const override {
    ServingPlan plan = uniform(models::SharingMode::mig, m.size());
    std::string equal;
    for (std::size_t k = 0; k < gpu.mig_profiles.size(); ++k)
      if (gpu.mig_compute[k] * static_cast<int>(m.size()) <= gpu.mig_compute_slices)
        equal = gpu.mig_profiles[k];  // smallest first: the last that fits is the largest
    for (std::size_t i = 0; i < m.size(); ++i)
      plan.models[i].mig =
          profiles_.empty() ? equal : profiles_[std::min(i, profiles_.size() - 1)];
    return with_slo_batches(plan, m);
  }

 private:
  std::vector<std::string> profiles_;
};

// Shrinks percentages in proportion until they sum to at most 100, none below `step`.
void fit_in_gpu(ServingPlan& plan, int step) {
  int sum = 0;
  for (const ModelPlacement& p : plan.models) sum += p.percent;
  if (sum <= 100) return;
  for (ModelPlacement& p : plan.models)
    p.percent = std::max(step, p.percent * 100 / sum / step * step);
}

// GSLICE (Dhakal et al., SoCC 2020): each model an MPS client at the knee of its latency/GPU%
// curve, so more models fit side by side without interfering; every control interval its
// share moves a step up when it missed its SLO or fell behind its arrivals and a step down when
// it had slack and the smaller share still keeps up, and its batch follows its share. A
// re-sized model moves to a standby instance (the server starts its next batch there at once).
class Gslice : public SharingPolicy {
 public:
  Gslice(double interval, int step, double slack)
      : interval_(interval), step_(step), slack_(slack) {}
  double control_seconds() const override { return interval_; }
  ServingPlan serving_plan(const std::vector<ServedModel>& m, const GpuShareInfo&) const override {
    ServingPlan plan = uniform(models::SharingMode::mps, m.size());
    for (std::size_t i = 0; i < m.size(); ++i)
      plan.models[i].percent = knee_percent(m[i], slo_batch(m[i], 100), step_);
    fit_in_gpu(plan, step_);
    return with_slo_batches(plan, m);
  }
  std::optional<ServingPlan> adapt(const ServingPlan& now, const std::vector<ModelFeedback>& seen,
                                   const std::vector<ServedModel>& m,
                                   const GpuShareInfo&) const override {
    ServingPlan next = now;
    int used = 0;
    std::vector<int> want_more;
    for (std::size_t i = 0; i < m.size(); ++i) {
      const ModelFeedback& f = seen[i];
      ModelPlacement& p = next.models[i];
      const bool behind = f.miss_rate > 0.01 || f.served_rate < 0.95 * f.arrival_rate ||
                          f.queued > p.batch;
      if (behind) {
        want_more.push_back(static_cast<int>(i));
      } else if (p.percent > step_ && f.p95_seconds < slack_ * m[i].slo_seconds) {
        const int smaller = p.percent - step_;
        const int b = slo_batch(m[i], smaller);
        if (b / m[i].latency(b, smaller) >= 1.2 * f.arrival_rate) p.percent = smaller;
      }
      used += p.percent;
    }
    // The most behind first (largest miss rate), while the GPU has room.
    std::stable_sort(want_more.begin(), want_more.end(), [&](int a, int b) {
      return seen[static_cast<std::size_t>(a)].miss_rate > seen[static_cast<std::size_t>(b)].miss_rate;
    });
    for (int i : want_more) {
      ModelPlacement& p = next.models[static_cast<std::size_t>(i)];
      const int grow = std::min(step_, std::min(100 - p.percent, 100 - used));
      if (grow <= 0) continue;
      p.percent += grow;
      used += grow;
    }
    next = with_slo_batches(next, m);
    if (next.models == now.models) return std::nullopt;
    return next;
  }

 private:
  double interval_;
  int step_;
  double slack_;
};

// D-STACK (Dhakal et al., 2023): a knee model per DNN and the largest batch whose latency at
// its knee share meets the SLO; models run concurrently at their knee shares while those fit in
// 100%, and beyond that in groups that take turns within a period (spatio-temporal packing).
class Dstack : public SharingPolicy {
 public:
  Dstack(int step, double within) : step_(step), within_(within) {}
  ServingPlan serving_plan(const std::vector<ServedModel>& m, const GpuShareInfo&) const override {
    ServingPlan plan = uniform(models::SharingMode::mps, m.size());
    // Each model's largest batch whose latency at its knee share meets half its SLO.
    std::vector<std::size_t> choice(m.size(), 0);  // index into its batches
    for (std::size_t i = 0; i < m.size(); ++i)
      for (std::size_t k = m[i].batches.size(); k-- > 0;) {
        const int b = m[i].batches[k];
        if (m[i].latency(b, knee_percent(m[i], b, step_, within_)) <= m[i].slo_seconds / 2) {
          choice[i] = k;
          break;
        }
      }
    // Beyond 100%, a request may wait a whole period before its model's turn: while some
    // model's period plus its batch exceeds its SLO, the longest batch (the longest turn of the
    // period) steps down a batch size.
    for (;;) {
      plan = pack(m, choice);
      bool late = false;
      std::size_t longest = m.size();
      double longest_busy = 0;
      for (std::size_t i = 0; i < m.size(); ++i) {
        const double busy = m[i].latency(plan.models[i].batch, plan.models[i].percent);
        late = late || plan.period_seconds + busy > m[i].slo_seconds;
        if (choice[i] > 0 && busy > longest_busy) {
          longest = i;
          longest_busy = busy;
        }
      }
      if (!late || longest == m.size()) return plan;
      --choice[longest];
    }
  }

 private:
  // The plan for the batches chosen: knee shares, first-fit decreasing into groups of at most
  // 100% that run side by side; more than one group take turns within a period, each turn as
  // long as its slowest batch.
  ServingPlan pack(const std::vector<ServedModel>& m, const std::vector<std::size_t>& choice) const {
    ServingPlan plan = uniform(models::SharingMode::mps, m.size());
    std::vector<double> busy(m.size());
    for (std::size_t i = 0; i < m.size(); ++i) {
      ModelPlacement& p = plan.models[i];
      p.batch = m[i].batches[choice[i]];
      p.percent = knee_percent(m[i], p.batch, step_, within_);
      busy[i] = m[i].latency(p.batch, p.percent);
    }
    std::vector<std::size_t> order(m.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return plan.models[a].percent > plan.models[b].percent;
    });
    std::vector<std::vector<std::size_t>> groups;
    std::vector<int> room;
    for (std::size_t i : order) {
      std::size_t g = 0;
      while (g < groups.size() && room[g] < plan.models[i].percent) ++g;
      if (g == groups.size()) {
        groups.emplace_back();
        room.push_back(100);
      }
      groups[g].push_back(i);
      room[g] -= plan.models[i].percent;
    }
    if (groups.size() <= 1) return plan;  // all fit side by side: no period
    std::vector<double> turn(groups.size(), 0);
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (std::size_t i : groups[g]) turn[g] = std::max(turn[g], busy[i]);
    const double period = std::accumulate(turn.begin(), turn.end(), 0.0);
    double at = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (std::size_t i : groups[g]) {
        plan.models[i].offset = at / period;
        plan.models[i].window = turn[g] / period;
      }
      at += turn[g];
    }
    plan.period_seconds = period;
    return plan;
  }

  int step_;
  double within_;
};

const sim::ParamSchema& mps_static_params() {
  static const sim::ParamSchema s = sim::schema(R"(
percent | list | [] | each model's active-thread percentage, in (0, 100] (the last repeats; empty: an equal split)
)");
  return s;
}
const sim::ParamSchema& mig_static_params() {
  static const sim::ParamSchema s = sim::schema(R"(
profiles | list | [] | each model's MIG profile (the last repeats; empty: the largest profile every model can have)
)");
  return s;
}
const sim::ParamSchema& gslice_params() {
  static const sim::ParamSchema s = sim::schema(R"(
interval | duration | 500 ms | between two adaptations of share and batch
step     | int      | 10     | GPU% a share moves by
slack    | double   | 0.5    | a model whose p95 latency is below this fraction of its SLO may shrink
)");
  return s;
}
const sim::ParamSchema& per_kernel_params() {
  static const sim::ParamSchema s = sim::schema(R"(
step | int | 10 | GPU% steps of the search for each model's most efficient batch and share
)");
  return s;
}
const sim::ParamSchema& dstack_params() {
  static const sim::ParamSchema s = sim::schema(R"(
step   | int    | 10  | GPU% steps of the knee search
within | double | 0.1 | the knee: the smallest share within this fraction of the whole GPU's latency
)");
  return s;
}

}  // namespace

void register_serving_policies(SharingRegistry& r) {
  r.add("temporal", "request streams: one model at a time (time-sliced contexts), batch by SLO",
        {}, [](const sim::Config&) { return std::make_unique<Temporal>(); });
  r.add("mps-default", "request streams: every model an MPS client at 100%, batch by SLO", {},
        [](const sim::Config&) { return std::make_unique<MpsDefault>(); });
  r.add("per-kernel",
        "request streams: each kernel on SMs of its own, sized to one wave of its grid, in "
        "launch order; each model at its most efficient batch (no hardware offers this)",
        per_kernel_params(), [](const sim::Config& c) {
          const sim::Params p(c, per_kernel_params());
          return std::make_unique<PerKernel>(static_cast<int>(p.integer("step", 1, 50)));
        });
  r.add("mps-static", "request streams: MPS clients at fixed percentages, batch by SLO",
        mps_static_params(), [](const sim::Config& c) {
          const sim::Params p(c, mps_static_params());
          std::vector<double> pct;
          for (const sim::Config& v : p.value("percent").items()) {
            const double x = v.as_double();
            if (!(x > 0 && x <= 100)) v.fail(fmt::format("a percentage must be in (0, 100], got {}", x));
            pct.push_back(x);
          }
          return std::make_unique<MpsStatic>(std::move(pct));
        });
  r.add("mig-static", "request streams: one MIG instance per model, batch by SLO",
        mig_static_params(), [](const sim::Config& c) {
          const sim::Params p(c, mig_static_params());
          std::vector<std::string> profiles;
          for (const sim::Config& v : p.value("profiles").items()) profiles.push_back(v.as_string());
          return std::make_unique<MigStatic>(std::move(profiles));
        });
  r.add("gslice",
        "request streams: MPS shares at each model's knee, adapted with batch from SLO "
        "feedback, re-sized through a standby instance (GSLICE)",
        gslice_params(), [](const sim::Config& c) {
          const sim::Params p(c, gslice_params());
          const double interval = p.duration("interval").seconds();
          if (!(interval > 0)) p.value("interval").fail("must be positive");
          const double slack = p.real("slack");
          if (!(slack > 0 && slack < 1)) p.value("slack").fail("must be in (0, 1)");
          return std::make_unique<Gslice>(interval, static_cast<int>(p.integer("step", 1, 50)),
                                          slack);
        });
  r.add("dstack",
        "request streams: knee share and SLO batch per model, concurrent within 100%, groups "
        "time-multiplexed beyond (D-STACK)",
        dstack_params(), [](const sim::Config& c) {
          const sim::Params p(c, dstack_params());
          const double within = p.real("within");
          if (!(within > 0 && within < 1)) p.value("within").fail("must be in (0, 1)");
          return std::make_unique<Dstack>(static_cast<int>(p.integer("step", 1, 50)), within);
        });
}

}  // namespace schedulers::sharing
