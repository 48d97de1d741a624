#include "sim/nearest.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <numeric>

#include "sim/error.hpp"

namespace sim {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  // A name the word begins (h100 -> h100-sxm) is what was meant, if it is the only one.
  if (word.size() >= 2) {
    int prefixed = 0;
    for (const std::string& c : candidates)
      if (c.size() > word.size() && c.starts_with(word)) {
        ++prefixed;
        best = c;
      }
    if (prefixed == 1) return best;
    best.clear();
  }
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string n = nearest_name(word, candidates);
  return n.empty() ? std::string() : " (did you mean '" + n + "'?)";
}

std::size_t index_of_name(std::string_view word, std::span<const std::string_view> names,
                          std::string_view what) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == word) return i;
  const std::vector<std::string> all(names.begin(), names.end());
  throw InputError(fmt::format("unknown {} '{}'{}; known: {}", what, word, did_you_mean(word, all),
                               fmt::join(all, ", ")));
}

}  // namespace sim
