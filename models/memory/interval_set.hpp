#pragma once
// A set of half-open integer intervals [lo, hi), kept disjoint and merged: what the memory
// model uses to remember ranges of chunks (ever populated, evicted before, in flight) without a
// flag per page.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace models::memory {

class IntervalSet {
 public:
  void add(std::uint64_t lo, std::uint64_t hi) {
    if (lo >= hi) return;
    auto it = set_.upper_bound(lo);
    if (it != set_.begin()) {
      auto prev = std::prev(it);
      if (prev->second >= lo) {  // touches or overlaps the interval before
        lo = prev->first;
        hi = std::max(hi, prev->second);
        it = set_.erase(prev);
      }
    }
    while (it != set_.end() && it->first <= hi) {
      hi = std::max(hi, it->second);
      it = set_.erase(it);
    }
    set_.emplace(lo, hi);
  }
  void remove(std::uint64_t lo, std::uint64_t hi) {
    if (lo >= hi) return;
    auto it = set_.upper_bound(lo);
    if (it != set_.begin()) --it;
    while (it != set_.end() && it->first < hi) {
      const auto [a, b] = *it;
      if (b <= lo) {
        ++it;
        continue;
      }
      it = set_.erase(it);
      if (a < lo) set_.emplace(a, lo);
      if (b > hi) set_.emplace(hi, b);
    }
  }
  // Length of [lo, hi) covered by the set.
  std::uint64_t overlap(std::uint64_t lo, std::uint64_t hi) const {
    std::uint64_t n = 0;
    auto it = set_.upper_bound(lo);
    if (it != set_.begin()) --it;
    for (; it != set_.end() && it->first < hi; ++it)
      if (it->second > lo) n += std::min(hi, it->second) - std::max(lo, it->first);
    return n;
  }
  // The first point >= x not in the set.
  std::uint64_t skip(std::uint64_t x) const {
    auto it = set_.upper_bound(x);
    if (it != set_.begin() && std::prev(it)->second > x) return std::prev(it)->second;
    return x;
  }
  // The first start of an interval > x (or `none`).
  std::uint64_t next_start(std::uint64_t x, std::uint64_t none) const {
    auto it = set_.upper_bound(x);
    return it == set_.end() ? none : it->first;
  }
  bool empty() const { return set_.empty(); }
  void clear() { set_.clear(); }

 private:
  std::map<std::uint64_t, std::uint64_t> set_;  // lo -> hi
};

}  // namespace models::memory
