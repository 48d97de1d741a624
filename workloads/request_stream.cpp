#include "workloads/request_stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>

#include "sim/csv.hpp"
#include "sim/error.hpp"
#include "sim/files.hpp"
#include "sim/memory_budget.hpp"
#include "sim/params.hpp"

namespace workloads {

double ArrivalProcess::next_gap(sim::RngStream& rng) const {
  const double mean = 1.0 / rate;
  switch (kind) {
    case Kind::poisson: return rng.exponential(mean);
    case Kind::gamma: {
      // Gaps with mean 1/rate and coefficient of variation cv: shape 1/cv^2, scale mean*cv^2.
      const double shape = 1.0 / (cv * cv);
      return rng.gamma(shape, mean / shape);
    }
    case Kind::constant: return mean;
  }
  return mean;
}

LengthDistribution LengthDistribution::fixed(std::int32_t n) {
  LengthDistribution d;
  d.kind_ = Kind::fixed;
  d.lo_ = d.hi_ = n;
  return d;
}

LengthDistribution LengthDistribution::uniform(std::int32_t lo, std::int32_t hi) {
  LengthDistribution d;
  d.kind_ = Kind::uniform;
  d.lo_ = lo;
  d.hi_ = hi;
  return d;
}

LengthDistribution LengthDistribution::empirical(std::vector<double> samples) {
  LengthDistribution d;
  d.kind_ = Kind::empirical;
  d.samples_ = std::move(samples);
  return d;
}

std::int32_t LengthDistribution::draw(sim::RngStream& rng) const {
  switch (kind_) {
    case Kind::fixed: return lo_;
    case Kind::uniform:
      return static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(lo_),
                                                       static_cast<std::uint64_t>(hi_)));
    case Kind::empirical:
      return static_cast<std::int32_t>(
          samples_[static_cast<std::size_t>(rng.uniform_int(0, samples_.size() - 1))]);
  }
  return lo_;
}

double LengthDistribution::mean() const {
  if (kind_ == Kind::empirical)
    return std::accumulate(samples_.begin(), samples_.end(), 0.0) /
           static_cast<double>(samples_.size());
  return (lo_ + hi_) / 2.0;
}

std::vector<Request> generate_requests(const RequestStreamSpec& spec, sim::RngStream& rng) {
  double peak = spec.arrivals.rate;
  for (const auto& st : spec.rate_steps) peak = std::max(peak, st.second);
  const double expected = spec.count > 0 ? static_cast<double>(spec.count)
                          : spec.duration ? peak * spec.duration->seconds()
                                          : 0.0;
  // A request, its record in the serving engine and its row of requests.csv: about 300 bytes.
  sim::check_memory_estimate(300.0 * expected,
                             fmt::format("a stream of {:.3g} requests", expected));
  std::vector<Request> out;
  double t = 0;
  std::size_t step = 0;  // rate_steps taking effect after this one
  ArrivalProcess arrivals = spec.arrivals;
  for (std::int64_t i = 0; spec.count == 0 || i < spec.count; ++i) {
    while (i > 0) {
      const double gap = arrivals.next_gap(rng);
      // A gap that crosses a rate change starts again there at the new rate (exact for
      // Poisson arrivals, which have no memory).
      if (step < spec.rate_steps.size() && t + gap > spec.rate_steps[step].first.seconds()) {
        t = spec.rate_steps[step].first.seconds();
        arrivals.rate = spec.rate_steps[step].second;
        ++step;
        continue;
      }
      t += gap;
      break;
    }
    const sim::Time at = sim::Time::s(t);
    if (spec.duration && at > *spec.duration) break;
    Request r;
    r.id = i;
    r.arrival = at;
    r.prompt_tokens = spec.prompt.draw(rng);
    r.output_tokens = spec.output.draw(rng);
    out.push_back(r);
  }
  return out;
}

namespace {

double number(const std::string& file, const sim::CsvField& f, const std::string& column) {
  const sim::SourcePos pos{file, f.line, f.column};
  if (f.text.empty()) throw sim::InputError(pos, fmt::format("'{}' is empty", column));
  double v = 0;
  const auto [end, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), v);
  if (ec != std::errc() || end != f.text.data() + f.text.size() || !std::isfinite(v))
    throw sim::InputError(pos, fmt::format("'{}': expected a number, got '{}'", column, f.text));
  if (v < 0) throw sim::InputError(pos, fmt::format("'{}' cannot be negative, got {}", column, v));
  return v;
}

}  // namespace

