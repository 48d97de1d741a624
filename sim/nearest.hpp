#pragma once
// "Did you mean ...?" for unknown keys and plugin names.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` by edit distance, or "" when none is close enough to be a
// plausible typo (distance > max(2, len/3)). Ties go to the first candidate.
std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// The position of `word` in `names` (an enum's names in order), or an InputError
// "unknown <what> 'word' (did you mean ...?); known: a, b, c".
std::size_t index_of_name(std::string_view word, std::span<const std::string_view> names,
                          std::string_view what);

}  // namespace sim
