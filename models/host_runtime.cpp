#include "models/host_runtime.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace models {

HostCosts HostCosts::from_config(const sim::Config& c) {
  HostCosts h;
  h.per_op = c.get_duration("per_op", "0 ns");
  h.per_launch = c.get_duration("per_launch", "0 ns");
  h.event_record = c.get_duration("event_record", "0 ns");
  h.event_wait = c.get_duration("event_wait", "0 ns");
  h.graph_launch = c.get_duration("graph_launch", "0 ns");
  h.graph_node = c.get_duration("graph_node", "0 ns");
  return h;
}

HostCosts HostCosts::for_mode(const sim::Config& host, const std::string& mode) {
  host.get_string("name", "");
  for (const std::string& m : host.keys())
    if (m != "name") from_config(host.at(m));
  return from_config(host.at(mode));
}

HostRuntime::HostRuntime(sim::Simulator& sim, Gpu& gpu, HostCosts costs,
                         std::span<const workloads::KernelDesc> kernels)
    : sim_(sim), gpu_(gpu), costs_(costs), kernels_(kernels) {}

void HostRuntime::attach_timeline(sim::TimelineWriter* timeline) {
  timeline_ = timeline;
  if (!timeline_) return;
  host_pid_ = timeline_->process("host");
  host_tid_ = timeline_->thread(host_pid_, "thread 0 (framework + CUDA API)");
}

int HostRuntime::track(std::int32_t stream) {
  if (!timeline_ || gpu_.timeline_pid() < 0) return -1;
  while (static_cast<std::int32_t>(stream_tids_.size()) <= stream)
    stream_tids_.push_back(timeline_->thread(
        gpu_.timeline_pid(), fmt::format("stream {}", stream_tids_.size())));
  return stream_tids_[static_cast<std::size_t>(stream)];
}

void HostRuntime::run(const HostProgram& program, std::function<void()> on_done) {
  if (program_ && !host_finished_) throw std::logic_error("HostRuntime: a program is running");
  program_ = &program;
  pc_ = 0;
  on_done_ = std::move(on_done);
  host_finished_ = false;
  host_waiting_sync_ = false;
  host_waiting_stream_ = -1;
  streams_.assign(static_cast<std::size_t>(program.streams), Stream{});
  event_done_.assign(static_cast<std::size_t>(program.events), false);
  event_waiters_.assign(static_cast<std::size_t>(program.events), {});
  graph_runs_.clear();
  for (const auto& c : program.commands) {
    const bool bad_stream = c.stream < 0 || c.stream >= program.streams;
    if ((c.kind == HostCommand::Kind::launch || c.kind == HostCommand::Kind::record ||
         c.kind == HostCommand::Kind::wait || c.kind == HostCommand::Kind::stream_synchronize) &&
        bad_stream)
      throw std::invalid_argument("host program: stream out of range");
    if (c.kind == HostCommand::Kind::launch &&
        (c.kernel < 0 || static_cast<std::size_t>(c.kernel) >= kernels_.size()))
      throw std::invalid_argument("host program: kernel out of range");
  }
  next_command();
}

