#include "workloads/kineto_trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <unordered_map>

#include "sim/error.hpp"
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
      {"Float", 4}, {"Float32", 4}, {"Half", 2},   {"Float16", 2}, {"BFloat16", 2},
      {"Double", 8}, {"Int", 4},    {"Int32", 4},  {"Long", 8},    {"Int64", 8},
      {"Byte", 1},  {"Char", 1},    {"Int8", 1},   {"Uint8", 1},   {"Bool", 1}};
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

class EventReader {
 public:
  EventReader(const std::string& source, std::size_t index, const json::object& e)
      : source_(source), index_(index), e_(e) {}

  [[noreturn]] void fail(const std::string& what) const {
    const json::value* name = e_.if_contains("name");
    const std::string label =
        name && name->is_string() ? fmt::format(" ('{}')", std::string_view(name->get_string()).substr(0, 60)) : "";
    throw sim::InputError(fmt::format("{}: traceEvents[{}]{}: {}", source_, index_, label, what));
  }

  double number(const json::value& v, std::string_view key) const {
    if (v.is_double()) return v.get_double();
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    fail(fmt::format("'{}' must be a number", key));
  }
  double required_number(std::string_view key) const {
    const json::value* v = e_.if_contains(key);
    if (!v) fail(fmt::format("missing '{}'", key));
    return number(*v, key);
  }
  double time(std::string_view key) const { return required_number(key); }
  double duration() const {
    const double d = required_number("dur");
    if (d < 0) fail(fmt::format("negative duration {}", d));
    return d;
  }
  std::string string(std::string_view key) const {
    const json::value* v = e_.if_contains(key);
    if (!v) fail(fmt::format("missing '{}'", key));
    if (!v->is_string()) fail(fmt::format("'{}' must be a string", key));
    return std::string(v->get_string());
  }
  const json::object& args() const {
    const json::value* v = e_.if_contains("args");
    if (!v) fail("missing 'args'");
    if (!v->is_object()) fail("'args' must be an object");
    return v->get_object();
  }
  std::int64_t arg_int(std::string_view key, std::int64_t fallback, bool required) const {
    const json::value* v = args().if_contains(key);
    if (!v) {
      if (required) fail(fmt::format("missing args.'{}'", key));
      return fallback;
    }
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
    fail(fmt::format("args.'{}' must be a number", key));
  }
  std::string arg_string(std::string_view key) const {
    const json::value* v = args().if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  }
  Dim3 arg_dim3(std::string_view key) const {
    Dim3 d;
    const json::value* v = args().if_contains(key);
    if (!v) return d;
    if (!v->is_array() || v->get_array().empty() || v->get_array().size() > 3)
      fail(fmt::format("args.'{}' must be an array of 1 to 3 numbers", key));
    std::int64_t* out[] = {&d.x, &d.y, &d.z};
    std::size_t i = 0;
    for (const json::value& x : v->get_array()) {
      const double n = number(x, key);
      if (n < 1 || n > 4294967295.0) fail(fmt::format("args.'{}' has a dimension {}", key, n));
      *out[i++] = static_cast<std::int64_t>(n);
    }
    return d;
  }

 private:
  const std::string& source_;
  std::size_t index_;
  const json::object& e_;
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
  if (n == "cudaStreamSynchronize" || n == "cudaDeviceSynchronize" ||
      n == "cudaEventSynchronize" || n == "cuStreamSynchronize" || n == "cuCtxSynchronize")
    return RuntimeKind::synchronize;
  return RuntimeKind::other;
}

bool is_nccl(std::string_view name) {
  return name.starts_with("nccl") || name.find(" nccl") != std::string_view::npos ||
         name.find("ncclKernel") != std::string_view::npos ||
         name.find("ncclDevKernel") != std::string_view::npos;
}

