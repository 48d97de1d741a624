#include "sim/rng.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace sim {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

double log_factorial(double k) { return std::lgamma(k + 1.0); }

}  // namespace

std::uint64_t stable_hash(std::string_view s, std::uint64_t basis) {
  std::uint64_t h = basis;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

RngStream::RngStream(std::uint64_t raw_seed) {
  std::uint64_t x = raw_seed;
  for (auto& w : s_) w = splitmix64(x);
}

RngStream::RngStream(std::uint64_t seed, std::string_view component)
    : RngStream(stable_hash(component) ^ (seed * 0x9e3779b97f4a7c15ULL)) {}

std::uint64_t RngStream::next_u64() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double RngStream::uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double RngStream::uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

std::uint64_t RngStream::uniform_int(std::uint64_t lo, std::uint64_t hi) {
  if (hi < lo) throw std::invalid_argument("uniform_int: hi < lo");
  const std::uint64_t range = hi - lo;
  if (range == ~std::uint64_t{0}) return next_u64();
  const std::uint64_t n = range + 1;
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);  // reject the tail
  std::uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return lo + x % n;
}

double RngStream::exponential(double mean) { return -mean * std::log1p(-uniform01()); }

double RngStream::normal(double mean, double stddev) {
  if (has_spare_) {
    has_spare_ = false;
    return mean + stddev * spare_normal_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform01() - 1.0;
    v = 2.0 * uniform01() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double f = std::sqrt(-2.0 * std::log(s) / s);
  spare_normal_ = v * f;
  has_spare_ = true;
  return mean + stddev * u * f;
}

double RngStream::lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }

double RngStream::gamma(double shape, double scale) {
  if (shape <= 0 || scale <= 0) throw std::invalid_argument("gamma: shape and scale must be > 0");
  if (shape < 1.0) {  // boost to shape+1, then scale by U^(1/shape)
    const double u = uniform01();
    return gamma(shape + 1.0, scale) * std::pow(1.0 - u, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal(0.0, 1.0);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform01();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v * scale;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v * scale;
  }
}

std::uint64_t RngStream::poisson(double mean) {
  if (mean < 0) throw std::invalid_argument("poisson: mean must be >= 0");
  if (mean == 0) return 0;
  if (mean < 12.0) {  // inversion by sequential search
    double p = std::exp(-mean), cdf = p;
    const double u = uniform01();
    std::uint64_t k = 0;
    while (u > cdf && k < 1000) {
      ++k;
      p *= mean / static_cast<double>(k);
      cdf += p;
    }
    return k;
  }
  // PTRS: transformed rejection with squeeze (Hormann 1993).
  const double slam = std::sqrt(mean), loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = uniform01() - 0.5;
    const double v = uniform01();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -mean + k * loglam - log_factorial(k))
      return static_cast<std::uint64_t>(k);
  }
}

DiscreteDistribution::DiscreteDistribution(const std::vector<double>& weights) {
  const std::size_t n = weights.size();
  if (n == 0) throw std::invalid_argument("discrete distribution: no weights");
  double sum = 0;
  for (double w : weights) {
    if (!(w >= 0) || !std::isfinite(w))
      throw std::invalid_argument("discrete distribution: weights must be finite and >= 0");
    sum += w;
  }
  if (sum <= 0) throw std::invalid_argument("discrete distribution: weights sum to zero");
  prob_.assign(n, 0);
  alias_.assign(n, 0);
  std::vector<double> scaled(n);
  std::vector<std::size_t> small, large;
  for (std::size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / sum;
    (scaled[i] < 1.0 ? small : large).push_back(i);
  }
  while (!small.empty() && !large.empty()) {
    const std::size_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (std::size_t i : large) prob_[i] = 1.0;
  for (std::size_t i : small) prob_[i] = 1.0;
}

std::size_t DiscreteDistribution::operator()(RngStream& rng) const {
  const std::size_t i = static_cast<std::size_t>(rng.uniform_int(0, prob_.size() - 1));
  return rng.uniform01() < prob_[i] ? i : alias_[i];
}

EmpiricalDistribution::EmpiricalDistribution(std::vector<double> samples, bool interpolate)
    : sorted_(std::move(samples)), interpolate_(interpolate) {
  if (sorted_.empty()) throw std::invalid_argument("empirical distribution: no samples");
  std::sort(sorted_.begin(), sorted_.end());
}

double EmpiricalDistribution::operator()(RngStream& rng) const {
  const double u = rng.uniform01();
  if (!interpolate_ || sorted_.size() == 1) {
    const auto i = static_cast<std::size_t>(u * static_cast<double>(sorted_.size()));
    return sorted_[std::min(i, sorted_.size() - 1)];
  }
  const double pos = u * static_cast<double>(sorted_.size() - 1);
  const auto i = static_cast<std::size_t>(pos);
  const double frac = pos - static_cast<double>(i);
  return sorted_[i] + frac * (sorted_[std::min(i + 1, sorted_.size() - 1)] - sorted_[i]);
}

}  // namespace sim
