#pragma once
// The pending-event set. Events are ordered by (time, priority, insertion sequence), so equal
// inputs always give the same order, independent of memory layout.
//
// Implementation: a radix heap on the 64-bit time key, with byte-sized digits. Simulated time
// never goes backwards, so an event is filed under the highest byte in which its time differs
// from the last popped time (its level) and that byte's value (its bucket); it only ever moves
// to lower levels as time advances. Push is O(1), each event moves at most 8 times (in practice
// two or three: event horizons span a few bytes of picoseconds), and the moves are sequential
// memory traffic rather than the random walks of a comparison heap. Bucket 0 holds the events
// at exactly the current time, kept sorted by (priority, sequence) with a read cursor; pushing
// an event at the current time is an append in the common case (the same-time fast path).
//
// Cancellation is lazy: every event's handle names its handler slot and the slot's generation;
// cancelling bumps the generation, and the stale entry is dropped when it reaches the front.

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/handler.hpp"
#include "sim/invariant.hpp"
#include "sim/time.hpp"

namespace sim {

// Named priority levels for events at the same time (lower runs first), as gem5's: stats and
// exit run after the model's work of the same tick.
enum class Priority : std::uint8_t {
  kEarly = 32,   // state changes others at the same time must see (e.g. resource release)
  kModel = 64,   // default
  kBandwidth = 100,  // fair-share re-solve, after the same-time flow changes of the model
  kLate = 128,   // decisions that want every same-time state change first (schedulers)
  kStats = 192,  // sampling
  kExit = 255,
};

class EventHandle {
 public:
  EventHandle() = default;
  bool valid() const { return gen_ != 0; }

 private:
  friend class EventQueue;
  EventHandle(std::uint32_t slot, std::uint32_t gen) : slot_(slot), gen_(gen) {}
  std::uint32_t slot_ = 0;
  std::uint32_t gen_ = 0;  // 0: no event
};

class EventQueue {
 public:
  struct Event {
    std::int64_t time;    // picoseconds
    std::uint64_t order;  // priority << 56 | insertion sequence
    Handler handler;
  };

  // Number of live (not cancelled) pending events.
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  // Schedules callable `f` at t; the callable is built directly in its slot.
  template <class F>
  EventHandle push(Time t, Priority p, F&& f) {
    const std::uint32_t i = allocate();
    slot(i).handler.emplace(std::forward<F>(f));
    const std::uint32_t gen = slot(i).gen;
    insert(t.count(), p, i, gen);
    return {i, gen};
  }

  // True if the event was pending and is now cancelled; false if it already ran or was
  // cancelled before. The handle is cleared either way.
  bool cancel(EventHandle& h) {
    const bool live = h.gen_ != 0 && slot(h.slot_).gen == h.gen_;
    if (live) {
      slot(h.slot_).handler.reset();
      release(h.slot_);
      --live_;
    }
    h = EventHandle();
    return live;
  }

  // Time of the earliest live event; the queue must not be empty.
  Time next_time() {
    settle();
    return Time::ps(bucket0_[cursor_].time);
  }

  // The earliest live event, taken off the queue; its handler stays in its slot until run().
  struct Front {
    std::int64_t time;    // picoseconds
    std::uint64_t order;  // priority << 56 | insertion sequence
    std::uint32_t slot;
  };
  Front pop() {
    settle();
    const Entry& e = bucket0_[cursor_++];
    Slot& s = slot(e.slot);
    if (++s.gen == 0) s.gen = 1;  // no longer pending: a cancel() from inside returns false
    --live_;
    return {e.time, e.order, e.slot};
  }
  // Runs a popped event's handler in place (slots never move), then frees the slot.
  void run(const Front& f) {
    Slot& s = slot(f.slot);
    s.handler();
    s.handler.reset();
    free_.push_back(f.slot);
  }

 private:
  // Queue entries are small plain data, so bucket moves are cheap copies; the handler waits in
  // a slot (reused last-in first-out, so the slot a new event takes is usually still in cache).
  struct Entry {
    std::int64_t time;
    std::uint64_t order;
    std::uint32_t slot;
    std::uint32_t gen;  // the slot's generation when scheduled; a mismatch means cancelled
  };
  struct Slot {
    Handler handler;
    std::uint32_t gen = 1;
  };
  static constexpr int kLevels = 8;  // bytes of the 64-bit key
  static constexpr int kDigits = 256;
  static constexpr int kPrefetchLevel = 0;  // prefetch handlers of events that land this low

  struct Bucket {
    std::vector<Entry> entries;
    std::uint64_t min = 0;  // smallest time in the bucket, tracked on insertion
  };
  struct Level {
    std::array<std::uint64_t, kDigits / 64> occupied{};  // bit d: buckets[d] non-empty
    std::array<Bucket, kDigits> buckets;
  };

  // Level = index of the highest differing byte, or -1 when key == last.
  static int level_of(std::uint64_t key, std::uint64_t last) {
    const std::uint64_t x = key ^ last;
    return x == 0 ? -1 : (63 - std::countl_zero(x)) >> 3;
  }

