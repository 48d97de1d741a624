#pragma once
// Simulated time: a strong type over a 64-bit count of picoseconds (1 tick = 1 ps, as gem5).
// Integer time keeps event ordering exact; bandwidth sharing is solved in doubles beside it and
// converted here once, rounding up so a transfer never finishes before its bytes are moved.

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <string>

namespace sim {

class Time {
 public:
  using rep = std::int64_t;

  constexpr Time() = default;
  static constexpr Time ps(rep v) { return Time(v); }
  static constexpr Time ns(double v) { return Time(static_cast<rep>(std::llround(v * 1e3))); }
  static constexpr Time us(double v) { return Time(static_cast<rep>(std::llround(v * 1e6))); }
  static constexpr Time ms(double v) { return Time(static_cast<rep>(std::llround(v * 1e9))); }
  static constexpr Time s(double v) { return Time(static_cast<rep>(std::llround(v * 1e12))); }
  // Seconds rounded up to the next picosecond: for "done after X seconds of work". Inline and
  // without libm's ceil (a call on baseline x86-64): the models re-time batches with it millions
  // of times a run. Truncation and a step up is ceil for what fits in the count.
  static Time ceil_seconds(double seconds) {
    if (!(seconds > 0)) return Time(0);
    const double ps = seconds * 1e12 - 1e-6;  // tolerate float noise at exact ps
    if (ps >= static_cast<double>(std::numeric_limits<rep>::max())) return max();
    const auto whole = static_cast<rep>(ps);
    return Time(whole + (static_cast<double>(whole) < ps ? 1 : 0));
  }
  static constexpr Time max() { return Time(std::numeric_limits<rep>::max()); }
  static constexpr Time zero() { return Time(0); }

  constexpr rep count() const { return ps_; }  // picoseconds
  constexpr double seconds() const { return static_cast<double>(ps_) * 1e-12; }
  constexpr double ms() const { return static_cast<double>(ps_) * 1e-9; }
  constexpr double us() const { return static_cast<double>(ps_) * 1e-6; }
  constexpr double ns() const { return static_cast<double>(ps_) * 1e-3; }

  constexpr Time operator+(Time o) const { return Time(ps_ + o.ps_); }
  constexpr Time operator-(Time o) const { return Time(ps_ - o.ps_); }
  constexpr Time& operator+=(Time o) { ps_ += o.ps_; return *this; }
  constexpr Time& operator-=(Time o) { ps_ -= o.ps_; return *this; }
  constexpr Time operator*(rep k) const { return Time(ps_ * k); }
  constexpr Time operator/(rep k) const { return Time(ps_ / k); }
  constexpr rep operator/(Time o) const { return ps_ / o.ps_; }
  constexpr auto operator<=>(const Time&) const = default;

  // "1.250 us": three decimals in the largest unit that keeps the integer part non-zero.
  std::string str() const;

 private:
  constexpr explicit Time(rep v) : ps_(v) {}
  rep ps_ = 0;
};

constexpr Time operator*(Time::rep k, Time t) { return t * k; }

// A clock frequency. Owns every cycle <-> time conversion (as Akita's Freq does).
class Frequency {
 public:
  constexpr Frequency() = default;
  static constexpr Frequency hz(double v) { return Frequency(v); }
  static constexpr Frequency ghz(double v) { return Frequency(v * 1e9); }
  constexpr double hz() const { return hz_; }
  Time period() const { return Time::ps(std::llround(1e12 / hz_)); }
  // Time taken by n cycles, rounded to the nearest picosecond (not accumulated per cycle).
  Time cycles(double n) const { return Time::ps(std::llround(n * 1e12 / hz_)); }
  // Whole cycles elapsed in t.
  std::int64_t cycles_in(Time t) const {
    return static_cast<std::int64_t>(std::floor(t.seconds() * hz_ + 1e-9));
  }
  constexpr auto operator<=>(const Frequency&) const = default;

 private:
  constexpr explicit Frequency(double v) : hz_(v) {}
  double hz_ = 1e9;
};

// A count of cycles in some clock domain; converted to Time only through a Frequency.
struct Cycles {
  std::int64_t n = 0;
  Time at(Frequency f) const { return f.cycles(static_cast<double>(n)); }
};

}  // namespace sim