void HostRuntime::next_command() {
  if (pc_ == program_->commands.size()) {
    host_finished_ = true;
    check_done();
    return;
  }
  const HostCommand& c = program_->commands[pc_++];
  const sim::Time now = sim_.now();
  sim::Time cost;
  std::string_view what;
  switch (c.kind) {
    case HostCommand::Kind::work:
      cost = c.duration;
      what = c.label.empty() ? std::string_view("framework") : std::string_view(c.label);
      break;
    case HostCommand::Kind::launch: {
      cost = costs_.per_launch;
      what = "cudaLaunchKernel";
      const sim::Time ready = now + gpu_.spec().launch_latency;
      streams_[static_cast<std::size_t>(c.stream)].queue.push_back(
          Item{Item::Kind::kernel, c.kernel, ready});
      ++device_outstanding_;
      schedule_pump(c.stream, ready);
      break;
    }
    case HostCommand::Kind::record:
    case HostCommand::Kind::wait: {
      const bool rec = c.kind == HostCommand::Kind::record;
      cost = rec ? costs_.event_record : costs_.event_wait;
      what = rec ? "cudaEventRecord" : "cudaStreamWaitEvent";
      streams_[static_cast<std::size_t>(c.stream)].queue.push_back(
          Item{rec ? Item::Kind::record : Item::Kind::wait, c.event, now});
      schedule_pump(c.stream, now);
      break;
    }
    case HostCommand::Kind::graph_launch: {
      cost = costs_.graph_launch;
      what = "cudaGraphLaunch";
      const std::int32_t g = c.graph;
      sim_.schedule(now + gpu_.spec().launch_latency, [this, g] { start_graph(g); });
      device_outstanding_ += program_->graphs.at(static_cast<std::size_t>(g)).kernels.size();
      break;
    }
    case HostCommand::Kind::synchronize:
      if (device_outstanding_ > 0) {
        host_waiting_sync_ = true;  // resumed by check_done()
        return;
      }
      break;
    case HostCommand::Kind::stream_synchronize:
      if (!stream_drained(c.stream)) {
        host_waiting_stream_ = c.stream;  // resumed by check_done()
        return;
      }
      break;
  }
  if (timeline_ && cost > sim::Time::zero())
    timeline_->complete(host_pid_, host_tid_, what, "host", now, cost);
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
    const Item it = s.queue.front();
    if (it.ready > now) return;  // a pump is scheduled for its arrival
    switch (it.kind) {
      case Item::Kind::record:
        if (s.busy) return;  // completes with the stream's prior work
        s.queue.pop_front();
        event_done(it.index);
        continue;
      case Item::Kind::wait:
        if (!event_done_[static_cast<std::size_t>(it.index)]) {
          event_waiters_[static_cast<std::size_t>(it.index)].push_back(stream_index);
          return;
        }
        s.queue.pop_front();
        continue;
      case Item::Kind::kernel:
        if (s.busy) return;
        if (now < s.free_at) {
          schedule_pump(stream_index, s.free_at);
          return;
        }
        s.busy = true;
        s.queue.pop_front();
        gpu_.launch(
            kernels_[static_cast<std::size_t>(it.index)],
            [this, stream_index] {
              Stream& st = streams_[static_cast<std::size_t>(stream_index)];
              st.busy = false;
              st.free_at = sim_.now() + gpu_.spec().kernel_gap;
              ++kernels_done_;
              --device_outstanding_;
              schedule_pump(stream_index, sim_.now());
              check_done();
            },
            nullptr, track(stream_index));
        return;
    }
  }
}

void HostRuntime::event_done(std::int32_t event) {
  event_done_[static_cast<std::size_t>(event)] = true;
  auto waiters = std::move(event_waiters_[static_cast<std::size_t>(event)]);
  event_waiters_[static_cast<std::size_t>(event)].clear();
  for (std::int32_t s : waiters) schedule_pump(s, sim_.now());
}

void HostRuntime::start_graph(std::int32_t g) {
  const DeviceGraph& graph = program_->graphs[static_cast<std::size_t>(g)];
  const std::size_t n = graph.kernels.size();
  GraphRun run{&graph, std::vector<std::int32_t>(n, 0), std::vector<std::vector<std::int32_t>>(n),
               n};
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
  const DeviceGraph& graph = *graph_runs_[r].graph;
  const std::int32_t stream =
      graph.stream_of.empty() ? 0 : graph.stream_of[static_cast<std::size_t>(node)];
  gpu_.launch(
      kernels_[static_cast<std::size_t>(graph.kernels[static_cast<std::size_t>(node)])],
      [this, r, node] {
        GraphRun& run = graph_runs_[r];
        for (std::int32_t v : run.succ[static_cast<std::size_t>(node)])
          if (--run.waiting[static_cast<std::size_t>(v)] == 0)
            sim_.schedule_in(costs_.graph_node, [this, r, v] { graph_node_ready(r, v); });
        --run.left;
        ++kernels_done_;
        --device_outstanding_;
        check_done();
      },
      nullptr, track(stream));
}

bool HostRuntime::stream_drained(std::int32_t stream) const {
  const Stream& s = streams_[static_cast<std::size_t>(stream)];
  if (s.busy) return false;
  for (const Item& it : s.queue)  // records and waits left behind do not hold the host
    if (it.kind == Item::Kind::kernel) return false;
  return true;
}

void HostRuntime::check_done() {
  if (host_waiting_stream_ >= 0 && stream_drained(host_waiting_stream_)) {
    host_waiting_stream_ = -1;
    sim_.schedule(sim_.now(), [this] { next_command(); });
    return;
  }
  if (device_outstanding_ > 0) return;
  if (host_waiting_sync_) {
    host_waiting_sync_ = false;
    sim_.schedule(sim_.now(), [this] { next_command(); });
    return;
  }
  if (!host_finished_ || !on_done_) return;
  for (const Stream& s : streams_)
    if (!s.queue.empty()) return;
  auto done = std::move(on_done_);
  on_done_ = nullptr;
  done();
}

}  // namespace models
