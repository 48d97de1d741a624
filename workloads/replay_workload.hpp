#pragma once
// A Kineto trace turned into something a host + GPU model can re-run: the device ops as
// kernels with their launch shapes (and measured durations, and their work where the trace
// tells it), and the host thread's issue sequence -- gaps between API calls as measured,
// launches in host order onto compact stream indices, event record / wait pairs for
// cross-stream dependencies, and synchronizations.
//
// Kineto does not record which stream an event is recorded on or which stream waits on it. The
// builder infers both from the host thread: a record belongs to the stream that thread launched
// on last, a wait to the stream it launches on next. Each such inference is counted in `notes`,
// as is every other approximation (several host threads folded into one issue order, device
// work whose launch is outside the trace). Stream and event synchronizations wait for the stream
// the thread launched on last (cudaStreamSynchronize does not record its stream either).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "workloads/kernel.hpp"
#include "workloads/kineto_trace.hpp"

namespace workloads {

struct ReplayOp {
  std::int32_t trace_op = -1;   // index into Trace::device_ops
  std::int32_t stream = 0;      // compact stream index
  std::int32_t iteration = -1;  // index into ReplayWorkload::iterations, -1 outside any
  std::string kernel_class;     // the name without its argument list
  bool work_known = false;      // work derived from the trace (a cost model can predict it)
  std::string rule;             // how its work was derived ("" when it was not)
  std::string family;           // gemm, conv, elementwise, nccl, memcpy, ... (op_family)
  double measured_start = 0;    // seconds after the replay's origin
  double measured = 0;          // seconds
};

struct HostStep {
  enum class Kind { gap, launch, record, wait, synchronize };
  Kind kind = Kind::gap;
  double seconds = 0;       // gap
  std::int32_t stream = 0;  // launch, record, wait, synchronize (-1: the whole device)
  std::int32_t op = -1;     // launch
  std::int32_t event = -1;  // record, wait
};

struct ReplayWorkload {
  std::string source;
  std::vector<KernelDesc> kernels;  // one per op, measured_seconds set
  std::vector<ReplayOp> ops;        // by measured start
  std::vector<HostStep> host;
  std::vector<std::int64_t> stream_ids;  // Kineto stream id of each compact stream
  std::int32_t events = 0;
  std::vector<std::string> iterations;
  double origin_us = 0;                       // trace time of the replay's time zero
  std::map<std::string, std::int64_t> notes;  // counted approximations
};

// Builds the replay of the device with the most device work (other devices' ops are counted
// in notes and left out).
ReplayWorkload build_replay(const kineto::Trace& trace);

// "void at::native::foo<float>(int, float*)" -> "at::native::foo<float>".
std::string kernel_class(std::string_view name);

}  // namespace workloads
