#pragma once
// When each of many pieces of work is due, kept by one component beside the engine's queue:
// an indexed min-heap of (time, order) per 32-bit id (sim::Slots ids). Work whose rate changes
// all the time (a GPU's CTA batches as SM and DRAM shares move) moves its entry in place here,
// and one engine event waits at the earliest entry (ScheduledCalendar), instead of cancelling
// and re-inserting an engine event per change (the engine cancels lazily: those pile up).
// Entries due at the same time come out in the order they were last set, as engine events
// would.

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "sim/simulator.hpp"
#include "sim/time.hpp"

namespace sim {

class Calendar {
 public:
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  bool contains(std::uint32_t id) const { return id < pos_.size() && pos_[id] != kAbsent; }
  // The earliest entry; the calendar must not be empty.
  Time top_time() const { return Time::ps(heap_.front().time); }
  std::uint32_t top_id() const { return heap_.front().id; }

  // Inserts `id` due at `t`, or moves it there; either way it is ordered as set last.
  void set(std::uint32_t id, Time t) {
    if (id >= pos_.size()) pos_.resize(id + 1, kAbsent);
    const Entry e{t.count(), next_order_++, id};
    if (pos_[id] == kAbsent) {
      pos_[id] = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back(e);
      up(pos_[id]);
      return;
    }
    const std::uint32_t i = pos_[id];
    const bool earlier = before(e, heap_[i]);
    heap_[i] = e;
    if (earlier)
      up(i);
    else
      down(i);
  }

  // Takes the earliest entry off.
  void pop() { erase_at(0); }

  void erase(std::uint32_t id) {
    if (contains(id)) erase_at(pos_[id]);
  }

 private:
  static constexpr std::uint32_t kAbsent = 0xffffffffu;
  struct Entry {
    std::int64_t time;
    std::uint64_t order;
    std::uint32_t id;
  };
  static bool before(const Entry& a, const Entry& b) {
    return a.time != b.time ? a.time < b.time : a.order < b.order;
  }

  void place(std::uint32_t i, const Entry& e) {
    heap_[i] = e;
    pos_[e.id] = i;
  }
  void up(std::uint32_t i) {
    const Entry e = heap_[i];
    while (i > 0) {
      const std::uint32_t parent = (i - 1) / 2;
      if (!before(e, heap_[parent])) break;
      place(i, heap_[parent]);
      i = parent;
    }
    place(i, e);
  }
  void down(std::uint32_t i) {
    const Entry e = heap_[i];
    const auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      std::uint32_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], e)) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, e);
  }
  void erase_at(std::uint32_t i) {
    pos_[heap_[i].id] = kAbsent;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (i == heap_.size()) return;
    const bool earlier = before(last, heap_[i]);
    place(i, last);
    if (earlier)
      up(i);
    else
      down(i);
  }

  std::vector<Entry> heap_;
  std::vector<std::uint32_t> pos_;  // id -> index in heap_, kAbsent when not due
  std::uint64_t next_order_ = 0;
};

// A Calendar with one engine event at its earliest entry: when entries come due, each is taken
// off and `on_due(id)` runs, earliest first (ties in the order set); on_due may set entries,
// those due now included.
class ScheduledCalendar {
 public:
  ScheduledCalendar(Simulator& sim, std::function<void(std::uint32_t)> on_due)
      : sim_(sim), on_due_(std::move(on_due)) {}
  ScheduledCalendar(const ScheduledCalendar&) = delete;  // its event points back at it
  ScheduledCalendar& operator=(const ScheduledCalendar&) = delete;

  bool contains(std::uint32_t id) const { return due_.contains(id); }
  // Inserts `id` due at `t`, or moves it there.
  void set(std::uint32_t id, Time t) {
    due_.set(id, t);
    arm();
  }
  void erase(std::uint32_t id) {
    if (!due_.contains(id)) return;
    due_.erase(id);
    arm();
  }

 private:
  // The engine event at the earliest entry, moved only when that time changes.
  void arm() {
    if (due_.empty()) {
      sim_.cancel(event_);
      return;
    }
    const Time at = due_.top_time();
    if (event_.valid() && at_ == at) return;
    sim_.cancel(event_);
    at_ = at;
    event_ = sim_.schedule_cancellable(at, [this] { run(); });
  }
  void run() {
    event_ = EventHandle();  // fired
    while (!due_.empty() && due_.top_time() <= sim_.now()) {
      const std::uint32_t id = due_.top_id();
      due_.pop();
      on_due_(id);
    }
    arm();
  }

  Simulator& sim_;
  std::function<void(std::uint32_t)> on_due_;
  Calendar due_;
  EventHandle event_;
  Time at_;
};

}  // namespace sim
