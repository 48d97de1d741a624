#include "sim/timeline.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cmath>
#include <stdexcept>

#include "sim/files.hpp"

namespace sim {
namespace {

// Microseconds with picosecond precision, from integers only: "12.345678".
std::string us(Time t) {
  const std::int64_t ps = t.count();
  const char* sign = ps < 0 ? "-" : "";
  const std::uint64_t a = static_cast<std::uint64_t>(ps < 0 ? -ps : ps);
  return fmt::format("{}{}.{:06}", sign, a / 1'000'000, a % 1'000'000);
}

std::string quote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "0"; }

void append_args(std::string& buf, const TraceArgs& args) {
  if (args.empty()) return;
  buf += ",\"args\":{";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i) buf += ',';
    buf += quote(args[i].key);
    buf += ':';
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string>) buf += quote(v);
          else if constexpr (std::is_same_v<V, double>) buf += number(v);
          else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>)
            buf += fmt::format("[{}]", fmt::join(v, ","));
          else buf += fmt::format("{}", v);
        },
        args[i].value);
  }
  buf += '}';
}

}  // namespace

TimelineWriter::TimelineWriter(std::filesystem::path path)
    : path_(std::move(path)), tmp_(temp_sibling(path_)) {
  out_.open(tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error(fmt::format("cannot write timeline {}", tmp_.string()));
  buf_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
}

TimelineWriter::~TimelineWriter() {
  if (!closed_) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
  }
}

void TimelineWriter::begin_event() {
  if (events_++) buf_ += ",";
  buf_ += "\n";
}

void TimelineWriter::flush_if_large() {
  if (buf_.size() > (1u << 20)) {
    out_ << buf_;
    buf_.clear();
  }
}

int TimelineWriter::process(std::string_view name, int sort_index) {
  const int pid = next_pid_++;
  next_tid_.resize(static_cast<std::size_t>(pid) + 1, 1);
  begin_event();
  buf_ += fmt::format(R"({{"ph":"M","name":"process_name","pid":{},"tid":0,"args":{{"name":{}}}}})",
                      pid, quote(name));
  begin_event();
  buf_ += fmt::format(
      R"({{"ph":"M","name":"process_sort_index","pid":{},"tid":0,"args":{{"sort_index":{}}}}})",
      pid, sort_index >= 0 ? sort_index : pid);
  return pid;
}

int TimelineWriter::thread(int pid, std::string_view name, int sort_index) {
  const int tid = next_tid_.at(static_cast<std::size_t>(pid))++;
  begin_event();
  buf_ += fmt::format(R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":{}}}}})",
                      pid, tid, quote(name));
  begin_event();
  buf_ += fmt::format(
      R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"args":{{"sort_index":{}}}}})",
      pid, tid, sort_index >= 0 ? sort_index : tid);
  return tid;
}

void TimelineWriter::complete(int pid, int tid, std::string_view name, std::string_view category,
                              Time start, Time duration, const TraceArgs& args) {
  ++spans_;
  begin_event();
  buf_ += fmt::format(R"({{"ph":"X","cat":{},"name":{},"pid":{},"tid":{},"ts":{},"dur":{})",
                      quote(category), quote(name), pid, tid, us(start), us(duration));
  append_args(buf_, args);
  buf_ += '}';
  flush_if_large();
}

void TimelineWriter::instant(int pid, int tid, std::string_view name, Time at) {
  ++spans_;
  begin_event();
  buf_ += fmt::format(R"({{"ph":"i","s":"t","name":{},"pid":{},"tid":{},"ts":{}}})", quote(name),
                      pid, tid, us(at));
  flush_if_large();
}

void TimelineWriter::counter(int pid, std::string_view name, Time at, double value) {
  ++spans_;
  begin_event();
  buf_ += fmt::format(R"({{"ph":"C","name":{},"pid":{},"ts":{},"args":{{"value":{}}}}})",
                      quote(name), pid, us(at), number(value));
  flush_if_large();
}

void TimelineWriter::flow(std::uint64_t id, std::string_view name, int from_pid, int from_tid,
                          Time from, int to_pid, int to_tid, Time to) {
  ++spans_;
  begin_event();
  buf_ += fmt::format(R"({{"ph":"s","id":{},"cat":"flow","name":{},"pid":{},"tid":{},"ts":{}}})",
                      id, quote(name), from_pid, from_tid, us(from));
  begin_event();
  buf_ += fmt::format(
      R"({{"ph":"f","bp":"e","id":{},"cat":"flow","name":{},"pid":{},"tid":{},"ts":{}}})", id,
      quote(name), to_pid, to_tid, us(to));
  flush_if_large();
}

void TimelineWriter::device(int id, std::string_view name, int sm_count,
                            std::uint64_t memory_bytes) {
  if (!devices_.empty()) devices_ += ",";
  devices_ += fmt::format(R"(
{{"id":{},"name":{},"numSms":{},"totalGlobalMem":{}}})",
                          id, quote(name), sm_count, memory_bytes);
}

void TimelineWriter::close() {
  if (closed_) return;
  buf_ += "\n]";
  if (!devices_.empty()) buf_ += fmt::format(",\"deviceProperties\":[{}\n]", devices_);
  buf_ += "}\n";
  out_ << buf_;
  buf_.clear();
  out_.close();
  if (!out_) throw std::runtime_error(fmt::format("error writing timeline {}", tmp_.string()));
  std::filesystem::rename(tmp_, path_);
  closed_ = true;
}

}  // namespace sim