void read_device_op(const EventReader& r, DeviceOp::Kind kind, Trace& t) {
  DeviceOp d;
  d.kind = kind;
  d.name = r.string("name");
  d.ts = r.time("ts");
  d.dur = r.duration();
  d.device = static_cast<int>(r.arg_int("device", 0, false));
  d.stream = r.arg_int("stream", 0, true);
  d.correlation = r.arg_int("correlation", -1, false);
  if (kind == DeviceOp::Kind::kernel) {
    d.grid = r.arg_dim3("grid");
    d.block = r.arg_dim3("block");
    if (d.block.count() > 1024) r.fail(fmt::format("block of {} threads", d.block.count()));
    d.registers_per_thread = static_cast<int>(r.arg_int("registers per thread", 0, false));
    d.shared_memory = r.arg_int("shared memory", 0, false);
    if (d.registers_per_thread < 0 || d.shared_memory < 0)
      r.fail("negative registers or shared memory");
    d.nccl = is_nccl(d.name);
    if (d.nccl) {
      Collective& c = d.collective;
      c.name = r.arg_string("Collective name");
      c.in_elements = r.arg_int("In msg nelems", 0, false);
      c.out_elements = r.arg_int("Out msg nelems", 0, false);
      c.dtype = r.arg_string("dtype");
      c.group_size = static_cast<int>(r.arg_int("Group size", 0, false));
      c.bytes = c.in_elements * nccl_dtype_size(c.dtype);
    }
  } else {
    d.bytes = r.arg_int("bytes", 0, false);
    if (d.bytes < 0) r.fail(fmt::format("negative bytes {}", d.bytes));
  }
  t.device_ops.push_back(std::move(d));
}

void read_cpu_op(const EventReader& r, const json::object& e, Trace& t) {
  CpuOp op;
  op.name = r.string("name");
  op.ts = r.time("ts");
  op.dur = r.duration();
  if (const json::value* tid = e.if_contains("tid"); tid && tid->is_number())
    op.tid = static_cast<std::int64_t>(r.number(*tid, "tid"));
  if (const json::value* a = e.if_contains("args"); a && a->is_object()) {
    if (const json::value* dims = a->get_object().if_contains("Input Dims");
        dims && dims->is_array())
      for (const json::value& in : dims->get_array()) {
        std::vector<std::int64_t> shape;
        if (in.is_array())
          for (const json::value& x : in.get_array())
            if (x.is_number()) shape.push_back(static_cast<std::int64_t>(r.number(x, "Input Dims")));
        op.input_dims.push_back(std::move(shape));
      }
    if (const json::value* types = a->get_object().if_contains("Input type");
        types && types->is_array())
      for (const json::value& x : types->get_array())
        op.input_types.push_back(x.is_string() ? std::string(x.get_string()) : std::string());
  }
  t.cpu_ops.push_back(std::move(op));
}

void read_runtime(const EventReader& r, const json::object& e, Trace& t) {
  RuntimeCall c;
  c.name = r.string("name");
  c.kind = runtime_kind(c.name);
  c.ts = r.time("ts");
  c.dur = r.duration();
  if (const json::value* tid = e.if_contains("tid"); tid && tid->is_number())
    c.tid = static_cast<std::int64_t>(r.number(*tid, "tid"));
  c.correlation = r.arg_int("correlation", -1, false);
  t.runtime.push_back(std::move(c));
}

