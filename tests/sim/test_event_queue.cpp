#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "sim/calendar.hpp"
#include "sim/rng.hpp"
#include "sim/simulator.hpp"

using sim::Priority;
using sim::Simulator;
using sim::Time;

TEST_CASE("events run in time order") {
  Simulator s;
  std::vector<int> seen;
  s.schedule(Time::us(3), [&] { seen.push_back(3); });
  s.schedule(Time::us(1), [&] { seen.push_back(1); });
  s.schedule(Time::us(2), [&] { seen.push_back(2); });
  s.run();
  CHECK(seen == std::vector<int>{1, 2, 3});
  CHECK(s.now() == Time::us(3));
  CHECK(s.events_executed() == 3);
}

TEST_CASE("ties break by priority, then by insertion order") {
  Simulator s;
  std::vector<std::string> seen;
  s.schedule(Time::us(1), [&] { seen.push_back("model-a"); });
  s.schedule(Time::us(1), [&] { seen.push_back("stats"); }, Priority::kStats);
  s.schedule(Time::us(1), [&] { seen.push_back("early"); }, Priority::kEarly);
  s.schedule(Time::us(1), [&] { seen.push_back("model-b"); });
  s.schedule(Time::us(1), [&] { seen.push_back("late"); }, Priority::kLate);
  s.run();
  CHECK(seen == std::vector<std::string>{"early", "model-a", "model-b", "late", "stats"});
}

TEST_CASE("events scheduled at the current time run in the same timestep, ordered") {
  Simulator s;
  std::vector<std::string> seen;
  s.schedule(Time::us(1), [&] {
    seen.push_back("first");
    s.schedule(s.now(), [&] { seen.push_back("late-now"); }, Priority::kLate);
    s.schedule(s.now(), [&] { seen.push_back("model-now"); });
    s.schedule(s.now(), [&] { seen.push_back("early-now"); }, Priority::kEarly);
  });
  s.schedule(Time::us(1), [&] { seen.push_back("second"); });
  s.schedule(Time::us(2), [&] { seen.push_back("later"); });
  s.run();
  CHECK(seen == std::vector<std::string>{"first", "early-now", "second", "model-now", "late-now",
                                         "later"});
}

TEST_CASE("cancellation is lazy and exact") {
  Simulator s;
  int ran = 0;
  auto a = s.schedule_cancellable(Time::us(1), [&] { ran += 1; });
  auto b = s.schedule_cancellable(Time::us(2), [&] { ran += 10; });
  auto c = s.schedule_cancellable(Time::us(3), [&] { ran += 100; });
  CHECK(s.pending() == 3);
  CHECK(s.cancel(b));
  CHECK_FALSE(b.valid());
  CHECK_FALSE(s.cancel(b));  // twice: no effect
  CHECK(s.pending() == 2);
  s.run_until(Time::us(1));
  CHECK(ran == 1);
  CHECK_FALSE(s.cancel(a));  // already ran
  s.run();
  CHECK(ran == 101);
  CHECK_FALSE(s.cancel(c));
}

TEST_CASE("an event cancelling itself or a reused slot is harmless") {
  Simulator s;
  sim::EventHandle self;
  int ran = 0;
  self = s.schedule_cancellable(Time::us(1), [&] {
    ++ran;
    CHECK_FALSE(s.cancel(self));
    // The slot may be reused now; the stale handle must not cancel the new event.
  });
  s.run();
  auto stale = self;
  auto fresh = s.schedule_cancellable(Time::us(2), [&] { ++ran; });
  CHECK_FALSE(s.cancel(stale));
  s.run();
  CHECK(ran == 2);
  (void)fresh;
}

TEST_CASE("cancelling every event leaves an idle simulator") {
  Simulator s;
  std::vector<sim::EventHandle> hs;
  for (int i = 0; i < 100; ++i) hs.push_back(s.schedule_cancellable(Time::ns(i * 7), [] {}));
  for (auto& h : hs) s.cancel(h);
  CHECK(s.idle());
  s.run();
  CHECK(s.events_executed() == 0);
}

TEST_CASE("run_until stops at the horizon and advances the clock") {
  Simulator s;
  int ran = 0;
  s.schedule(Time::us(1), [&] { ++ran; });
  s.schedule(Time::us(5), [&] { ++ran; });
  s.run_until(Time::us(3));
  CHECK(ran == 1);
  CHECK(s.now() == Time::us(3));
  s.run_until(Time::us(5));  // inclusive
  CHECK(ran == 2);
}

TEST_CASE("stop ends the run after the current event") {
  Simulator s;
  int ran = 0;
  s.schedule(Time::us(1), [&] {
    ++ran;
    s.stop();
  });
  s.schedule(Time::us(2), [&] { ++ran; });
  s.run();
  CHECK(ran == 1);
  s.run();
  CHECK(ran == 2);
}

TEST_CASE("scheduling in the past is a logic error") {
  Simulator s;
  s.schedule(Time::us(2), [&] { CHECK_THROWS_AS(s.schedule(Time::us(1), [] {}), std::logic_error); });
  s.run();
}

TEST_CASE("large captures fall back to the heap and still run and destroy") {
  Simulator s;
  std::vector<int> big(1000, 1);
  int sum = 0;
  auto shared = std::make_shared<int>(7);
  s.schedule(Time::us(1), [&sum, big, shared] { sum = static_cast<int>(big.size()) + *shared; });
  auto h = s.schedule_cancellable(Time::us(2), [shared] { (void)shared; });
  CHECK(shared.use_count() == 3);
  s.cancel(h);
  CHECK(shared.use_count() == 2);  // a cancelled handler is destroyed at once
  s.run();
  CHECK(sum == 1007);
  CHECK(shared.use_count() == 1);
}

