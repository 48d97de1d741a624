#include "workloads/kineto_trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <cmath>
#include <unordered_map>

#include "sim/error.hpp"
#include "sim/json_sax.hpp"
#include "workloads/trace_file.hpp"

namespace workloads::kineto {
namespace json = boost::json;

std::size_t Trace::kernels() const {
  return static_cast<std::size_t>(std::count_if(device_ops.begin(), device_ops.end(), [](auto& d) {
    return d.kind == DeviceOp::Kind::kernel;
  }));
}

std::size_t Trace::nccl_kernels() const {
  return static_cast<std::size_t>(
      std::count_if(device_ops.begin(), device_ops.end(), [](auto& d) { return d.nccl; }));
}

std::vector<std::int64_t> Trace::streams() const {
  std::vector<std::int64_t> s;
  for (const DeviceOp& d : device_ops) s.push_back(d.stream);
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  return s;
}

int nccl_dtype_size(std::string_view t) {
  static const std::pair<std::string_view, int> sizes[] = {
      {"Float", 4},  {"Float32", 4}, {"Half", 2},  {"Float16", 2}, {"BFloat16", 2},
      {"Double", 8}, {"Int", 4},     {"Int32", 4}, {"Long", 8},    {"Int64", 8},
      {"Byte", 1},   {"Char", 1},    {"Int8", 1},  {"Uint8", 1},   {"Bool", 1}};
  for (const auto& [name, size] : sizes)
    if (name == t) return size;
  return 0;
}

namespace {

// Where a JSON syntax error is: line and column of a byte offset.
sim::SourcePos position_of(std::string_view text, std::size_t offset, const std::string& file) {
  offset = std::min(offset, text.size());
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  return sim::SourcePos{file, line, static_cast<int>(offset - line_start) + 1};
}

// One traceEvents entry as the streaming parser saw it: only the fields the reader uses, each
// with whether it was present and whether it had the right JSON type.
struct Number {
  double value = 0;
  bool present = false, bad = false;
  void set(double v) {
    value = v;
    present = true;
  }
};

struct RawEvent {
  std::string ph, cat, name;
  bool has_ph = false, has_cat = false, has_name = false, name_bad = false;
  Number ts, dur, tid;
  bool has_args = false, args_bad = false;
  Number stream, correlation, device, registers, shared, bytes, in_elems, out_elems, group, flops,
      l2_bytes;
  std::string collective, dtype, math_unit;
  std::vector<double> grid, block;
  bool grid_bad = false, block_bad = false;
  std::vector<std::vector<std::int64_t>> input_dims;
  std::vector<std::string> input_types;
  std::vector<std::string> concrete_inputs;

