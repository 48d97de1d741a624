#include "sim/csv.hpp"

#include "sim/error.hpp"

namespace sim {

std::vector<CsvRow> parse_csv(std::string_view text, const std::string& source) {
  std::vector<CsvRow> rows;
  CsvRow row;
  int line = 1, column = 1;
  std::size_t i = 0;
  bool row_open = false;  // a field has been started on this record
  auto trim = [](std::string& s, CsvField& f) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
    std::size_t lead = 0;
    while (lead < s.size() && s[lead] == ' ') ++lead;
    s.erase(0, lead);
    f.column += static_cast<int>(lead);
  };
  while (i <= text.size()) {
    CsvField f{{}, line, column};
    bool quoted = false;
    // Spaces before an opening quote are allowed ("a, \"b\"").
    std::size_t j = i;
    while (j < text.size() && text[j] == ' ') ++j;
    if (j < text.size() && text[j] == '"') {
      quoted = true;
      f.column = column + static_cast<int>(j - i);
      column += static_cast<int>(j - i) + 1;
      i = j + 1;
      while (true) {
        if (i >= text.size())
          throw InputError(SourcePos{source, f.line, f.column}, "a quoted field is not closed");
        const char c = text[i++];
        if (c == '"') {
          ++column;
          if (i < text.size() && text[i] == '"') {
            f.text.push_back('"');
            ++i;
            ++column;
            continue;
          }
          break;
        }
        f.text.push_back(c);
        if (c == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      // Only spaces (or \r) may follow the closing quote before the separator.
      while (i < text.size() && (text[i] == ' ' || text[i] == '\r')) {
        ++i;
        ++column;
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n')
        throw InputError(SourcePos{source, line, column},
                         "expected a comma or the end of the line after a quoted field");
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\n') {
        f.text.push_back(text[i++]);
        ++column;
      }
      trim(f.text, f);
    }
    row_open = row_open || quoted || !f.text.empty() || (i < text.size() && text[i] == ',');
    row.push_back(std::move(f));
    if (i < text.size() && text[i] == ',') {
      ++i;
      ++column;
      continue;
    }
    // End of a record (a newline or the end of the text).
    if (row_open) rows.push_back(std::move(row));
    row.clear();
    row_open = false;
    if (i >= text.size()) break;
    ++i;  // the newline
    ++line;
    column = 1;
  }
  return rows;
}

}  // namespace sim
