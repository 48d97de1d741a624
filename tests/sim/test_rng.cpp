#include <doctest/doctest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "sim/rng.hpp"

// Golden values: these numbers must never change, on any machine or standard library. If a
// change to rng.cpp moves them, every published warpsim result would move too.
TEST_CASE("golden values of the generator and every distribution") {
  sim::RngStream r(42, "gpu[0].sm[3]");
  CHECK(r.next_u64() == 5760219772789132471ull);
  CHECK(r.next_u64() == 11244167073190103441ull);
  CHECK(r.next_u64() == 8420352396576069754ull);

  sim::RngStream a(7, "golden");
  CHECK(a.uniform01() == doctest::Approx(0.57221679580359741).epsilon(1e-14));
  CHECK(a.exponential(2.0) == doctest::Approx(1.5827486909080972).epsilon(1e-14));
  CHECK(a.normal(1.0, 3.0) == doctest::Approx(-3.7845808303344493).epsilon(1e-14));
  CHECK(a.lognormal(0.0, 0.5) == doctest::Approx(0.708070904090356).epsilon(1e-14));
  CHECK(a.gamma(2.5, 1.5) == doctest::Approx(4.9080662701308553).epsilon(1e-14));
  CHECK(a.gamma(0.5, 1.0) == doctest::Approx(0.000283206656110187).epsilon(1e-12));
  CHECK(a.poisson(3.5) == 6);
  CHECK(a.poisson(250.0) == 220);
  CHECK(a.uniform_int(10, 20) == 10);
  sim::DiscreteDistribution d({1, 2, 3, 4});
  CHECK(d(a) == 2);
  CHECK(d(a) == 2);
  CHECK(d(a) == 3);
  sim::EmpiricalDistribution e({5, 1, 3}, true);
  CHECK(e(a) == doctest::Approx(3.4395783749334439).epsilon(1e-14));
  CHECK(sim::stable_hash("warpsim") == 9571812075015466302ull);
}

TEST_CASE("streams are keyed by seed and component name") {
  sim::RngFactory f(1);
  auto a1 = f.stream("a"), a2 = f.stream("a"), b = f.stream("b");
  const auto x = a1.next_u64();
  CHECK(x == a2.next_u64());
  CHECK(x != b.next_u64());
  CHECK(sim::RngFactory(2).stream("a").next_u64() != x);
}

namespace {
template <class F>
std::pair<double, double> moments(F draw, int n = 200000) {
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double v = draw();
    s += v;
    s2 += v * v;
  }
  const double m = s / n;
  return {m, s2 / n - m * m};
}
}  // namespace

TEST_CASE("distributions have the right mean and variance") {
  sim::RngStream r(3, "moments");
  auto [m, v] = moments([&] { return r.uniform(2, 4); });
  CHECK(m == doctest::Approx(3).epsilon(0.01));
  CHECK(v == doctest::Approx(4.0 / 12).epsilon(0.02));
  std::tie(m, v) = moments([&] { return r.exponential(5); });
  CHECK(m == doctest::Approx(5).epsilon(0.02));
  CHECK(v == doctest::Approx(25).epsilon(0.04));
  std::tie(m, v) = moments([&] { return r.normal(-1, 2); });
  CHECK(m == doctest::Approx(-1).epsilon(0.02));
  CHECK(v == doctest::Approx(4).epsilon(0.02));
  std::tie(m, v) = moments([&] { return r.lognormal(0, 0.5); });
  CHECK(m == doctest::Approx(std::exp(0.125)).epsilon(0.02));
  std::tie(m, v) = moments([&] { return r.gamma(3, 2); });
  CHECK(m == doctest::Approx(6).epsilon(0.02));
  CHECK(v == doctest::Approx(12).epsilon(0.04));
  std::tie(m, v) = moments([&] { return r.gamma(0.4, 1); });
  CHECK(m == doctest::Approx(0.4).epsilon(0.03));
  for (double lambda : {0.7, 8.0, 40.0, 1000.0}) {
    CAPTURE(lambda);
    std::tie(m, v) = moments([&] { return static_cast<double>(r.poisson(lambda)); });
    CHECK(m == doctest::Approx(lambda).epsilon(0.02));
    CHECK(v == doctest::Approx(lambda).epsilon(0.05));
  }
  sim::DiscreteDistribution d({1, 0, 3});
  std::vector<int> counts(3);
  for (int i = 0; i < 100000; ++i) ++counts[d(r)];
  CHECK(counts[1] == 0);
  CHECK(counts[2] / double(counts[0]) == doctest::Approx(3).epsilon(0.05));
}

TEST_CASE("uniform_int is unbiased over a small range and rejects bad ranges") {
  sim::RngStream r(9, "ints");
  std::vector<int> c(6);
  for (int i = 0; i < 60000; ++i) ++c[r.uniform_int(0, 5)];
  for (int x : c) CHECK(x == doctest::Approx(10000).epsilon(0.05));
  CHECK_THROWS(r.uniform_int(5, 4));
  CHECK_THROWS(sim::DiscreteDistribution({}));
  CHECK_THROWS(sim::DiscreteDistribution({0, 0}));
  CHECK_THROWS(sim::DiscreteDistribution({1, -1}));
}
