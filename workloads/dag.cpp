#include "workloads/dag.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>

namespace workloads {

std::vector<std::vector<std::int32_t>> successors(const Dag& g) {
  const std::size_t n = g.size();
  std::vector<std::vector<std::int32_t>> succ(n);
  for (std::size_t v = 0; v < n; ++v) {
    for (const std::int32_t u : g.preds[v]) {
      if (u < 0 || static_cast<std::size_t>(u) >= n) {
        throw std::invalid_argument("dag: node " + std::to_string(v) + " has predecessor " +
                                    std::to_string(u) + ", outside 0.." +
                                    std::to_string(static_cast<long long>(n) - 1));
      }
      succ[static_cast<std::size_t>(u)].push_back(static_cast<std::int32_t>(v));
    }
  }
  // Built by ascending v, so each list is already sorted; only duplicates remain to drop.
  for (auto& s : succ) s.erase(std::unique(s.begin(), s.end()), s.end());
  return succ;
}

std::vector<std::int32_t> topological_order(const std::vector<std::vector<std::int32_t>>& succ) {
  const std::size_t n = succ.size();
  std::vector<std::int32_t> indegree(n, 0);
  for (const auto& s : succ) {
    for (const std::int32_t v : s) ++indegree[static_cast<std::size_t>(v)];
  }
  std::priority_queue<std::int32_t, std::vector<std::int32_t>, std::greater<>> ready;
  for (std::size_t v = 0; v < n; ++v) {
    if (indegree[v] == 0) ready.push(static_cast<std::int32_t>(v));
  }
  std::vector<std::int32_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    const std::int32_t u = ready.top();
    ready.pop();
    order.push_back(u);
    for (const std::int32_t v : succ[static_cast<std::size_t>(u)]) {
      if (--indegree[static_cast<std::size_t>(v)] == 0) ready.push(v);
    }
  }
  if (order.size() == n) return order;

  // Every node left over has a predecessor that is also left over; walking such predecessors
  // from any of them must repeat a node, and the first repeated node lies on a cycle.
  std::vector<std::vector<std::int32_t>> left_preds(n);
  for (std::size_t u = 0; u < n; ++u) {
    if (indegree[u] == 0) continue;
    for (const std::int32_t v : succ[u])
      left_preds[static_cast<std::size_t>(v)].push_back(static_cast<std::int32_t>(u));
  }
  std::size_t start = 0;
  while (indegree[start] == 0) ++start;
  std::vector<char> seen(n, 0);
  std::size_t v = start;
  while (!seen[v]) {
    seen[v] = 1;
    v = static_cast<std::size_t>(left_preds[v].front());
  }
  throw std::invalid_argument("dag: dependency cycle through node " + std::to_string(v));
}

std::vector<std::int32_t> topological_order(const Dag& g) {
  return topological_order(successors(g));
}

}  // namespace workloads
