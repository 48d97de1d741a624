#include "workloads/replay_workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "sim/error.hpp"
#include "workloads/trace_op_work.hpp"

namespace workloads {
namespace {

using kineto::CpuOp;
using kineto::DeviceOp;
using kineto::RuntimeCall;
using kineto::RuntimeKind;
using kineto::Trace;

// Innermost CPU op around a host time, per host thread.
class CpuOpIndex {
 public:
  explicit CpuOpIndex(const Trace& t) : t_(t) {
    for (std::size_t i = 0; i < t.cpu_ops.size(); ++i)
      by_tid_[t.cpu_ops[i].tid].push_back(static_cast<std::int32_t>(i));
    for (auto& [tid, ops] : by_tid_)
      std::stable_sort(ops.begin(), ops.end(), [&](std::int32_t a, std::int32_t b) {
        return t.cpu_ops[static_cast<std::size_t>(a)].ts <
               t.cpu_ops[static_cast<std::size_t>(b)].ts;
      });
  }
  std::int32_t around(std::int64_t tid, double ts) const {
    auto it = by_tid_.find(tid);
    if (it == by_tid_.end()) return -1;
    const auto& ops = it->second;
    auto hi = std::upper_bound(ops.begin(), ops.end(), ts, [&](double x, std::int32_t o) {
      return x < t_.cpu_ops[static_cast<std::size_t>(o)].ts;
    });
    // The latest-starting op that has not ended yet; siblings that ended are skipped.
    for (int looked = 0; hi != ops.begin() && looked < 256; ++looked) {
      --hi;
      const CpuOp& op = t_.cpu_ops[static_cast<std::size_t>(*hi)];
      if (op.ts + op.dur >= ts) return *hi;
    }
    return -1;
  }

 private:
  const Trace& t_;
  std::unordered_map<std::int64_t, std::vector<std::int32_t>> by_tid_;
};

// What the host does, in time order: API calls, and device work without a launch in the trace
// (issued as if launched when it started).
struct HostEvent {
  double ts;
  std::int32_t call;  // runtime index, or -1 for an orphan device op
  std::int32_t orphan;
};

}  // namespace

std::string kernel_class(std::string_view name) {
  if (name.starts_with("void ")) name.remove_prefix(5);
  int depth = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '<') ++depth;
    if (name[i] == '>') --depth;
    if (name[i] == '(' && depth == 0 && i > 0 && name[i - 1] != ' ')
      return std::string(name.substr(0, i));
  }
  return std::string(name);
}

