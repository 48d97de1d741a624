#include "models/host_runtime.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "sim/params.hpp"

namespace models {

const sim::ParamSchema& HostCosts::schema() {
  static const sim::ParamSchema s = sim::schema(R"(
per_op         | duration | 0 ns | framework work per op before its kernels
per_launch     | duration | 0 ns | host time of one cudaLaunchKernel
event_record   | duration | 0 ns | cudaEventRecord
event_wait     | duration | 0 ns | cudaStreamWaitEvent
graph_launch   | duration | 0 ns | host time of one cudaGraphLaunch
graph_node     | duration | 0 ns | device cost to start a graph node after its deps
launch_latency | duration |      | launch call to device start (absent: the GPU's)
)");
  return s;
}

HostCosts HostCosts::from_config(const sim::Config& c) {
  const sim::Params p(c, schema());
  HostCosts h;
  h.per_op = p.duration("per_op");
  h.per_launch = p.duration("per_launch");
  h.event_record = p.duration("event_record");
  h.event_wait = p.duration("event_wait");
  h.graph_launch = p.duration("graph_launch");
  h.graph_node = p.duration("graph_node");
  if (auto l = p.find("launch_latency")) h.launch_latency = l->as_duration();
  return h;
}

HostCosts HostCosts::for_mode(const sim::Config& host, const std::string& mode) {
  if (auto n = host.find("name")) n->mark_used();  // the preset's name, for people
  for (const std::string& m : host.keys())
    if (m != "name") from_config(host.at(m));
  return from_config(host.at(mode));
}

HostRuntime::HostRuntime(sim::Simulator& sim, Gpu& gpu, HostCosts costs)
    : sim_(sim), gpu_(gpu), costs_(costs) {}

void HostRuntime::attach_timeline(sim::TimelineWriter* timeline, const std::string& host_name) {
  timeline_ = timeline;
  if (!timeline_) return;
  host_pid_ = timeline_->process(host_name);
  host_tid_ = timeline_->thread(host_pid_, "thread 0 (framework + CUDA API)");
}

int HostRuntime::track(std::int32_t stream) {
  if (!timeline_ || gpu_.timeline_pid() < 0) return -1;
  while (static_cast<std::int32_t>(stream_tids_.size()) <= stream)
    stream_tids_.push_back(timeline_->thread(
        gpu_.timeline_pid(), fmt::format("stream {}", stream_tids_.size())));
  return stream_tids_[static_cast<std::size_t>(stream)];
}

void HostRuntime::trace_call(std::string_view name, sim::Time start, sim::Time duration,
                             std::int64_t correlation) {
  if (!timeline_) return;
  // Calls that cost nothing (an ideal host) are still written: a launch links its kernel.
  timeline_->complete(host_pid_, host_tid_, name, "cuda_runtime", start, duration,
                      {{"correlation", correlation}});
}

sim::Time HostRuntime::latency() const {
  return costs_.launch_latency.value_or(gpu_.spec().launch_latency);
}

HostRuntime::Stream& HostRuntime::stream(std::int32_t s) {
  if (s < 0) throw std::invalid_argument("host runtime: negative stream");
  if (static_cast<std::size_t>(s) >= streams_.size()) streams_.resize(static_cast<std::size_t>(s) + 1);
  return streams_[static_cast<std::size_t>(s)];
}

void HostRuntime::run(const HostProgram& program, std::span<const workloads::KernelDesc> kernels,
                      Done on_done) {
  for (const auto& c : program.commands) {
    const bool bad_stream = c.stream < 0 || c.stream >= program.streams;
    if ((c.kind == HostCommand::Kind::launch || c.kind == HostCommand::Kind::record ||
         c.kind == HostCommand::Kind::wait || c.kind == HostCommand::Kind::stream_synchronize) &&
        bad_stream)
      throw std::invalid_argument("host program: stream out of range");
    if (c.kind == HostCommand::Kind::launch &&
        (c.kernel < 0 || static_cast<std::size_t>(c.kernel) >= kernels.size()))
      throw std::invalid_argument("host program: kernel out of range");
  }
  if (program.streams > 0) stream(program.streams - 1);
  Segment seg;
  seg.program = &program;
  seg.kernels = kernels;
  seg.event_base = static_cast<std::int32_t>(event_done_.size());
  seg.on_done = std::move(on_done);
  event_done_.resize(event_done_.size() + static_cast<std::size_t>(program.events), false);
  event_waiters_.resize(event_done_.size());
  issue(std::move(seg));
}

void HostRuntime::launch(std::int32_t s, const workloads::KernelDesc& k, KernelDone on_done,
                         const SmMask* mask) {
  stream(s);
  Segment seg;
  seg.single.kind = HostCommand::Kind::launch;
  seg.single.stream = s;
  seg.kernel = &k;
  seg.mask = mask;
  seg.kernel_done = std::move(on_done);
  issue(std::move(seg));
}

void HostRuntime::work(sim::Time duration, std::string label) {
  Segment seg;
  seg.single.kind = HostCommand::Kind::work;
  seg.single.duration = duration;
  seg.single.label = std::move(label);
  issue(std::move(seg));
}

void HostRuntime::issue(Segment s) {
  segments_.push_back(std::move(s));
  if (host_active_) return;  // the host thread gets to it in order
  host_active_ = true;
  next_command();
}

void HostRuntime::next_command() {
  HostCommand single;
  const HostCommand* cp = nullptr;
  Segment* seg = nullptr;
  while (!cp) {
    if (segments_.empty()) {
      host_active_ = false;
      return;
    }
    seg = &segments_.front();
    if (!seg->program) {
      single = std::move(seg->single);
      cp = &single;
      break;
    }
    if (seg->pc < seg->program->commands.size()) {
      cp = &seg->program->commands[seg->pc++];
      break;
    }
    // The program is issued: its on_done waits for the device to drain.
    if (seg->on_done) idle_waiters_.push_back(std::move(seg->on_done));
    segments_.pop_front();
    check_done();
  }
  const HostCommand& c = *cp;
  const sim::Time now = sim_.now();
  sim::Time cost;
  std::string_view what;
  std::int64_t correlation = -1;  // a launch's, linking it to its device work in the timeline
  switch (c.kind) {
    case HostCommand::Kind::work:
      cost = c.duration;
      what = c.label.empty() ? std::string_view("framework") : std::string_view(c.label);
      break;
    case HostCommand::Kind::launch: {
      cost = costs_.per_launch;
      what = "cudaLaunchKernel";
      const sim::Time ready = now + latency();
      if (timeline_) correlation = timeline_->next_correlation();
      Item it{Item::Kind::kernel, nullptr, nullptr, -1, ready, {}, correlation};
      if (seg->program) {
        it.kernel = &seg->kernels[static_cast<std::size_t>(c.kernel)];
      } else {
        it.kernel = seg->kernel;
        it.mask = seg->mask;
        it.done = std::move(seg->kernel_done);
      }
      stream(c.stream).queue.push_back(std::move(it));
      outstanding(1);
      schedule_pump(c.stream, ready);
      break;
    }
    case HostCommand::Kind::record:
    case HostCommand::Kind::wait: {
      const bool rec = c.kind == HostCommand::Kind::record;
      cost = rec ? costs_.event_record : costs_.event_wait;
      what = rec ? "cudaEventRecord" : "cudaStreamWaitEvent";
      stream(c.stream).queue.push_back(Item{rec ? Item::Kind::record : Item::Kind::wait, nullptr,
                                            nullptr, seg->event_base + c.event, now, {}});
      schedule_pump(c.stream, now);
      break;
    }
    case HostCommand::Kind::graph_launch: {
      cost = costs_.graph_launch;
      what = "cudaGraphLaunch";
      const DeviceGraph* g = &seg->program->graphs.at(static_cast<std::size_t>(c.graph));
      const std::span<const workloads::KernelDesc> kernels = seg->kernels;
      if (timeline_) correlation = timeline_->next_correlation();
      sim_.schedule(now + latency(),
                    [this, g, kernels, correlation] { start_graph(*g, kernels, correlation); });
      outstanding(static_cast<std::ptrdiff_t>(g->kernels.size()));
      break;
    }
    // Only programs synchronize (a streamed command is a launch or host work).
    case HostCommand::Kind::synchronize:
      if (device_outstanding_ > 0) {
        host_waiting_sync_ = true;  // resumed by check_done()
        waiting_since_ = now;
        return;
      }
      trace_call("cudaDeviceSynchronize", now, {});
      break;
    case HostCommand::Kind::stream_synchronize:
      if (!stream_drained(c.stream)) {
        host_waiting_stream_ = c.stream;  // resumed by check_done()
        waiting_since_ = now;
        return;
      }
      trace_call("cudaStreamSynchronize", now, {});
      break;
  }
  if (!seg->program) segments_.pop_front();  // a streamed command is done with
  if (timeline_ && !what.empty()) {
    if (c.kind != HostCommand::Kind::work)
      trace_call(what, now, cost, correlation);
    else if (cost > sim::Time::zero())  // framework work: the op's dispatch, as a cpu_op
      timeline_->complete(host_pid_, host_tid_, what, "cpu_op", now, cost);
  }
  host_busy_ += cost;
  sim_.schedule(now + cost, [this] { next_command(); });
}

void HostRuntime::schedule_pump(std::int32_t stream, sim::Time at) {
  sim_.schedule(std::max(at, sim_.now()), [this, stream] { pump(stream); });
}

void HostRuntime::pump(std::int32_t stream_index) {
  Stream& s = streams_[static_cast<std::size_t>(stream_index)];
  const sim::Time now = sim_.now();
  while (!s.queue.empty()) {
    Item& it = s.queue.front();
    if (it.ready > now) return;  // a pump is scheduled for its arrival
    switch (it.kind) {
      case Item::Kind::record:
        if (s.busy) return;  // completes with the stream's prior work
        {
          const std::int32_t e = it.event;
          s.queue.pop_front();
          event_done(e);
        }
        continue;
      case Item::Kind::wait:
        if (!event_done_[static_cast<std::size_t>(it.event)]) {
          event_waiters_[static_cast<std::size_t>(it.event)].push_back(stream_index);
          return;
        }
        s.queue.pop_front();
        continue;
      case Item::Kind::kernel: {
        if (s.busy) return;
        if (now < s.free_at) {
          schedule_pump(stream_index, s.free_at);
          return;
        }
        s.busy = true;
        const TraceTag tag{track(stream_index), stream_index, it.correlation};
        s.running = it.kernel;
        s.running_start = now;
        s.running_done = std::move(it.done);
        const SmMask* mask = it.mask ? it.mask : process_mask_;
        s.queue.pop_front();
        gpu_.launch(
            *s.running,
            [this, stream_index] {
              Stream& st = streams_[static_cast<std::size_t>(stream_index)];
              st.busy = false;
              st.free_at = sim_.now() + gpu_.spec().kernel_gap;
              outstanding(-1);
              KernelDone done = std::move(st.running_done);
              st.running_done = nullptr;
              kernel_finished(*st.running, st.running_start);
              if (done) done(st.running_start);
              schedule_pump(stream_index, sim_.now());
              check_done();
            },
            mask, tag, context_);
        return;
      }
    }
  }
}

void HostRuntime::outstanding(std::ptrdiff_t delta) {
  const bool was = device_outstanding_ > 0;
  device_outstanding_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(device_outstanding_) + delta);
  // A time-sliced GPU keeps a context's turn while it has work queued, not only running.
  if (was != (device_outstanding_ > 0)) gpu_.context_work(context_, !was);
}

void HostRuntime::kernel_finished(const workloads::KernelDesc& k, sim::Time start) {
  ++kernels_done_;
  if (observer_) observer_(k, start, sim_.now());
}

void HostRuntime::event_done(std::int32_t event) {
  event_done_[static_cast<std::size_t>(event)] = true;
  auto waiters = std::move(event_waiters_[static_cast<std::size_t>(event)]);
  event_waiters_[static_cast<std::size_t>(event)].clear();
  for (std::int32_t s : waiters) schedule_pump(s, sim_.now());
}

void HostRuntime::start_graph(const DeviceGraph& graph,
                              std::span<const workloads::KernelDesc> kernels,
                              std::int64_t correlation) {
  const std::size_t n = graph.kernels.size();
  GraphRun run{&graph, kernels, std::vector<std::int32_t>(n, 0),
               std::vector<std::vector<std::int32_t>>(n), n, correlation};
  for (std::size_t v = 0; v < n; ++v)
    for (std::int32_t d : graph.deps[v]) {
      ++run.waiting[v];
      run.succ[static_cast<std::size_t>(d)].push_back(static_cast<std::int32_t>(v));
    }
  graph_runs_.push_back(std::move(run));
  const std::size_t r = graph_runs_.size() - 1;
  for (std::size_t v = 0; v < n; ++v)
    if (graph_runs_[r].waiting[v] == 0) {
      const auto node = static_cast<std::int32_t>(v);
      sim_.schedule_in(costs_.graph_node, [this, r, node] { graph_node_ready(r, node); });
    }
  if (n == 0) check_done();
}

void HostRuntime::graph_node_ready(std::size_t r, std::int32_t node) {
  const GraphRun& gr = graph_runs_[r];
  const DeviceGraph& graph = *gr.graph;
  const std::int32_t stream =
      graph.stream_of.empty() ? 0 : graph.stream_of[static_cast<std::size_t>(node)];
  const workloads::KernelDesc& k =
      gr.kernels[static_cast<std::size_t>(graph.kernels[static_cast<std::size_t>(node)])];
  const sim::Time start = sim_.now();
  gpu_.launch(
      k,
      [this, r, node, start] {
        GraphRun& run = graph_runs_[r];
        for (std::int32_t v : run.succ[static_cast<std::size_t>(node)])
          if (--run.waiting[static_cast<std::size_t>(v)] == 0)
            sim_.schedule_in(costs_.graph_node, [this, r, v] { graph_node_ready(r, v); });
        --run.left;
        outstanding(-1);
        kernel_finished(run.kernels[static_cast<std::size_t>(
                            run.graph->kernels[static_cast<std::size_t>(node)])],
                        start);
        check_done();
      },
      process_mask_, TraceTag{track(stream), stream, gr.correlation}, context_);
}

bool HostRuntime::stream_drained(std::int32_t stream) const {
  const Stream& s = streams_[static_cast<std::size_t>(stream)];
  if (s.busy) return false;
  for (const Item& it : s.queue)  // records and waits left behind do not hold the host
    if (it.kind == Item::Kind::kernel) return false;
  return true;
}

bool HostRuntime::device_idle() const {
  if (device_outstanding_ > 0) return false;
  for (const Stream& s : streams_)
    if (!s.queue.empty()) return false;
  return true;
}

void HostRuntime::check_done() {
  if (host_waiting_stream_ >= 0 && stream_drained(host_waiting_stream_)) {
    host_waiting_stream_ = -1;
    trace_call("cudaStreamSynchronize", waiting_since_, sim_.now() - waiting_since_);
    sim_.schedule(sim_.now(), [this] { next_command(); });
    return;
  }
  if (device_outstanding_ > 0) return;
  if (host_waiting_sync_) {
    host_waiting_sync_ = false;
    trace_call("cudaDeviceSynchronize", waiting_since_, sim_.now() - waiting_since_);
    sim_.schedule(sim_.now(), [this] { next_command(); });
    return;
  }
  if (idle_waiters_.empty() || !device_idle()) return;
  auto waiters = std::move(idle_waiters_);
  idle_waiters_.clear();
  for (Done& w : waiters) w();
}

}  // namespace models
