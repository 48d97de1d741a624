#include "drivers/inference/inference_server.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <stdexcept>

#include "drivers/inference/activation_layout.hpp"
#include "models/gpu.hpp"
#include "sim/stats.hpp"

namespace drivers {

using schedulers::sharing::AppDemand;
using schedulers::sharing::LayerChoice;
using schedulers::sharing::LayerCost;
using schedulers::sharing::PendingJob;

namespace {

using models::memory::UnifiedMemory;
using workloads::OpId;

// p99 from a sketch within 0.01% of the exact order statistic: far below any gap a policy
// comparison reads.
constexpr double kQuantileAccuracy = 1e-4;

struct Job {
  sim::Time release, deadline;
  int task = 0;
};

// One application: a task's model at every group size, its managed memory, its queue.
struct App {
  App() = default;
  App(App&&) = default;  // never copied: its kernels' addresses are registered footprints
  App& operator=(App&&) = default;
  App(const App&) = delete;
  const workloads::InferenceTask* task = nullptr;
  int index = 0;
  std::uint32_t weights = 0, activations = 0;   // allocations
  std::uint64_t weight_bytes = 0;
  // One job's activation buffers, laid out per blob or by liveness; the next job's follow.
  std::uint64_t job_stride = 0;
  std::vector<std::uint64_t> offset;             // tensor id -> offset in its allocation
  std::vector<std::uint64_t> per_job;            // tensor id -> bytes for one job (activations)
  std::vector<const workloads::OpGraph*> graphs;  // by jobs - 1
  std::vector<workloads::TaskGraph> lowered;      // own copies: footprints key on the kernels
  std::vector<std::vector<std::vector<int>>> kernels;  // [jobs - 1][op] -> kernel indices
  std::vector<OpId> layers;                       // ops with kernels, in launch order
  std::deque<Job> queue;  // in the policy's order
  double solo_seconds = 0;  // one job alone on the GPU (the policies' estimate)
  // The group running now.
  bool running = false;
  std::vector<Job> group;
  std::size_t layer = 0;
  int sub_batch = 1, first_job = 0, jobs_in_sub = 1;
  models::SmMask layer_mask;  // the SMs of the layer running now (empty: every SM)
  std::size_t next_kernel = 0;
};

// The most jobs of a task one group can hold: those pending at once, i.e. released within one
// relative deadline (an older one was dropped), and no more than the policy merges.
int jobs_in_flight(const workloads::InferenceTask& t, int max_group) {
  if (t.period <= sim::Time::zero()) return max_group;
  const auto pending = (t.deadline.count() + t.period.count() - 1) / t.period.count();
  return static_cast<int>(std::clamp<sim::Time::rep>(pending, 1, max_group));
}

// A policy's estimate of one kernel launched in a stream on `sm_share` of the GPU: its roofline
// time, its device overhead and the gap before the stream's next kernel (no faults).
double launched_seconds(const models::GpuSpec& gpu, const workloads::KernelDesc& k,
                        double sm_share) {
  return gpu.roofline(k, sm_share).seconds() + (gpu.kernel_overhead + gpu.kernel_gap).seconds();
}

bool fc_like(const workloads::OpGraph& g, const workloads::Op& op) {
  // Tiles of a GEMM, or of a conv with one output position per sample, split the weights by
  // output feature: each CTA reads its slice. Other convs' CTAs each read every filter.
  if (op.kind == workloads::OpKind::gemm) return true;
  if (op.kind != workloads::OpKind::conv) return false;
  const auto& y = g.tensor(op.outputs.at(0)).shape;
  return y.size() == 4 && y[2] == 1 && y[3] == 1;
}

class Server {
 public:
  Server(const models::GpuSpec& gpu, const models::KernelCost& cost,
         const models::memory::UvmParams& uvm, const models::memory::EvictionPolicy& eviction,
         const models::memory::Prefetcher& prefetcher, const SharingPolicy& policy,
         const workloads::TaskSet& tasks, const ServeOptions& options, ModelLibrary& library)
      : gpu_spec_(gpu),
        uvm_(uvm),
        policy_(policy),
        tasks_(tasks),
        options_(options),
        system_(gpu, SystemOptions{1, &cost, options.host, true, options.timeline}) {
    if (options.oversubscription <= 0) throw std::invalid_argument("oversubscription must be > 0");
    const int group = std::max(1, policy.max_group());
    std::uint64_t working_set = 0;
    for (const auto& t : tasks.tasks) {
      const auto& g = library.graph(t.model, t.batch);
      std::uint64_t w = 0, a = 0;
      for (const auto& tensor : g.tensors())
        (tensor.parameter ? w : a) += static_cast<std::uint64_t>(tensor.bytes());
      working_set += w + a;
    }
    const auto frame_bytes = static_cast<std::uint64_t>(
        static_cast<double>(working_set) / options.oversubscription);
    memory_ = &system_.attach_unified_memory(uvm, frame_bytes, options.chunk_bytes, eviction,
                                             prefetcher);
    // Footprints key on the kernels' addresses: the apps take their final place first.
    apps_.reserve(tasks.tasks.size());
    for (std::size_t i = 0; i < tasks.tasks.size(); ++i)
      apps_.push_back(build_app(tasks.tasks[i], static_cast<int>(i), group, library));
    for (App& a : apps_) register_footprints(a);
    // Each application is a process of its own (its host thread and stream); the first uses
    // the GPU's own runtime.
    for (std::size_t i = 0; i < apps_.size(); ++i)
      hosts_.push_back(i == 0 ? &system_.host() : &system_.add_process(0, options.host));
    result_.frames = memory_->frame_chunks();
    result_.tasks.resize(tasks.tasks.size());
    result_.working_set_chunks = (working_set + options.chunk_bytes - 1) / options.chunk_bytes;

    std::vector<AppDemand> demand;
    for (App& a : apps_) {
      a.solo_seconds = job_seconds(a);
      // Models in flight: the jobs a group may hold, each with its own activations (with one
      // job's worth, a batched group's extra windows thrash inside the quota even when memory
      // is not oversubscribed).
      demand.push_back({a.index, memory_->chunks_held(a.weight_bytes),
                        memory_->chunks_held(a.job_stride),
                        jobs_in_flight(*a.task, group), a.solo_seconds, a.task->period.seconds(),
                        least_chunks(a)});
    }
    // Fewer SMs are the GPU's first n, by mask: each SM keeps its own compute and L2 rates.
    const int sms = options.sms > 0 ? std::min(options.sms, gpu.sm_count) : gpu.sm_count;
    exposed_ = models::first_sms(sms, gpu.sm_count);
    plan_ = policy.plan(demand, sms, memory_->frame_chunks());
    for (models::SmMask& m : plan_.masks)
      if (m.empty())
        m = exposed_;
      else
        m.resize(static_cast<std::size_t>(gpu.sm_count), false);
    result_.plan = plan_;
    for (std::size_t i = 0; i < apps_.size(); ++i)
      if (plan_.quota(i) > 0) memory_->set_quota(static_cast<int>(i), plan_.quota(i));
  }

