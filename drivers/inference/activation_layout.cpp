#include "drivers/inference/activation_layout.hpp"

#include <algorithm>
#include <utility>

namespace drivers {

std::uint64_t layout_one_per_tensor(const workloads::OpGraph& g,
                                    const std::vector<std::uint64_t>& per_job,
                                    std::vector<std::uint64_t>& offset) {
  std::uint64_t at = 0;
  for (std::size_t i = 0; i < g.tensor_count(); ++i)
    if (!g.tensors()[i].parameter) {
      offset[i] = at;
      at += per_job[i];
    }
  return at;
}

std::vector<std::uint64_t> activation_sizes(const workloads::OpGraph& g) {
  std::vector<std::uint64_t> bytes(g.tensor_count(), 0);
  for (std::size_t i = 0; i < g.tensor_count(); ++i)
    if (!g.tensors()[i].parameter) bytes[i] = static_cast<std::uint64_t>(g.tensors()[i].bytes());
  return bytes;
}

std::uint64_t arena_bytes(const workloads::OpGraph& g) {
  std::vector<std::uint64_t> offset(g.tensor_count(), 0);
  return layout_by_liveness(g, activation_sizes(g), offset);
}

std::uint64_t layout_by_liveness(const workloads::OpGraph& g,
                                 const std::vector<std::uint64_t>& per_job,
                                 std::vector<std::uint64_t>& offset) {
  struct Live {
    std::size_t tensor;
    std::int64_t first, last;
    std::uint64_t bytes;
  };
  std::vector<Live> live;
  const auto ops = static_cast<std::int64_t>(g.op_count());
  for (std::size_t i = 0; i < g.tensor_count(); ++i) {
    if (g.tensors()[i].parameter) continue;
    const auto t = static_cast<workloads::TensorId>(i);
    const std::int64_t first = g.producer(t) < 0 ? 0 : g.producer(t);
    std::int64_t last = g.consumers(t).empty() ? ops : g.consumers(t).back();
    last = std::max(last, first);
    live.push_back({i, first, last, per_job[i]});
  }
  std::stable_sort(live.begin(), live.end(),
                   [](const Live& x, const Live& y) { return x.bytes > y.bytes; });
  std::vector<std::pair<std::uint64_t, std::uint64_t>> taken;  // [lo, hi) of overlapping ones
  std::vector<Live> placed;
  std::uint64_t end = 0;
  for (const Live& l : live) {
    taken.clear();
    for (const Live& p : placed)
      if (p.first <= l.last && l.first <= p.last)
        taken.push_back({offset[p.tensor], offset[p.tensor] + p.bytes});
    std::sort(taken.begin(), taken.end());
    std::uint64_t at = 0;
    for (const auto& [lo, hi] : taken) {
      if (at + l.bytes <= lo) break;
      at = std::max(at, hi);
    }
    offset[l.tensor] = at;
    end = std::max(end, at + l.bytes);
    placed.push_back(l);
  }
  return end;
}

}  // namespace drivers
