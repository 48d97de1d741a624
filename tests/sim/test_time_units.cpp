#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "sim/error.hpp"
#include "sim/time.hpp"
#include "sim/units.hpp"

using sim::Time;
namespace units = sim::units;

TEST_CASE("Time is integer picoseconds with exact arithmetic") {
  CHECK(Time::ns(1).count() == 1000);
  CHECK(Time::us(1.25).count() == 1'250'000);
  CHECK(Time::ms(2) + Time::us(3) == Time::ps(2'003'000'000));
  CHECK(Time::s(1) / Time::ms(1) == 1000);
  CHECK(Time::us(3) * 2 == Time::us(6));
  CHECK(Time::us(1) < Time::us(2));
  CHECK(Time::ceil_seconds(1e-12) == Time::ps(1));
  CHECK(Time::ceil_seconds(1.5e-12) == Time::ps(2));
  CHECK(Time::ceil_seconds(0) == Time::zero());
  CHECK(Time::ceil_seconds(-1) == Time::zero());
  CHECK(Time::ceil_seconds(1e-19) == Time::zero());  // under the float-noise tolerance
  CHECK(Time::ceil_seconds(2.0) == Time::s(2));         // whole: not stepped up
  CHECK(Time::ceil_seconds(1e9) == Time::max());        // past the count: saturates
  for (double s : {3.3e-9, 0.123456789, 7.25e-6, 41.0 / 3.0})  // as libm's ceil
    CHECK(Time::ceil_seconds(s).count() ==
          static_cast<Time::rep>(std::ceil(s * 1e12 - 1e-6)));
}

TEST_CASE("Time formats in the largest fitting unit") {
  CHECK(Time::us(1.25).str() == "1.250 us");
  CHECK(Time::ps(999).str() == "999 ps");
  CHECK(Time::ns(12.5).str() == "12.500 ns");
  CHECK(Time::ms(3).str() == "3.000 ms");
  CHECK(Time::s(2).str() == "2.000 s");
}

TEST_CASE("Frequency owns cycle conversions") {
  const auto f = sim::Frequency::ghz(1.5);
  CHECK(f.cycles(3).count() == 2000);  // 3 cycles at 1.5 GHz = 2 ns
  CHECK(f.period().count() == 667);
  CHECK(f.cycles_in(Time::ns(2)) == 3);
  CHECK(sim::Cycles{1500}.at(f) == Time::us(1));
}

TEST_CASE("units: sizes") {
  CHECK(units::parse_size("80 GiB") == 80ull << 30);
  CHECK(units::parse_size("1.5KB") == 1500);
  CHECK(units::parse_size("64 MiB") == 64ull << 20);
  CHECK(units::parse_size("4 B") == 4);
  CHECK(units::parse_size(" 2 GB ") == 2'000'000'000ull);
  CHECK(units::parse_size("16 Gb") == 2'000'000'000ull);  // bits
}

TEST_CASE("units: bandwidths, frequencies, durations, compute rates") {
  CHECK(units::parse_bandwidth("3.35 TB/s") == doctest::Approx(3.35e12));
  CHECK(units::parse_bandwidth("200 Gb/s") == doctest::Approx(25e9));
  CHECK(units::parse_bandwidth("1 GiB/s") == doctest::Approx(1073741824.0));
  CHECK(units::parse_bandwidth("64 KB/s") == doctest::Approx(64e3));
  CHECK(units::parse_frequency("1.98 GHz").hz() == doctest::Approx(1.98e9));
  CHECK(units::parse_frequency("850 MHz").hz() == doctest::Approx(850e6));
  CHECK(units::parse_duration("5 us") == Time::us(5));
  CHECK(units::parse_duration("250ps") == Time::ps(250));
  CHECK(units::parse_duration("1.5 s") == Time::ms(1500));
  CHECK(units::parse_flops("989 TFLOP/s") == doctest::Approx(989e12));
  CHECK(units::parse_flops("1979 TOP/s") == doctest::Approx(1979e12));
}

TEST_CASE("units: malformed strings are rejected with a message naming the problem") {
  struct Case {
    const char* text;
    const char* kind;
    const char* message;
  };
  const Case cases[] = {
      {"", "size", "empty size"},
      {"GiB", "size", "must start with a number"},
      {"-4 GiB", "size", "cannot be negative"},
      {"12", "size", "has no unit"},
      {"12 parsecs", "size", "unknown size unit 'parsecs'"},
      {"1.5 B", "size", "not a whole number of bytes"},
      {"nan GB", "size", "not a finite"},
      {"3 GHz", "bandwidth", "unknown bandwidth unit"},
      {"0 GB/s", "bandwidth", "must be positive"},
      {"-1 GB/s", "bandwidth", "cannot be negative"},
      {"fast", "frequency", "must start with a number"},
      {"0 Hz", "frequency", "must be positive"},
      {"5 weeks", "duration", "unknown duration unit"},
      {"-5 us", "duration", "cannot be negative"},
      {"10 GB/s", "flops", "unknown compute rate unit"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    std::string what;
    try {
      const std::string k = c.kind;
      if (k == "size") units::parse_size(c.text);
      else if (k == "bandwidth") units::parse_bandwidth(c.text);
      else if (k == "frequency") units::parse_frequency(c.text);
      else if (k == "duration") units::parse_duration(c.text);
      else units::parse_flops(c.text);
    } catch (const sim::InputError& e) {
      what = e.what();
    }
    CHECK(what.find(c.message) != std::string::npos);
  }
}

TEST_CASE("a fraction is a percentage with % or the fraction itself") {
  using sim::units::parse_fraction;
  CHECK(parse_fraction("2%") == doctest::Approx(0.02));
  CHECK(parse_fraction("0.5 %") == doctest::Approx(0.005));
  CHECK(parse_fraction("0.02") == doctest::Approx(0.02));
  CHECK(parse_fraction("1") == doctest::Approx(1));
  // A bare number is never a percentage, and one above 1 is refused rather than read as 2500%.
  CHECK_THROWS_WITH_AS(parse_fraction("25"), doctest::Contains("write '25%'"), sim::InputError);
  CHECK(parse_fraction("150%") == doctest::Approx(1.5));
  CHECK_THROWS_AS(parse_fraction("lots"), sim::InputError);
  CHECK_THROWS_AS(parse_fraction("-1%"), sim::InputError);
  CHECK_THROWS_AS(parse_fraction("2 ms"), sim::InputError);
}