  void clear() {
    ph.clear();
    cat.clear();
    name.clear();
    has_ph = has_cat = has_name = name_bad = false;
    ts = dur = tid = Number{};
    has_args = args_bad = false;
    stream = correlation = device = registers = shared = bytes = in_elems = out_elems = group =
        flops = l2_bytes = Number{};
    collective.clear();
    dtype.clear();
    math_unit.clear();
    grid.clear();
    block.clear();
    grid_bad = block_bad = false;
    input_dims.clear();
    input_types.clear();
    concrete_inputs.clear();
  }
};

// Thread ids only group calls: any number will do, as long as the conversion is defined.
std::int64_t thread_id(double v) {
  return std::abs(v) <= 9e18 ? static_cast<std::int64_t>(v) : -2;
}

constexpr double kMaxMicroseconds = 86400e6;  // one day: no profiled run is longer

class EventError {
 public:
  EventError(const std::string& source, std::size_t index, const RawEvent& e)
      : source_(source), index_(index), e_(e) {}
  [[noreturn]] void fail(const std::string& what) const {
    const std::string label =
        e_.has_name ? fmt::format(" ('{}')", std::string_view(e_.name).substr(0, 60)) : "";
    throw sim::InputError(fmt::format("{}: traceEvents[{}]{}: {}", source_, index_, label, what));
  }
  double time(const Number& n, std::string_view key) const {
    if (n.bad) fail(fmt::format("'{}' must be a number", key));
    if (!n.present) fail(fmt::format("missing '{}'", key));
    return n.value;
  }
  double duration(const Number& n) const {
    const double d = time(n, "dur");
    if (d < 0) fail(fmt::format("negative duration {}", d));
    if (d > kMaxMicroseconds) fail(fmt::format("absurd duration {} us (more than a day)", d));
    return d;
  }
  std::int64_t arg(const Number& n, std::string_view key, std::int64_t fallback,
                   bool required) const {
    if (n.bad) fail(fmt::format("args.'{}' must be a number", key));
    if (!n.present) {
      if (required) fail(fmt::format("missing args.'{}'", key));
      return fallback;
    }
    if (!(std::abs(n.value) <= 9e18))
      fail(fmt::format("args.'{}' is out of range: {}", key, n.value));
    return static_cast<std::int64_t>(n.value);
  }
  Dim3 dim3(const std::vector<double>& v, bool bad, std::string_view key) const {
    Dim3 d;
    if (bad || v.size() > 3) fail(fmt::format("args.'{}' must be an array of 1 to 3 numbers", key));
    std::int64_t* out[] = {&d.x, &d.y, &d.z};
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] < 1 || v[i] > 4294967295.0)
        fail(fmt::format("args.'{}' has a dimension {}", key, v[i]));
      *out[i] = static_cast<std::int64_t>(v[i]);
    }
    return d;
  }

 private:
  const std::string& source_;
  std::size_t index_;
  const RawEvent& e_;
};
RuntimeKind runtime_kind(std::string_view n) {
  if (n.starts_with("cu") && (n.find("LaunchKernel") != std::string_view::npos ||
                              n.find("LaunchCooperativeKernel") != std::string_view::npos))
    return RuntimeKind::launch;
  if (n == "cudaGraphLaunch" || n == "cuGraphLaunch") return RuntimeKind::graph_launch;
  if (n.starts_with("cudaMemcpy") || n.starts_with("cuMemcpy")) {
    // Without the Async suffix the host waits for the copy.
    return n.find("Async") != std::string_view::npos ? RuntimeKind::memcpy
                                                     : RuntimeKind::synchronize;
  }
  if (n.starts_with("cudaMemset") || n.starts_with("cuMemset")) return RuntimeKind::memset;
  if (n == "cudaEventRecord" || n == "cudaEventRecordWithFlags" || n == "cuEventRecord")
    return RuntimeKind::event_record;
  if (n == "cudaStreamWaitEvent" || n == "cuStreamWaitEvent") return RuntimeKind::stream_wait_event;
  if (n == "cudaStreamSynchronize" || n == "cudaDeviceSynchronize" || n == "cudaEventSynchronize" ||
      n == "cuStreamSynchronize" || n == "cuCtxSynchronize")
    return RuntimeKind::synchronize;
  return RuntimeKind::other;
}

bool is_nccl(std::string_view name) {
  return name.starts_with("nccl") || name.find(" nccl") != std::string_view::npos ||
         name.find("ncclKernel") != std::string_view::npos ||
         name.find("ncclDevKernel") != std::string_view::npos;
}

void read_device_op(const EventError& r, const RawEvent& e, DeviceOp::Kind kind, Trace& t) {
  DeviceOp d;
  d.kind = kind;
  if (!e.has_name) r.fail("missing 'name'");
  d.name = e.name;
  d.ts = r.time(e.ts, "ts");
  d.dur = r.duration(e.dur);
  if (!e.has_args) r.fail(e.args_bad ? "'args' must be an object" : "missing 'args'");
  d.device = static_cast<int>(r.arg(e.device, "device", 0, false));
  d.stream = r.arg(e.stream, "stream", 0, true);
  d.correlation = r.arg(e.correlation, "correlation", -1, false);
  if (kind == DeviceOp::Kind::kernel) {
    d.grid = r.dim3(e.grid, e.grid_bad, "grid");
    d.block = r.dim3(e.block, e.block_bad, "block");
    if (d.block.count() > 1024) r.fail(fmt::format("block of {} threads", d.block.count()));
    d.registers_per_thread = static_cast<int>(r.arg(e.registers, "registers per thread", 0, false));
    d.shared_memory = r.arg(e.shared, "shared memory", 0, false);
    if (d.registers_per_thread < 0 || d.shared_memory < 0)
      r.fail("negative registers or shared memory");
    // Work, where the trace carries it (warpsim-probe writes flops, bytes and dtype).
    d.flops = static_cast<double>(r.arg(e.flops, "flops", 0, false));
    d.bytes = r.arg(e.bytes, "bytes", 0, false);
    d.l2_bytes = r.arg(e.l2_bytes, "l2 bytes", 0, false);
    if (d.flops < 0 || d.bytes < 0 || d.l2_bytes < 0) r.fail("negative flops or bytes");
    d.nccl = is_nccl(d.name);
    if (!d.nccl) d.dtype = e.dtype;
    if (!e.math_unit.empty() && e.math_unit != "tensor_core" && e.math_unit != "fp32_core")
      r.fail(fmt::format("args.'math unit' is '{}' (tensor_core or fp32_core)", e.math_unit));
    d.math_unit = e.math_unit;
    if (d.nccl) {
      Collective& c = d.collective;
      c.name = e.collective;
      c.in_elements = r.arg(e.in_elems, "In msg nelems", 0, false);
      c.out_elements = r.arg(e.out_elems, "Out msg nelems", 0, false);
      c.dtype = e.dtype;
      c.group_size = static_cast<int>(r.arg(e.group, "Group size", 0, false));
      c.bytes = c.in_elements * nccl_dtype_size(c.dtype);
    }
  } else {
    d.bytes = r.arg(e.bytes, "bytes", 0, false);
    if (d.bytes < 0) r.fail(fmt::format("negative bytes {}", d.bytes));
  }
  t.device_ops.push_back(std::move(d));
}

