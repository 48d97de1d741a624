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
#include <optional>
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
  // From a launch call until the work can start on the device; unset: the GPU's own
  // (GpuSpec::launch_latency). The ideal host sets it to zero.
  std::optional<sim::Time> launch_latency;

  // A host that is always ahead of the device: no host time and no launch latency exposed, so
  // a kernel issued when its stream's previous one completes starts one kernel gap later. What
  // the loops that drive work assume unless a scenario names a host (`host:`).
  static HostCosts ideal() {
    HostCosts h;
    h.launch_latency = sim::Time::zero();
    return h;
  }
  // The keys of one mode of a configs/hosts preset (`warpsim list host`).
  static const sim::ParamSchema& schema();
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

// One host thread and its device queues. Work reaches the GPU only through here, in two ways
// that may be mixed: a whole HostProgram (what a launch policy plans), or command by command
// from a loop that decides as it goes (launch(), work()). Either way each command is issued on
// the host thread after the ones before it, paying its host cost; streams and events persist
// across programs, so a stream's back-to-back gap holds from one program to the next.
class HostRuntime {
 public:
  using Done = std::function<void()>;
  // Runs when the kernel completes; `start` is when its stream handed it to the GPU.
  using KernelDone = std::function<void(sim::Time start)>;
  using KernelObserver =
      std::function<void(const workloads::KernelDesc&, sim::Time start, sim::Time end)>;

  HostRuntime(sim::Simulator& sim, Gpu& gpu, HostCosts costs);
  HostRuntime(const HostRuntime&) = delete;
  HostRuntime& operator=(const HostRuntime&) = delete;

  // Issues `program` after the commands before it; its kernel indices are into `kernels`, which
  // must outlive the run. `on_done` when the host has issued all of it and the device is idle.
  void run(const HostProgram& program, std::span<const workloads::KernelDesc> kernels,
           Done on_done);

  // One cudaLaunchKernel of `k` (which must outlive the run) on `stream`, optionally on the SMs
  // of `mask` (which must outlive the kernel).
  void launch(std::int32_t stream, const workloads::KernelDesc& k, KernelDone on_done = {},
              const SmMask* mask = nullptr);
  // The SMs this process's kernels may use (an MPS client's active-thread percentage as an SM
  // cap): every kernel it launches without a mask of its own, program, graph or streamed, runs
  // on `mask`'s SMs. nullptr (the default): every SM. `mask` must outlive the runs.
  void limit_sms(const SmMask* mask) { process_mask_ = mask; }
  // The GPU context this process's kernels belong to (Gpu::time_slice); 0 by default. Each
  // process on a time-sliced GPU needs its own (System::add_process gives one).
  void set_context(int context) { context_ = context; }
  int context() const { return context_; }
  // Framework work on the host thread (an op's dispatch), before the commands after it.
  void work(sim::Time duration, std::string label = "framework");

  // Called for every kernel this runtime completes, program or streamed (start: handed to the
  // GPU). For drivers that track progress by kernel; one at a time.
  void on_kernel(KernelObserver observer) { observer_ = std::move(observer); }

  const HostCosts& costs() const { return costs_; }
  Gpu& gpu() { return gpu_; }
  // Timeline tracks: threads of the GPU's process ("stream N") and a host process.
  void attach_timeline(sim::TimelineWriter* timeline, const std::string& host_name = "host");
  // Time the host thread spent busy, and kernels completed, over all runs.
  sim::Time host_busy() const { return host_busy_; }
  std::uint64_t kernels_completed() const { return kernels_done_; }

 private:
  const SmMask* process_mask_ = nullptr;
  int context_ = 0;
  struct Item {  // device work queued on a stream
    enum class Kind { kernel, record, wait } kind;
    const workloads::KernelDesc* kernel = nullptr;
    const SmMask* mask = nullptr;
    std::int32_t event = -1;
    sim::Time ready;  // when it reaches the device
    KernelDone done;
    std::int64_t correlation = -1;  // its launch call's, in the timeline
  };
  struct Stream {
    std::deque<Item> queue;
    bool busy = false;
    sim::Time free_at;
    // The kernel running now (a stream runs one at a time), so the GPU's completion callback
    // captures only the stream's index.
    const workloads::KernelDesc* running = nullptr;
    sim::Time running_start;
    KernelDone running_done;
  };
  struct GraphRun {
    const DeviceGraph* graph;
    std::span<const workloads::KernelDesc> kernels;
    std::vector<std::int32_t> waiting;  // unfinished deps per node
    std::vector<std::vector<std::int32_t>> succ;
    std::size_t left;
    std::int64_t correlation;  // the cudaGraphLaunch's: every node shares it
  };
  // What the host thread works through, in issue order: a program, or one streamed command.
  struct Segment {
    const HostProgram* program = nullptr;  // null: `single`
    std::span<const workloads::KernelDesc> kernels;
    std::size_t pc = 0;
    std::int32_t event_base = 0;
    Done on_done;
    HostCommand single;
    const workloads::KernelDesc* kernel = nullptr;  // single launch
    const SmMask* mask = nullptr;
    KernelDone kernel_done;
  };

  void issue(Segment s);
  void next_command();
  Stream& stream(std::int32_t s);
  void pump(std::int32_t stream);
  void schedule_pump(std::int32_t stream, sim::Time at);
  void event_done(std::int32_t event);
  void start_graph(const DeviceGraph& graph, std::span<const workloads::KernelDesc> kernels,
                   std::int64_t correlation);
  void graph_node_ready(std::size_t run, std::int32_t node);
  void kernel_finished(const workloads::KernelDesc& k, sim::Time start);
  void check_done();
  bool stream_drained(std::int32_t stream) const;  // no kernel running or queued on it
  bool device_idle() const;
  sim::Time latency() const;
  int track(std::int32_t stream);
  // A CUDA API call on the host thread's timeline track, as Kineto writes one.
  void trace_call(std::string_view name, sim::Time start, sim::Time duration,
                  std::int64_t correlation = -1);

  sim::Simulator& sim_;
  Gpu& gpu_;
  HostCosts costs_;
  std::deque<Segment> segments_;
  bool host_active_ = false;  // a next_command() is scheduled or running
  bool host_waiting_sync_ = false;
  std::int32_t host_waiting_stream_ = -1;  // stream_synchronize in progress
  sim::Time waiting_since_;                 // when the synchronize in progress began
  std::vector<Done> idle_waiters_;  // programs issued whole, waiting for the device to drain
  std::vector<Stream> streams_;
  std::vector<bool> event_done_;
  std::vector<std::vector<std::int32_t>> event_waiters_;  // streams blocked on each event
  std::vector<GraphRun> graph_runs_;
  std::size_t device_outstanding_ = 0;  // kernels launched or queued, not finished
  void outstanding(std::ptrdiff_t delta);  // changes it, telling the GPU when it leaves or hits 0
  sim::Time host_busy_;
  std::uint64_t kernels_done_ = 0;
  KernelObserver observer_;
  sim::TimelineWriter* timeline_ = nullptr;
  int host_pid_ = -1, host_tid_ = -1;
  std::vector<int> stream_tids_;
};

}  // namespace models
