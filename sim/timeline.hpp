#pragma once
// Streams a Chrome trace-event JSON file (opens in Perfetto and chrome://tracing), following the
// conventions of the Kineto traces warpsim reads: "ts"/"dur" in microseconds, one process per
// device, one thread per stream or SM group, flow arrows linking causes to effects.
// The file is written to a temporary sibling and renamed by close(), so an aborted run leaves
// no half-written timeline.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sim/time.hpp"

namespace sim {

struct TraceArg {
  std::string key;
  // A list of integers is written as a JSON array (Kineto's "grid": [98, 1, 1]).
  std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>> value;
};
using TraceArgs = std::vector<TraceArg>;

class TimelineWriter {
 public:
  explicit TimelineWriter(std::filesystem::path path);
  ~TimelineWriter();  // without close(): the temporary file is removed
  TimelineWriter(const TimelineWriter&) = delete;
  TimelineWriter& operator=(const TimelineWriter&) = delete;

  // Named tracks. Ids are assigned in call order, so they are deterministic.
  int process(std::string_view name, int sort_index = -1);
  int thread(int pid, std::string_view name, int sort_index = -1);

  // A span [start, start + duration) on a track ("ph":"X").
  void complete(int pid, int tid, std::string_view name, std::string_view category, Time start,
                Time duration, const TraceArgs& args = {});
  void instant(int pid, int tid, std::string_view name, Time at);
  // A counter track sample ("ph":"C"): the value holds until the next sample.
  void counter(int pid, std::string_view name, Time at, double value);
  // An arrow from a span on one track to a span on another ("ph":"s" / "ph":"f").
  void flow(std::uint64_t id, std::string_view name, int from_pid, int from_tid, Time from,
            int to_pid, int to_tid, Time to);

  // A GPU in the file's "deviceProperties" (Kineto's list of the devices traced).
  void device(int id, std::string_view name, int sm_count, std::uint64_t memory_bytes);

  // A fresh id linking a host launch call to the device work it put there (Kineto's
  // "correlation"): unique within the file, in call order.
  std::int64_t next_correlation() { return ++correlation_; }

  void close();
  std::uint64_t events_written() const { return events_; }
  // Spans, instants, counter samples and flows: what shows, beside the process/thread names.
  std::uint64_t spans_written() const { return spans_; }

 private:
  void begin_event();
  void flush_if_large();

  std::filesystem::path path_, tmp_;
  std::ofstream out_;
  std::string buf_;
  std::uint64_t events_ = 0;
  std::uint64_t spans_ = 0;
  int next_pid_ = 1;
  std::int64_t correlation_ = 0;
  std::string devices_;  // the deviceProperties entries, written by close()
  std::vector<int> next_tid_;
  bool closed_ = false;
};

}  // namespace sim
