#pragma once
// Streams of requests for serving studies -- the one component every serving loop draws its
// work from (LLM serving, multi-model CNN serving): a request arrives at a time, and an LLM
// request has a prompt and a number of tokens to generate. Streams are synthetic (Poisson,
// gamma or evenly spaced arrivals; fixed, uniform or empirical lengths), replayed from a trace
// (the Splitwise CSVs: arrived_at, num_prefill_tokens, num_decode_tokens), or a trace's
// lengths under synthetic arrivals. Seeded and deterministic: the same config and seed give
// the same requests.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace workloads {

struct Request {
  std::int64_t id = 0;  // in arrival order from 0
  sim::Time arrival;
  std::int32_t prompt_tokens = 0;
  std::int32_t output_tokens = 0;
};

// When requests arrive: a rate (requests per second) and the shape of the gaps.
struct ArrivalProcess {
  enum class Kind { poisson, gamma, constant };
  Kind kind = Kind::poisson;
  double rate = 1;  // requests per second
  double cv = 1;    // gamma: coefficient of variation of the gaps (1: Poisson; > 1: bursty)
  double next_gap(sim::RngStream& rng) const;  // seconds
};

// A length in tokens: fixed, uniform on [lo, hi] (both included), or drawn from measured values.
class LengthDistribution {
 public:
  static LengthDistribution fixed(std::int32_t n);
  static LengthDistribution uniform(std::int32_t lo, std::int32_t hi);
  static LengthDistribution empirical(std::vector<double> samples);
  std::int32_t draw(sim::RngStream& rng) const;
  double mean() const;

 private:
  enum class Kind { fixed, uniform, empirical } kind_ = Kind::fixed;
  std::int32_t lo_ = 1, hi_ = 1;
  std::vector<double> samples_;
};

struct RequestStreamSpec {
  ArrivalProcess arrivals;
  LengthDistribution prompt = LengthDistribution::fixed(1);
  LengthDistribution output = LengthDistribution::fixed(1);
  // Step changes of the load: from each time on, arrivals at its rate (requests per second).
  std::vector<std::pair<sim::Time, double>> rate_steps;
  std::int64_t count = 0;  // requests to draw (with `duration`, whichever ends first)
  std::optional<sim::Time> duration;
};

// Draws a synthetic stream; the stream `rng` alone decides it.
std::vector<Request> generate_requests(const RequestStreamSpec& spec, sim::RngStream& rng);

// Reads a request trace: a CSV with a header naming at least arrived_at (seconds),
// num_prefill_tokens and num_decode_tokens, in any order (other columns are ignored). Bad input
// -- a missing column, an empty, non-numeric or negative field, a short row, no rows -- is an
// InputError at file:line:col. Rows out of arrival order are taken in arrival order (stable).
// `limit`: the first N requests.
std::vector<Request> read_request_trace(const std::filesystem::path& file,
                                        std::optional<std::int64_t> limit = std::nullopt);

// A stream from a scenario's `requests:` map (keys in request_stream_schema()): a trace, or a
// synthetic stream whose lengths may come from a trace. Relative trace paths are relative to
// the scenario file.
std::vector<Request> read_requests(const sim::Config& c, sim::RngStream& rng);
const sim::ParamSchema& request_stream_schema();

}  // namespace workloads
