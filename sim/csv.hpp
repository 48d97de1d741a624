#pragma once
// Reading CSV (RFC 4180): fields split on commas, a quoted field may hold commas, doubled quotes
// and line breaks. Each field keeps where it was written, so a bad value can be reported at its
// file:line:column. Writing is append_csv_field (sim/stats.hpp).

#include <string>
#include <string_view>
#include <vector>

namespace sim {

struct CsvField {
  std::string text;  // unquoted; surrounding spaces and a trailing \r removed from bare fields
  int line = 1;      // where the field starts, 1-based
  int column = 1;
};

using CsvRow = std::vector<CsvField>;

// Every record of `text`, the header included; blank lines are skipped. An unterminated quote
// throws sim::InputError at the quote, naming `source`.
std::vector<CsvRow> parse_csv(std::string_view text, const std::string& source);

}  // namespace sim