  // Slots live in chunks that never move (handlers run in place). Chunks are 2 MiB-aligned and
  // asked to be backed by huge pages: with a million pending events a slot table of 4 KiB pages
  // misses the TLB on most pops, and the CPU drops software prefetches that miss the TLB.
  static constexpr unsigned kChunkBits = 15;
  struct ChunkFree {
    void operator()(Slot* p) const;
  };
  static Slot* new_chunk();
  Slot& slot(std::uint32_t i) { return chunks_[i >> kChunkBits].get()[i & ((1u << kChunkBits) - 1)]; }
  const Slot& slot(std::uint32_t i) const {
    return chunks_[i >> kChunkBits].get()[i & ((1u << kChunkBits) - 1)];
  }

  std::uint32_t allocate() {
    std::uint32_t i;
    if (free_.empty()) {
      i = slot_count_++;
      if ((i >> kChunkBits) == chunks_.size())
        chunks_.emplace_back(new_chunk());
    } else {
      i = free_.back();
      free_.pop_back();
    }
    return i;
  }

  void release(std::uint32_t i) {
    Slot& s = slot(i);
    if (++s.gen == 0) s.gen = 1;  // 0 means "no event" in handles
    free_.push_back(i);
  }

  void insert(std::int64_t t, Priority p, std::uint32_t slot, std::uint32_t gen) {
    const auto key = static_cast<std::uint64_t>(t);
    WARPSIM_INVARIANT(key >= last_, "an event was scheduled in the past");
    const Entry e{t, (static_cast<std::uint64_t>(p) << 56) | seq_++, slot, gen};
    ++live_;
    const int level = level_of(key, last_);
    if (level >= 0) {
      put(level, e);
      return;
    }
    // Same time as the front: keep bucket 0 sorted by order. The new sequence number is the
    // largest so far, so unless its priority is lower than the tail's this is an append.
    if (bucket0_.size() == cursor_ || bucket0_.back().order < e.order) {
      bucket0_.push_back(e);
      return;
    }
    auto pos = std::upper_bound(bucket0_.begin() + static_cast<std::ptrdiff_t>(cursor_),
                                bucket0_.end(), e.order,
                                [](std::uint64_t o, const Entry& x) { return o < x.order; });
    bucket0_.insert(pos, e);
  }

  bool is_dead(const Entry& e) const { return slot(e.slot).gen != e.gen; }

  // Makes bucket0_[cursor_] the earliest live event.
  void settle() {
    for (;;) {
      while (cursor_ < bucket0_.size() && is_dead(bucket0_[cursor_])) ++cursor_;
      if (cursor_ < bucket0_.size()) return;
      bucket0_.clear();
      cursor_ = 0;
      refill();
    }
  }

  // Moves the events of the lowest non-empty bucket down, around their minimum time. Every
  // lower level is empty then, so the new minimum is the bucket's. Cancelled entries move too
  // (checking them would touch their slots); they are dropped at the front.
  void refill() {
    WARPSIM_INVARIANT(levels_occupied_ != 0, "pop from an empty event queue");
    const int l = std::countr_zero(levels_occupied_);
    Level& level = levels_[l];
    int w = 0;
    while (level.occupied[w] == 0) ++w;
    const int d = w * 64 + std::countr_zero(level.occupied[w]);
    level.occupied[w] &= level.occupied[w] - 1;  // clear the lowest set bit: bucket d
    if (std::all_of(level.occupied.begin(), level.occupied.end(),
                    [](std::uint64_t x) { return x == 0; }))
      levels_occupied_ &= ~(1u << l);
    Bucket& src = level.buckets[d];
    const std::uint64_t m = src.min;
    last_ = m;
    for (const Entry& e : src.entries) {
      const int to = level_of(static_cast<std::uint64_t>(e.time), m);
      if (to < 0) {
        __builtin_prefetch(&slot(e.slot));  // runs next: fetch its handler now
        bucket0_.push_back(e);
      } else {
        put(to, e);
      }
    }
    src.entries.clear();
    if (bucket0_.size() > 1)
      std::sort(bucket0_.begin(), bucket0_.end(),
                [](const Entry& a, const Entry& b) { return a.order < b.order; });
  }

  void put(int l, const Entry& e) {
    const auto key = static_cast<std::uint64_t>(e.time);
    const int d = static_cast<int>((key >> (8 * l)) & 0xff);
    Level& level = levels_[l];
    Bucket& b = level.buckets[d];
    const std::uint64_t bit = std::uint64_t{1} << (d & 63);
    if (!(level.occupied[d >> 6] & bit)) {
      level.occupied[d >> 6] |= bit;
      levels_occupied_ |= 1u << l;
      b.min = key;
    } else if (key < b.min) {
      b.min = key;
    }
    if (l <= kPrefetchLevel) __builtin_prefetch(&slot(e.slot));
    b.entries.push_back(e);
  }

  std::array<Level, kLevels> levels_;
  std::uint32_t levels_occupied_ = 0;  // bit l: some bucket of level l is non-empty
  std::vector<Entry> bucket0_;
  std::size_t cursor_ = 0;
  std::uint64_t last_ = 0;
  std::uint64_t seq_ = 0;
  std::size_t live_ = 0;
  std::vector<std::unique_ptr<Slot, ChunkFree>> chunks_;
  std::uint32_t slot_count_ = 0;
  std::vector<std::uint32_t> free_;
};

}  // namespace sim
