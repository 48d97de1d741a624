#include "schedulers/launch/dag.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>

#include "schedulers/launch/dag_internal.hpp"
#include "schedulers/launch/reachability.hpp"

namespace schedulers::launch {
namespace detail {

std::vector<std::int32_t> inverse(const std::vector<std::int32_t>& order) {
  std::vector<std::int32_t> pos(order.size());
  for (std::size_t p = 0; p < order.size(); ++p) {
    pos[static_cast<std::size_t>(order[p])] = static_cast<std::int32_t>(p);
  }
  return pos;
}

}  // namespace detail

// An edge u->s is redundant iff s is reachable from u by a path of two or more edges, which is
// exactly what the band sweep reports as the "strict" row of u. O((V + E) * V / 64).
Dag transitive_reduction(const Dag& g) {
  const auto succ = detail::successors(g);
  const auto order = detail::topological_order(succ);
  const auto pos = detail::inverse(order);
  Dag meg;
  meg.preds.resize(g.size());
  detail::for_each_reach_band(
      succ, order, pos,
      [&](std::int32_t u, std::size_t lo, std::size_t hi, const std::uint64_t* strict) {
        // Each edge is decided in the band that holds its target.
        for (const std::int32_t s : succ[static_cast<std::size_t>(u)]) {
          const auto ps = static_cast<std::size_t>(pos[static_cast<std::size_t>(s)]);
          if (ps >= lo && ps < hi && !detail::test_bit(strict, ps - lo)) {
            meg.preds[static_cast<std::size_t>(s)].push_back(u);
          }
        }
      },
      [](std::int32_t, std::size_t, std::size_t, const std::uint64_t*) {});
  for (auto& p : meg.preds) std::sort(p.begin(), p.end());
  return meg;
}

Dag transitive_closure(const Dag& g) {
  const auto succ = detail::successors(g);
  const auto order = detail::topological_order(succ);
  const auto pos = detail::inverse(order);
  const std::size_t n = g.size();
  Dag closure;
  closure.preds.resize(n);
  detail::for_each_reach_band(
      succ, order, pos, [](std::int32_t, std::size_t, std::size_t, const std::uint64_t*) {},
      [&](std::int32_t u, std::size_t lo, std::size_t hi, const std::uint64_t* row) {
        detail::for_each_bit(row, hi - lo, [&](std::size_t b) {
          closure.preds[static_cast<std::size_t>(order[lo + b])].push_back(u);
        });
      });
  for (auto& p : closure.preds) std::sort(p.begin(), p.end());
  return closure;
}

}  // namespace schedulers::launch
