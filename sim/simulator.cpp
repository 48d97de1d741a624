#include "sim/simulator.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace sim {

void Simulator::past_error(Time at) const {
  throw std::logic_error(
        fmt::format("event scheduled in the past: at {} while now is {}", at.str(), now_.str()));
}

void Simulator::execute_next() {
  const EventQueue::Front e = queue_.pop();
  now_ = Time::ps(e.time);
  ++executed_;
  // Time and priority mixed as two words: folding the priority into the time's top bits kept only
  // its low 5 bits, so kEarly, kModel, kLate and kStats (multiples of 32) hashed the same.
  mix(static_cast<std::uint64_t>(e.time));
  mix(e.order >> 56);
  queue_.run(e);
}

void Simulator::run() {
  stopped_ = false;
  while (!stopped_ && !queue_.empty()) execute_next();
}

void Simulator::run_until(Time until) {
  stopped_ = false;
  while (!stopped_ && !queue_.empty() && queue_.next_time() <= until) execute_next();
  if (!stopped_ && now_ < until) now_ = until;
}

}  // namespace sim
