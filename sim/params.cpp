#include "sim/params.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace sim {

namespace {
std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}
}  // namespace

ParamSchema schema(std::string_view table) {
  ParamSchema out;
  while (!table.empty()) {
    const auto eol = table.find('\n');
    std::string_view line = table.substr(0, eol);
    table = eol == std::string_view::npos ? std::string_view{} : table.substr(eol + 1);
    if (trim(line).empty()) continue;
    std::string cells[4];
    for (int i = 0; i < 3; ++i) {
      const auto bar = line.find('|');
      if (bar == std::string_view::npos)
        throw std::logic_error(fmt::format("schema line '{}': expected key | type | default | doc",
                                           line));
      cells[i] = trim(line.substr(0, bar));
      line.remove_prefix(bar + 1);
    }
    cells[3] = trim(line);
    out.push_back({cells[0], cells[1], cells[2], cells[3]});
  }
  return out;
}

const ParamSpec* find_param(const ParamSchema& schema, std::string_view key) {
  for (const ParamSpec& p : schema)
    if (p.name == key) return &p;
  return nullptr;
}

Params::Params(const Config& c, const ParamSchema& schema, std::string prefix)
    : c_(c), schema_(&schema), prefix_(std::move(prefix)) {}

const ParamSpec& Params::spec(std::string_view key) const {
  const ParamSpec* p = find_param(*schema_, full(key));
  if (!p)
    throw std::logic_error(fmt::format("parameter '{}' is read but not declared in its schema",
                                       full(key)));
  return *p;
}

Config Params::value(std::string_view key) const {
  const ParamSpec& p = spec(key);
  if (p.default_value.empty()) return c_.at(key);
  if (p.default_value.front() == '{' || p.default_value.front() == '[')
    return c_.or_default_yaml(key, p.default_value);
  if (p.default_value == kEmptyString) return c_.or_default(key, "");
  return c_.or_default(key, p.default_value);
}

std::optional<Config> Params::find(std::string_view key) const {
  spec(key);
  return c_.find(key);
}

Params Params::section(std::string_view key) const {
  return Params(value(key), *schema_, full(key) + ".");
}

std::optional<Params> Params::find_section(std::string_view key) const {
  if (auto c = find(key)) return Params(*c, *schema_, full(key) + ".");
  return std::nullopt;
}

std::int64_t Params::integer(std::string_view key, std::int64_t lo, std::int64_t hi) const {
  const Config c = value(key);
  const std::int64_t v = c.as_int();
  if (v < lo || v > hi) c.fail(fmt::format("must be in [{}, {}], got {}", lo, hi, v));
  return v;
}

std::uint64_t Params::size(std::string_view key) const { return value(key).as_size(); }
double Params::bandwidth(std::string_view key) const { return value(key).as_bandwidth(); }
Time Params::duration(std::string_view key) const { return value(key).as_duration(); }
Frequency Params::frequency(std::string_view key) const { return value(key).as_frequency(); }
double Params::flops(std::string_view key) const { return value(key).as_flops(); }

void Params::note(std::string_view key) const {
  const ParamSpec& p = spec(key);
  if (p.default_value.empty()) {
    if (auto c = c_.find(key)) c->mark_used();
  } else {
    value(key).mark_used();
  }
}

}  // namespace sim
