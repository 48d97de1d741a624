// Request streams (workloads/request_stream): synthetic arrivals and lengths, trace replay, and
// bad traces reported at file:line:col.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "../support/temp_dir.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "workloads/request_stream.hpp"

namespace {

std::string fixture() {
  const char* root = std::getenv("WARPSIM_SOURCE_ROOT");  // set by meson test
  REQUIRE(root != nullptr);
  return std::string(root) + "/tests/data/requests/splitwise_conv_head500.csv";
}

sim::Config cfg(const std::string& yaml, const std::string& file = "s.yaml") {
  return sim::Config(sim::parse_yaml(yaml, file), "requests");
}

}  // namespace

TEST_CASE("Poisson and gamma arrivals have the rate asked for; lengths stay in range") {
  for (const char* kind : {"poisson", "gamma"}) {
    CAPTURE(kind);
    sim::RngStream rng(7, "requests");
    const auto reqs = workloads::read_requests(
        cfg(std::string("{arrival: ") + kind +
            ", rate: 4, cv: 3, count: 20000, prompt: {uniform: [32, 512]}, output: {uniform: [1, 128]}}"),
        rng);
    REQUIRE(reqs.size() == 20000);
    const double rate = static_cast<double>(reqs.size() - 1) / reqs.back().arrival.seconds();
    CHECK(rate == doctest::Approx(4).epsilon(0.05));
    double sum = 0, sq = 0;
    for (std::size_t i = 1; i < reqs.size(); ++i) {
      const double g = (reqs[i].arrival - reqs[i - 1].arrival).seconds();
      sum += g;
      sq += g * g;
    }
    const double n = static_cast<double>(reqs.size() - 1), mean = sum / n;
    const double cv = std::sqrt(sq / n - mean * mean) / mean;
    CHECK(cv == doctest::Approx(std::string(kind) == "gamma" ? 3.0 : 1.0).epsilon(0.1));
    for (const auto& r : reqs) {
      CHECK(r.prompt_tokens >= 32);
      CHECK(r.prompt_tokens <= 512);
      CHECK(r.output_tokens >= 1);
      CHECK(r.output_tokens <= 128);
    }
  }
}

TEST_CASE("the same seed draws the same stream; a duration ends it") {
  auto draw = [](std::uint64_t seed) {
    sim::RngStream rng(seed, "requests");
    return workloads::read_requests(
        cfg("{rate: 10, duration: 2 s, prompt: 100, output: {uniform: [1, 10]}}"), rng);
  };
  const auto a = draw(1), b = draw(1), c = draw(2);
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].arrival == b[i].arrival);
    CHECK(a[i].output_tokens == b[i].output_tokens);
  }
  CHECK(a.back().arrival <= sim::Time::s(2));
  CHECK(a.front().prompt_tokens == 100);
  CHECK((a.size() != c.size() || a[1].arrival != c[1].arrival));
}

TEST_CASE("a Splitwise trace replays as written, scaled or cut; its lengths feed a synthetic stream") {
  const auto all = workloads::read_request_trace(fixture());
  REQUIRE(all.size() == 500);
  CHECK(all[0].arrival == sim::Time::zero());
  CHECK(all[0].prompt_tokens == 374);
  CHECK(all[0].output_tokens == 44);
  CHECK(all[1].arrival == sim::Time::s(4.314579));
  sim::RngStream rng(1, "r");
  const auto fast = workloads::read_requests(
      cfg("{trace: " + fixture() + ", rate_scale: 2, limit: 10}"), rng);
  REQUIRE(fast.size() == 10);
  CHECK(fast[1].arrival == sim::Time::s(4.314579 / 2));
  const auto fitted = workloads::read_requests(
      cfg("{rate: 1, count: 100, prompt: {trace: " + fixture() + "}, output: {trace: " +
          fixture() + "}}"),
      rng);
  CHECK(fitted.size() == 100);
}

TEST_CASE("bad traces are one-line errors at file:line:col") {
  testing::TempDir d;
  auto check = [&](const std::string& text, const std::string& where, const std::string& what) {
    const auto f = d.write("t.csv", text);
    CAPTURE(text);
    std::string message;
    try {
      workloads::read_request_trace(f);
    } catch (const sim::InputError& e) {
      message = e.what();
    }
    CAPTURE(message);
    CHECK(message.find(f.string() + ":" + where) != std::string::npos);
    CHECK(message.find(what) != std::string::npos);
  };
  check("arrived_at,num_decode_tokens\n0,5\n", "1:1", "no 'num_prefill_tokens' column");
  check("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,5\n0.5,-3,5\n", "3:5",
        "cannot be negative");
  check("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,5\n1,,5\n", "3:3", "is empty");
  check("arrived_at,num_prefill_tokens,num_decode_tokens\nsoon,10,5\n", "2:1",
        "expected a number");
  check("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10\n", "2:5", "2 fields");
  check("arrived_at,num_prefill_tokens,num_decode_tokens\n0,10.5,5\n", "2:3", "whole number");
  check("arrived_at,num_prefill_tokens,num_decode_tokens\n", "2:1", "no requests");
  CHECK_THROWS_AS(workloads::read_request_trace(d.path() / "missing.csv"), sim::InputError);
  // Out of order rows are taken in arrival order.
  const auto f = d.write("o.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n2,1,1\n1,2,2\n");
  const auto r = workloads::read_request_trace(f);
  CHECK(r[0].prompt_tokens == 2);
  CHECK(r[0].id == 0);
}

TEST_CASE("step changes of the load: each phase arrives at its own rate") {
  sim::RngStream rng(3, "requests");
  const auto reqs = workloads::read_requests(
      cfg("{rate: 200, duration: 4 s, steps: [{at: 1 s, rate: 2000}, {at: 3 s, rate: 200}]}"), rng);
  std::size_t before = 0, during = 0, after = 0;
  for (const auto& r : reqs) {
    const double t = r.arrival.seconds();
    (t < 1 ? before : t < 3 ? during : after) += 1;
  }
  CHECK(before == doctest::Approx(200).epsilon(0.2));
  CHECK(during == doctest::Approx(4000).epsilon(0.1));
  CHECK(after == doctest::Approx(200).epsilon(0.2));
  CHECK(reqs.front().prompt_tokens == 1);  // lengths default to 1 (a CNN request)
  sim::RngStream r2(3, "requests");
  CHECK_THROWS_AS(workloads::read_requests(
                      cfg("{rate: 1, duration: 4 s, steps: [{at: 2 s, rate: 5}, {at: 1 s, rate: 5}]}"), r2),
                  sim::InputError);
  CHECK_THROWS_AS(workloads::read_requests(cfg("{rate: 1, duration: 4 s, steps: [{at: 2 s, rate: 0}]}"), r2),
                  sim::InputError);
}