// Property test: random schedules, with events scheduling more events and cancelling some,
// must come out in exactly the order of a sort by (time, priority, sequence).
TEST_CASE("random schedules match a reference sort") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    sim::RngStream rng(seed, "queue-test");
    Simulator s;
    using Key = std::tuple<std::int64_t, int, std::uint64_t>;
    std::vector<Key> expected, seen;
    std::vector<sim::EventHandle> handles;
    std::vector<Key> handle_keys;
    std::uint64_t seq = 0;
    std::function<void(int)> add = [&](int depth) {
      const std::int64_t delta =
          rng.bernoulli(0.2) ? 0 : static_cast<std::int64_t>(rng.uniform_int(0, 1u << 24));
      auto pr = static_cast<Priority>(std::array<int, 3>{32, 64, 128}[rng.uniform_int(0, 2)]);
      // An event added at the current time with a higher priority than the running one runs
      // next, ahead of the global sort; keep spawned same-time events at the lowest priority.
      if (delta == 0 && depth > 0) pr = Priority::kLate;
      const Key k{s.now().count() + delta, static_cast<int>(pr), seq++};
      auto h = s.schedule_cancellable(
          s.now() + Time::ps(delta),
          [&, k, depth] {
            seen.push_back(k);
            if (depth < 3)
              for (int i = 0; i < 2; ++i) add(depth + 1);
          },
          pr);
      expected.push_back(k);
      handles.push_back(h);
      handle_keys.push_back(k);
    };
    for (int i = 0; i < 200; ++i) add(0);
    // Cancel a random tenth of the initial events.
    for (std::size_t i = 0; i < 20; ++i) {
      const auto j = rng.uniform_int(0, handles.size() - 1);
      if (s.cancel(handles[j]))
        expected.erase(std::find(expected.begin(), expected.end(), handle_keys[j]));
    }
    s.run();
    // Events are only ever added after the running one in (time, priority, sequence) order, so
    // the executed sequence must be sorted, and hold exactly the events not cancelled.
    std::vector<Key> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    CHECK(seen == sorted);
    std::sort(expected.begin(), expected.end());
    CHECK(sorted == expected);
  }
}

TEST_CASE("the same schedule gives the same fingerprint; a different one does not") {
  auto run = [](std::uint64_t seed) {
    Simulator s;
    sim::RngStream rng(seed, "fp");
    std::function<void(int)> hop = [&](int n) {
      if (n == 0) return;
      s.schedule_in(Time::ps(static_cast<std::int64_t>(rng.exponential(1e6))), [&, n] { hop(n - 1); });
    };
    for (int i = 0; i < 50; ++i) hop(20);
    s.run();
    return s.fingerprint();
  };
  CHECK(run(1) == run(1));
  CHECK(run(1) != run(2));
}

TEST_CASE("the fingerprint tells apart schedules that differ only in priority") {
  using sim::Priority;
  auto run = [](Priority p) {
    Simulator s;
    for (int i = 0; i < 4; ++i) s.schedule(Time::us(i), [] {}, p);
    s.run();
    return s.fingerprint();
  };
  const Priority all[] = {Priority::kEarly, Priority::kModel, Priority::kBandwidth,
                          Priority::kLate, Priority::kStats, Priority::kExit};
  for (Priority a : all)
    for (Priority b : all)
      if (a != b) CHECK(run(a) != run(b));
  CHECK(run(Priority::kLate) == run(Priority::kLate));
}

TEST_CASE("calendar: earliest first, ties in the order last set, entries move in place") {
  sim::Calendar c;
  c.set(3, sim::Time::us(5));
  c.set(1, sim::Time::us(2));
  c.set(7, sim::Time::us(2));  // same time as 1, set later: after it
  c.set(4, sim::Time::us(9));
  CHECK(c.size() == 4);
  CHECK(c.top_id() == 1);
  c.set(1, sim::Time::us(2));  // set again at the same time: now after 7
  CHECK(c.top_id() == 7);
  c.set(4, sim::Time::us(1));  // moved earlier
  CHECK(c.top_id() == 4);
  c.erase(7);
  CHECK_FALSE(c.contains(7));
  std::vector<std::uint32_t> order;
  while (!c.empty()) {
    order.push_back(c.top_id());
    c.pop();
  }
  CHECK(order == std::vector<std::uint32_t>{4, 1, 3});
  // Against a sorted reference under many random moves.
  sim::Calendar big;
  std::map<std::uint32_t, std::pair<std::int64_t, int>> ref;  // id -> (time, set order)
  std::uint64_t x = 12345;
  int n = 0;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const auto id = static_cast<std::uint32_t>((x >> 33) % 300);
    const auto t = static_cast<std::int64_t>((x >> 13) % 50);
    if ((x >> 60) == 0) {
      big.erase(id);
      ref.erase(id);
    } else {
      big.set(id, sim::Time::ps(t));
      ref[id] = {t, n++};
    }
  }
  std::vector<std::pair<std::pair<std::int64_t, int>, std::uint32_t>> want;
  for (const auto& [id, key] : ref) want.push_back({key, id});
  std::sort(want.begin(), want.end());
  REQUIRE(big.size() == want.size());
  for (const auto& w : want) {
    CHECK(big.top_id() == w.second);
    CHECK(big.top_time() == sim::Time::ps(w.first.first));
    big.pop();
  }
}