void read_devices(const json::value& v, const std::string& source, Trace& t) {
  if (!v.is_array()) throw sim::InputError(source + ": 'deviceProperties' must be an array");
  for (const json::value& d : v.get_array()) {
    if (!d.is_object()) continue;
    const json::object& o = d.get_object();
    DeviceProperties p;
    auto get = [&](std::string_view k) -> std::int64_t {
      const json::value* x = o.if_contains(k);
      if (!x) return 0;
      if (x->is_int64()) return x->get_int64();
      if (x->is_uint64()) return static_cast<std::int64_t>(x->get_uint64());
      return 0;
    };
    p.id = static_cast<int>(get("id"));
    if (const json::value* n = o.if_contains("name"); n && n->is_string())
      p.name = std::string(n->get_string());
    p.sm_count = static_cast<int>(get("numSms"));
    p.compute_major = static_cast<int>(get("computeMajor"));
    p.compute_minor = static_cast<int>(get("computeMinor"));
    p.total_memory = get("totalGlobalMem");
    t.devices.push_back(std::move(p));
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

}  // namespace

Trace parse_trace(std::string_view text, const std::string& source) {
  json::monotonic_resource mr;
  json::stream_parser p(&mr);
  boost::system::error_code ec;
  const std::size_t used = p.write_some(text.data(), text.size(), ec);
  if (!ec) p.finish(ec);
  if (ec) {
    const std::size_t at = used;
    throw sim::InputError(position_of(text, at, source),
                          fmt::format("invalid JSON: {}{}", ec.message(),
                                      at >= text.size() ? " (the text ends early: truncated?)" : ""));
  }
  const json::value root = p.release();
  if (!root.is_object()) throw sim::InputError(source + ": a Kineto trace is a JSON object");
  const json::object& top = root.get_object();
  const json::value* events = top.if_contains("traceEvents");
  if (!events) throw sim::InputError(source + ": missing 'traceEvents' (not a Kineto trace?)");
  if (!events->is_array()) throw sim::InputError(source + ": 'traceEvents' must be an array");

  Trace t;
  t.source = source;
  if (const json::value* dp = top.if_contains("deviceProperties")) read_devices(*dp, source, t);
  const json::array& evs = events->get_array();
  for (std::size_t i = 0; i < evs.size(); ++i) {
    if (!evs[i].is_object())
      throw sim::InputError(fmt::format("{}: traceEvents[{}] is not an object", source, i));
    const json::object& e = evs[i].get_object();
    const EventReader r(source, i, e);
    const json::value* ph = e.if_contains("ph");
    if (!ph || !ph->is_string()) {
      ++t.warnings["event without a 'ph'"];
      continue;
    }
    const std::string_view phase = ph->get_string();
    if (phase != "X") {
      static constexpr std::string_view known[] = {"s", "f", "t", "M", "i", "I", "C", "B", "E"};
      if (std::find(std::begin(known), std::end(known), phase) == std::end(known))
        ++t.warnings[fmt::format("event phase '{}'", phase)];
      continue;
    }
    const json::value* cat = e.if_contains("cat");
    const std::string_view c = cat && cat->is_string() ? std::string_view(cat->get_string()) : "";
    if (c == "kernel" || c == "Kernel")
      read_device_op(r, DeviceOp::Kind::kernel, t);
    else if (c == "gpu_memcpy" || c == "Memcpy")
      read_device_op(r, DeviceOp::Kind::memcpy, t);
    else if (c == "gpu_memset" || c == "Memset")
      read_device_op(r, DeviceOp::Kind::memset, t);
    else if (c == "cuda_runtime" || c == "cuda_driver" || c == "Runtime")
      read_runtime(r, e, t);
    else if (c == "cpu_op" || c == "Operator")
      read_cpu_op(r, e, t);
    else if (c == "user_annotation" || c == "gpu_user_annotation" || c == "cuda_sync" ||
             c == "python_function" || c == "Trace" || c == "overhead" ||
             c == "cuda_profiler_range" || c == "Python" || c == "user_annotation ") {
      if (c == "user_annotation") {
        const std::string name = r.string("name");
        if (name.starts_with("ProfilerStep#")) t.iterations.push_back({name, r.time("ts"), r.duration()});
      }
    } else {
      ++t.warnings[fmt::format("unknown event category '{}'", c)];
    }
  }
  link(t);
  return t;
}

Trace read_trace(const std::filesystem::path& path) {
  const std::string text = read_trace_text(path);
  return parse_trace(text, path.string());
}

}  // namespace workloads::kineto