std::vector<Request> read_request_trace(const std::filesystem::path& path,
                                        std::optional<std::int64_t> limit) {
  const std::string file = path.string();
  if (!sim::is_file(path))
    throw sim::InputError(fmt::format("{}: cannot open the request trace", file));
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec)  // parsed fields: ~15x the text
    sim::check_memory_estimate(15.0 * static_cast<double>(size),
                               fmt::format("the request trace {} ({} MiB)", file, size >> 20));
  const std::vector<sim::CsvRow> rows = sim::parse_csv(sim::read_file(path), file);
  if (rows.empty()) throw sim::InputError(sim::SourcePos{file, 1, 1}, "empty trace");
  const char* wanted[] = {"arrived_at", "num_prefill_tokens", "num_decode_tokens"};
  int col[3] = {-1, -1, -1};
  const sim::CsvRow& header = rows.front();
  for (std::size_t i = 0; i < header.size(); ++i)
    for (int w = 0; w < 3; ++w)
      if (header[i].text == wanted[w]) col[w] = static_cast<int>(i);
  for (int w = 0; w < 3; ++w)
    if (col[w] < 0)
      throw sim::InputError(sim::SourcePos{file, 1, 1},
                            fmt::format("no '{}' column (a request trace has arrived_at, "
                                        "num_prefill_tokens, num_decode_tokens)",
                                        wanted[w]));
  std::vector<Request> out;
  const std::size_t need = static_cast<std::size_t>(*std::max_element(col, col + 3)) + 1;
  for (std::size_t n = 1; n < rows.size(); ++n) {
    if (limit && static_cast<std::int64_t>(out.size()) >= *limit) break;
    const sim::CsvRow& fields = rows[n];
    if (fields.size() < need) {
      const sim::CsvField& last = fields.back();
      throw sim::InputError(
          sim::SourcePos{file, last.line, last.column + static_cast<int>(last.text.size())},
          fmt::format("{} fields, the header has {}", fields.size(), header.size()));
    }
    Request r;
    r.arrival = sim::Time::s(number(file, fields[static_cast<std::size_t>(col[0])], wanted[0]));
    for (int w = 1; w < 3; ++w) {
      const sim::CsvField& f = fields[static_cast<std::size_t>(col[w])];
      const double v = number(file, f, wanted[w]);
      if (v != std::floor(v) || v > 1e9)
        throw sim::InputError(sim::SourcePos{file, f.line, f.column},
                              fmt::format("'{}' must be a whole number of tokens, got {}",
                                          wanted[w], f.text));
      (w == 1 ? r.prompt_tokens : r.output_tokens) = static_cast<std::int32_t>(v);
    }
    out.push_back(r);
  }
  if (out.empty()) throw sim::InputError(sim::SourcePos{file, 2, 1}, "the trace has no requests");
  std::stable_sort(out.begin(), out.end(),
                   [](const Request& a, const Request& b) { return a.arrival < b.arrival; });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].id = static_cast<std::int64_t>(i);
  return out;
}

const sim::ParamSchema& request_stream_schema() {
  static const sim::ParamSchema s = sim::schema(R"(
trace         | path     |         | replay this CSV (arrived_at, num_prefill_tokens, num_decode_tokens)
limit         | int      |         | the first N requests of the trace
rate_scale    | double   | 1       | trace: arrivals this many times as fast
count         | int      |         | synthetic: requests to draw
duration      | duration |         | synthetic: stop drawing after this (absent: count alone)
arrival       | string   | poisson | poisson | gamma | constant
rate          | double   |         | synthetic: mean requests per second
cv            | double   | 1       | gamma: coefficient of variation of the gaps (> 1: bursty)
steps         | list     | []      | synthetic: load changes, [{at: 2 s, rate: 300}, ...] in time order
steps.at      | duration |         | when the new rate starts
steps.rate    | double   |         | requests per second from then on
prompt        | length   | 1       | n | {uniform: [lo, hi]} | {trace: FILE} (its prompt lengths; 1 for a CNN request)
output        | length   | 1       | n | {uniform: [lo, hi]} | {trace: FILE} (its output lengths)
)");
  return s;
}

