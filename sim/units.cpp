#include "sim/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string>

#include "sim/error.hpp"

namespace sim::units {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

struct Split {
  double value;
  std::string_view unit;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "3.35 TB/s" -> {3.35, "TB/s"}; the space between number and unit is optional.
Split split_number(std::string_view text, std::string_view what) {
  const std::string_view s = trim(text);
  if (s.empty()) throw InputError(fmt::format("empty {} (expected e.g. {})", what, what));
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data())
    throw InputError(fmt::format("'{}' is not a {}: it must start with a number", text, what));
  if (!std::isfinite(v)) throw InputError(fmt::format("'{}' is not a finite {}", text, what));
  if (v < 0) throw InputError(fmt::format("'{}': a {} cannot be negative", text, what));
  return {v, trim(std::string_view(end, static_cast<std::size_t>(s.data() + s.size() - end)))};
}

template <std::size_t N>
double lookup(std::string_view text, std::string_view unit, const std::array<Unit, N>& table,
              std::string_view what) {
  for (const Unit& u : table)
    if (u.name == unit) return u.factor;
  std::string known;
  for (const Unit& u : table) {
    if (!known.empty()) known += ", ";
    known += u.name;
  }
  if (unit.empty())
    throw InputError(fmt::format("'{}' has no unit; a {} needs one of: {}", text, what, known));
  throw InputError(
      fmt::format("'{}': unknown {} unit '{}' (known: {})", text, what, unit, known));
}

constexpr double K = 1e3, M = 1e6, G = 1e9, T = 1e12;
constexpr double Ki = 1024.0, Mi = Ki * Ki, Gi = Mi * Ki, Ti = Gi * Ki;

constexpr std::array<Unit, 13> kSizes{{{"B", 1},
                                       {"KB", K},
                                       {"MB", M},
                                       {"GB", G},
                                       {"TB", T},
                                       {"KiB", Ki},
                                       {"MiB", Mi},
                                       {"GiB", Gi},
                                       {"TiB", Ti},
                                       {"kB", K},
                                       {"Kb", K / 8},
                                       {"Mb", M / 8},
                                       {"Gb", G / 8}}};

constexpr std::array<Unit, 17> kBandwidths{{{"B/s", 1},
                                            {"KB/s", K},
                                            {"MB/s", M},
                                            {"GB/s", G},
                                            {"TB/s", T},
                                            {"KiB/s", Ki},
                                            {"MiB/s", Mi},
                                            {"GiB/s", Gi},
                                            {"TiB/s", Ti},
                                            {"b/s", 1.0 / 8},
                                            {"Kb/s", K / 8},
                                            {"Mb/s", M / 8},
                                            {"Gb/s", G / 8},
                                            {"Tb/s", T / 8},
                                            {"bps", 1.0 / 8},
                                            {"Gbps", G / 8},
                                            {"kB/s", K}}};

constexpr std::array<Unit, 5> kFrequencies{
    {{"Hz", 1}, {"kHz", K}, {"KHz", K}, {"MHz", M}, {"GHz", G}}};

constexpr std::array<Unit, 7> kDurations{{{"ps", 1},
                                          {"ns", 1e3},
                                          {"us", 1e6},
                                          {"µs", 1e6},
                                          {"ms", 1e9},
                                          {"s", 1e12},
                                          {"min", 60e12}}};

constexpr std::array<Unit, 10> kFlops{{{"FLOP/s", 1},
                                       {"GFLOP/s", G},
                                       {"TFLOP/s", T},
                                       {"PFLOP/s", T * K},
                                       {"OP/s", 1},
                                       {"GOP/s", G},
                                       {"TOP/s", T},
                                       {"POP/s", T * K},
                                       {"GFLOPS", G},
                                       {"TFLOPS", T}}};

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  const auto [v, unit] = split_number(text, "size");
  const double bytes = v * lookup(text, unit, kSizes, "size");
  if (bytes >= 1.8e19) throw InputError(fmt::format("'{}': size too large", text));
  const double rounded = std::round(bytes);
  if (std::fabs(bytes - rounded) > 1e-6 * std::max(1.0, bytes))
    throw InputError(fmt::format("'{}' is not a whole number of bytes", text));
  return static_cast<std::uint64_t>(rounded);
}

double parse_bandwidth(std::string_view text) {
  const auto [v, unit] = split_number(text, "bandwidth");
  const double r = v * lookup(text, unit, kBandwidths, "bandwidth");
  if (r <= 0) throw InputError(fmt::format("'{}': a bandwidth must be positive", text));
  return r;
}

Frequency parse_frequency(std::string_view text) {
  const auto [v, unit] = split_number(text, "frequency");
  const double hz = v * lookup(text, unit, kFrequencies, "frequency");
  if (hz <= 0) throw InputError(fmt::format("'{}': a frequency must be positive", text));
  return Frequency::hz(hz);
}

Time parse_duration(std::string_view text) {
  const auto [v, unit] = split_number(text, "duration");
  const double ps = v * lookup(text, unit, kDurations, "duration");
  if (ps >= 9.2e18) throw InputError(fmt::format("'{}': duration too long", text));
  return Time::ps(std::llround(ps));
}

double parse_flops(std::string_view text) {
  const auto [v, unit] = split_number(text, "compute rate");
  const double r = v * lookup(text, unit, kFlops, "compute rate");
  if (r <= 0) throw InputError(fmt::format("'{}': a compute rate must be positive", text));
  return r;
}

double parse_fraction(std::string_view text) {
  static constexpr std::array<Unit, 2> kFractions{{{"", 1}, {"%", 0.01}}};
  const auto [v, unit] = split_number(text, "fraction");
  // A bare 5 is almost always meant as 5%: read silently as 500% it would pass anything.
  if (unit.empty() && v > 1)
    throw InputError(fmt::format("'{}' as a fraction is {:g}%; write '{}%' for a percentage, or a "
                                 "fraction of at most 1",
                                 text, v * 100, text));
  if (v < 0) throw InputError(fmt::format("'{}': a fraction cannot be negative", text));
  return v * lookup(text, unit, kFractions, "fraction");
}

}  // namespace sim::units
