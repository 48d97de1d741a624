#include "drivers/inference/model_server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
#include <stdexcept>

#include "drivers/inference/activation_layout.hpp"
#include "models/gpu_sharing.hpp"
#include "sim/error.hpp"

namespace drivers {

using schedulers::sharing::ModelFeedback;
using schedulers::sharing::ModelPlacement;
using schedulers::sharing::ServedModel;
using schedulers::sharing::ServingPlan;

namespace {

// One batch: the model's kernels in order on `stream`, on `mask`'s SMs; `done` after the last.
void run_batch(sim::Simulator& sim, models::HostRuntime& host, const workloads::TaskGraph& graph,
               std::int32_t stream, const models::SmMask* mask, std::function<void()> done) {
  if (graph.kernels.empty()) {
    sim.schedule_in(sim::Time::zero(), std::move(done));
    return;
  }
  const std::size_t last = graph.kernels.size() - 1;
  for (std::size_t k = 0; k <= last; ++k) {
    models::HostRuntime::KernelDone on_done;
    if (k == last) on_done = [d = std::move(done)](sim::Time) { d(); };
    host.launch(stream, graph.kernels[k], std::move(on_done), mask);
  }
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

std::vector<int> candidate_batches(int max_batch) {
  std::vector<int> b;
  for (int x = 1; x < max_batch; x *= 2) b.push_back(x);
  b.push_back(max_batch);
  return b;
}

LatencyProfiles::LatencyProfiles(const models::GpuSpec& gpu, const models::KernelCost& cost,
                                 ModelLibrary& library)
    : gpu_(gpu), cost_(cost), library_(library) {}

double LatencyProfiles::run(const models::GpuSpec& spec, const std::string& model, int batch,
                            int sms, int device_sms) {
  SystemOptions o;
  o.cost = &cost_;
  System system(spec, o);
  const models::SmMask mask = models::first_sms(sms, spec.sm_count);
  double seconds = 0;
  run_batch(system.sim(), system.host(), library_.lowered(model, batch, device_sms), 0,
            mask.empty() ? nullptr : &mask, [&] { seconds = system.sim().now().seconds(); });
  system.run();
  ++runs_;
  return seconds;
}

double LatencyProfiles::seconds(const std::string& model, int batch, int percent) {
  const int sms = models::sms_for_percent(percent, gpu_.sm_count);
  const auto key = std::make_tuple(model, batch, sms, std::string());
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  return memo_[key] = run(gpu_, model, batch, sms);
}

double LatencyProfiles::mig_seconds(const std::string& model, int batch,
                                    const std::string& profile) {
  const auto key = std::make_tuple(model, batch, 0, profile);
  if (auto it = memo_.find(key); it != memo_.end()) return it->second;
  const models::MigProfile* p = nullptr;
  try {
    p = &gpu_.sharing.mig.at(profile);
  } catch (const std::invalid_argument& e) {
    throw sim::InputError(fmt::format("{}: {}", gpu_.name, e.what()));
  }
  const models::GpuSpec instance = models::mig_instance_spec(gpu_, gpu_.sharing.mig, *p);
  return memo_[key] = run(instance, model, batch, instance.sm_count, instance.sm_count);
}

namespace {

class ModelServer {
 public:
  ModelServer(const models::GpuSpec& gpu, const models::KernelCost& cost,
              const schedulers::sharing::SharingPolicy& policy,
              const std::vector<ModelStream>& streams, const ModelServerOptions& options,
              ModelLibrary& library, LatencyProfiles& profiles)
      : gpu_(gpu), policy_(policy), streams_(streams), options_(options), library_(library) {
    for (std::size_t i = 0; i < streams.size(); ++i) {
      const ModelStream& s = streams[i];
      ServedModel m;
      m.app = static_cast<int>(i);
      m.name = s.name;
      m.slo_seconds = s.slo_seconds;
      if (s.requests.size() > 1)
        m.rate = static_cast<double>(s.requests.size() - 1) /
                 std::max(1e-9, (s.requests.back().arrival - s.requests.front().arrival).seconds());
      m.max_batch = s.max_batch;
      m.batches = candidate_batches(s.max_batch);
      m.latency = [&profiles, model = s.model](int b, int pct) {
        return profiles.seconds(model, b, pct);
      };
      m.mig_latency = [&profiles, model = s.model](int b, const std::string& prof) {
        return profiles.mig_seconds(model, b, prof);
      };
      served_.push_back(std::move(m));
    }
    const auto& mig = gpu.sharing.mig;
    info_.sm_count = gpu.sm_count;
    info_.mig_compute_slices = mig.compute_slices;
    for (const models::MigProfile& p : mig.profiles) {
      info_.mig_profiles.push_back(p.name);
      info_.mig_compute.push_back(p.compute_slices);
    }
    plan_ = policy.serving_plan(served_, info_);
    if (plan_.models.size() != streams.size())
      throw sim::InputError("this sharing policy does not serve request streams (it plans "
                            "periodic task sets: experiment barm)");
    result_.initial = plan_;
    build(cost);
  }

  ModelServerResult run() {
    for (std::size_t i = 0; i < streams_.size(); ++i)
      for (std::size_t r = 0; r < streams_[i].requests.size(); ++r)
        system_->sim().schedule(streams_[i].requests[r].arrival, [this, i, r] { arrive(i, r); });
    first_ = sim::Time::max();
    for (const ModelStream& s : streams_)
      if (!s.requests.empty()) {
        first_ = std::min(first_, s.requests.front().arrival);
        last_ = std::max(last_, s.requests.back().arrival);
        total_ += s.requests.size();
      }
    if (total_ == 0) throw sim::InputError("the model server has no requests to serve");
    if (policy_.control_seconds() > 0)
      system_->sim().schedule(first_ + sim::Time::s(policy_.control_seconds()), [this] { control(); });
    result_.run = system_->run();
    finish();
    return std::move(result_);
  }

 private:
  struct Model {
    std::deque<std::size_t> queue;  // request indices, in arrival order
    int running = 0;                // batches on the GPU now
    bool standby = false;           // a re-sized model may start one on its standby instance
    bool wake_pending = false;      // a wake-up at its next window is scheduled
    std::int32_t next_stream = 0;
    models::HostRuntime* host = nullptr;
    const models::SmMask* mask = nullptr;
    int device_sms = 0;  // a MIG instance's SMs: what its libraries lower for (0: the GPU's)
    // Over the current control interval.
    std::uint64_t arrived = 0, completed = 0, dropped = 0, missed = 0;  // missed: late or dropped
    std::vector<double> latencies;
    // Over the run.
    ModelServerResult::PerModel total;
    std::vector<double> served_ms;
    sim::Time last_done;  // its last completion
    std::uint64_t batch_samples = 0;
  };

  void build(const models::KernelCost& cost) {
    SystemOptions o;
    o.cost = &cost;
    o.host = options_.host;
    o.timeline = options_.timeline;
    o.sharing = plan_.mode;
    if (plan_.mode == models::SharingMode::mig)
      for (const ModelPlacement& p : plan_.models) o.mig.push_back(p.mig);
    try {
      system_ = std::make_unique<System>(gpu_, o);
    } catch (const std::invalid_argument& e) {
      throw sim::InputError(fmt::format("{}: {}", gpu_.name, e.what()));
    }
    check_memory();
    if (plan_.kernel_sms) system_->gpu(0).own_sms_per_kernel(plan_.kernel_sms);
    models_.resize(streams_.size());
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      Model& m = models_[i];
      if (plan_.mode == models::SharingMode::mig) {
        m.host = &system_->host(static_cast<int>(i));
        // The System above laid the instances out, so the profile exists.
        const models::MigProfile& p = gpu_.sharing.mig.at(plan_.models[i].mig);
        m.device_sms = models::mig_instance_spec(gpu_, gpu_.sharing.mig, p).sm_count;
      } else
        m.host = i == 0 ? &system_->host(0) : &system_->add_process(0, options_.host);
      m.total.name = streams_[i].name;
      m.total.arrived = streams_[i].requests.size();
    }
    apply_masks(plan_);
  }

  // Every model's weights and one batch's activations must fit the memory it runs in: its MIG
  // instance's, or the GPU's shared by all models. Activations live in an arena where tensors
  // whose lifetimes do not overlap share bytes, as an inference runtime (TensorRT) lays them out.
  void check_memory() {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      const int batch = plan_.models[i].batch;
      const workloads::OpGraph& g = library_.graph(streams_[i].model, batch);
      const auto w = static_cast<std::uint64_t>(g.parameter_bytes());
      const std::uint64_t a = arena_bytes(g);
      if (plan_.mode == models::SharingMode::mig) {
        const models::GpuSpec& inst = system_->gpu(static_cast<int>(i)).spec();
        if (w + a > inst.dram_capacity)
          throw sim::InputError(fmt::format(
              "{} at batch {} needs {:.2f} GiB (weights {:.2f}, activations {:.2f}) but its MIG "
              "instance {} holds {:.2f} GiB",
              streams_[i].name, batch, gib(w + a), gib(w), gib(a), plan_.models[i].mig,
              gib(inst.dram_capacity)));
      }
      total += w + a;
    }
    if (plan_.mode != models::SharingMode::mig && total > gpu_.dram_capacity)
      throw sim::InputError(fmt::format("the models' weights and activations need {:.2f} GiB, the "
                                        "{} has {:.2f} GiB",
                                        gib(total), gpu_.name, gib(gpu_.dram_capacity)));
  }
  static double gib(std::uint64_t b) { return static_cast<double>(b) / (1ULL << 30); }

  void apply_masks(const ServingPlan& plan) {
    if (plan.mode != models::SharingMode::mps) return;
    if (options_.mps_count_cap) {
      for (std::size_t i = 0; i < plan.models.size(); ++i)
        system_->gpu(0).cap_context_sms(models_[i].host->context(),
                                        models::sms_for_percent(plan.models[i].percent,
                                                                gpu_.sm_count));
      return;
    }
    std::vector<double> pct;
    for (const ModelPlacement& p : plan.models) pct.push_back(p.percent);
    std::vector<models::SmMask> masks = models::mps_masks(pct, gpu_.sm_count);
    for (std::size_t i = 0; i < masks.size(); ++i) {
      masks_.push_back(std::move(masks[i]));  // kept while kernels launched on it may run
      models_[i].mask = masks_.back().empty() ? nullptr : &masks_.back();
    }
  }

  sim::Time now() { return system_->sim().now(); }

  void arrive(std::size_t i, std::size_t r) {
    Model& m = models_[i];
    m.queue.push_back(r);
    ++m.arrived;
    try_start(i);
  }

  // Whether model i may start a batch now under the spatio-temporal plan; if not, a wake-up at
  // its next window.
  bool in_window(std::size_t i) {
    const ModelPlacement& p = plan_.models[i];
    if (plan_.period_seconds <= 0 || p.window <= 0) return true;
    // In whole picoseconds, so a wake-up at a window's start is inside it.
    const std::int64_t period = sim::Time::s(plan_.period_seconds).count();
    const std::int64_t open = std::llround(p.offset * static_cast<double>(period));
    const std::int64_t close = std::llround((p.offset + p.window) * static_cast<double>(period));
    const std::int64_t t = now().count();
    const std::int64_t phase = t % period;
    if (phase >= open && phase < close) return true;
    if (!models_[i].wake_pending) {
      models_[i].wake_pending = true;
      std::int64_t start = t - phase + open;
      if (start <= t) start += period;
      system_->sim().schedule(sim::Time::ps(start), [this, i] {
        models_[i].wake_pending = false;
        try_start(i);
      });
    }
    return false;
  }

  void try_start(std::size_t i) {
    Model& m = models_[i];
    const ModelStream& s = streams_[i];
    while (!m.queue.empty() && m.running < (m.standby ? 2 : 1) && in_window(i)) {
      const sim::Time t = now();
      // Early drop (as Clipper and Nexus do): a request that would miss its SLO even if its
      // batch ran alone at the model's share goes now rather than take GPU time.
      int b = 0;
      while (!m.queue.empty()) {
        b = std::min<int>(static_cast<int>(m.queue.size()), plan_.models[i].batch);
        const sim::Time deadline = s.requests[m.queue.front()].arrival + sim::Time::s(s.slo_seconds);
        if (t + sim::Time::s(solo_seconds(i, b)) <= deadline) break;
        drop(i, m.queue.front());
        m.queue.pop_front();
      }
      if (m.queue.empty()) return;
      std::vector<std::size_t> batch(m.queue.begin(), m.queue.begin() + b);
      m.queue.erase(m.queue.begin(), m.queue.begin() + b);
      ++m.running;
      ++m.total.batches;
      m.batch_samples += static_cast<std::uint64_t>(b);
      const std::int32_t stream = m.next_stream;
      m.next_stream = (m.next_stream + 1) % 2;
      run_batch(system_->sim(), *m.host, library_.lowered(s.model, b, m.device_sms), stream, m.mask,
                [this, i, batch = std::move(batch), t] { complete(i, batch, t); });
    }
  }

  // A batch of `b` of model i alone at its share: the profile of the smallest candidate batch
  // that holds it (an upper bound that needs no profile per batch size).
  double solo_seconds(std::size_t i, int b) {
    const ServedModel& m = served_[i];
    const int at = *std::lower_bound(m.batches.begin(), m.batches.end(), b);
    const ModelPlacement& p = plan_.models[i];
    return plan_.mode == models::SharingMode::mig ? m.mig_latency(at, p.mig)
                                                  : m.latency(at, p.percent);
  }

  void drop(std::size_t i, std::size_t r) {
    Model& m = models_[i];
    ++m.total.dropped;
    ++m.dropped;
    ++m.missed;
    const workloads::Request& q = streams_[i].requests[r];
    csv_ += fmt::format("{},{},{:.9f},,,,,0\n", streams_[i].name, q.id, q.arrival.seconds());
    progress();
  }

  void complete(std::size_t i, const std::vector<std::size_t>& batch, sim::Time start) {
    Model& m = models_[i];
    const ModelStream& s = streams_[i];
    const sim::Time t = now();
    for (std::size_t r : batch) {
      const workloads::Request& q = s.requests[r];
      const double lat = (t - q.arrival).seconds();
      const bool met = lat <= s.slo_seconds;
      ++m.total.served;
      ++m.completed;
      if (met) ++m.total.met;
      else ++m.missed;
      m.latencies.push_back(lat);
      m.served_ms.push_back(lat * 1e3);
      csv_ += fmt::format("{},{},{:.9f},{:.9f},{:.9f},{:.6f},{},{}\n", s.name, q.id,
                          q.arrival.seconds(), start.seconds(), t.seconds(), lat * 1e3,
                          batch.size(), met ? 1 : 0);
      progress();
    }
    m.last_done = t;
    --m.running;
    if (m.running == 0) m.standby = false;
    try_start(i);
  }

  void progress() {
    ++done_;
    if (options_.on_items) options_.on_items(done_, total_);
  }

  void control() {
    const double dt = policy_.control_seconds();
    std::vector<ModelFeedback> seen;
    for (std::size_t i = 0; i < models_.size(); ++i) {
      Model& m = models_[i];
      ModelFeedback f;
      f.app = static_cast<int>(i);
      f.arrival_rate = static_cast<double>(m.arrived) / dt;
      f.served_rate = static_cast<double>(m.completed) / dt;
      f.p95_seconds = percentile(m.latencies, 0.95);
      const std::uint64_t ended = m.completed + m.dropped;
      f.miss_rate = ended ? static_cast<double>(m.missed) / static_cast<double>(ended) : 0.0;
      f.queued = static_cast<int>(m.queue.size());
      seen.push_back(f);
      m.arrived = m.completed = m.missed = m.dropped = 0;
      m.latencies.clear();
    }
    if (auto next = policy_.adapt(plan_, seen, served_, info_)) {
      if (next->mode != plan_.mode || next->models.size() != plan_.models.size())
        throw std::logic_error("a sharing policy's adapt() changed the mode or the model count");
      for (std::size_t i = 0; i < models_.size(); ++i)
        if (next->models[i].percent != plan_.models[i].percent) {
          ++result_.reallocations;
          if (models_[i].running > 0) models_[i].standby = true;
        }
      plan_ = *next;
      apply_masks(plan_);
      for (std::size_t i = 0; i < models_.size(); ++i) try_start(i);
    }
    if (now() + sim::Time::s(dt) <= last_)
      system_->sim().schedule_in(sim::Time::s(dt), [this] { control(); });
  }

  void finish() {
    const sim::Time end = now();
    result_.span_seconds = std::max(1e-9, (last_ - first_).seconds());
    std::uint64_t arrived = 0, served = 0, met = 0;
    sim::Time last_done = first_;
    for (std::size_t i = 0; i < models_.size(); ++i) {
      Model& m = models_[i];
      ModelServerResult::PerModel p = m.total;
      if (p.served > 0 && !streams_[i].requests.empty()) {
        const double busy = (m.last_done - streams_[i].requests.front().arrival).seconds();
        p.capacity = static_cast<double>(p.served) / std::max(1e-9, busy);
        last_done = std::max(last_done, m.last_done);
      }
      double sum = 0;
      for (double x : m.served_ms) sum += x;
      p.mean_ms = m.served_ms.empty() ? 0 : sum / static_cast<double>(m.served_ms.size());
      p.p50_ms = percentile(m.served_ms, 0.50);
      p.p99_ms = percentile(m.served_ms, 0.99);
      p.throughput = static_cast<double>(p.served) / result_.span_seconds;
      p.goodput = static_cast<double>(p.met) / result_.span_seconds;
      p.mean_batch = p.batches ? static_cast<double>(m.batch_samples) / static_cast<double>(p.batches) : 0;
      arrived += p.arrived;
      served += p.served;
      met += p.met;
      result_.models.push_back(p);
    }
    result_.capacity = static_cast<double>(served) / std::max(1e-9, (last_done - first_).seconds());
    result_.throughput = static_cast<double>(served) / result_.span_seconds;
    result_.goodput = static_cast<double>(met) / result_.span_seconds;
    result_.slo_attainment = arrived ? static_cast<double>(met) / static_cast<double>(arrived) : 0;
    double busy = 0;
    for (int g = 0; g < system_->gpu_models(); ++g) {
      models::Gpu& gpu = system_->gpu(g);
      busy += gpu.sm_busy(end) * gpu.spec().sm_count;
      result_.context_switches += gpu.context_switches();
    }
    result_.gpu_utilization = busy / gpu_.sm_count;
    result_.last = plan_;
    if (options_.ideal_bound) result_.ideal_goodput = schedulers::sharing::ideal_goodput(served_);
    result_.requests_csv = "model,id,arrival_s,start_s,end_s,latency_ms,batch,met\n" + csv_;
  }

  const models::GpuSpec& gpu_;
  const schedulers::sharing::SharingPolicy& policy_;
  const std::vector<ModelStream>& streams_;
  const ModelServerOptions& options_;
  ModelLibrary& library_;
  std::vector<ServedModel> served_;
  schedulers::sharing::GpuShareInfo info_;
  ServingPlan plan_;
  std::unique_ptr<System> system_;
  std::vector<Model> models_;
  std::deque<models::SmMask> masks_;
  ModelServerResult result_;
  std::string csv_;
  sim::Time first_{}, last_{};
  std::size_t total_ = 0, done_ = 0;
};

}  // namespace

ModelServerResult serve_models(const models::GpuSpec& gpu, const models::KernelCost& cost,
                               const schedulers::sharing::SharingPolicy& policy,
                               const std::vector<ModelStream>& streams,
                               const ModelServerOptions& options, ModelLibrary& library,
                               LatencyProfiles& profiles) {
  return ModelServer(gpu, cost, policy, streams, options, library, profiles).run();
}

}  // namespace drivers
