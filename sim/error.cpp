#include "sim/error.hpp"

#include <fmt/format.h>

namespace sim {

std::string SourcePos::str() const {
  if (file.empty()) return {};
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

}  // namespace sim