void process_event(const std::string& source, std::size_t index, RawEvent& e, Trace& t) {
  const EventError r(source, index, e);
  if (!e.has_ph) {
    ++t.warnings["event without a 'ph'"];
    return;
  }
  if (e.ph != "X") {
    static constexpr std::string_view known[] = {"s", "f", "t", "M", "i", "I", "C", "B", "E"};
    if (std::find(std::begin(known), std::end(known), e.ph) == std::end(known))
      ++t.warnings[fmt::format("event phase '{}'", e.ph)];
    return;
  }
  const std::string_view c = e.cat;
  if (c == "kernel" || c == "Kernel") {
    read_device_op(r, e, DeviceOp::Kind::kernel, t);
  } else if (c == "gpu_memcpy" || c == "Memcpy") {
    read_device_op(r, e, DeviceOp::Kind::memcpy, t);
  } else if (c == "gpu_memset" || c == "Memset") {
    read_device_op(r, e, DeviceOp::Kind::memset, t);
  } else if (c == "cuda_runtime" || c == "cuda_driver" || c == "Runtime") {
    if (!e.has_name) r.fail("missing 'name'");
    RuntimeCall call;
    call.name = e.name;
    call.kind = runtime_kind(call.name);
    call.ts = r.time(e.ts, "ts");
    call.dur = r.duration(e.dur);
    call.tid = thread_id(e.tid.value);
    call.correlation = r.arg(e.correlation, "correlation", -1, false);
    t.runtime.push_back(std::move(call));
  } else if (c == "cpu_op" || c == "Operator") {
    if (!e.has_name) r.fail("missing 'name'");
    CpuOp op;
    op.name = e.name;
    op.ts = r.time(e.ts, "ts");
    op.dur = r.duration(e.dur);
    op.tid = thread_id(e.tid.value);
    op.input_dims = std::move(e.input_dims);
    op.input_types = std::move(e.input_types);
    op.concrete_inputs = std::move(e.concrete_inputs);
    t.cpu_ops.push_back(std::move(op));
  } else if (c == "user_annotation" || c == "gpu_user_annotation" || c == "cuda_sync" ||
             c == "python_function" || c == "Trace" || c == "overhead" ||
             c == "cuda_profiler_range" || c == "Python") {
    if (c == "user_annotation" && e.name.starts_with("ProfilerStep#"))
      t.iterations.push_back({e.name, r.time(e.ts, "ts"), r.duration(e.dur)});
  } else {
    ++t.warnings[fmt::format("unknown event category '{}'", c)];
  }
}

