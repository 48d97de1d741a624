#pragma once
// Typed parameters declared once (gem5's Param, ns-3's attributes): a component's ParamSchema
// names each key it reads -- dotted for nested maps ("sm.max_threads") -- with its type (and
// so its unit), default and doc. The same schema is what `warpsim list` prints and what Params
// reads through: a key that is not declared cannot be read (a logic error, caught by the
// tests), a declared default is the only default, and it is written into the config tree so
// the resolved config holds it (Config::or_default).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/config.hpp"
#include "sim/registry.hpp"
#include "sim/time.hpp"

namespace sim {

// Defaults that are not a scalar's text: a list or map written as YAML ("[a, b]", "{}": a
// section whose keys all have defaults), and kEmptyString for the empty string. A ParamSpec
// default of "" means the key has none.
inline constexpr std::string_view kEmptyString = "\"\"";

class Params {
 public:
  // `prefix`: where `c` sits in the schema's dotted keys ("sm." for the `sm:` map).
  Params(const Config& c, const ParamSchema& schema, std::string prefix = "");

  const Config& config() const { return c_; }
  // The declared map `key` as Params of its own (required unless declared with a default "{}").
  Params section(std::string_view key) const;
  std::optional<Params> find_section(std::string_view key) const;

  // The value at `key`: the given one, the declared default (written into the tree), or an
  // error naming the missing key when it has none.
  Config value(std::string_view key) const;
  // Present in the config (a default does not count); for optional keys without a default.
  std::optional<Config> find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key).has_value(); }

  std::string string(std::string_view key) const { return value(key).as_string(); }
  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi) const;
  double real(std::string_view key) const { return value(key).as_double(); }
  bool flag(std::string_view key) const { return value(key).as_bool(); }
  std::uint64_t size(std::string_view key) const;
  double bandwidth(std::string_view key) const;
  Time duration(std::string_view key) const;
  Frequency frequency(std::string_view key) const;
  double flops(std::string_view key) const;
  // A key kept for the reader's eyes only (a preset's description, a PCIe generation): declared,
  // checked to be present if it has no default, and otherwise not used.
  void note(std::string_view key) const;

 private:
  const ParamSpec& spec(std::string_view key) const;  // std::logic_error when not declared
  std::string full(std::string_view key) const { return prefix_ + std::string(key); }

  Config c_;
  const ParamSchema* schema_;
  std::string prefix_;
};

// A schema written as a table, one key a line: `key | type | default | doc` (an empty default:
// none; `""`: the empty string; the doc may itself hold '|'). Blank lines are skipped.
ParamSchema schema(std::string_view table);

// The declaration of `key` in `schema`, or null.
const ParamSpec* find_param(const ParamSchema& schema, std::string_view key);

}  // namespace sim
