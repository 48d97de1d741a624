#include "workloads/gradient_buckets.hpp"

#include <algorithm>

#include "sim/error.hpp"

namespace workloads {

std::vector<GradientBucket> gradient_buckets(const OpGraph& g, std::int64_t cap,
                                             std::int64_t first_cap) {
  if (cap <= 0 || first_cap <= 0) throw sim::InputError("gradient bucket sizes must be > 0");
  // (parameter, gradient) pairs from the optimizer updates: a parameter, then its gradient.
  std::vector<std::pair<TensorId, TensorId>> params;
  for (const Op& op : g.ops()) {
    if (op.kind != OpKind::optimizer_update) continue;
    for (std::size_t i = 0; i + 1 < op.inputs.size(); ++i)
      if (g.tensor(op.inputs[i]).parameter) params.emplace_back(op.inputs[i], op.inputs[i + 1]);
  }
  if (params.empty())
    throw sim::InputError("graph '" + g.name() + "' has no optimizer step: nothing to all-reduce");
  std::sort(params.begin(), params.end());  // registration order
  std::vector<GradientBucket> buckets;
  GradientBucket cur;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const std::int64_t bytes = g.tensor(it->second).bytes();
    const std::int64_t limit = buckets.empty() ? first_cap : cap;
    if (!cur.gradients.empty() && cur.bytes + bytes > limit) {
      buckets.push_back(std::move(cur));
      cur = {};
    }
    cur.bytes += bytes;
    cur.gradients.push_back(it->second);
    const OpId p = g.producer(it->second);
    if (p >= 0) cur.producers.push_back(p);
  }
  if (!cur.gradients.empty()) buckets.push_back(std::move(cur));
  for (auto& b : buckets) {
    std::sort(b.producers.begin(), b.producers.end());
    b.producers.erase(std::unique(b.producers.begin(), b.producers.end()), b.producers.end());
  }
  return buckets;
}

}  // namespace workloads
