#pragma once
// The discrete-event kernel: a clock and the pending-event set. Models advance time only by
// scheduling events at state changes; nothing ticks per cycle.

#include <cstdint>
#include <utility>

#include "sim/event_queue.hpp"
#include "sim/time.hpp"

namespace sim {

class Simulator {
 public:
  Time now() const { return now_; }

  // Runs `f` at absolute time `at` (>= now()).
  template <class F>
  void schedule(Time at, F&& f, Priority p = Priority::kModel) {
    check_not_past(at);
    (void)queue_.push(at, p, std::forward<F>(f));
  }
  // Runs `f` after `delay` (>= 0).
  template <class F>
  void schedule_in(Time delay, F&& f, Priority p = Priority::kModel) {
    schedule(now_ + delay, std::forward<F>(f), p);
  }
  // As schedule(), returning a handle that cancel() accepts.
  template <class F>
  EventHandle schedule_cancellable(Time at, F&& f, Priority p = Priority::kModel) {
    check_not_past(at);
    return queue_.push(at, p, std::forward<F>(f));
  }
  // True if the event had not run yet and now never will.
  bool cancel(EventHandle& h) { return queue_.cancel(h); }

  // Runs until no event is left or stop() is called.
  void run();
  // Runs every event at time <= `until`, then sets the clock to `until`.
  void run_until(Time until);
  // Ends run()/run_until() after the current event.
  void stop() { stopped_ = true; }

  bool idle() const { return queue_.empty(); }
  std::size_t pending() const { return queue_.size(); }
  std::uint64_t events_executed() const { return executed_; }
  // A hash over the (time, priority) sequence of executed events, plus whatever models mix in
  // with mix(): two runs with equal fingerprints executed the same schedule (OMNeT++ style).
  std::uint64_t fingerprint() const { return fingerprint_; }
  void mix(std::uint64_t v) { fingerprint_ = (fingerprint_ ^ v) * 0x100000001b3ULL; }

 private:
  void check_not_past(Time at) const {
    if (at < now_) [[unlikely]] past_error(at);
  }
  [[noreturn]] void past_error(Time at) const;
  void execute_next();

  EventQueue queue_;
  Time now_;
  std::uint64_t executed_ = 0;
  std::uint64_t fingerprint_ = 0xcbf29ce484222325ULL;
  bool stopped_ = false;
};

}  // namespace sim