  ServeResult run() {
    for (App& a : apps_)
      if (options_.read_mostly_weights) memory_->space().allocation(a.weights).read_mostly = true;
    // Loading: each app prefetches its weights (cudaMemPrefetchAsync) before serving; the task
    // set's clock starts when the last load is done, so cold loading is not counted as waiting.
    int loading = 0;
    auto serve_from = [this](sim::Time t0) {
      for (const auto& r : workloads::releases(tasks_)) {
        const Job job{t0 + r.release, t0 + r.deadline, r.task};
        system_.sim().schedule(job.release, [this, r, job] {
          enqueue(apps_[static_cast<std::size_t>(r.task)], job);
          ++result_.jobs;
          try_start();
        });
      }
    };
    if (options_.prefetch_weights) {
      loading = static_cast<int>(apps_.size());
      for (App& a : apps_)
        memory_->prefetch(a.weights, 0, a.weight_bytes, [this, &loading, serve_from] {
          if (--loading == 0) serve_from(system_.sim().now());
        });
    } else {
      serve_from(sim::Time::zero());
    }
    result_.run = system_.run();
    for (App& a : apps_)  // jobs never started count as dropped at their deadline
      for (const Job& j : a.queue) record(j, true);
    if (!memory_->idle()) throw std::logic_error("unified memory: faults left unserviced");
    auto& rt = result_.response_ms;
    if (!rt.empty()) {
      double sum = 0;
      for (double v : rt) sum += v;
      result_.mean_ms = sum / static_cast<double>(rt.size());
      sim::QuantileSketch q(kQuantileAccuracy);
      for (double v : rt) q.add(v);
      result_.p99_ms = q.quantile(0.99);
    }
    result_.miss_rate = result_.jobs ? static_cast<double>(result_.dropped + result_.late) /
                                           static_cast<double>(result_.jobs)
                                     : 0.0;
    result_.memory = memory_->stats();
    for (const models::HostRuntime* h : hosts_) result_.host_busy_s += h->host_busy().seconds();
    return std::move(result_);
  }

