#include "drivers/pipeline/pipeline_server.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "drivers/pipeline/gpu_operators.hpp"
#include "sim/simulator.hpp"

namespace drivers {
namespace {

using workloads::Pipeline;
using workloads::PipelineOp;

bool white(const PipelineServerOptions& o) {
  return o.mode == PipelineServing::white_box;
}

// How many pipelines of the zoo hold each parameter object.
std::map<std::string, int> object_users(const std::vector<Pipeline>& zoo) {
  std::map<std::string, int> users;
  for (const Pipeline& p : zoo) {
    std::set<std::string> mine;
    for (const PipelineOp& op : p.ops)
      if (!op.params.empty()) mine.insert(op.params);
    for (const std::string& id : mine) ++users[id];
  }
  return users;
}

std::map<std::string, std::int64_t> object_bytes(const std::vector<Pipeline>& zoo) {
  std::map<std::string, std::int64_t> bytes;
  for (const Pipeline& p : zoo)
    for (const PipelineOp& op : p.ops)
      if (!op.params.empty()) bytes[op.params] = op.param_bytes;
  return bytes;
}

// An op's identity across pipelines: its kind, parameters, sizes and what it reads (the
// inputs' signatures, computed first: `order` is a dependency order). Two ops with one
// signature compute the same thing on the same input.
std::vector<std::string> signatures(const Pipeline& p, const std::vector<int>& order) {
  std::vector<std::string> sig(p.ops.size());
  for (int i : order) {
    const PipelineOp& op = p.ops[static_cast<std::size_t>(i)];
    std::string s = fmt::format("{}:{}:{}:{}:{}:{}:{}(", workloads::pipeline_op_name(op.kind),
                                op.params, op.ngram, op.entries, op.trees, op.depth, op.on_gpu);
    for (int in : op.inputs) s += sig[static_cast<std::size_t>(in)] + ",";
    sig[static_cast<std::size_t>(i)] = s + ")";
  }
  return sig;
}

struct PreparedOp {
  int index = 0;
  std::string signature;
  double hit_rate = 1;
  bool ends_stage = false;  // its output has several readers: materialized in a white box
};

struct PreparedPipeline {
  std::vector<PreparedOp> ops;  // in dependency order
};

class Server {
 public:
  Server(const std::vector<Pipeline>& zoo, const std::vector<PipelineRequest>& requests,
         const PipelineServerOptions& o)
      : zoo_(zoo), requests_(requests), o_(o) {
    prepare();
    const int reserved = white(o) ? std::clamp(o.reserved_cores, 0, o.cpu.cores - 1) : 0;
    pools_[0].free = o.cpu.cores - reserved;  // shared
    pools_[1].free = reserved;                // latency-critical (white box)
  }

  PipelineServingResult run() {
    const auto wall0 = std::chrono::steady_clock::now();
    for (std::size_t r = 0; r < requests_.size(); ++r)
      sim_.schedule(requests_[r].arrival, [this, r] { arrive(r); });
    sim_.run();
    PipelineServingResult res;
    res.memory_bytes = serving_memory(zoo_, o_);
    res.latency_seconds = latencies_;
    res.cold_starts = cold_starts_;
    res.mean_hit_rate = access_seconds_ > 0 ? hit_seconds_ / access_seconds_ : 1;
    res.gpu_busy = sim_.now() > sim::Time::zero() ? gpu_busy_ / sim_.now().seconds() : 0;
    if (!latencies_.empty()) {
      std::vector<double> sorted = latencies_;
      std::sort(sorted.begin(), sorted.end());
      auto q = [&](double f) {
        const auto i = static_cast<std::size_t>(std::ceil(f * static_cast<double>(sorted.size()))) - 1;
        return sorted[std::min(sorted.size() - 1, i)];
      };
      res.p50 = q(0.5);
      res.p99 = q(0.99);
      double sum = 0;
      for (double l : sorted) sum += l;
      res.mean = sum / static_cast<double>(sorted.size());
      const double span = (last_done_ - requests_.front().arrival).seconds();
      res.throughput = span > 0 ? static_cast<double>(latencies_.size()) / span : 0;
    }
    res.run.events = sim_.events_executed();
    res.run.fingerprint = sim_.fingerprint();
    res.run.simulated = sim_.now();
    res.run.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    res.run.components["cpu.cold_starts"] = static_cast<double>(cold_starts_);
    return res;
  }

 private:
  struct Job {
    std::size_t request = 0;
    std::vector<int> pipelines;
  };
  struct Pool {
    int free = 0;
    std::deque<Job> queue;
  };