ReplayWorkload build_replay(const Trace& t) {
  ReplayWorkload w;
  w.source = t.source;
  if (t.device_ops.empty())
    throw sim::InputError(t.source + ": the trace has no kernels, copies or memsets to replay");

  // The device with the most work.
  std::map<int, std::int64_t> per_device;
  for (const DeviceOp& d : t.device_ops) ++per_device[d.device];
  const int device = std::max_element(per_device.begin(), per_device.end(), [](auto& a, auto& b) {
                       return a.second < b.second;
                     })->first;
  std::vector<std::int32_t> chosen;  // trace op indices
  for (std::size_t i = 0; i < t.device_ops.size(); ++i) {
    if (t.device_ops[i].device == device)
      chosen.push_back(static_cast<std::int32_t>(i));
    else
      ++w.notes["device ops of other devices left out"];
  }
  std::stable_sort(chosen.begin(), chosen.end(), [&](std::int32_t a, std::int32_t b) {
    return t.device_ops[static_cast<std::size_t>(a)].ts <
           t.device_ops[static_cast<std::size_t>(b)].ts;
  });

  // Streams, compact and sorted by Kineto id.
  for (std::int32_t i : chosen)
    w.stream_ids.push_back(t.device_ops[static_cast<std::size_t>(i)].stream);
  std::sort(w.stream_ids.begin(), w.stream_ids.end());
  w.stream_ids.erase(std::unique(w.stream_ids.begin(), w.stream_ids.end()), w.stream_ids.end());
  auto stream_index = [&](std::int64_t id) {
    return static_cast<std::int32_t>(
        std::lower_bound(w.stream_ids.begin(), w.stream_ids.end(), id) - w.stream_ids.begin());
  };

  // Host events in time order.
  std::vector<HostEvent> host;
  for (std::size_t i = 0; i < t.runtime.size(); ++i)
    if (t.runtime[i].kind != RuntimeKind::other)
      host.push_back({t.runtime[i].ts, static_cast<std::int32_t>(i), -1});
  for (std::int32_t i : chosen)
    if (t.device_ops[static_cast<std::size_t>(i)].launch < 0) {
      host.push_back({t.device_ops[static_cast<std::size_t>(i)].ts, -1, i});
      ++w.notes["device ops without a launch, issued when they started"];
    }
  std::stable_sort(host.begin(), host.end(),
                   [](const HostEvent& a, const HostEvent& b) { return a.ts < b.ts; });
  std::map<std::int64_t, int> threads;
  for (const HostEvent& h : host)
    if (h.call >= 0) ++threads[t.runtime[static_cast<std::size_t>(h.call)].tid];
  if (threads.size() > 1)
    w.notes["host threads folded into one issue order"] = static_cast<std::int64_t>(threads.size());

  w.origin_us = t.device_ops[static_cast<std::size_t>(chosen.front())].ts;
  if (!host.empty()) w.origin_us = std::min(w.origin_us, host.front().ts);

  // Simulated time is integer picoseconds: a trace spanning more than a day is not a profile.
  double last = w.origin_us;
  for (std::int32_t i : chosen) last = std::max(last, t.device_ops[static_cast<std::size_t>(i)].ts);
  for (const HostEvent& h : host) last = std::max(last, h.ts);
  if (last - w.origin_us > 86400e6)
    throw sim::InputError(
        fmt::format("{}: the trace spans {:.3g} s (timestamps more than a day "
                    "apart): not one profiled run",
                    t.source, (last - w.origin_us) * 1e-6));

  // Ops, numbered in measured start order.
  const CpuOpIndex cpu(t);
  std::vector<std::int32_t> op_of_trace(t.device_ops.size(), -1);
  std::vector<std::int32_t> cpu_op_of(chosen.size(), -1);
  // Per CPU op, its device ops by family: an op's shapes give a kernel's work only when it
  // launched one kernel of that kind (its other kernels are transposes, fills, reductions).
  std::unordered_map<std::int32_t, std::map<std::string_view, int>> kernels_of_cpu_op;
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const DeviceOp& d = t.device_ops[static_cast<std::size_t>(chosen[k])];
    op_of_trace[static_cast<std::size_t>(chosen[k])] = static_cast<std::int32_t>(k);
    if (d.launch >= 0) {
      const RuntimeCall& c = t.runtime[static_cast<std::size_t>(d.launch)];
      cpu_op_of[k] = cpu.around(c.tid, c.ts);
      if (cpu_op_of[k] >= 0) ++kernels_of_cpu_op[cpu_op_of[k]][op_family(d)];
    }
  }
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const DeviceOp& d = t.device_ops[static_cast<std::size_t>(chosen[k])];
    ReplayOp op;
    op.trace_op = chosen[k];
    op.stream = stream_index(d.stream);
    op.kernel_class = kernel_class(d.name);
    op.family = std::string(op_family(d));
    op.measured_start = (d.ts - w.origin_us) * 1e-6;
    op.measured = d.dur * 1e-6;
    KernelDesc kd;
    kd.name = d.name;
    if (d.kind == DeviceOp::Kind::kernel) {
      kd.grid = d.grid;
      kd.block = d.block;
      if (d.registers_per_thread > 0) kd.registers_per_thread = d.registers_per_thread;
      kd.shared_mem_per_cta = d.shared_memory;
    } else {
      // Copies and memsets run on copy engines (no launch shape, no SM): one unit of work.
      kd.engine = Engine::copy;
      kd.grid = Dim3{1, 1, 1};
      kd.block = Dim3{1, 1, 1};
    }
    kd.measured_seconds = op.measured;
    const std::int32_t c = cpu_op_of[k];
    const auto work = traced_work(d, c >= 0 ? &t.cpu_ops[static_cast<std::size_t>(c)] : nullptr,
                                  c >= 0 ? kernels_of_cpu_op[c][op_family(d)] : 0);
    if (work) {
      op.work_known = true;
      op.rule = work->source;
      kd.flops = work->flops;
      kd.dram_bytes = work->dram_bytes;
      kd.l2_bytes = work->l2_bytes;
      kd.host_bytes = work->host_bytes;
      kd.unit = work->unit;
      kd.dtype = work->dtype;
      ++w.notes["ops with work from the trace: " + work->source];
    }
    w.ops.push_back(std::move(op));
    w.kernels.push_back(std::move(kd));
  }

  // Iterations: ProfilerStep spans on the host; an op belongs to the one its launch is in.
  for (const auto& it : t.iterations) w.iterations.push_back(it.name);
  auto iteration_at = [&](double ts) -> std::int32_t {
    for (std::size_t i = t.iterations.size(); i-- > 0;)
      if (t.iterations[i].ts <= ts)
        return ts <= t.iterations[i].ts + t.iterations[i].dur ? static_cast<std::int32_t>(i) : -1;
    return -1;
  };
  for (ReplayOp& op : w.ops) {
    const DeviceOp& d = t.device_ops[static_cast<std::size_t>(op.trace_op)];
    op.iteration =
        iteration_at(d.launch >= 0 ? t.runtime[static_cast<std::size_t>(d.launch)].ts : d.ts);
  }

  // The issue sequence. Gaps are start-to-start, except after a synchronization, whose wait the
  // model decides: the host resumes from its measured end.
  double prev = w.origin_us;
  std::unordered_map<std::int64_t, std::int32_t> last_stream;  // per host thread
  std::unordered_map<std::int64_t, std::int32_t> last_event;   // per host thread
  std::vector<std::int32_t> event_stream;                      // stream of each recorded event
  std::unordered_map<std::int64_t, std::vector<std::int32_t>> pending_waits;  // per thread
  auto gap_to = [&](double ts) {
    if (ts > prev) w.host.push_back({HostStep::Kind::gap, (ts - prev) * 1e-6, 0, -1, -1});
    prev = std::max(prev, ts);
  };
  auto launch = [&](std::int64_t tid, std::int32_t trace_op) {
    const std::int32_t op = op_of_trace[static_cast<std::size_t>(trace_op)];
    if (op < 0) return;  // another device
    const std::int32_t s = w.ops[static_cast<std::size_t>(op)].stream;
    for (std::int32_t e : pending_waits[tid]) {
      if (event_stream[static_cast<std::size_t>(e)] == s) {
        ++w.notes["event waits on the recording stream itself, dropped"];
        continue;
      }
      w.host.push_back({HostStep::Kind::wait, 0, s, -1, e});
    }
    pending_waits[tid].clear();
    w.host.push_back({HostStep::Kind::launch, 0, s, op, -1});
    last_stream[tid] = s;
  };
  for (const HostEvent& h : host) {
    gap_to(h.ts);
    if (h.call < 0) {
      launch(-1, h.orphan);
      continue;
    }
    const RuntimeCall& c = t.runtime[static_cast<std::size_t>(h.call)];
    for (std::int32_t d : c.device_ops) launch(c.tid, d);
    switch (c.kind) {
      case RuntimeKind::event_record: {
        auto ls = last_stream.find(c.tid);
        const std::int32_t s = ls != last_stream.end() ? ls->second : 0;
        const std::int32_t e = w.events++;
        event_stream.push_back(s);
        last_event[c.tid] = e;
        w.host.push_back({HostStep::Kind::record, 0, s, -1, e});
        ++w.notes["event streams inferred from the host thread"];
        break;
      }
      case RuntimeKind::stream_wait_event: {
        // A wait whose record is not in the trace is dropped: recording it anywhere we can guess
        // (say, on the last other stream at the wait) over-constrains the replay far more than
        // dropping it under-constrains it (DLRM: +26% vs -6% per iteration).
        auto le = last_event.find(c.tid);
        if (le == last_event.end()) {
          ++w.notes["event waits before any record, dropped"];
          break;
        }
        pending_waits[c.tid].push_back(le->second);
        break;
      }
      case RuntimeKind::synchronize: {
        std::int32_t s = -1;
        if (c.name != "cudaDeviceSynchronize" && c.name != "cuCtxSynchronize") {
          auto ls = last_stream.find(c.tid);
          if (ls != last_stream.end()) {
            s = ls->second;
            ++w.notes["synchronization streams inferred from the host thread"];
          } else {
            ++w.notes["stream synchronizations before any launch, replayed as device-wide"];
          }
        }
        w.host.push_back({HostStep::Kind::synchronize, 0, s, -1, -1});
        prev = std::max(prev, c.ts + c.dur);
        break;
      }
      default:
        break;
    }
  }
  return w;
}

}  // namespace workloads