 private:
  // The SMs the task set may use that neither `a` nor any application running a job owns.
  models::SmMask idle_sms(const App& a) const {
    models::SmMask idle = exposed_.empty()
                              ? models::SmMask(static_cast<std::size_t>(gpu_spec_.sm_count), true)
                              : exposed_;
    for (const App& other : apps_) {
      if (&other != &a && !other.running) continue;
      const models::SmMask& m = plan_.masks[static_cast<std::size_t>(other.index)];
      if (m.empty()) return models::SmMask(idle.size(), false);
      for (std::size_t s = 0; s < idle.size(); ++s)
        if (m[s]) idle[s] = false;
    }
    return idle;
  }

  // The frames of its most demanding layer at one job: the chunks its kernels touch, but for
  // weights split among the CTAs (those stream through).
  std::uint64_t least_chunks(const App& a) const {
    const workloads::OpGraph& g = *a.graphs[0];
    std::uint64_t most = 0;
    for (OpId id : a.layers) {
      std::uint64_t n = 0;
      for (const UnifiedMemory::Touch& t : touches(a, g, g.op(id)))
        if (t.alloc != a.weights || !t.split)
          n += memory_->space().chunks(t.alloc, t.offset, t.offset + t.bytes).size();
      most = std::max(most, n);
    }
    return most;
  }

  // One job at the task's batch alone on every SM, by the roofline, with launch costs.
  double job_seconds(const App& a) const {
    double t = 0;
    for (const workloads::KernelDesc& kd : a.lowered[0].kernels)
      t += launched_seconds(gpu_spec_, kd, 1.0);
    return t;
  }

