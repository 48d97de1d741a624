#pragma once
// Internal: reachability in a DAG by bitset rows, computed one band of target columns at a
// time so that memory stays bounded at any size.
//
// A full V x V reachability matrix is 50 MB at V = 20k (NASNet-large training graphs), so the
// targets (topological positions) are cut into bands [lo, hi) whose rows, for all nodes, fit in
// kBudgetWords 64-bit words. Per band, rows are filled in reverse topological order:
//   row(u) = OR over successors s of ( row(s) | bit(s) ).
// Nodes at positions >= hi reach nothing in the band and are skipped.
// Time O((V + E) * V / 64) word operations in all; memory O(V + E + kBudgetWords).

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace schedulers::launch::detail {

inline constexpr std::size_t kBudgetWords = std::size_t{1} << 21;  // 16 MiB of rows

// Calls, for every band and every node u with pos[u] < hi, in reverse topological order:
//   on_strict(u, lo, hi, row)  with row = OR of row(s) over successors s: the band's targets
//                              reachable from u by a path of two or more edges;
//   on_full(u, lo, hi, row)    with row = row(u): every band target reachable from u.
// Bit b of a row stands for the node at topological position lo + b.
// `succ` lists successors; `order` is a topological order and pos its inverse. Tests shrink
// budget_words to exercise several bands on small graphs.
template <class OnStrict, class OnFull>
void for_each_reach_band(const std::vector<std::vector<std::int32_t>>& succ,
                         const std::vector<std::int32_t>& order,
                         const std::vector<std::int32_t>& pos, OnStrict&& on_strict,
                         OnFull&& on_full, std::size_t budget_words = kBudgetWords) {
  const std::size_t n = order.size();
  if (n == 0) return;
  const std::size_t all_words = (n + 63) / 64;
  const std::size_t words = std::clamp<std::size_t>(budget_words / n, 1, all_words);
  const std::size_t band = words * 64;
  std::vector<std::uint64_t> rows(n * words);  // indexed by topological position
  for (std::size_t lo = 0; lo < n; lo += band) {
    const std::size_t hi = std::min(n, lo + band);
    std::fill(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(hi * words), 0);
    for (std::size_t p = hi; p-- > 0;) {
      const std::int32_t u = order[p];
      std::uint64_t* row = rows.data() + p * words;
      for (const std::int32_t s : succ[static_cast<std::size_t>(u)]) {
        const auto ps = static_cast<std::size_t>(pos[static_cast<std::size_t>(s)]);
        if (ps >= hi) continue;
        const std::uint64_t* srow = rows.data() + ps * words;
        for (std::size_t w = 0; w < words; ++w) row[w] |= srow[w];
      }
      on_strict(u, lo, hi, static_cast<const std::uint64_t*>(row));
      for (const std::int32_t s : succ[static_cast<std::size_t>(u)]) {
        const auto ps = static_cast<std::size_t>(pos[static_cast<std::size_t>(s)]);
        if (ps >= lo && ps < hi) row[(ps - lo) / 64] |= std::uint64_t{1} << ((ps - lo) % 64);
      }
      on_full(u, lo, hi, static_cast<const std::uint64_t*>(row));
    }
  }
}

inline bool test_bit(const std::uint64_t* row, std::size_t b) {
  return (row[b / 64] >> (b % 64)) & 1U;
}

// Calls f(b) for every set bit b below `limit`.
template <class F>
void for_each_bit(const std::uint64_t* row, std::size_t limit, F&& f) {
  for (std::size_t w = 0; w * 64 < limit; ++w) {
    for (std::uint64_t bits = row[w]; bits != 0; bits &= bits - 1) {
      const std::size_t b = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
      if (b < limit) f(b);
    }
  }
}

}  // namespace schedulers::launch::detail
