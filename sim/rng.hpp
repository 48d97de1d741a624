#pragma once
// Random numbers that are identical on every machine and standard library.
//
// One global seed; each component draws from its own stream, seeded from
// hash(seed, component name), so adding a component never shifts another's numbers (ns-3's
// substreams, keyed by name). The generator is xoshiro256** and every distribution is written
// here (std:: distributions differ between standard libraries).

#include <cstdint>
#include <string_view>
#include <vector>

namespace sim {

// 64-bit FNV-1a: stable across platforms, used to key streams by name.
std::uint64_t stable_hash(std::string_view s, std::uint64_t basis = 0xcbf29ce484222325ULL);

class RngStream {
 public:
  RngStream(std::uint64_t seed, std::string_view component);
  explicit RngStream(std::uint64_t raw_seed);

  std::uint64_t next_u64();
  double uniform01();                         // [0, 1), 53 random bits
  double uniform(double lo, double hi);       // [lo, hi)
  std::uint64_t uniform_int(std::uint64_t lo, std::uint64_t hi);  // [lo, hi], unbiased
  double exponential(double mean);
  double normal(double mean, double stddev);  // Marsaglia polar method
  double lognormal(double mu, double sigma);  // exp(normal(mu, sigma))
  double gamma(double shape, double scale);   // Marsaglia-Tsang
  std::uint64_t poisson(double mean);         // inversion (mean < 12), PTRS (Hormann) above
  bool bernoulli(double p) { return uniform01() < p; }

 private:
  std::uint64_t s_[4];
  double spare_normal_ = 0;
  bool has_spare_ = false;
};

// Samples index i with probability weights[i] / sum (Walker's alias method, O(1) per draw).
class DiscreteDistribution {
 public:
  explicit DiscreteDistribution(const std::vector<double>& weights);
  std::size_t operator()(RngStream& rng) const;
  std::size_t size() const { return prob_.size(); }

 private:
  std::vector<double> prob_;
  std::vector<std::size_t> alias_;
};

// Samples from measured values (e.g. request lengths from a trace); interpolate=true draws
// from the piecewise-linear empirical CDF instead of the points themselves.
class EmpiricalDistribution {
 public:
  explicit EmpiricalDistribution(std::vector<double> samples, bool interpolate = false);
  double operator()(RngStream& rng) const;

 private:
  std::vector<double> sorted_;
  bool interpolate_;
};

// Hands out named streams for one run.
class RngFactory {
 public:
  explicit RngFactory(std::uint64_t seed) : seed_(seed) {}
  std::uint64_t seed() const { return seed_; }
  RngStream stream(std::string_view component) const { return RngStream(seed_, component); }

 private:
  std::uint64_t seed_;
};

}  // namespace sim
