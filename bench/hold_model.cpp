// Hold-model benchmark of the event queue (as ns-3's bench-scheduler): keep N events pending;
// each executed event schedules one more at now + Exp(mean). Prints events/s for warpsim's
// Simulator and, in the same run, for a plain std::priority_queue of std::function events.
//
//   build/bench/hold_model [--events N] [--sizes 1000,100000,1000000] [--baseline no] [--repeat 3]

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include "sim/rng.hpp"
#include "sim/simulator.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kMeanPs = 1e6;  // mean increment: 1 us

// Increments drawn up front (a power-of-two count, indexed by mask) so both queues see the same
// times and neither the RNG nor a division is timed.
std::vector<std::int64_t> increments(std::size_t n) {
  sim::RngStream rng(42, "hold");
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = 1 + static_cast<std::int64_t>(rng.exponential(kMeanPs));
  return v;
}

struct Hold {
  sim::Simulator* sim;
  const std::vector<std::int64_t>* inc;
  std::size_t next = 0, remaining = 0;
  void fire() {
    if (remaining == 0) return;
    --remaining;
    const auto d = (*inc)[next++ & (inc->size() - 1)];
    sim->schedule_in(sim::Time::ps(d), [this] { fire(); });
  }
};

double bench_warpsim(std::size_t pending, std::size_t events, const std::vector<std::int64_t>& inc) {
  sim::Simulator sim;
  Hold h{&sim, &inc, 0, events};
  for (std::size_t i = 0; i < pending; ++i)
    sim.schedule(sim::Time::ps(inc[i % inc.size()]), [&h] { h.fire(); });
  h.next = pending;
  const auto t0 = Clock::now();
  sim.run();
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(sim.events_executed()) / s;
}

struct StdEvent {
  std::int64_t time;
  std::uint64_t seq;
  std::function<void()> fn;
  bool operator>(const StdEvent& o) const {
    return time != o.time ? time > o.time : seq > o.seq;
  }
};

double bench_std(std::size_t pending, std::size_t events, const std::vector<std::int64_t>& inc) {
  std::priority_queue<StdEvent, std::vector<StdEvent>, std::greater<>> q;
  std::int64_t now = 0;
  std::uint64_t seq = 0, executed = 0;
  std::size_t next = pending, remaining = events;
  std::function<void()> fire;
  fire = [&] {
    if (remaining == 0) return;
    --remaining;
    q.push({now + inc[next++ & (inc.size() - 1)], seq++, [&] { fire(); }});
  };
  for (std::size_t i = 0; i < pending; ++i) q.push({inc[i % inc.size()], seq++, [&] { fire(); }});
  const auto t0 = Clock::now();
  while (!q.empty()) {
    StdEvent e = std::move(const_cast<StdEvent&>(q.top()));
    q.pop();
    now = e.time;
    ++executed;
    e.fn();
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return static_cast<double>(executed) / s;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t events = 0;  // 0: 20 x pending, at least 5 M
  std::vector<std::size_t> sizes{1'000, 100'000, 1'000'000};
  bool with_std = true;
  int repeat = 3;  // best of N: the machine is a shared VM and its noise only ever slows a run
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--repeat")) repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--baseline")) with_std = std::strcmp(argv[i + 1], "no") != 0;
    else if (!std::strcmp(argv[i], "--events")) events = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--sizes")) {
      sizes.clear();
      for (char* p = std::strtok(argv[i + 1], ","); p; p = std::strtok(nullptr, ","))
        sizes.push_back(std::strtoull(p, nullptr, 10));
    }
  }
  const auto inc = increments(1 << 20);
  fmt::print("{:>10} {:>12} {:>16} {:>16} {:>8}\n", "pending", "events", "warpsim ev/s",
             "std::pq ev/s", "ratio");
  for (std::size_t n : sizes) {
    const std::size_t ev = events ? events : std::max<std::size_t>(5'000'000, 20 * n);
    double w = 0, s = 0;
    for (int r = 0; r < repeat; ++r) {
      w = std::max(w, bench_warpsim(n, ev, inc));
      if (with_std) s = std::max(s, bench_std(n, ev, inc));
    }
    fmt::print("{:>10} {:>12} {:>14.2f} M {:>14.2f} M {:>7.2f}x\n", n, ev, w / 1e6, s / 1e6, w / s);
  }
}