namespace {

std::filesystem::path relative_to_config(const sim::Config& c) {
  std::filesystem::path p = c.as_string();
  if (p.is_relative() && !c.pos().file.empty())
    p = std::filesystem::path(c.pos().file).parent_path() / p;
  if (!sim::is_file(p)) c.fail(fmt::format("no such trace '{}'", p.string()));
  return p;
}

LengthDistribution read_length(const sim::Config& c, bool prompt) {
  if (c.is_scalar()) {
    const auto n = c.as_int();
    if (n < 1 || n > 1'000'000'000) c.fail("a length must be in [1, 1e9] tokens");
    return LengthDistribution::fixed(static_cast<std::int32_t>(n));
  }
  if (auto u = c.find("uniform")) {
    const auto v = u->items();
    if (v.size() != 2) u->fail("uniform takes [lo, hi]");
    const auto lo = v[0].as_int(), hi = v[1].as_int();
    if (lo < 1 || hi < lo || hi > 1'000'000'000) u->fail("need 1 <= lo <= hi");
    return LengthDistribution::uniform(static_cast<std::int32_t>(lo),
                                       static_cast<std::int32_t>(hi));
  }
  if (auto t = c.find("trace")) {
    std::vector<double> samples;
    for (const Request& r : read_request_trace(relative_to_config(*t)))
      samples.push_back(prompt ? r.prompt_tokens : r.output_tokens);
    return LengthDistribution::empirical(std::move(samples));
  }
  c.fail("a length is a number, {uniform: [lo, hi]} or {trace: FILE}");
}

}  // namespace

std::vector<Request> read_requests(const sim::Config& c, sim::RngStream& rng) {
  const sim::Params p(c, request_stream_schema());
  if (auto t = p.find("trace")) {
    std::optional<std::int64_t> limit;
    if (p.has("limit")) limit = p.integer("limit", 1, INT64_MAX);
    const double scale = p.real("rate_scale");
    if (!(scale > 0)) p.value("rate_scale").fail("must be > 0");
    std::vector<Request> out = read_request_trace(relative_to_config(*t), limit);
    if (scale != 1)
      for (Request& r : out) r.arrival = sim::Time::s(r.arrival.seconds() / scale);
    return out;
  }
  RequestStreamSpec s;
  const std::string kind = p.string("arrival");
  if (kind == "poisson") s.arrivals.kind = ArrivalProcess::Kind::poisson;
  else if (kind == "gamma") s.arrivals.kind = ArrivalProcess::Kind::gamma;
  else if (kind == "constant") s.arrivals.kind = ArrivalProcess::Kind::constant;
  else p.value("arrival").fail("arrival is poisson, gamma or constant");
  s.arrivals.rate = p.real("rate");
  if (!(s.arrivals.rate > 0)) p.value("rate").fail("the rate must be > 0 requests per second");
  s.arrivals.cv = p.real("cv");
  if (!(s.arrivals.cv > 0)) p.value("cv").fail("must be > 0");
  for (const sim::Config& item : p.value("steps").items()) {
    const sim::Params st(item, request_stream_schema(), "steps.");
    const sim::Time at = st.duration("at");
    const double rate = st.real("rate");
    if (!(rate > 0)) st.value("rate").fail("the rate must be > 0 requests per second");
    if (!s.rate_steps.empty() && at <= s.rate_steps.back().first)
      st.value("at").fail("steps must be in time order");
    s.rate_steps.emplace_back(at, rate);
  }
  if (p.has("count")) s.count = p.integer("count", 1, 100'000'000);
  if (p.has("duration")) s.duration = p.duration("duration");
  if (s.count == 0 && !s.duration) c.fail("a synthetic stream needs a count or a duration");
  s.prompt = read_length(p.value("prompt"), true);
  s.output = read_length(p.value("output"), false);
  return generate_requests(s, rng);
}

}  // namespace workloads