  App build_app(const workloads::InferenceTask& t, int index, int group, ModelLibrary& lib) {
    App a;
    a.task = &t;
    a.index = index;
    const auto& g1 = lib.graph(t.model, t.batch);
    a.offset.assign(g1.tensor_count(), 0);
    a.per_job = activation_sizes(g1);
    for (std::size_t i = 0; i < g1.tensor_count(); ++i)
      if (g1.tensors()[i].parameter) {
        a.offset[i] = a.weight_bytes;
        a.weight_bytes += static_cast<std::uint64_t>(g1.tensors()[i].bytes());
      }
    // Activations: each job in flight has its own buffers -- one per tensor (Caffe: a buffer
    // per blob), or shared by tensors whose lifetimes do not overlap -- and a batched kernel
    // gathers its samples from the jobs' buffers (N stride = the job's buffer), so a group of
    // k jobs touches k jobs' worth, however many a group may hold. (Each blob's room for a
    // whole group would put the first job of every blob in 2 MiB chunks of its own.)
    a.job_stride = options_.reuse_activations ? layout_by_liveness(g1, a.per_job, a.offset)
                                              : layout_one_per_tensor(g1, a.per_job, a.offset);
    const std::uint64_t at = a.job_stride * static_cast<std::uint64_t>(group);
    result_.activation_bytes += at;
    const std::string name = t.name;
    a.weights = memory_->space().allocate(name + ".weights", index, a.weight_bytes, true);
    a.activations = memory_->space().allocate(name + ".activations", index, at, false);
    for (int j = 1; j <= group; ++j) {
      a.graphs.push_back(&lib.graph(t.model, j * t.batch));
      a.lowered.push_back(lib.lowered(t.model, j * t.batch));
    }
    for (int j = 1; j <= group; ++j) {
      const workloads::OpGraph& g = *a.graphs[static_cast<std::size_t>(j - 1)];
      const workloads::TaskGraph& tg = a.lowered[static_cast<std::size_t>(j - 1)];
      if (g.tensor_count() != g1.tensor_count())
        throw std::logic_error("model graphs differ across batch sizes");
      std::vector<std::vector<int>> by_op(g.op_count());
      for (std::size_t k = 0; k < tg.kernels.size(); ++k) {
        const workloads::KernelDesc& kd = tg.kernels[k];
        if (kd.op < 0) continue;
        by_op[static_cast<std::size_t>(kd.op)].push_back(static_cast<int>(k));
        if (j == 1 && (a.layers.empty() || a.layers.back() != kd.op)) a.layers.push_back(kd.op);
      }
      a.kernels.push_back(std::move(by_op));
    }
    return a;
  }

  void register_footprints(const App& a) {
    for (std::size_t j = 0; j < a.lowered.size(); ++j) {
      const workloads::OpGraph& g = *a.graphs[j];
      for (const workloads::KernelDesc& kd : a.lowered[j].kernels)
        if (kd.op >= 0) memory_->register_kernel(kd, a.index, touches(a, g, g.op(kd.op)));
    }
  }

  std::vector<UnifiedMemory::Touch> touches(const App& a, const workloads::OpGraph& g,
                                            const workloads::Op& op) const {
    std::vector<UnifiedMemory::Touch> out;
    const bool split_weights = fc_like(g, op);
    auto add = [&](workloads::TensorId t, bool write) {
      const auto i = static_cast<std::size_t>(t);
      if (g.tensor(t).parameter)
        out.push_back({a.weights, a.offset[i], static_cast<std::uint64_t>(g.tensor(t).bytes()), 0,
                       split_weights, false});
      else
        out.push_back({a.activations, a.offset[i],
                       static_cast<std::uint64_t>(g.tensor(t).bytes()), a.per_job[i], true,
                       write, a.job_stride});
    };
    for (auto t : op.inputs) add(t, false);
    for (auto t : op.outputs) add(t, true);
    return out;
  }

  PendingJob pending(const App& a, const Job& j) const {
    return {a.index, j.release.seconds(), j.deadline.seconds(), a.solo_seconds,
            a.task->priority, static_cast<int>(a.queue.size())};
  }

  // The policy's order, then release time, then application index.
  bool goes_before(const App& a, const Job& x, const App& b, const Job& y) const {
    const PendingJob px = pending(a, x), py = pending(b, y);
    if (policy_.before(px, py)) return true;
    if (policy_.before(py, px)) return false;
    return x.release != y.release ? x.release < y.release : a.index < b.index;
  }

  void enqueue(App& a, const Job& job) {
    auto at = a.queue.end();
    while (at != a.queue.begin() && goes_before(a, job, a, *std::prev(at))) --at;
    a.queue.insert(at, job);
  }