// Links each device op to the runtime call with its correlation id.
void link(Trace& t) {
  std::unordered_map<std::int64_t, std::int32_t> by_corr;
  by_corr.reserve(t.runtime.size());
  for (std::size_t i = 0; i < t.runtime.size(); ++i)
    if (t.runtime[i].correlation >= 0 && t.runtime[i].kind != RuntimeKind::other)
      by_corr.emplace(t.runtime[i].correlation, static_cast<std::int32_t>(i));
  for (std::size_t i = 0; i < t.device_ops.size(); ++i) {
    DeviceOp& d = t.device_ops[i];
    auto it = by_corr.find(d.correlation);
    if (it == by_corr.end()) {
      ++t.warnings["device work without its launch in the trace"];
      continue;
    }
    d.launch = it->second;
    t.runtime[static_cast<std::size_t>(it->second)].device_ops.push_back(
        static_cast<std::int32_t>(i));
  }
  for (RuntimeCall& c : t.runtime) {
    std::stable_sort(c.device_ops.begin(), c.device_ops.end(), [&](std::int32_t a, std::int32_t b) {
      return t.device_ops[static_cast<std::size_t>(a)].ts <
             t.device_ops[static_cast<std::size_t>(b)].ts;
    });
    const bool puts_work = c.kind == RuntimeKind::launch || c.kind == RuntimeKind::graph_launch ||
                           c.kind == RuntimeKind::memcpy || c.kind == RuntimeKind::memset;
    if (puts_work && c.device_ops.empty()) ++t.warnings["launch without device work in the trace"];
  }
  std::sort(t.iterations.begin(), t.iterations.end(),
            [](const Iteration& a, const Iteration& b) { return a.ts < b.ts; });
}

