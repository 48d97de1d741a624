#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

#include "sim/error.hpp"
#include "sim/rng.hpp"
#include "sim/stats.hpp"
#include "sim/timeline.hpp"
#include "../support/temp_dir.hpp"

using sim::Time;

TEST_CASE("accumulators and counters") {
  sim::Stats s;
  s.counter("gpu[0].kernels").add();
  s.counter("gpu[0].kernels").add(2);
  for (double v : {1.0, 2.0, 6.0}) s.accumulator("lat").add(v);
  const auto m = s.flatten(Time::zero());
  CHECK(m.at("gpu[0].kernels") == 3);
  CHECK(m.at("lat.count") == 3);
  CHECK(m.at("lat.mean") == 3);
  CHECK(m.at("lat.min") == 1);
  CHECK(m.at("lat.max") == 6);
}

TEST_CASE("quantile sketch stays within its relative accuracy") {
  sim::QuantileSketch q(0.01);
  sim::RngStream r(1, "q");
  std::vector<double> v;
  for (int i = 0; i < 100000; ++i) {
    v.push_back(r.lognormal(0, 1));
    q.add(v.back());
  }
  std::sort(v.begin(), v.end());
  for (double p : {0.5, 0.9, 0.99}) {
    CAPTURE(p);
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
    const double exact = v[rank];  // nearest rank
    CHECK(std::fabs(q.quantile(p) - exact) / exact < 0.02);
  }
  CHECK(q.quantile(0) == v.front());
  CHECK(q.quantile(1) == v.back());
  // A small set: p99 of 129 response times is the 128th smallest (nearest rank), not the 127th.
  sim::QuantileSketch small(1e-4);
  for (int i = 1; i <= 129; ++i) small.add(i);
  CHECK(small.quantile(0.99) == doctest::Approx(128).epsilon(1e-4));
  sim::QuantileSketch a, b;
  a.add(1);
  b.add(100);
  a.merge(b);
  CHECK(a.count() == 2);
  CHECK(a.summary().max() == 100);
}

TEST_CASE("time-weighted average of a piecewise-constant signal") {
  sim::TimeWeighted u;
  u.set(Time::us(0), 1.0);
  u.set(Time::us(2), 0.0);
  u.set(Time::us(3), 0.5);
  CHECK(u.average(Time::us(4)) == doctest::Approx((2 * 1.0 + 1 * 0 + 1 * 0.5) / 4));
}

TEST_CASE("metrics.json is flat, sorted, and reads back") {
  sim::Stats s;
  s.set("b.value", 2.5);
  s.set("a.value", 1);
  s.set("c.nan", std::nan(""));
  const std::string j = s.metrics_json(Time::zero());
  CHECK(j.find("\"a.value\": 1") < j.find("\"b.value\": 2.5"));
  auto m = sim::metrics_from_json(j, "m.json");
  CHECK(m.at("b.value") == 2.5);
  CHECK(std::isnan(m.at("c.nan")));
  CHECK_THROWS_AS(sim::metrics_from_json("{\"a\": \"x\"}", "m.json"), sim::InputError);
  CHECK_THROWS_AS(sim::metrics_from_json("{\"a\": 1", "m.json"), sim::InputError);
  CHECK(s.stats_csv(Time::zero()).find("b,value,2.5\n") != std::string::npos);
  s.set("mean_ms", 3);  // a point's own metric, no component: listed under "point"
  CHECK(s.stats_csv(Time::zero()).find("point,mean_ms,3\n") != std::string::npos);
}

TEST_CASE("metrics.json reads back every double exactly, and says what is wrong with it") {
  // Values whose nearest double a less careful parser misses by a unit in the last place.
  const double values[] = {1.5829158190000001, 0.1 + 0.2, 14.504337788201553, 2.2250738585072014e-308,
                           4.9406564584124654e-324, 1e300, 0.045698056960999996, 9007199254740993.0,
                           -0.0, 123456789012345680000.0};
  sim::Stats s;
  for (std::size_t i = 0; i < std::size(values); ++i) s.set(fmt::format("k{}", i), values[i]);
  const auto m = sim::metrics_from_json(s.metrics_json(Time::zero()), "m.json");
  for (std::size_t i = 0; i < std::size(values); ++i) {
    CAPTURE(i);
    CHECK(m.at(fmt::format("k{}", i)) == values[i]);
  }
  auto message = [](const std::string& text) {
    try {
      sim::metrics_from_json(text, "m.json");
    } catch (const sim::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message("{\"a\": true}").find("metric 'a' is not a number") != std::string::npos);
  CHECK(message("{\"a\": {\"b\": 1}}").find("expected a JSON object of metrics") != std::string::npos);
  CHECK(message("[1, 2]").find("expected a JSON object of metrics") != std::string::npos);
  CHECK(message("{\"a\": 1").find("m.json") != std::string::npos);
}

TEST_CASE("the timeline is valid Chrome-trace JSON, written only on close") {
  testing::TempDir d;
  const auto path = d.path() / "t.json";
  {
    sim::TimelineWriter w(path);
    const int gpu = w.process("gpu[0]");
    const int s0 = w.thread(gpu, "stream 7");
    w.complete(gpu, s0, "volta_sgemm_128x64_nn", "kernel", Time::ps(1'234'567), Time::us(3),
               {{"grid", std::string("[80,1,1]")}, {"ctas", std::int64_t{80}}, {"util", 0.5}});
    w.counter(gpu, "DRAM utilization", Time::us(1), 0.75);
    w.instant(gpu, s0, "sync", Time::us(5));
    w.flow(1, "launch", gpu, s0, Time::us(0), gpu, s0, Time::us(1));
    CHECK_FALSE(std::filesystem::exists(path));  // nothing final before close()
    w.close();
  }
  const auto v = boost::json::parse(testing::read(path));
  const auto& events = v.at("traceEvents").as_array();
  CHECK(events.size() == 9);
  const auto& k = events[4].as_object();
  CHECK(k.at("ph").as_string() == "X");
  CHECK(k.at("ts").as_double() == doctest::Approx(1.234567));
  CHECK(k.at("dur").as_double() == doctest::Approx(3.0));
  CHECK(k.at("args").at("ctas").as_int64() == 80);

  // A writer destroyed without close() leaves nothing behind.
  const auto aborted = d.path() / "aborted.json";
  { sim::TimelineWriter w(aborted); }
  CHECK_FALSE(std::filesystem::exists(aborted));
  CHECK(std::distance(std::filesystem::directory_iterator(d.path()), {}) == 1);
}
