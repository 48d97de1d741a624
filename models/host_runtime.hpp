#pragma once
// The host side of a GPU: a host thread running a program of framework work and CUDA API calls,
// streams (in-order device queues), events (record / wait across streams) and CUDA graphs.
//
// Host costs are a documented parameter set per framework mode (configs/hosts/), calibrated
// once from public measurements: never per model. The device side follows CUDA semantics: a
// kernel starts when it has reached the device (launch latency), its stream's previous work is
// done (plus the back-to-back gap), and every event it waits on has completed; graph nodes start
// when their dependencies finish, after a small per-node device cost, with no host involvement.

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "models/gpu.hpp"
#include "sim/config.hpp"
#include "sim/simulator.hpp"
#include "workloads/kernel.hpp"

namespace models {

// Host-side cost of one framework mode.
struct HostCosts {
  sim::Time per_op;        // framework work per op before its kernels (dispatch, checks, alloc)
  sim::Time per_launch;    // host time of one cudaLaunchKernel
  sim::Time event_record;  // cudaEventRecord
  sim::Time event_wait;    // cudaStreamWaitEvent
  sim::Time graph_launch;  // host time of cudaGraphLaunch
  sim::Time graph_node;    // device-side cost to start each graph node after its dependencies

  // Reads one mode (e.g. `eager:`) of a host config; absent keys cost nothing.
  static HostCosts from_config(const sim::Config& c);
  // The costs of `mode` in a host file (configs/hosts/*.yaml). Every mode in it is read and
  // checked, used or not, so a typo in any of them is reported.
  static HostCosts for_mode(const sim::Config& host, const std::string& mode);
};

struct HostCommand {
  // synchronize: the whole device (cudaDeviceSynchronize); stream_synchronize: one stream's
  // kernels (cudaStreamSynchronize).
  enum class Kind { work, launch, record, wait, graph_launch, synchronize, stream_synchronize };
  Kind kind = Kind::work;
  sim::Time duration;       // work
  std::int32_t stream = 0;  // launch, record, wait, stream_synchronize
  std::int32_t kernel = -1; // launch: index into the kernel table
  std::int32_t event = -1;  // record, wait
  std::int32_t graph = -1;  // graph_launch
  std::string label;        // work: what it is (an op name), for the timeline
};

// A captured CUDA graph: nodes are kernels (indices into the kernel table), deps over nodes.
struct DeviceGraph {
  std::vector<std::int32_t> kernels;
  std::vector<std::vector<std::int32_t>> deps;
  std::vector<std::int32_t> stream_of;  // optional: the capture stream of each node (timeline)
};

struct HostProgram {
  std::vector<HostCommand> commands;
  std::vector<DeviceGraph> graphs;
  std::int32_t streams = 1;
  std::int32_t events = 0;
};

class HostRuntime {
 public:
  HostRuntime(sim::Simulator& sim, Gpu& gpu, HostCosts costs,
              std::span<const workloads::KernelDesc> kernels);

  // Runs `program` from now; `on_done` when the host has finished it and the device is idle.
  void run(const HostProgram& program, std::function<void()> on_done);

  // Timeline tracks: threads of the GPU's process ("stream N") and a host process.
  void attach_timeline(sim::TimelineWriter* timeline);
  // Time the host thread spent busy, and kernels completed, over all runs.
  sim::Time host_busy() const { return host_busy_; }
  std::uint64_t kernels_completed() const { return kernels_done_; }

 private:
  struct Item {  // device work queued on a stream
    enum class Kind { kernel, record, wait } kind;
    std::int32_t index;  // kernel or event
    sim::Time ready;     // when it reaches the device
  };
  struct Stream {
    std::deque<Item> queue;
    bool busy = false;
    sim::Time free_at;
  };
  struct GraphRun {
    const DeviceGraph* graph;
    std::vector<std::int32_t> waiting;  // unfinished deps per node
    std::vector<std::vector<std::int32_t>> succ;
    std::size_t left;
  };

  void next_command();
  void pump(std::int32_t stream);
  void schedule_pump(std::int32_t stream, sim::Time at);
  void event_done(std::int32_t event);
  void start_graph(std::int32_t graph);
  void graph_node_ready(std::size_t run, std::int32_t node);
  void check_done();
  bool stream_drained(std::int32_t stream) const;  // no kernel running or queued on it
  int track(std::int32_t stream);

  sim::Simulator& sim_;
  Gpu& gpu_;
  HostCosts costs_;
  std::span<const workloads::KernelDesc> kernels_;
  const HostProgram* program_ = nullptr;
  std::size_t pc_ = 0;
  std::function<void()> on_done_;
  bool host_finished_ = false;
  bool host_waiting_sync_ = false;
  std::int32_t host_waiting_stream_ = -1;  // stream_synchronize in progress
  std::vector<Stream> streams_;
  std::vector<bool> event_done_;
  std::vector<std::vector<std::int32_t>> event_waiters_;  // streams blocked on each event
  std::vector<GraphRun> graph_runs_;
  std::size_t device_outstanding_ = 0;  // kernels launched or queued, not finished
  sim::Time host_busy_;
  std::uint64_t kernels_done_ = 0;
  sim::TimelineWriter* timeline_ = nullptr;
  int host_pid_ = -1, host_tid_ = -1;
  std::vector<int> stream_tids_;
  int graph_tid_ = -1;
};

}  // namespace models