  // Hit rates: every hot copy of a table gets an equal share of the LLC.
  void prepare() {
    std::set<int> hot;
    for (const PipelineRequest& r : requests_)
      for (int p : r.pipelines) hot.insert(p);
    std::set<std::string> distinct;
    double copies = 0;
    for (int p : hot)
      for (const PipelineOp& op : zoo_[static_cast<std::size_t>(p)].ops)
        if (!op.params.empty() && op.entries > 0) {
          copies += 1;
          distinct.insert(op.params);
        }
    const double tables = white(o_) ? static_cast<double>(distinct.size()) : copies;
    const double share = tables > 0 ? o_.cpu.llc_bytes / tables : o_.cpu.llc_bytes;
    for (const Pipeline& p : zoo_) {
      PreparedPipeline pp;
      std::vector<int> readers(p.ops.size(), 0);
      for (const PipelineOp& op : p.ops)
        for (int in : op.inputs) ++readers[static_cast<std::size_t>(in)];
      const std::vector<int> order = workloads::pipeline_order(p);
      const std::vector<std::string> sig = signatures(p, order);
      for (int i : order) {
        const PipelineOp& op = p.ops[static_cast<std::size_t>(i)];
        PreparedOp po;
        po.index = i;
        po.signature = sig[static_cast<std::size_t>(i)];
        if (op.entries > 0 && op.param_bytes > 0) {
          const double entry = static_cast<double>(op.param_bytes) / static_cast<double>(op.entries);
          po.hit_rate = models::zipf_hit_rate(static_cast<double>(op.entries), share / entry);
        }
        po.ends_stage = readers[static_cast<std::size_t>(i)] > 1;
        pp.ops.push_back(std::move(po));
      }
      prepared_.push_back(std::move(pp));
    }
  }

  void arrive(std::size_t r) {
    const PipelineRequest& req = requests_[r];
    if (white(o_)) {
      // One job per pool: the pipelines an input goes to run as one plan, sharing sub-plans.
      Job critical{r, {}}, shared{r, {}};
      for (int p : req.pipelines)
        (zoo_[static_cast<std::size_t>(p)].latency_critical && pools_[1].free + busy_[1] > 0
             ? critical
             : shared)
            .pipelines.push_back(p);
      if (!critical.pipelines.empty()) enqueue(1, std::move(critical));
      if (!shared.pipelines.empty()) enqueue(0, std::move(shared));
    } else {
      for (int p : req.pipelines) enqueue(0, Job{r, {p}});
    }
  }

  void enqueue(int pool, Job job) {
    pools_[pool].queue.push_back(std::move(job));
    dispatch(pool);
  }

  void dispatch(int pool) {
    Pool& pl = pools_[pool];
    while (pl.free > 0 && !pl.queue.empty()) {
      Job job = std::move(pl.queue.front());
      pl.queue.pop_front();
      --pl.free;
      ++busy_[pool];
      const double s = service_seconds(job);
      sim_.schedule_in(sim::Time::s(s), [this, pool, job = std::move(job)] {
        ++pools_[pool].free;
        --busy_[pool];
        last_done_ = sim_.now();
        const double latency = (sim_.now() - requests_[job.request].arrival).seconds();
        for (std::size_t i = 0; i < job.pipelines.size(); ++i) latencies_.push_back(latency);
        dispatch(pool);
      });
    }
  }

  double service_seconds(const Job& job) {
    const models::CpuSpec& cpu = o_.cpu;
    const std::int64_t chars = requests_[job.request].characters;
    double t = 0;
    std::map<std::string, std::int64_t> computed;  // sub-plans done for this input: items
    for (int p : job.pipelines) {
      const Pipeline& pipe = zoo_[static_cast<std::size_t>(p)];
      t = cold_start(p, t);
      std::vector<std::int64_t> items(pipe.ops.size(), 0);
      bool stage_open = false;
      for (const PreparedOp& po : prepared_[static_cast<std::size_t>(p)].ops) {
        const PipelineOp& op = pipe.ops[static_cast<std::size_t>(po.index)];
        std::int64_t in_items = 0;
        for (int in : op.inputs) in_items += items[static_cast<std::size_t>(in)];
        if (white(o_)) {
          if (auto c = computed.find(po.signature); c != computed.end()) {
            items[static_cast<std::size_t>(po.index)] = c->second;  // materialized sub-plan
            continue;
          }
          if (!stage_open) t += cpu.stage_dispatch;
          stage_open = !po.ends_stage;
        }
        if (op.on_gpu) {
          // Its core waits while the GPU, first come first served, runs the tensor program.
          const auto g = o_.gpu_seconds.find(gpu_operator_key(op));
          if (g == o_.gpu_seconds.end())
            throw std::logic_error("pipeline server: an on-GPU operator was not priced");
          const double ready = sim_.now().seconds() + t;
          const double start = std::max(ready, gpu_free_);
          gpu_free_ = start + g->second;
          gpu_busy_ += g->second;
          t += gpu_free_ - ready;
          items[static_cast<std::size_t>(po.index)] = 1;
          if (white(o_)) computed[po.signature] = 1;
          continue;
        }
        const models::OpRun run = models::run_op(cpu, op, chars, in_items, po.hit_rate, white(o_));
        double s = run.seconds;
        if (white(o_) && po.ends_stage) s += models::materialize_seconds(cpu, run.items);
        t += s;
        if (op.entries > 0 && op.param_bytes > 0) {
          access_seconds_ += s;
          hit_seconds_ += s * po.hit_rate;
        }
        items[static_cast<std::size_t>(po.index)] = run.items;
        if (white(o_)) computed[po.signature] = run.items;
      }
    }
    return t;
  }

