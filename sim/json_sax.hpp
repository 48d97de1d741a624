#pragma once
// What every handler of boost::json::basic_parser (a streaming, SAX-style JSON reader) declares:
// the size limits. warpsim's readers set none, and inherit them from here.

#include <cstddef>

namespace sim {

struct UnlimitedJsonSizes {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
};

}  // namespace sim