// A streaming (SAX) reader: the trace is never held as a DOM. It keeps only the fields of
// RawEvent, hands each finished traceEvents entry to process_event, and skips the rest (call
// stacks, module hierarchies, flow events' extras) without allocating for it.
class TraceHandler : public sim::UnlimitedJsonSizes {
 public:
  TraceHandler(const std::string& source, Trace& t) : source_(source), t_(t) {}
  bool saw_events() const { return saw_events_; }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }

  bool on_object_begin(boost::system::error_code&) {
    const Ctx top = stack_.empty() ? Ctx::none : stack_.back();
    Ctx next = Ctx::skip;
    if (top == Ctx::none) {
      next = Ctx::top;
    } else if (top == Ctx::events) {
      event_.clear();
      next = Ctx::event;
    } else if (top == Ctx::event && key_ == "args") {
      event_.has_args = true;
      next = Ctx::args;
    } else if (top == Ctx::devices) {
      device_ = DeviceProperties{};
      next = Ctx::device;
    } else {
      not_expected(top, "an object");
    }
    stack_.push_back(next);
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    const Ctx done = stack_.back();
    stack_.pop_back();
    if (done == Ctx::event) process_event(source_, index_++, event_, t_);
    if (done == Ctx::device) t_.devices.push_back(std::move(device_));
    if (done == Ctx::top && !saw_events_)
      throw sim::InputError(source_ + ": missing 'traceEvents' (not a Kineto trace?)");
    return true;
  }
  bool on_array_begin(boost::system::error_code&) {
    const Ctx top = stack_.empty() ? Ctx::none : stack_.back();
    Ctx next = Ctx::skip;
    if (top == Ctx::none) throw sim::InputError(source_ + ": a Kineto trace is a JSON object");
    if (top == Ctx::top && key_ == "traceEvents") {
      saw_events_ = true;
      next = Ctx::events;
    } else if (top == Ctx::top && key_ == "deviceProperties") {
      next = Ctx::devices;
    } else if (top == Ctx::args) {
      if (key_ == "grid")
        next = Ctx::grid;
      else if (key_ == "block")
        next = Ctx::block;
      else if (key_ == "Input Dims")
        next = Ctx::dims;
      else if (key_ == "Input type")
        next = Ctx::types;
      else if (key_ == "Concrete Inputs")
        next = Ctx::concrete;
    } else if (top == Ctx::dims) {
      event_.input_dims.emplace_back();
      next = Ctx::shape;
    } else {
      not_expected(top, "an array");
    }
    stack_.push_back(next);
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    stack_.pop_back();
    return true;
  }
  bool on_key_part(std::string_view s, std::size_t, boost::system::error_code&) {
    part_.append(s);
    return true;
  }
  bool on_key(std::string_view s, std::size_t, boost::system::error_code&) {
    if (part_.empty()) {
      key_.assign(s);
    } else {
      part_.append(s);
      key_.swap(part_);
      part_.clear();
    }
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, boost::system::error_code&) {
    if (wants_string()) part_.append(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, boost::system::error_code&) {
    if (!part_.empty()) {
      part_.append(s);
      string(part_);
      part_.clear();
    } else {
      string(s);
    }
    return true;
  }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t v, std::string_view, boost::system::error_code&) {
    number(static_cast<double>(v));
    return true;
  }
  bool on_uint64(std::uint64_t v, std::string_view, boost::system::error_code&) {
    number(static_cast<double>(v));
    return true;
  }
  bool on_double(double v, std::string_view, boost::system::error_code&) {
    number(v);
    return true;
  }
  bool on_bool(bool, boost::system::error_code&) {
    other_scalar();
    return true;
  }
  bool on_null(boost::system::error_code&) {
    other_scalar();
    return true;
  }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }

 private:
  enum class Ctx {
    none,
    top,
    skip,
    events,
    event,
    args,
    grid,
    block,
    dims,
    shape,
    types,
    concrete,  // "Concrete Inputs": each scalar argument's value as text ("" for tensors)
    devices,
    device
  };

  // A value of the wrong kind where the structure is fixed.
  void not_expected(Ctx top, std::string_view what) {
    if (top == Ctx::top && key_ == "traceEvents")
      throw sim::InputError(source_ + ": 'traceEvents' must be an array");
    if (top == Ctx::top && key_ == "deviceProperties")
      throw sim::InputError(source_ + ": 'deviceProperties' must be an array");
    if (top == Ctx::events)
      throw sim::InputError(fmt::format("{}: traceEvents[{}] is not an object", source_, index_));
    if (top == Ctx::event && key_ == "args") event_.args_bad = true;
    if (top == Ctx::args && key_ == "grid") event_.grid_bad = true;
    if (top == Ctx::args && key_ == "block") event_.block_bad = true;
    if (top == Ctx::grid) event_.grid_bad = true;
    if (top == Ctx::block) event_.block_bad = true;
    (void)what;
  }

  bool wants_string() const {
    if (stack_.empty()) return false;
    switch (stack_.back()) {
      case Ctx::event:
        return key_ == "ph" || key_ == "cat" || key_ == "name";
      case Ctx::args:
        return key_ == "Collective name" || key_ == "dtype" || key_ == "math unit";
      case Ctx::types:
      case Ctx::concrete:
        return true;
      case Ctx::device:
        return key_ == "name";
      default:
        return false;
    }
  }

  Number* event_number() {
    if (key_ == "ts") return &event_.ts;
    if (key_ == "dur") return &event_.dur;
    if (key_ == "tid") return &event_.tid;
    return nullptr;
  }
  Number* args_number() {
    switch (key_.size()) {  // a quick filter before comparing: most args are none of these
      case 5:
        return key_ == "bytes" ? &event_.bytes : key_ == "flops" ? &event_.flops : nullptr;
      case 6:
        return key_ == "stream" ? &event_.stream : key_ == "device" ? &event_.device : nullptr;
      case 8:
        return key_ == "l2 bytes" ? &event_.l2_bytes : nullptr;
      case 10:
        return key_ == "Group size" ? &event_.group : nullptr;
      case 11:
        return key_ == "correlation" ? &event_.correlation : nullptr;
      case 13:
        return key_ == "shared memory"   ? &event_.shared
               : key_ == "In msg nelems" ? &event_.in_elems
                                         : nullptr;
      case 14:
        return key_ == "Out msg nelems" ? &event_.out_elems : nullptr;
      case 20:
        return key_ == "registers per thread" ? &event_.registers : nullptr;
      default:
        return nullptr;
    }
  }

  void string(std::string_view s) {
    if (stack_.empty()) return;
    switch (stack_.back()) {
      case Ctx::top:
        not_expected(Ctx::top, "a string");
        break;
      case Ctx::events:
        not_expected(Ctx::events, "a string");
        break;
      case Ctx::event:
        if (key_ == "ph") {
          event_.ph.assign(s);
          event_.has_ph = true;
        } else if (key_ == "cat") {
          event_.cat.assign(s);
          event_.has_cat = true;
        } else if (key_ == "name") {
          event_.name.assign(s);
          event_.has_name = true;
        } else if (Number* n = event_number(); n && key_ != "tid") {
          n->bad = true;
        } else if (key_ == "args") {
          event_.args_bad = true;
        }
        break;
      case Ctx::args:
        if (key_ == "Collective name")
          event_.collective.assign(s);
        else if (key_ == "dtype")
          event_.dtype.assign(s);
        else if (key_ == "math unit")
          event_.math_unit.assign(s);
        else if (Number* n = args_number())
          n->bad = true;
        else if (key_ == "grid")
          event_.grid_bad = true;
        else if (key_ == "block")
          event_.block_bad = true;
        break;
      case Ctx::types:
        event_.input_types.emplace_back(s);
        break;
      case Ctx::concrete:
        event_.concrete_inputs.emplace_back(s);
        break;
      case Ctx::grid:
        event_.grid_bad = true;
        break;
      case Ctx::block:
        event_.block_bad = true;
        break;
      case Ctx::device:
        if (key_ == "name") device_.name.assign(s);
        break;
      default:
        break;
    }
  }

  void number(double v) {
    if (stack_.empty()) return;
    switch (stack_.back()) {
      case Ctx::top:
        not_expected(Ctx::top, "a number");
        break;
      case Ctx::events:
        not_expected(Ctx::events, "a number");
        break;
      case Ctx::event:
        if (Number* n = event_number())
          n->set(v);
        else if (key_ == "args")
          event_.args_bad = true;
        break;
      case Ctx::args:
        if (Number* n = args_number())
          n->set(v);
        else if (key_ == "grid")
          event_.grid_bad = true;
        else if (key_ == "block")
          event_.block_bad = true;
        break;
      case Ctx::grid:
        event_.grid.push_back(v);
        break;
      case Ctx::block:
        event_.block.push_back(v);
        break;
      case Ctx::shape:
        // -1 marks a size no tensor has: no work is derived from that op's shapes.
        event_.input_dims.back().push_back(v >= 0 && v <= 1e12 ? static_cast<std::int64_t>(v) : -1);
        break;
      case Ctx::types:
        event_.input_types.emplace_back();
        break;
      case Ctx::concrete:
        event_.concrete_inputs.emplace_back();
        break;
      case Ctx::device: {
        const auto i = std::abs(v) <= 9e18 ? static_cast<std::int64_t>(v) : 0;
        if (key_ == "id")
          device_.id = static_cast<int>(i);
        else if (key_ == "numSms")
          device_.sm_count = static_cast<int>(i);
        else if (key_ == "computeMajor")
          device_.compute_major = static_cast<int>(i);
        else if (key_ == "computeMinor")
          device_.compute_minor = static_cast<int>(i);
        else if (key_ == "totalGlobalMem")
          device_.total_memory = i;
        break;
      }
      default:
        break;
    }
  }

  void other_scalar() {
    if (stack_.empty()) return;
    const Ctx top = stack_.back();
    if (top == Ctx::top || top == Ctx::events) {
      not_expected(top, "a literal");
    } else if (top == Ctx::event) {
      if (Number* n = event_number(); n && key_ != "tid") n->bad = true;
      if (key_ == "args") event_.args_bad = true;
    } else if (top == Ctx::args) {
      if (Number* n = args_number()) n->bad = true;
    } else if (top == Ctx::types) {
      event_.input_types.emplace_back();
    } else if (top == Ctx::concrete) {
      event_.concrete_inputs.emplace_back();
    } else if (top == Ctx::grid) {
      event_.grid_bad = true;
    } else if (top == Ctx::block) {
      event_.block_bad = true;
    }
  }

  const std::string& source_;
  Trace& t_;
  std::vector<Ctx> stack_;
  std::string key_, part_;
  RawEvent event_;
  DeviceProperties device_;
  std::size_t index_ = 0;
  bool saw_events_ = false;
};

}  // namespace

Trace parse_trace(std::string_view text, const std::string& source) {
  Trace t;
  t.source = source;
  json::basic_parser<TraceHandler> p(json::parse_options{}, source, t);
  boost::system::error_code ec;
  const std::size_t used = p.write_some(false, text.data(), text.size(), ec);
  if (ec)
    throw sim::InputError(
        position_of(text, used, source),
        fmt::format("invalid JSON: {}{}", ec.message(),
                    used >= text.size() ? " (the text ends early: truncated?)" : ""));
  if (!p.handler().saw_events())
    throw sim::InputError(source + ": missing 'traceEvents' (not a Kineto trace?)");
  link(t);
  return t;
}

Trace read_trace(const std::filesystem::path& path) {
  const std::string text = read_trace_text(path);
  return parse_trace(text, path.string());
}

}  // namespace workloads::kineto
