#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "sim/fair_share.hpp"
#include "sim/flow_network.hpp"

using sim::FairShare;
using R = FairShare::ResourceId;

namespace {
std::vector<R> path(std::initializer_list<R> l) { return l; }
}  // namespace

TEST_CASE("one link shared equally") {
  FairShare fs;
  const R l = fs.add_resource("link", 12);
  auto a = fs.add_flow(path({l})), b = fs.add_flow(path({l})), c = fs.add_flow(path({l}));
  fs.solve();
  CHECK(fs.rate(a) == doctest::Approx(4));
  CHECK(fs.rate(b) == doctest::Approx(4));
  CHECK(fs.rate(c) == doctest::Approx(4));
  CHECK(fs.load(l) == doctest::Approx(12));
}

// The parking lot: a long flow crosses every link, one short flow per link.
// Max-min fair: every flow gets half of a link.
TEST_CASE("parking lot") {
  FairShare fs;
  const R l1 = fs.add_resource("l1", 10), l2 = fs.add_resource("l2", 10),
          l3 = fs.add_resource("l3", 10);
  auto lng = fs.add_flow(path({l1, l2, l3}));
  auto s1 = fs.add_flow(path({l1})), s2 = fs.add_flow(path({l2})), s3 = fs.add_flow(path({l3}));
  fs.solve();
  CHECK(fs.rate(lng) == doctest::Approx(5));
  for (auto f : {s1, s2, s3}) CHECK(fs.rate(f) == doctest::Approx(5));
}

// Bottlenecks at different levels: A and B share L1 (cap 10); B and C share L2 (cap 4).
// L2 saturates first: B = C = 2; then A takes the rest of L1: 8.
TEST_CASE("two bottlenecks: the leftover goes to the unconstrained flow") {
  FairShare fs;
  const R l1 = fs.add_resource("l1", 10), l2 = fs.add_resource("l2", 4);
  auto a = fs.add_flow(path({l1})), b = fs.add_flow(path({l1, l2})), c = fs.add_flow(path({l2}));
  fs.solve();
  CHECK(fs.rate(a) == doctest::Approx(8));
  CHECK(fs.rate(b) == doctest::Approx(2));
  CHECK(fs.rate(c) == doctest::Approx(2));
}

TEST_CASE("per-flow caps free bandwidth for the others") {
  FairShare fs;
  const R l = fs.add_resource("link", 10);
  auto capped = fs.add_flow(path({l}), 1.0);
  auto x = fs.add_flow(path({l})), y = fs.add_flow(path({l}));
  fs.solve();
  CHECK(fs.rate(capped) == doctest::Approx(1));
  CHECK(fs.rate(x) == doctest::Approx(4.5));
  CHECK(fs.rate(y) == doctest::Approx(4.5));
  auto solo = fs.add_flow({}, 3.0);  // no resource: just its cap
  fs.solve();
  CHECK(fs.rate(solo) == doctest::Approx(3));
}

TEST_CASE("weights split a bottleneck in proportion") {
  FairShare fs;
  const R l = fs.add_resource("dram", 9);
  auto a = fs.add_flow(path({l}), FairShare::kUncapped, 2.0);
  auto b = fs.add_flow(path({l}), FairShare::kUncapped, 1.0);
  fs.solve();
  CHECK(fs.rate(a) == doctest::Approx(6));
  CHECK(fs.rate(b) == doctest::Approx(3));
}

TEST_CASE("incremental: only the touched component is re-solved and reported") {
  FairShare fs;
  const R l1 = fs.add_resource("l1", 10), l2 = fs.add_resource("l2", 10);
  auto a = fs.add_flow(path({l1})), b = fs.add_flow(path({l1}));
  auto c = fs.add_flow(path({l2}));
  fs.solve();
  CHECK(fs.solve().empty());  // nothing changed: nothing to do
  fs.remove_flow(b);
  auto changed = fs.solve();
  CHECK(changed == std::vector<FairShare::FlowId>{a});
  CHECK(fs.rate(a) == doctest::Approx(10));
  CHECK(fs.rate(c) == doctest::Approx(10));
  auto d = fs.add_flow(path({l2}));
  changed = fs.solve();
  std::sort(changed.begin(), changed.end());
  CHECK(changed == std::vector<FairShare::FlowId>{std::min(c, d), std::max(c, d)});
  fs.set_capacity(l1, 20);
  CHECK(fs.solve() == std::vector<FairShare::FlowId>{a});
  CHECK(fs.rate(a) == doctest::Approx(20));
}

TEST_CASE("flow network: completion times follow the changing shares") {
  sim::Simulator s;
  sim::FlowNetwork net(s);
  const R l = net.add_resource("link", 1e9);  // 1 GB/s
  sim::Time done_a, done_b;
  const std::vector<R> p{l};
  net.start(p, 1e9, [&](auto) { done_a = s.now(); });  // alone: 1 s
  s.schedule(sim::Time::ms(500), [&] {               // at 0.5 s: B joins, both at 0.5 GB/s
    net.start(p, 0.25e9, [&](auto) { done_b = s.now(); });
  });
  s.run();
  // B needs 0.5 s at half rate: done at 1.0 s. A has 0.25 GB left then, alone: done at 1.25 s.
  CHECK(done_b.seconds() == doctest::Approx(1.0));
  CHECK(done_a.seconds() == doctest::Approx(1.25));
}

TEST_CASE("flow network: aborting returns the bytes left and frees the share") {
  sim::Simulator s;
  sim::FlowNetwork net(s);
  const std::vector<R> p{net.add_resource("link", 100)};
  bool a_done = false;
  sim::Time b_done;
  auto a = net.start(p, 1000, [&](auto) { a_done = true; });
  net.start(p, 1000, [&](auto) { b_done = s.now(); });
  double left = -1;
  s.schedule(sim::Time::s(4), [&] { left = net.abort(a); });
  s.run();
  CHECK_FALSE(a_done);
  CHECK(left == doctest::Approx(800));  // 4 s at 50 B/s
  CHECK(b_done.seconds() == doctest::Approx(4 + 800.0 / 100));
}
