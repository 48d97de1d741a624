#pragma once
// Work whose rate changes while it runs (a batch of CTAs as SM and DRAM shares change, a copy as
// its DRAM share does): the progress made at the old rate is banked at each change and the
// completion event moved, so the work neither over- nor under-uses what it was given (a duration
// fixed when it started would, systematically, under contention that comes and goes).

#include <algorithm>
#include <utility>

#include "sim/simulator.hpp"

namespace sim {

// The banked progress itself, for work whose completion someone else schedules (a Calendar).
struct Pace {
  double done = 0;    // fraction done at `since`
  double speed = 0;   // fraction per second
  Time since;         // progress counts from here: later than now while a start-up cost runs

  // Banks what was done at the old speed and goes at `new_speed` (fraction per second; 0: what
  // is left takes no time) from `now`: returns when the work will be through.
  Time rerate(Time now, double new_speed) {
    if (now > since) {
      done = std::min(1.0, done + speed * (now - since).seconds());
      since = now;
    }
    speed = new_speed;
    return since + (speed > 0 ? Time::ceil_seconds((1.0 - done) / speed) : Time::zero());
  }
};

struct Progress : Pace {
  EventHandle event;  // the completion

  // From now on the work goes at `new_speed` and `on_done` runs when it is through. An
  // unchanged speed keeps the completion.
  template <class F>
  void run_at(Simulator& sim, double new_speed, F&& on_done) {
    if (new_speed == speed && event.valid()) return;
    const Time at = rerate(sim.now(), new_speed);
    sim.cancel(event);
    event = sim.schedule_cancellable(at, std::forward<F>(on_done));
  }
};

}  // namespace sim