  // A job's time so far `t` once pipeline p may run: a black-box model loads all its
  // parameters and compiles its operators on first use; a white-box plan loads the objects
  // nobody loaded before. A job that finds a load under way (another core's) waits for it.
  double cold_start(int p, double t) {
    const Pipeline& pipe = zoo_[static_cast<std::size_t>(p)];
    const double now = sim_.now().seconds();
    auto ready_at = [&](std::map<std::string, double>& ready, const std::string& id, double load) {
      auto [it, first] = ready.emplace(id, 0.0);
      if (first) {
        ++cold_starts_;
        it->second = now + t + load;
      }
      t = std::max(t, it->second - now);
    };
    if (!white(o_)) {
      if (o_.warm) return t;
      ready_at(model_ready_, pipe.name,
               static_cast<double>(pipe.parameter_bytes()) / o_.cpu.disk_bandwidth +
                   o_.cpu.jit_per_op * static_cast<double>(pipe.ops.size()));
      return t;
    }
    if (o_.warm) return t;
    for (const PipelineOp& op : pipe.ops)
      if (!op.params.empty())
        ready_at(object_ready_, op.params, static_cast<double>(op.param_bytes) / o_.cpu.disk_bandwidth);
    return t;
  }

  const std::vector<Pipeline>& zoo_;
  const std::vector<PipelineRequest>& requests_;
  const PipelineServerOptions& o_;
  sim::Simulator sim_;
  std::vector<PreparedPipeline> prepared_;
  Pool pools_[2];
  int busy_[2] = {0, 0};
  // When each model (black box, by pipeline name) or object (white box) is loaded, seconds.
  std::map<std::string, double> model_ready_, object_ready_;
  std::int64_t cold_starts_ = 0;
  std::vector<double> latencies_;
  sim::Time last_done_{};
  double access_seconds_ = 0, hit_seconds_ = 0;
  double gpu_free_ = 0, gpu_busy_ = 0;  // seconds
};

}  // namespace

double serving_memory(const std::vector<Pipeline>& zoo, const PipelineServerOptions& o) {
  double bytes = o.runtime_bytes;
  if (white(o)) {
    for (const auto& [id, b] : object_bytes(zoo)) bytes += static_cast<double>(b);
    bytes += o.plan_bytes * static_cast<double>(zoo.size());
    return bytes;
  }
  for (const Pipeline& p : zoo)
    bytes += o.model_runtime_bytes + o.container_bytes + static_cast<double>(p.parameter_bytes());
  return bytes;
}

double pipelines_per_device(const std::vector<Pipeline>& zoo, const PipelineServerOptions& o,
                            double capacity) {
  if (zoo.empty()) return 0;
  double fixed = o.runtime_bytes, own = 0;
  if (white(o)) {
    const auto users = object_users(zoo);
    for (const auto& [id, b] : object_bytes(zoo)) {
      if (users.at(id) > 1)
        fixed += static_cast<double>(b);
      else
        own += static_cast<double>(b);
    }
    own += o.plan_bytes * static_cast<double>(zoo.size());
  } else {
    for (const Pipeline& p : zoo)
      own += o.model_runtime_bytes + o.container_bytes + static_cast<double>(p.parameter_bytes());
  }
  const double per = own / static_cast<double>(zoo.size());
  return capacity > fixed ? std::floor((capacity - fixed) / per) : 0;
}

std::size_t shared_parameter_objects(const std::vector<Pipeline>& zoo) {
  std::size_t n = 0;
  for (const auto& [id, users] : object_users(zoo)) n += users > 1 ? 1 : 0;
  return n;
}

PipelineServingResult serve_pipelines(const std::vector<Pipeline>& zoo,
                                      const std::vector<PipelineRequest>& requests,
                                      const PipelineServerOptions& o) {
  return Server(zoo, requests, o).run();
}

}  // namespace drivers