  void try_start() {
    const sim::Time now = system_.sim().now();
    for (App& a : apps_) {
      if (a.running) continue;
      // A job whose deadline passed before it could start is dropped; it waited until then.
      std::deque<Job> kept;
      for (const Job& j : a.queue)
        if (j.deadline <= now) record(j, true);
        else kept.push_back(j);
      a.queue.swap(kept);
    }
    if (policy_.exclusive()) {
      if (running_ > 0) return;
      App* pick = nullptr;
      for (App& a : apps_)
        if (!a.queue.empty() &&
            (!pick || goes_before(a, a.queue.front(), *pick, pick->queue.front())))
          pick = &a;
      if (pick) start_group(*pick);
      return;
    }
    for (App& a : apps_)
      if (!a.running && !a.queue.empty()) start_group(a);
  }

  void start_group(App& a) {
    const int planned = plan_.group(static_cast<std::size_t>(a.index));
    const int cap = planned > 0 ? planned : policy_.max_group();
    const auto n = std::min<std::size_t>(a.queue.size(), static_cast<std::size_t>(std::max(1, cap)));
    a.group.assign(a.queue.begin(), a.queue.begin() + static_cast<std::ptrdiff_t>(n));
    a.queue.erase(a.queue.begin(), a.queue.begin() + static_cast<std::ptrdiff_t>(n));
    a.running = true;
    ++running_;
    ++result_.groups;
    a.layer = 0;
    start_layer(a);
  }

  void start_layer(App& a) {
    if (a.layer == a.layers.size()) {
      finish_group(a);
      return;
    }
    const int jobs = static_cast<int>(a.group.size());
    const models::SmMask& own = plan_.masks[static_cast<std::size_t>(a.index)];
    const models::SmMask idle = idle_sms(a);
    const int own_sms = models::sms_in(own, gpu_spec_.sm_count);
    const int idle_count = models::sms_in(idle, gpu_spec_.sm_count);  // idle is full-size
    const LayerChoice c = policy_.choose_layer(layer_cost(a), jobs, own_sms, idle_count);
    a.sub_batch = std::clamp(c.sub_batch, 1, jobs);
    if (jobs > 1) result_.layer_batches.push_back(a.sub_batch);
    // Its own SMs, then the first idle ones (an app owning every SM finds none idle).
    a.layer_mask = own;
    int more = std::clamp(c.sms, own_sms, own_sms + idle_count) - own_sms;
    for (std::size_t s = 0; s < idle.size() && more > 0; ++s)
      if (idle[s]) {
        a.layer_mask[s] = true;
        --more;
      }
    a.first_job = 0;
    start_sub(a);
  }

  void start_sub(App& a) {
    const int jobs = static_cast<int>(a.group.size());
    if (a.first_job >= jobs) {
      ++a.layer;
      start_layer(a);
      return;
    }
    a.jobs_in_sub = std::min(a.sub_batch, jobs - a.first_job);
    a.next_kernel = 0;
    // The framework's work for the layer's op, on the host thread before its launches.
    if (options_.host.per_op > sim::Time::zero())
      hosts_[static_cast<std::size_t>(a.index)]->work(options_.host.per_op,
                                                      a.graphs[0]->op(a.layers[a.layer]).name);
    launch_next(a);
  }

  void launch_next(App& a) {
    const OpId op = a.layers[a.layer];
    const auto& list = a.kernels[static_cast<std::size_t>(a.jobs_in_sub - 1)]
                                [static_cast<std::size_t>(op)];
    if (a.next_kernel == list.size()) {
      a.first_job += a.jobs_in_sub;
      start_sub(a);
      return;
    }
    const auto& kd = a.lowered[static_cast<std::size_t>(a.jobs_in_sub - 1)]
                         .kernels[static_cast<std::size_t>(list[a.next_kernel++])];
    // The app's kernels run one at a time, so its sample window is the launching one's.
    memory_->set_sample_offset(a.index, static_cast<std::uint64_t>(a.first_job));
    const models::SmMask* mask = a.layer_mask.empty() ? nullptr : &a.layer_mask;
    // The app's process launches on its stream; the next kernel follows the stream's gap.
    App* app = &a;
    hosts_[static_cast<std::size_t>(a.index)]->launch(
        0, kd, [this, app](sim::Time) { launch_next(*app); }, mask);
  }

