#pragma once
// The pending-event set. Events are ordered by (time, priority, insertion sequence), so equal
// inputs always give the same order, independent of memory layout.
//
// Implementation: a radix heap on the 64-bit time key. Simulated time never goes backwards, so
// an event lives in bucket floor(log2(time XOR last_popped_time)) and moves only towards bucket
// 0 as time advances: O(1) push, amortised O(log range) pop, and bucket moves are sequential
// memory traffic rather than the random walks of a comparison heap. Bucket 0 holds the events
// at exactly the current time, kept sorted by (priority, sequence) with a read cursor; pushing
// an event at the current time is an append in the common case (the same-time fast path).
//
// Cancellation is lazy: an event scheduled with a token can be cancelled through its
// EventHandle (a generation check), and is dropped when it reaches the front.

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstdint>
#include <vector>

#include "sim/handler.hpp"
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
  bool valid() const { return token_ != 0; }

 private:
  friend class EventQueue;
  EventHandle(std::uint32_t token, std::uint32_t gen) : token_(token), gen_(gen) {}
  std::uint32_t token_ = 0;
  std::uint32_t gen_ = 0;
};

class EventQueue {
 public:
  struct Event {
    std::int64_t time;   // picoseconds
    std::uint64_t order; // priority << 56 | insertion sequence
    std::uint32_t token; // 0: not cancellable
    std::uint32_t gen;
    Handler handler;
  };

  EventQueue() : gens_(1, 0) {}

  // Number of live (not cancelled) pending events.
  std::size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }

  void push(Time t, Priority p, Handler&& h) { insert(t.count(), p, 0, 0, std::move(h)); }

  EventHandle push_cancellable(Time t, Priority p, Handler&& h) {
    std::uint32_t token;
    if (free_tokens_.empty()) {
      token = static_cast<std::uint32_t>(gens_.size());
      gens_.push_back(0);
    } else {
      token = free_tokens_.back();
      free_tokens_.pop_back();
    }
    insert(t.count(), p, token, gens_[token], std::move(h));
    return {token, gens_[token]};
  }

  // True if the event was pending and is now cancelled; false if it already ran or was
  // cancelled before. The handle is cleared either way.
  bool cancel(EventHandle& h) {
    const bool live = h.token_ != 0 && gens_[h.token_] == h.gen_;
    if (live) {
      release_token(h.token_);
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

  // Removes and returns the earliest live event; the queue must not be empty.
  Event pop() {
    settle();
    Event e = std::move(bucket0_[cursor_++]);
    if (e.token) release_token(e.token);
    --live_;
    return e;
  }

 private:
  static constexpr int kBuckets = 65;

  static int bucket_of(std::uint64_t key, std::uint64_t last) {
    return key == last ? 0 : 64 - std::countl_zero(key ^ last);
  }

  void insert(std::int64_t t, Priority p, std::uint32_t token, std::uint32_t gen, Handler&& h) {
    const auto key = static_cast<std::uint64_t>(t);
    assert(key >= last_ && "event scheduled in the past");
    const std::uint64_t order = (static_cast<std::uint64_t>(p) << 56) | seq_++;
    ++live_;
    const int b = bucket_of(key, last_);
    if (b != 0) {
      buckets_[b].push_back(Event{t, order, token, gen, std::move(h)});
      return;
    }
    // Same time as the front: keep bucket 0 sorted by order. The new sequence number is the
    // largest so far, so unless its priority is lower than the tail's this is an append.
    if (bucket0_.size() == cursor_ || bucket0_.back().order < order) {
      bucket0_.push_back(Event{t, order, token, gen, std::move(h)});
      return;
    }
    auto pos = std::upper_bound(bucket0_.begin() + static_cast<std::ptrdiff_t>(cursor_),
                                bucket0_.end(), order,
                                [](std::uint64_t o, const Event& e) { return o < e.order; });
    bucket0_.insert(pos, Event{t, order, token, gen, std::move(h)});
  }

  bool is_dead(const Event& e) const { return e.token != 0 && gens_[e.token] != e.gen; }

  void release_token(std::uint32_t token) {
    ++gens_[token];
    free_tokens_.push_back(token);
  }

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

  // Moves the events of the lowest non-empty bucket down, around their minimum time.
  void refill() {
    int i = 1;
    while (buckets_[i].empty()) {
      ++i;
      assert(i < kBuckets && "pop from an empty event queue");
    }
    std::vector<Event>& src = buckets_[i];
    std::uint64_t m = ~std::uint64_t{0};
    for (const Event& e : src)
      if (!is_dead(e)) m = std::min(m, static_cast<std::uint64_t>(e.time));
    if (m == ~std::uint64_t{0}) {  // every event in the bucket was cancelled
      src.clear();
      return;
    }
    last_ = m;
    for (Event& e : src) {
      if (is_dead(e)) continue;
      const int b = bucket_of(static_cast<std::uint64_t>(e.time), last_);
      if (b == 0)
        bucket0_.push_back(std::move(e));
      else
        buckets_[b].push_back(std::move(e));
    }
    src.clear();
    if (bucket0_.size() > 1)
      std::sort(bucket0_.begin(), bucket0_.end(),
                [](const Event& a, const Event& b) { return a.order < b.order; });
  }

  std::array<std::vector<Event>, kBuckets> buckets_;  // buckets_[0] unused: see bucket0_
  std::vector<Event> bucket0_;
  std::size_t cursor_ = 0;
  std::uint64_t last_ = 0;
  std::uint64_t seq_ = 0;
  std::size_t live_ = 0;
  std::vector<std::uint32_t> gens_;  // generation per cancellation token; index 0 unused
  std::vector<std::uint32_t> free_tokens_;
};

}  // namespace sim
