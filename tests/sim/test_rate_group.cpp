// sim::RateGroup: members at one shared speed, each with its own work left (virtual time).
#include <doctest/doctest.h>

#include <cstdint>
#include <set>

#include "sim/rate_group.hpp"

using sim::RateGroup;
using sim::Time;

TEST_CASE("rate group: a speed change moves every member's completion, and order is kept") {
  RateGroup g;
  g.set_speed(Time::zero(), 1.0);  // one unit of work per second
  g.clock(Time::zero());
  g.add(7, 1, 2.0);
  g.add(8, 2, 1.0);
  std::uint32_t id = 0;
  double target = 0;
  const auto all = [](std::uint32_t, std::uint64_t) { return true; };
  REQUIRE(g.front(all, id, target));
  CHECK(id == 8);
  CHECK(g.due(target) == Time::s(1));
  // Half a second in, the speed doubles: 0.5 left of member 8 takes 0.25 s more.
  g.set_speed(Time::ms(500), 2.0);
  CHECK(g.due(target) == Time::ms(750));
  CHECK(g.left(target) == doctest::Approx(0.5));
  g.pop();
  REQUIRE(g.front(all, id, target));
  CHECK(id == 7);
  CHECK(g.due(target) == Time::ms(1250));  // 1.5 left at 2 per second from 0.5 s
}

TEST_CASE("rate group: members that left are skipped; equal targets complete together") {
  RateGroup g;
  g.set_speed(Time::zero(), 4.0);
  g.clock(Time::zero());
  g.add(1, 1, 1.0);
  g.add(2, 2, 1.0);
  g.add(3, 3, 0.5);
  std::set<std::uint64_t> gone{3};  // member 3 moved elsewhere: its entry is stale
  const auto standing = [&](std::uint32_t, std::uint64_t stamp) { return !gone.count(stamp); };
  std::uint32_t id = 0;
  double target = 0;
  REQUIRE(g.front(standing, id, target));
  CHECK(id == 1);  // equal targets: the one added first
  const Time at = g.due(target);
  CHECK(at == Time::ms(250));
  g.clock(at);
  g.pop();
  REQUIRE(g.front(standing, id, target));
  CHECK(id == 2);
  CHECK(g.due(target) == at);  // due at the same instant, not a picosecond later
  g.pop();
  CHECK_FALSE(g.front(standing, id, target));
}
