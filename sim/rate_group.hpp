#pragma once
// Pieces of work that all progress at one shared speed, each with its own amount left (virtual
// time, as fair-queueing schedulers keep it): the group's clock counts the work each member has
// done since the group began, and a member is through when the clock reaches its target. A
// change of speed then moves one completion, the earliest member's, instead of one per member
// (the DRAM-bound CTA batches of a kernel are such a group: their DRAM share changes at every
// CTA completion of any co-running kernel).
//
// Members leave lazily: the owner invalidates a member's stamp and the stale entry is dropped
// when it reaches the front (`front(valid, ...)`, valid(id, stamp): whether it still stands).

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace sim {

class RateGroup {
 public:
  // The clock at `now`: work done per member since the group began.
  double clock(Time now) {
    bank(now);
    return clock_;
  }
  double speed() const { return speed_; }
  // From `now` on the group goes at `speed` (work per second; 0: what is left takes no time).
  void set_speed(Time now, double speed) {
    bank(now);
    speed_ = speed;
  }

  // A member with `left` work to do from `now` (the clock read at `now`); returns its target.
  double add(std::uint32_t id, std::uint64_t stamp, double left) {
    heap_.push_back({clock_ + left, stamp, id});
    std::push_heap(heap_.begin(), heap_.end(), later);
    return clock_ + left;
  }
  // The work left to a member whose target is `target`, at the clock last read.
  double left(double target) const { return std::max(0.0, target - clock_); }

  // The earliest member still standing (stale entries dropped); false when none.
  template <class Valid>
  bool front(Valid&& valid, std::uint32_t& id, double& target) {
    while (!heap_.empty() && !valid(heap_.front().id, heap_.front().stamp)) pop();
    if (heap_.empty()) return false;
    id = heap_.front().id;
    target = heap_.front().target;
    return true;
  }
  void pop() {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  // When a member with `target` is through at the current speed. What rounding leaves of a
  // target the clock has reached counts as reached (members due together stay together).
  Time due(double target) const {
    double left_now = target - clock_;
    if (left_now <= 1e-12 * std::max(1.0, target)) left_now = 0;
    return since_ + (speed_ > 0 ? Time::ceil_seconds(left_now / speed_) : Time::zero());
  }
  // Empty, and the clock back at zero (targets stay small), from `now`.
  void reset(Time now) {
    heap_.clear();
    clock_ = 0;
    since_ = now;
  }

 private:
  struct Entry {
    double target;
    std::uint64_t stamp;  // also the tie-break: the member added first goes first
    std::uint32_t id;
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.target != b.target ? a.target > b.target : a.stamp > b.stamp;
  }
  void bank(Time now) {
    if (now > since_) {
      clock_ += speed_ * (now - since_).seconds();
      since_ = now;
    }
  }

  std::vector<Entry> heap_;
  double clock_ = 0;
  double speed_ = 0;
  Time since_;
};

}  // namespace sim