  void record(const Job& j, bool dropped) {
    const double ms = ((dropped ? j.deadline : system_.sim().now()) - j.release).ms();
    result_.response_ms.push_back(ms);
    auto& t = result_.tasks[static_cast<std::size_t>(j.task)];
    ++t.jobs;
    t.sum_ms += ms;
    if (dropped) {
      ++result_.dropped;
      ++t.dropped;
    } else {
      ++result_.completed;
      if (system_.sim().now() > j.deadline) {
        ++result_.late;
        ++t.late;
      }
    }
  }

  void finish_group(App& a) {
    for (const Job& j : a.group) record(j, false);
    a.group.clear();
    a.running = false;
    --running_;
    try_start();
  }

  // The per-layer scheduler's view of layer `a.layer` for the group now running.
  LayerCost layer_cost(const App& a) const {
    LayerCost c;
    const OpId op = a.layers[a.layer];
    const workloads::OpGraph& g1 = *a.graphs[0];
    const auto& o = g1.op(op);
    const auto& space = memory_->space();
    for (auto t : o.inputs) {
      const auto& tensor = g1.tensor(t);
      const auto bytes = static_cast<std::uint64_t>(tensor.bytes());
      if (tensor.parameter) {
        c.weight_bytes += bytes;
        const auto r = space.chunks(a.weights, a.offset[static_cast<std::size_t>(t)],
                                    a.offset[static_cast<std::size_t>(t)] + bytes);
        c.missing_weight_bytes += (r.size() - std::min(r.size(), space.covered(r))) *
                                  space.chunk_bytes();
      } else {
        c.activation_bytes_per_job += bytes;
      }
    }
    for (auto t : o.outputs) c.activation_bytes_per_job += static_cast<std::uint64_t>(g1.tensor(t).bytes());
    const std::uint64_t quota = plan_.quota(static_cast<std::size_t>(a.index));
    c.budget_bytes = (quota > 0 ? quota : memory_->frame_chunks()) * space.chunk_bytes();
    c.fault_seconds_per_byte = uvm_.fault_seconds_per_byte();
    const App* app = &a;
    const models::GpuSpec* spec = &gpu_spec_;
    c.compute_seconds = [app, op, spec](int jobs, int sms) {
      // Roofline of the layer's kernels at this sub-batch on `sms` SMs.
      const double share = static_cast<double>(sms) / spec->sm_count;
      const auto& tg = app->lowered[static_cast<std::size_t>(jobs - 1)];
      double t = 0;
      for (int k : app->kernels[static_cast<std::size_t>(jobs - 1)][static_cast<std::size_t>(op)])
        t += launched_seconds(*spec, tg.kernels[static_cast<std::size_t>(k)], share);
      return t;
    };
    return c;
  }

  const models::GpuSpec& gpu_spec_;
  const models::memory::UvmParams& uvm_;
  const SharingPolicy& policy_;
  const workloads::TaskSet& tasks_;
  ServeOptions options_;
  System system_;
  std::vector<models::HostRuntime*> hosts_;  // each application's process
  UnifiedMemory* memory_ = nullptr;
  std::vector<App> apps_;
  SharingPlan plan_;         // masks over every SM of the GPU
  models::SmMask exposed_;   // the SMs the task set may use (empty: all)
  int running_ = 0;
  ServeResult result_;
};

}  // namespace

ServeResult serve(const models::GpuSpec& gpu, const models::KernelCost& cost,
                  const models::memory::UvmParams& uvm,
                  const models::memory::EvictionPolicy& eviction,
                  const models::memory::Prefetcher& prefetcher, const SharingPolicy& policy,
                  const workloads::TaskSet& tasks, const ServeOptions& options,
                  ModelLibrary& library) {
  Server s(gpu, cost, uvm, eviction, prefetcher, policy, tasks, options, library);
  return s.run();
}

}  // namespace drivers
